package access

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Everywhere is the site id of a grant that holds at every site.
const Everywhere int64 = 0

// Grant gives a user a role at one site, or everywhere.
type Grant struct {
	UserID   int64
	RoleCode string
	RoleName string
	SiteID   int64 // Everywhere for a global grant
}

// Authority is what one user may do: the permissions they hold everywhere
// and those they hold only at some sites.
type Authority struct {
	Global Set
	BySite map[int64]Set
}

// Can reports whether the user may take the action anywhere — the question a
// page asks before it lets the user in; the domain then narrows to sites.
func (a Authority) Can(p Permission) bool {
	if a.Global.Has(p) {
		return true
	}
	for _, s := range a.BySite {
		if s.Has(p) {
			return true
		}
	}
	return false
}

// CanAt reports whether the user may take the action at the given site.
func (a Authority) CanAt(p Permission, siteID int64) bool {
	return a.Global.Has(p) || a.BySite[siteID].Has(p)
}

// AuthorityOf computes a user's effective permissions from their grants.
func AuthorityOf(ctx context.Context, db *store.DB, userID int64) (Authority, error) {
	a := Authority{Global: Set{}, BySite: map[int64]Set{}}
	rows, err := db.Query(ctx, `SELECT ur.site_id, rp.permission FROM user_role ur
		JOIN role_permission rp ON rp.role_id = ur.role_id WHERE ur.user_id = ?`, userID)
	if err != nil {
		return a, fmt.Errorf("read permissions of user %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var site int64
		var p string
		if err := rows.Scan(&site, &p); err != nil {
			return a, err
		}
		if site == Everywhere {
			a.Global[Permission(p)] = true
			continue
		}
		if a.BySite[site] == nil {
			a.BySite[site] = Set{}
		}
		a.BySite[site][Permission(p)] = true
	}
	return a, rows.Err()
}

// GrantsOf lists a user's grants.
func GrantsOf(ctx context.Context, db *store.DB, userID int64) ([]Grant, error) {
	rows, err := db.Query(ctx, `SELECT ur.user_id, r.code, r.name, ur.site_id FROM user_role ur
		JOIN role r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.name, ur.site_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list grants of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.UserID, &g.RoleCode, &g.RoleName, &g.SiteID); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func grantKey(userID int64, role string, site int64) string {
	where := "everywhere"
	if site != Everywhere {
		where = "site " + strconv.FormatInt(site, 10)
	}
	return fmt.Sprintf("user %d: %s at %s", userID, role, where)
}

// GrantRole gives a user a role at a site (or Everywhere), inside tx.
func GrantRole(ctx context.Context, tx *store.Tx, by audit.Actor, userID int64, roleCode string, siteID int64, reason string) error {
	var roleID int64
	if err := tx.QueryRow(ctx, `SELECT id FROM role WHERE code = ?`, roleCode).Scan(&roleID); err != nil {
		return check.FieldErrors{"role": fmt.Sprintf("There is no role %q.", roleCode)}
	}
	if siteID != Everywhere {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM site WHERE id = ? AND archived = ?`, siteID, false).Scan(&n); err != nil || n == 0 {
			return check.FieldErrors{"site": "Choose an active site, or everywhere."}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO user_role (user_id, role_id, site_id) VALUES (?, ?, ?)`, userID, roleID, siteID)
	if store.IsUniqueViolation(err) {
		return check.FieldErrors{"role": "The user already holds this role there."}
	}
	if err != nil {
		return fmt.Errorf("grant role %s: %w", roleCode, err)
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "user_role",
		EntityID: grantKey(userID, roleCode, siteID), Reason: reason,
		Changes: []audit.Change{{Field: "role", New: roleCode}}})
}

// RevokeRole takes a role away from a user at a site; a reason is required.
func RevokeRole(ctx context.Context, db *store.DB, by audit.Actor, userID int64, roleCode string, siteID int64, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are taking this role away."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM user_role WHERE user_id = ? AND site_id = ? AND role_id = (SELECT id FROM role WHERE code = ?)`,
			userID, siteID, roleCode)
		if err != nil {
			return fmt.Errorf("revoke role %s: %w", roleCode, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke role %s: %w", roleCode, check.ErrNotFound)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Deactivate, Entity: "user_role",
			EntityID: grantKey(userID, roleCode, siteID), Reason: reason,
			Changes: []audit.Change{{Field: "role", Old: roleCode}}})
	})
}
