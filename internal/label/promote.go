package label

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

// Import brings the template with s.Template's code to s.Template — name,
// size, resolution and fields — inside tx: it creates the template, active
// or deactivated as s.Active says, when this instance has none with that
// code and replaces it otherwise, auditing either attribute by attribute
// with reason. Configuration promotion uses it. The template is checked as
// Create checks it. It never changes whether an existing template is
// active: that is this instance's decision, so a template whose active flag
// differs is refused.
func Import(ctx context.Context, tx *store.Tx, by audit.Actor, s Stored, reason string) error {
	t := normalise(s.Template)
	fe := Problems(t)
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why you are importing this label template.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	doc, err := canonical(t)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	old, err := Get(ctx, tx, t.Code)
	if errors.Is(err, check.ErrNotFound) {
		next := Stored{Template: t, Active: s.Active}
		_, err := tx.InsertID(ctx, `INSERT INTO label_template (code, name, template, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Code, t.Name, doc, s.Active, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("This instance has a label template whose code differs from %s only in capitals.", t.Code)
		}
		if err != nil {
			return fmt.Errorf("import label template %s: %w", t.Code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: AuditEntity, EntityID: t.Code,
			Reason: reason, Changes: changes(nil, &next)})
	}
	if err != nil {
		return err
	}
	switch {
	case old.Active && !s.Active:
		return fmt.Errorf("Label template %s is active in this instance; an import never deactivates a template.", t.Code)
	case !old.Active && s.Active:
		return fmt.Errorf("Label template %s is inactive in this instance; an import never reactivates a template.", t.Code)
	}
	next := old
	next.Template = t
	diff := changes(&old, &next)
	if len(diff) == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, `UPDATE label_template SET name = ?, template = ?, updated_at = ?, updated_by = ?,
		version = version + 1 WHERE id = ? AND version = ?`, t.Name, doc, now, by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("import label template %s: %w", t.Code, err)
	}
	// On PostgreSQL another transaction may have saved the template since
	// it was read here; the import then must not overwrite that change.
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "label template", By: "another user", At: now}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: AuditEntity, EntityID: t.Code,
		Reason: reason, Changes: diff})
}
