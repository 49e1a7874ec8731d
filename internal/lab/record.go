package lab

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

// Record is what storage keeps about a lab, lab test or panel besides its
// own fields. Nothing is deleted: results and panels keep pointing at what
// they used, so a record that is no longer wanted is deactivated.
type Record struct {
	ID        int64
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	// Version counts saves; a save made on an older version than the
	// stored one is refused with a check.Conflict.
	Version int
}

const recordColumns = "id, active, created_at, updated_at, updated_by, version"

func (r *Record) targets() []any {
	return []any{&r.ID, &r.Active, &r.CreatedAt, &r.UpdatedAt, &r.UpdatedBy, &r.Version}
}

type scanner interface{ Scan(...any) error }

// entity describes one of the three stored kinds to the shared change
// logic: how to read one by code, how to show its fields to the audit
// trail, and how to write its own fields.
type entity[T any] struct {
	table string // table name, also the audit trail's entity
	noun  string // "lab", "lab test", "panel" in messages
	// read returns the item with the given code, or sql.ErrNoRows.
	read func(ctx context.Context, q store.Querier, code string) (T, Record, error)
	// fields renders the item for the audit trail, in order.
	fields func(T) []audit.Change
	// write saves the item's own fields (not the record's) in tx.
	write func(ctx context.Context, tx *store.Tx, id int64, item T) error
}

// diff lists the fields that differ between old and new, active included.
func diff(old, new []audit.Change, oldActive, newActive bool) []audit.Change {
	var out []audit.Change
	for i := range new {
		if old[i].New != new[i].New {
			out = append(out, audit.Change{Field: new[i].Field, Old: old[i].New, New: new[i].New})
		}
	}
	if oldActive != newActive {
		out = append(out, audit.Change{Field: "active", Old: yesNo(oldActive), New: yesNo(newActive)})
	}
	return out
}

// created renders a new item for the audit trail.
func created(fields []audit.Change) []audit.Change {
	var out []audit.Change
	for _, f := range fields {
		if f.New != "" {
			out = append(out, f)
		}
	}
	return append(out, audit.Change{Field: "active", New: "yes"})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// change runs one edit of a stored item: the reason is required, the item
// is read in the transaction, the version the user opened is compared
// with the stored one, apply produces the new item and active flag (or
// refuses with an error), and the differences are saved and audited
// together. An edit that changes nothing writes nothing.
func change[T any](ctx context.Context, db *store.DB, by audit.Actor, e entity[T], code string, version int, reason string,
	action audit.Action, apply func(tx *store.Tx, old T, active bool) (T, bool, error)) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, rec, err := e.read(ctx, tx, code)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %q: %w", e.noun, code, check.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read %s %s: %w", e.noun, code, err)
		}
		if rec.Version != version {
			return &check.Conflict{Entity: e.noun, By: rec.UpdatedBy, At: rec.UpdatedAt}
		}
		item, active, err := apply(tx, old, rec.Active)
		if err != nil {
			return err
		}
		changes := diff(e.fields(old), e.fields(item), rec.Active, active)
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, "UPDATE "+e.table+" SET active = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?",
			active, time.Now().UTC(), by.Name, rec.ID, version)
		if err != nil {
			return fmt.Errorf("save %s %s: %w", e.noun, code, err)
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return &check.Conflict{Entity: e.noun, By: rec.UpdatedBy, At: rec.UpdatedAt}
		}
		if err := e.write(ctx, tx, rec.ID, item); err != nil {
			return fmt.Errorf("save %s %s: %w", e.noun, code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: e.table, EntityID: code, Reason: reason, Changes: changes})
	})
}

// insert stores a new item: insertRow adds its row and returns the id,
// then write adds its own fields and rows, and the creation is audited.
func insert[T any](ctx context.Context, db *store.DB, by audit.Actor, e entity[T], code string, item T,
	insertRow func(tx *store.Tx, now time.Time) (int64, error)) (Record, error) {
	var rec Record
	err := db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := insertRow(tx, now)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("A %s with code %s already exists (it may be inactive).", e.noun, code)}
		}
		if err != nil {
			return fmt.Errorf("create %s %s: %w", e.noun, code, err)
		}
		if err := e.write(ctx, tx, id, item); err != nil {
			return fmt.Errorf("create %s %s: %w", e.noun, code, err)
		}
		rec = Record{ID: id, Active: true, CreatedAt: now, UpdatedAt: now, UpdatedBy: by.Name, Version: 1}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: e.table, EntityID: code, Changes: created(e.fields(item))})
	})
	return rec, err
}

// likeQuery turns a search box's text into a LIKE pattern matching it
// anywhere, with LIKE's own wildcards taken literally.
func likeQuery(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	q = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q)
	return "%" + q + "%"
}
