package dictionary

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

// Activate makes the version with the given id the active version of its
// dictionary, deactivating the one active before, in one transaction with
// one audit entry for each. version is the version of the record the user
// opened: a newer one means someone else changed it first, and the switch
// is refused with a check.Conflict. A reason for change is required; a
// retired version cannot be activated.
func Activate(ctx context.Context, db *store.DB, by audit.Actor, id int64, version int, reason string) error {
	return change(ctx, db, id, version, reason, func(tx *store.Tx, s StoredVersion) error {
		switch {
		case s.Retired:
			return fmt.Errorf("%s is retired and cannot be made active again.", s.Label())
		case s.Active:
			return fmt.Errorf("%s is already the active %s version.", s.Label(), s.Kind.Name())
		}
		old, err := scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE kind = ? AND active = ?", string(s.Kind), true))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read active %s version: %w", s.Kind.Name(), err)
		default:
			// The old version steps down first: the unique index on active
			// versions would refuse two at once even inside the transaction.
			if err := setFlag(ctx, tx, by, old, "active", false, reason); err != nil {
				return err
			}
		}
		return setFlag(ctx, tx, by, s, "active", true, reason)
	})
}

// Retire marks a version as no longer to be used: it stays for the data
// coded with it but can never be activated again. The active version cannot
// be retired; activate its successor first. Version and reason work as in
// Activate.
func Retire(ctx context.Context, db *store.DB, by audit.Actor, id int64, version int, reason string) error {
	return change(ctx, db, id, version, reason, func(tx *store.Tx, s StoredVersion) error {
		switch {
		case s.Active:
			return fmt.Errorf("%s is the active %s version; activate another version before retiring it.", s.Label(), s.Kind.Name())
		case s.Retired:
			return fmt.Errorf("%s is already retired.", s.Label())
		}
		return setFlag(ctx, tx, by, s, "retired", true, reason)
	})
}

// change reads the version in a transaction, checks the reason and the
// version the user opened, and runs apply.
func change(ctx context.Context, db *store.DB, id int64, version int, reason string, apply func(*store.Tx, StoredVersion) error) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		s, err := scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("dictionary version %d: %w", id, check.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read dictionary version %d: %w", id, err)
		}
		if s.Version != version {
			return &check.Conflict{Entity: "dictionary version", By: s.UpdatedBy, At: s.UpdatedAt}
		}
		return apply(tx, s)
	})
}

// setFlag sets the active or retired flag of s and audits the change.
func setFlag(ctx context.Context, tx *store.Tx, by audit.Actor, s StoredVersion, flag string, value bool, reason string) error {
	old := s.Active
	if flag == "retired" {
		old = s.Retired
	}
	res, err := tx.Exec(ctx, "UPDATE dictionary_version SET "+flag+" = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?",
		value, time.Now().UTC(), by.Name, s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("set %s of %s: %w", flag, s.Label(), err)
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return &check.Conflict{Entity: "dictionary version", By: s.UpdatedBy, At: s.UpdatedAt}
	}
	action := audit.Update
	if flag == "retired" {
		action = audit.Deactivate
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: auditEntity, EntityID: s.Label(), Reason: reason,
		Changes: []audit.Change{{Field: flag, Old: yesNo(old), New: yesNo(value)}}})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
