package site

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Import brings the site with s's code to s's name, address and time zone
// inside tx: it creates the site when this instance has none with that code
// and updates it otherwise, auditing either with reason. Configuration
// promotion uses it. It never archives a site, and refuses to change one
// that is archived here: reviving a site is a decision for this instance.
func Import(ctx context.Context, tx *store.Tx, by audit.Actor, s Site, reason string) error {
	s.Code = strings.TrimSpace(s.Code)
	s.Archived = false
	if err := s.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this site."}
	}
	old, err := scan(tx.QueryRow(ctx, "SELECT "+columns+" FROM site WHERE code = ?", s.Code))
	now := time.Now().UTC()
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.InsertID(ctx, `INSERT INTO site (code, name, address, time_zone, archived, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.Code, s.Name, s.Address, s.TimeZone, false, now, now, by.Name); err != nil {
			return fmt.Errorf("import site %s: %w", s.Code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "site", EntityID: s.Code, Reason: reason,
			Changes: audit.Diff(fields, nil, s.fields())})
	}
	if err != nil {
		return fmt.Errorf("read site %s: %w", s.Code, err)
	}
	if old.Archived {
		return fmt.Errorf("Site %s is archived in this instance; an import does not change archived sites.", s.Code)
	}
	changes := audit.Diff(fields, old.fields(), s.fields())
	if len(changes) == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, `UPDATE site SET name = ?, address = ?, time_zone = ?, updated_at = ?, updated_by = ?, version = version + 1
		WHERE id = ? AND version = ?`, s.Name, s.Address, s.TimeZone, now, by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("import site %s: %w", s.Code, err)
	}
	// On PostgreSQL another transaction may have saved the site since it
	// was read here; the import then must not overwrite that change.
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "site", By: "another user", At: now}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "site", EntityID: s.Code, Reason: reason, Changes: changes})
}
