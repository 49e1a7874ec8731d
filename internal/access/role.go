package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Role is a named set of permissions that can be granted to users.
type Role struct {
	ID          int64
	Code        string
	Name        string
	Description string
	Permissions Set
	Version     int
	UpdatedAt   time.Time
	UpdatedBy   string
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)

// Validate checks a role's fields.
func (r Role) Validate() error {
	fe := check.FieldErrors{}
	if !codePattern.MatchString(r.Code) {
		fe.Add("code", "Use 2–40 lower-case letters, digits, - or _, starting with a letter.")
	}
	if strings.TrimSpace(r.Name) == "" {
		fe.Add("name", "This field is required.")
	}
	for p := range r.Permissions {
		if !Known(p) {
			fe.Add("permissions", "%q is not a permission cohort knows.", p)
		}
	}
	return fe.Err()
}

func (r Role) fields() map[string]string {
	perms := make([]string, 0, len(r.Permissions))
	for _, p := range r.Permissions.Sorted() {
		perms = append(perms, string(p))
	}
	return map[string]string{"code": r.Code, "name": r.Name, "description": r.Description, "permissions": strings.Join(perms, " ")}
}

var roleFields = []string{"code", "name", "description", "permissions"}

// ListRoles returns every role with its permissions, by name, from the
// database or inside a transaction.
func ListRoles(ctx context.Context, db store.Querier) ([]Role, error) {
	rows, err := db.Query(ctx, `SELECT id, code, name, description, version, updated_at, updated_by FROM role ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	var roles []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.ID, &r.Code, &r.Name, &r.Description, &r.Version, &r.UpdatedAt, &r.UpdatedBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list roles: %w", err)
		}
		r.Permissions = Set{}
		roles = append(roles, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	byID := map[int64]*Role{}
	for i := range roles {
		byID[roles[i].ID] = &roles[i]
	}
	prow, err := db.Query(ctx, `SELECT role_id, permission FROM role_permission`)
	if err != nil {
		return nil, fmt.Errorf("list role permissions: %w", err)
	}
	defer prow.Close()
	for prow.Next() {
		var id int64
		var p string
		if err := prow.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("list role permissions: %w", err)
		}
		if r := byID[id]; r != nil {
			r.Permissions[Permission(p)] = true
		}
	}
	return roles, prow.Err()
}

// GetRole returns the role with the given code.
func GetRole(ctx context.Context, db *store.DB, code string) (Role, error) {
	roles, err := ListRoles(ctx, db)
	if err != nil {
		return Role{}, err
	}
	for _, r := range roles {
		if r.Code == code {
			return r, nil
		}
	}
	return Role{}, fmt.Errorf("role %q: %w", code, check.ErrNotFound)
}

// CreateRole stores a new role.
func CreateRole(ctx context.Context, db *store.DB, by audit.Actor, r Role) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error { return createRole(ctx, tx, by, r, "") })
}

func createRole(ctx context.Context, tx *store.Tx, by audit.Actor, r Role, reason string) error {
	now := time.Now().UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO role (code, name, description, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Code, r.Name, r.Description, now, now, by.Name)
	if store.IsUniqueViolation(err) {
		return check.FieldErrors{"code": fmt.Sprintf("A role with code %q already exists.", r.Code)}
	}
	if err != nil {
		return fmt.Errorf("create role %s: %w", r.Code, err)
	}
	if err := writePermissions(ctx, tx, id, r.Permissions); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "role", EntityID: r.Code, Reason: reason,
		Changes: audit.Diff(roleFields, nil, r.fields())})
}

func writePermissions(ctx context.Context, tx *store.Tx, roleID int64, perms Set) error {
	if _, err := tx.Exec(ctx, `DELETE FROM role_permission WHERE role_id = ?`, roleID); err != nil {
		return fmt.Errorf("write role permissions: %w", err)
	}
	for _, p := range perms.Sorted() {
		if _, err := tx.Exec(ctx, `INSERT INTO role_permission (role_id, permission) VALUES (?, ?)`, roleID, string(p)); err != nil {
			return fmt.Errorf("write role permission %s: %w", p, err)
		}
	}
	return nil
}

// UpdateRole saves a changed role. version is the version the user opened;
// if someone saved the role since, the change is refused with a Conflict.
func UpdateRole(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, r Role, reason string) error {
	r.Code = code
	if err := r.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are changing this role."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := roleInTx(ctx, tx, code)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "role", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		changes := audit.Diff(roleFields, old.fields(), r.fields())
		if len(changes) == 0 {
			return nil
		}
		now := time.Now().UTC()
		res, err := tx.Exec(ctx, `UPDATE role SET name = ?, description = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?`,
			r.Name, r.Description, now, by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("update role %s: %w", code, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "role", By: "another user", At: now}
		}
		if err := writePermissions(ctx, tx, old.ID, r.Permissions); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "role", EntityID: code, Reason: reason, Changes: changes})
	})
}

func roleInTx(ctx context.Context, tx *store.Tx, code string) (Role, error) {
	r := Role{Code: code, Permissions: Set{}}
	err := tx.QueryRow(ctx, `SELECT id, name, description, version, updated_at, updated_by FROM role WHERE code = ?`, code).
		Scan(&r.ID, &r.Name, &r.Description, &r.Version, &r.UpdatedAt, &r.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("role %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read role %s: %w", code, err)
	}
	rows, err := tx.Query(ctx, `SELECT permission FROM role_permission WHERE role_id = ?`, r.ID)
	if err != nil {
		return r, fmt.Errorf("read role %s: %w", code, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return r, err
		}
		r.Permissions[Permission(p)] = true
	}
	return r, rows.Err()
}

// DefaultRoles are the roles a new instance starts with.
func DefaultRoles() []Role {
	all := Set{}
	for _, p := range Catalogue {
		all[p.Name] = true
	}
	set := func(ps ...Permission) Set {
		s := Set{}
		for _, p := range ps {
			s[p] = true
		}
		return s
	}
	return []Role{
		{Code: "administrator", Name: "Administrator", Description: "Runs the instance: users, roles, sites, settings.", Permissions: all},
		{Code: "data-manager", Name: "Data manager", Description: "Designs studies, exchanges ODM, reviews the audit trail.",
			Permissions: set(SiteView, StudyView, StudyDesign, ODMExchange, ConfigView, AuditView, AuditExport, VolunteerView)},
		{Code: "crc", Name: "Clinical research coordinator", Description: "Recruits and registers volunteers at a site.",
			Permissions: set(SiteView, VolunteerView, VolunteerEdit, VolunteerPHI, StudyView, ConfigView)},
		{Code: "pharmacist", Name: "Pharmacist", Description: "Prepares and dispenses study drug.",
			Permissions: set(SiteView, StudyView, ConfigView)},
		{Code: "qa", Name: "QA / validation", Description: "Reviews configuration and the audit trail; changes nothing.",
			Permissions: set(SiteView, UserView, RoleView, SettingsView, AuditView, AuditExport, ConfigView, StudyView, VolunteerView)},
	}
}

// SeedRoles creates the default roles that do not exist yet.
func SeedRoles(ctx context.Context, db *store.DB) error {
	existing, err := ListRoles(ctx, db)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range existing {
		have[r.Code] = true
	}
	for _, r := range DefaultRoles() {
		if have[r.Code] {
			continue
		}
		if err := CreateRole(ctx, db, audit.System, r); err != nil {
			return fmt.Errorf("seed role %s: %w", r.Code, err)
		}
	}
	return nil
}
