package configlist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Import brings the entry with e's list and code to e's label,
// description, place in the list (SortOrder) and, for custom questions,
// answer type, options and PHI flag, inside tx: it creates the entry when
// this instance has none with that code — active or deactivated as e says,
// since a deactivated entry still labels history — and updates it
// otherwise, auditing either with reason. Configuration bundles use it (the
// lists come from the migration program, which reruns).
//
// It never changes whether an existing entry is active: deactivating is a
// decision for this instance and reactivating one it retired would offer it
// again in pickers, so an entry whose active flag differs is refused.
func Import(ctx context.Context, tx *store.Tx, by audit.Actor, e Entry, reason string) error {
	e = e.tidy()
	if err := e.Validate(); err != nil {
		return err
	}
	if e.SortOrder < 0 {
		return check.FieldErrors{"sort_order": "The place in the list cannot be negative."}
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this list entry."}
	}
	old, err := Get(ctx, tx, e.List, e.Code)
	if errors.Is(err, check.ErrNotFound) {
		now := time.Now().UTC()
		_, err := tx.InsertID(ctx, `INSERT INTO config_list_entry
			(list, code, label, description, sort_order, active, answer_type, options, phi, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.List, e.Code, e.Label, e.Description, e.SortOrder, e.Active, string(e.AnswerType), strings.Join(e.Options, "\n"),
			e.PHI, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("The %s list already has an entry whose code differs from %s only in capitals.", e.List, e.Code)
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", e.EntityID(), err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: auditEntity, EntityID: e.EntityID(),
			Reason: reason, Changes: audit.Diff(auditFields, nil, e.fields())})
	}
	if err != nil {
		return err
	}
	switch {
	case old.Active && !e.Active:
		return fmt.Errorf("The entry %s is active in this instance; an import never deactivates an entry.", e.EntityID())
	case !old.Active && e.Active:
		return fmt.Errorf("The entry %s is deactivated in this instance; an import never reactivates an entry.", e.EntityID())
	}
	changes := audit.Diff(auditFields, old.fields(), e.fields())
	if len(changes) == 0 {
		return nil
	}
	if err := save(ctx, tx, by, old, e); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: auditEntity, EntityID: e.EntityID(),
		Reason: reason, Changes: changes})
}
