package configlist

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Create adds an active entry at the end of its list and audits it.
func Create(ctx context.Context, db *store.DB, by audit.Actor, e Entry) (Entry, error) {
	e = e.tidy()
	e.Active = true
	if err := e.Validate(); err != nil {
		return e, err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var last sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(sort_order) FROM config_list_entry WHERE list = ?", e.List).Scan(&last); err != nil {
			return fmt.Errorf("create %s entry %s: %w", e.List, e.Code, err)
		}
		e.SortOrder = int(last.Int64) + 1
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO config_list_entry
			(list, code, label, description, sort_order, active, answer_type, options, phi, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.List, e.Code, e.Label, e.Description, e.SortOrder, true, string(e.AnswerType), strings.Join(e.Options, "\n"),
			e.PHI, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("The list already has an entry with code %s (it may be deactivated, or differ only in capitals).", e.Code)}
		}
		if err != nil {
			return fmt.Errorf("create %s entry %s: %w", e.List, e.Code, err)
		}
		e.ID, e.CreatedAt, e.UpdatedAt, e.UpdatedBy, e.Version = id, now, now, by.Name, 1
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: auditEntity, EntityID: e.EntityID(),
			Changes: audit.Diff(auditFields, nil, e.fields())})
	})
	return e, err
}

// Update saves changes to an entry's label, description and (for questions)
// answer type, options and PHI flag. The code, order and active flag are
// changed by their own functions. version is the version the user opened; a
// newer one means someone else saved first and the save is refused with a
// Conflict.
func Update(ctx context.Context, db *store.DB, by audit.Actor, kind, code string, version int, e Entry, reason string) error {
	return change(ctx, db, by, kind, code, version, reason, audit.Update, func(old Entry) (Entry, error) {
		e.ID, e.List, e.Code, e.SortOrder, e.Active = old.ID, old.List, old.Code, old.SortOrder, old.Active
		e = e.tidy()
		return e, e.Validate()
	})
}

// Deactivate hides an entry from pickers; records that use it keep its
// label.
func Deactivate(ctx context.Context, db *store.DB, by audit.Actor, kind, code string, version int, reason string) error {
	return change(ctx, db, by, kind, code, version, reason, audit.Deactivate, func(old Entry) (Entry, error) {
		if !old.Active {
			return old, fmt.Errorf("The entry %s is already deactivated.", code)
		}
		old.Active = false
		return old, nil
	})
}

// Reactivate offers a deactivated entry in pickers again.
func Reactivate(ctx context.Context, db *store.DB, by audit.Actor, kind, code string, version int, reason string) error {
	return change(ctx, db, by, kind, code, version, reason, audit.Reactivate, func(old Entry) (Entry, error) {
		if old.Active {
			return old, fmt.Errorf("The entry %s is already active.", code)
		}
		old.Active = true
		return old, nil
	})
}

func requireReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return nil
}

// change applies one audited change to one entry under optimistic locking.
func change(ctx context.Context, db *store.DB, by audit.Actor, kind, code string, version int, reason string,
	action audit.Action, apply func(Entry) (Entry, error)) error {
	if err := requireReason(reason); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, kind, code)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "list entry", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		e, err := apply(old)
		if err != nil {
			return err
		}
		changes := audit.Diff(auditFields, old.fields(), e.fields())
		if len(changes) == 0 {
			return nil
		}
		if err := save(ctx, tx, by, old, e); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: auditEntity, EntityID: old.EntityID(),
			Reason: reason, Changes: changes})
	})
}

