// Package site keeps the clinic's sites: where volunteers are seen, studies
// run and devices live. Sites are archived, never deleted, so history keeps
// pointing at them; archived sites are hidden from pickers and never promoted
// to another instance.
package site

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

// Site is one location of the clinic.
type Site struct {
	ID        int64
	Code      string
	Name      string
	Address   string
	TimeZone  string
	Archived  bool
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	Version   int
}

var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,15}$`)

// Validate checks a site's fields and returns FieldErrors naming each problem.
func (s Site) Validate() error {
	fe := check.FieldErrors{}
	switch {
	case strings.TrimSpace(s.Code) == "":
		fe.Add("code", "This field is required.")
	case !codePattern.MatchString(s.Code):
		fe.Add("code", "Use 1–16 capital letters, digits, - or _ (for example AMS or SITE-02).")
	}
	switch {
	case strings.TrimSpace(s.Name) == "":
		fe.Add("name", "This field is required.")
	case len(s.Name) > 200:
		fe.Add("name", "Keep the name under 200 characters.")
	}
	if len(s.Address) > 1000 {
		fe.Add("address", "Keep the address under 1000 characters.")
	}
	if s.TimeZone == "" {
		fe.Add("time_zone", "This field is required.")
	} else if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
		fe.Add("time_zone", "%q is not a time zone; use an IANA name such as Europe/Amsterdam.", s.TimeZone)
	}
	return fe.Err()
}

func (s Site) fields() map[string]string {
	archived := "no"
	if s.Archived {
		archived = "yes"
	}
	return map[string]string{"code": s.Code, "name": s.Name, "address": s.Address, "time_zone": s.TimeZone, "archived": archived}
}

var fields = []string{"code", "name", "address", "time_zone", "archived"}

const columns = "id, code, name, address, time_zone, archived, created_at, updated_at, updated_by, version"

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Site, error) {
	var s Site
	err := r.Scan(&s.ID, &s.Code, &s.Name, &s.Address, &s.TimeZone, &s.Archived, &s.CreatedAt, &s.UpdatedAt, &s.UpdatedBy, &s.Version)
	return s, err
}

// List returns sites by code; archived ones only when includeArchived. It
// reads from the database or inside a transaction.
func List(ctx context.Context, db store.Querier, includeArchived bool) ([]Site, error) {
	q := "SELECT " + columns + " FROM site"
	var args []any
	if !includeArchived {
		q += " WHERE archived = ?"
		args = append(args, false)
	}
	rows, err := db.Query(ctx, q+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Get returns the site with the given code.
func Get(ctx context.Context, db *store.DB, code string) (Site, error) {
	s, err := scan(db.QueryRow(ctx, "SELECT "+columns+" FROM site WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("site %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read site %s: %w", code, err)
	}
	return s, nil
}

// Create stores a new site and audits it.
func Create(ctx context.Context, db *store.DB, by audit.Actor, s Site) (Site, error) {
	s.Code = strings.TrimSpace(s.Code)
	s.Archived = false
	if err := s.Validate(); err != nil {
		return s, err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO site (code, name, address, time_zone, archived, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.Code, s.Name, s.Address, s.TimeZone, false, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("A site with code %s already exists (it may be archived).", s.Code)}
		}
		if err != nil {
			return fmt.Errorf("create site %s: %w", s.Code, err)
		}
		s.ID, s.CreatedAt, s.UpdatedAt, s.UpdatedBy, s.Version = id, now, now, by.Name, 1
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "site", EntityID: s.Code,
			Changes: audit.Diff(fields, nil, s.fields())})
	})
	return s, err
}

// Update saves changes to the site's name, address and time zone. version is
// the version the user opened; a newer one means someone else saved first
// and the save is refused with a Conflict.
func Update(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, s Site, reason string) error {
	return change(ctx, db, by, code, version, reason, audit.Update, func(old Site) (Site, error) {
		s.Code, s.Archived = old.Code, old.Archived
		return s, s.Validate()
	})
}

// Archive hides a site from pickers while keeping it for history.
func Archive(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string) error {
	return change(ctx, db, by, code, version, reason, audit.Archive, func(old Site) (Site, error) {
		if old.Archived {
			return old, fmt.Errorf("site %s is already archived", code)
		}
		old.Archived = true
		return old, nil
	})
}

func change(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string,
	action audit.Action, apply func(Site) (Site, error)) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := scan(tx.QueryRow(ctx, "SELECT "+columns+" FROM site WHERE code = ?", code))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("site %q: %w", code, check.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read site %s: %w", code, err)
		}
		if old.Version != version {
			return &check.Conflict{Entity: "site", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		s, err := apply(old)
		if err != nil {
			return err
		}
		changes := audit.Diff(fields, old.fields(), s.fields())
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, `UPDATE site SET name = ?, address = ?, time_zone = ?, archived = ?, updated_at = ?, updated_by = ?,
			version = version + 1 WHERE id = ? AND version = ?`,
			s.Name, s.Address, s.TimeZone, s.Archived, time.Now().UTC(), by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("save site %s: %w", code, err)
		}
		// On PostgreSQL another transaction may have saved between our read
		// and this update; the version guard then matches no row.
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "site", By: "another user", At: time.Now().UTC()}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "site", EntityID: code, Reason: reason, Changes: changes})
	})
}
