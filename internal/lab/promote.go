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

// Configuration promotion brings labs, lab tests and panels from a Sandbox
// or Pre-PROD instance into VAL and PROD with ImportLab, ImportTest and
// ImportPanel. Each creates the item when this instance has none with its
// code — active or inactive as the source has it — and updates it
// otherwise, inside the caller's transaction, validating it with the same
// rules as the pages and auditing with the reason given. None of them
// changes whether an existing item is active: deactivating is this
// instance's decision and reactivating would undo one, so an item whose
// active flag differs is refused (the bundle leaves such items out before
// it gets here).

// ImportLab brings the lab with l's code to l's name, kind, address and
// accreditation; see the comment above.
func ImportLab(ctx context.Context, tx *store.Tx, by audit.Actor, l Lab, active bool, reason string) error {
	l = l.tidy()
	if err := l.Validate(); err != nil {
		return err
	}
	return importItem(ctx, tx, by, labs, l.Code, l, active, reason, func(now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab (code, name, kind, address, accreditation, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, l.Code, l.Name, string(l.Kind), l.Address, l.Accreditation, active, now, now, by.Name)
	}, labs.write)
}

// ImportTest brings the lab test with t's code to t's name, LOINC code,
// specimen, result type, unit, decimal places, choices and reference
// ranges; a non-UCUM unit or overlapping ranges are refused as field
// errors, as on the page. See the comment above.
func ImportTest(ctx context.Context, tx *store.Tx, by audit.Actor, t Test, active bool, reason string) error {
	t = t.tidy()
	if err := t.Validate(); err != nil {
		return err
	}
	return importItem(ctx, tx, by, tests, t.Code, t, active, reason, func(now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab_test (code, name, specimen, result_type, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.Code, t.Name, string(t.Specimen), string(t.ResultType), active, now, now, by.Name)
	}, tests.write)
}

// ImportPanel brings the panel with p's code to p's name and ordered
// tests, which must exist here: import the tests first. An active panel
// lists active tests only, as on the page; an inactive one may list
// inactive tests, as it may in the instance it comes from. See the comment
// above.
func ImportPanel(ctx context.Context, tx *store.Tx, by audit.Actor, p Panel, active bool, reason string) error {
	p = p.tidy()
	if err := validateImportedPanel(ctx, tx, p, active); err != nil {
		return err
	}
	write := func(ctx context.Context, tx *store.Tx, id int64, p Panel) error {
		return writePanel(ctx, tx, id, p, active)
	}
	return importItem(ctx, tx, by, panels, p.Code, p, active, reason, func(now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab_panel (code, name, active, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)`,
			p.Code, p.Name, active, now, now, by.Name)
	}, write)
}

// validateImportedPanel checks p against the lab tests seen through q:
// active ones only for an active panel, any for an inactive one.
func validateImportedPanel(ctx context.Context, q store.Querier, p Panel, active bool) error {
	rows, err := q.Query(ctx, "SELECT code, active FROM lab_test")
	if err != nil {
		return fmt.Errorf("read lab test codes: %w", err)
	}
	defer rows.Close()
	state := map[string]bool{}
	for rows.Next() {
		var c string
		var a bool
		if err := rows.Scan(&c, &a); err != nil {
			return fmt.Errorf("read lab test codes: %w", err)
		}
		state[c] = a
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read lab test codes: %w", err)
	}
	fe := ValidatePanel(p, func(code string) bool {
		a, ok := state[code]
		return ok && (a || !active)
	})
	for k, msg := range fe {
		if strings.HasPrefix(msg, "No lab test has code") && active {
			fe[k] = "No active lab test" + strings.TrimPrefix(msg, "No lab test")
		}
	}
	return fe.Err()
}

// writePanel is panels.write for an import: the same rows, but an inactive
// panel may list inactive tests.
func writePanel(ctx context.Context, tx *store.Tx, id int64, p Panel, active bool) error {
	if _, err := tx.Exec(ctx, "UPDATE lab_panel SET name = ? WHERE id = ?", p.Name, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM lab_panel_test WHERE panel_id = ?", id); err != nil {
		return err
	}
	for i, code := range p.Tests {
		q := "INSERT INTO lab_panel_test (panel_id, position, test_id) SELECT ?, ?, id FROM lab_test WHERE code = ?"
		args := []any{id, i, code}
		if active {
			q += " AND active = ?"
			args = append(args, true)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return check.FieldErrors{fmt.Sprintf("tests[%d]", i): fmt.Sprintf("No lab test has code %q.", code)}
		}
	}
	return nil
}

// importItem creates or updates one item by code inside tx and audits it.
func importItem[T any](ctx context.Context, tx *store.Tx, by audit.Actor, e entity[T], code string, item T, active bool, reason string,
	insertRow func(now time.Time) (int64, error), write func(ctx context.Context, tx *store.Tx, id int64, item T) error) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this " + e.noun + "."}
	}
	now := time.Now().UTC()
	old, rec, err := e.read(ctx, tx, code)
	if errors.Is(err, sql.ErrNoRows) {
		id, err := insertRow(now)
		if err != nil {
			return fmt.Errorf("import %s %s: %w", e.noun, code, err)
		}
		if err := write(ctx, tx, id, item); err != nil {
			return wrapWrite(e.noun, code, err)
		}
		var changes []audit.Change
		for _, f := range e.fields(item) {
			if f.New != "" {
				changes = append(changes, f)
			}
		}
		changes = append(changes, audit.Change{Field: "active", New: yesNo(active)})
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: e.table, EntityID: code, Reason: reason, Changes: changes})
	}
	if err != nil {
		return fmt.Errorf("read %s %s: %w", e.noun, code, err)
	}
	switch {
	case rec.Active && !active:
		return fmt.Errorf("The %s %s is active in this instance; an import never deactivates it.", e.noun, code)
	case !rec.Active && active:
		return fmt.Errorf("The %s %s is inactive in this instance; an import never reactivates it.", e.noun, code)
	}
	changes := diff(e.fields(old), e.fields(item), rec.Active, active)
	if len(changes) == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, "UPDATE "+e.table+" SET updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?",
		now, by.Name, rec.ID, rec.Version)
	if err != nil {
		return fmt.Errorf("import %s %s: %w", e.noun, code, err)
	}
	// On PostgreSQL another transaction may have saved the item since it
	// was read here; the import then must not overwrite that change.
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return &check.Conflict{Entity: e.noun, By: "another user", At: now}
	}
	if err := write(ctx, tx, rec.ID, item); err != nil {
		return wrapWrite(e.noun, code, err)
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: e.table, EntityID: code, Reason: reason, Changes: changes})
}

// wrapWrite keeps field errors as they are, so they still name the field.
func wrapWrite(noun, code string, err error) error {
	if _, ok := check.AsFieldErrors(err); ok {
		return err
	}
	return fmt.Errorf("import %s %s: %w", noun, code, err)
}