// save writes e over old, refusing with a Conflict when another transaction
// changed the row since old was read (possible on PostgreSQL, where readers
// do not take the write lock).
func save(ctx context.Context, tx *store.Tx, by audit.Actor, old, e Entry) error {
	res, err := tx.Exec(ctx, `UPDATE config_list_entry SET label = ?, description = ?, sort_order = ?, active = ?,
		answer_type = ?, options = ?, phi = ?, updated_at = ?, updated_by = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		e.Label, e.Description, e.SortOrder, e.Active, string(e.AnswerType), strings.Join(e.Options, "\n"), e.PHI,
		time.Now().UTC(), by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("save %s: %w", old.EntityID(), err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return &check.Conflict{Entity: "list entry", By: "another user", At: time.Now().UTC()}
	}
	return nil
}

// Direction is which way Move moves an entry.
type Direction int

// The directions an entry can move in its list.
const (
	Up   Direction = -1
	Down Direction = 1
)

// Move swaps an entry with its neighbour in the given direction. The
// neighbour is the nearest entry with the same active flag, because pickers
// and the default page show active entries only, and moving past an entry
// nobody sees would look like nothing happened.
func Move(ctx context.Context, db *store.DB, by audit.Actor, kind, code string, version int, dir Direction, reason string) error {
	if err := requireReason(reason); err != nil {
		return err
	}
	if dir != Up && dir != Down {
		return fmt.Errorf("move %s/%s: direction %d is neither up nor down", kind, code, dir)
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		entries, err := Entries(ctx, tx, kind, true)
		if err != nil {
			return err
		}
		at := -1
		for i, e := range entries {
			if e.Code == code {
				at = i
			}
		}
		if at < 0 {
			return fmt.Errorf("%s entry %q: %w", kind, code, check.ErrNotFound)
		}
		if entries[at].Version != version {
			return &check.Conflict{Entity: "list entry", By: entries[at].UpdatedBy, At: entries[at].UpdatedAt}
		}
		to := at + int(dir)
		for to >= 0 && to < len(entries) && entries[to].Active != entries[at].Active {
			to += int(dir)
		}
		if to < 0 || to >= len(entries) {
			where := "first"
			if dir == Down {
				where = "last"
			}
			return fmt.Errorf("The entry %s is already %s in the list.", code, where)
		}
		order := append([]Entry(nil), entries...)
		order[at], order[to] = order[to], order[at]
		return renumber(ctx, tx, by, order, reason)
	})
}

// SetOrder puts a whole list in the given order. codes must name every
// entry of the list, active or not, exactly once; an entry someone added
// meanwhile is therefore noticed rather than dropped to an arbitrary place.
func SetOrder(ctx context.Context, db *store.DB, by audit.Actor, kind string, codes []string, reason string) error {
	if err := requireReason(reason); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		entries, err := Entries(ctx, tx, kind, true)
		if err != nil {
			return err
		}
		byCode := make(map[string]Entry, len(entries))
		for _, e := range entries {
			byCode[e.Code] = e
		}
		order := make([]Entry, 0, len(codes))
		for _, c := range codes {
			e, ok := byCode[c]
			if !ok {
				return check.FieldErrors{"order": fmt.Sprintf("The code %s is not in the list, or is named twice.", c)}
			}
			delete(byCode, c)
			order = append(order, e)
		}
		if len(byCode) > 0 {
			var missing []string
			for _, e := range entries {
				if _, left := byCode[e.Code]; left {
					missing = append(missing, e.Code)
				}
			}
			return check.FieldErrors{"order": fmt.Sprintf("The new order leaves out %s; name every entry of the list.", strings.Join(missing, ", "))}
		}
		return renumber(ctx, tx, by, order, reason)
	})
}

// renumber gives the entries sort orders 1, 2, 3… in the given order and
// saves and audits those whose place changed.
func renumber(ctx context.Context, tx *store.Tx, by audit.Actor, order []Entry, reason string) error {
	for i, old := range order {
		e := old
		e.SortOrder = i + 1
		if e.SortOrder == old.SortOrder {
			continue
		}
		if err := save(ctx, tx, by, old, e); err != nil {
			return err
		}
		err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: auditEntity, EntityID: old.EntityID(),
			Reason: reason, Changes: audit.Diff(auditFields, old.fields(), e.fields())})
		if err != nil {
			return err
		}
	}
	return nil
}
