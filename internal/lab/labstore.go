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

// StoredLab is a lab as the instance keeps it.
type StoredLab struct {
	Lab
	Record
}

const labColumns = "code, name, kind, address, accreditation, " + recordColumns

func scanLab(r scanner) (StoredLab, error) {
	var l StoredLab
	var kind string
	err := r.Scan(append([]any{&l.Code, &l.Name, &kind, &l.Address, &l.Accreditation}, l.Record.targets()...)...)
	l.Kind = Kind(kind)
	return l, err
}

var labs = entity[Lab]{
	table: "lab",
	noun:  "lab",
	read: func(ctx context.Context, q store.Querier, code string) (Lab, Record, error) {
		l, err := scanLab(q.QueryRow(ctx, "SELECT "+labColumns+" FROM lab WHERE code = ?", code))
		return l.Lab, l.Record, err
	},
	fields: func(l Lab) []audit.Change {
		return []audit.Change{{Field: "code", New: l.Code}, {Field: "name", New: l.Name}, {Field: "kind", New: string(l.Kind)},
			{Field: "address", New: l.Address}, {Field: "accreditation", New: l.Accreditation}}
	},
	write: func(ctx context.Context, tx *store.Tx, id int64, l Lab) error {
		_, err := tx.Exec(ctx, "UPDATE lab SET name = ?, kind = ?, address = ?, accreditation = ? WHERE id = ?",
			l.Name, string(l.Kind), l.Address, l.Accreditation, id)
		return err
	},
}

func (l Lab) tidy() Lab {
	l.Code, l.Name, l.Accreditation = strings.TrimSpace(l.Code), strings.TrimSpace(l.Name), strings.TrimSpace(l.Accreditation)
	l.Address = strings.TrimSpace(l.Address)
	return l
}

// ListLabs returns the labs whose code or name contains query (all of them
// for an empty query), by code; inactive ones only when includeInactive.
func ListLabs(ctx context.Context, db store.Querier, query string, includeInactive bool) ([]StoredLab, error) {
	q := "SELECT " + labColumns + " FROM lab WHERE (LOWER(code) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')"
	args := []any{likeQuery(query), likeQuery(query)}
	if !includeInactive {
		q += " AND active = ?"
		args = append(args, true)
	}
	rows, err := db.Query(ctx, q+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list labs: %w", err)
	}
	defer rows.Close()
	var out []StoredLab
	for rows.Next() {
		l, err := scanLab(rows)
		if err != nil {
			return nil, fmt.Errorf("list labs: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// GetLab returns the lab with the given code, or an error wrapping
// check.ErrNotFound.
func GetLab(ctx context.Context, db store.Querier, code string) (StoredLab, error) {
	l, err := scanLab(db.QueryRow(ctx, "SELECT "+labColumns+" FROM lab WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("lab %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("read lab %s: %w", code, err)
	}
	return l, nil
}

// CreateLab validates and stores a new lab and audits it. Problems come
// back as check.FieldErrors, a code already taken among them.
func CreateLab(ctx context.Context, db *store.DB, by audit.Actor, l Lab) (StoredLab, error) {
	l = l.tidy()
	if err := l.Validate(); err != nil {
		return StoredLab{}, err
	}
	rec, err := insert(ctx, db, by, labs, l.Code, l, func(tx *store.Tx, now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab (code, name, kind, address, accreditation, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, l.Code, l.Name, string(l.Kind), l.Address, l.Accreditation, true, now, now, by.Name)
	})
	return StoredLab{Lab: l, Record: rec}, err
}

// UpdateLab saves changes to a lab's fields other than its code. version is
// the version the user opened and reason the reason for change; see
// Record.
func UpdateLab(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, l Lab, reason string) error {
	return change(ctx, db, by, labs, code, version, reason, audit.Update, func(_ *store.Tx, old Lab, active bool) (Lab, bool, error) {
		l = l.tidy()
		l.Code = old.Code
		return l, active, l.Validate()
	})
}

// SetLabActive deactivates (active false) or reactivates a lab, with a
// reason for change.
func SetLabActive(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, active bool, reason string) error {
	return change(ctx, db, by, labs, code, version, reason, activeAction(active), func(_ *store.Tx, old Lab, was bool) (Lab, bool, error) {
		if was == active {
			return old, was, alreadyError("lab", code, active)
		}
		return old, active, nil
	})
}

func activeAction(active bool) audit.Action {
	if active {
		return audit.Reactivate
	}
	return audit.Deactivate
}

func alreadyError(noun, code string, active bool) error {
	if active {
		return fmt.Errorf("The %s %s is already active.", noun, code)
	}
	return fmt.Errorf("The %s %s is already inactive.", noun, code)
}
