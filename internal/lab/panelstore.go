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

// StoredPanel is a panel as the instance keeps it, with its tests' codes
// in panel order.
type StoredPanel struct {
	Panel
	Record
}

const panelColumns = "code, name, " + recordColumns

func scanPanel(r scanner) (StoredPanel, error) {
	var p StoredPanel
	err := r.Scan(append([]any{&p.Code, &p.Name}, p.Record.targets()...)...)
	return p, err
}

var panels = entity[Panel]{
	table: "lab_panel",
	noun:  "panel",
	read: func(ctx context.Context, q store.Querier, code string) (Panel, Record, error) {
		p, err := scanPanel(q.QueryRow(ctx, "SELECT "+panelColumns+" FROM lab_panel WHERE code = ?", code))
		if err != nil {
			return Panel{}, Record{}, err
		}
		err = loadPanelTests(ctx, q, map[int64]*Panel{p.ID: &p.Panel})
		return p.Panel, p.Record, err
	},
	fields: func(p Panel) []audit.Change {
		return []audit.Change{{Field: "code", New: p.Code}, {Field: "name", New: p.Name}, {Field: "tests", New: strings.Join(p.Tests, ", ")}}
	},
	write: func(ctx context.Context, tx *store.Tx, id int64, p Panel) error {
		if _, err := tx.Exec(ctx, "UPDATE lab_panel SET name = ? WHERE id = ?", p.Name, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM lab_panel_test WHERE panel_id = ?", id); err != nil {
			return err
		}
		for i, code := range p.Tests {
			res, err := tx.Exec(ctx, "INSERT INTO lab_panel_test (panel_id, position, test_id) SELECT ?, ?, id FROM lab_test WHERE code = ? AND active = ?",
				id, i, code, true)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n != 1 {
				return check.FieldErrors{fmt.Sprintf("tests[%d]", i): fmt.Sprintf("No active lab test has code %q.", code)}
			}
		}
		return nil
	},
}

func loadPanelTests(ctx context.Context, q store.Querier, byID map[int64]*Panel) error {
	if len(byID) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT pt.panel_id, t.code FROM lab_panel_test pt JOIN lab_test t ON t.id = pt.test_id ORDER BY pt.panel_id, pt.position`)
	if err != nil {
		return fmt.Errorf("read panel tests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return fmt.Errorf("read panel tests: %w", err)
		}
		if p, ok := byID[id]; ok {
			p.Tests = append(p.Tests, code)
		}
	}
	return rows.Err()
}

// activeTestCodes returns a lookup of the codes of active lab tests, for
// ValidatePanel.
func activeTestCodes(ctx context.Context, q store.Querier) (func(string) bool, error) {
	rows, err := q.Query(ctx, "SELECT code FROM lab_test WHERE active = ?", true)
	if err != nil {
		return nil, fmt.Errorf("read lab test codes: %w", err)
	}
	defer rows.Close()
	codes := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("read lab test codes: %w", err)
		}
		codes[c] = true
	}
	return func(c string) bool { return codes[c] }, rows.Err()
}

func (p Panel) tidy() Panel {
	p.Code, p.Name = strings.TrimSpace(p.Code), strings.TrimSpace(p.Name)
	tests := make([]string, len(p.Tests))
	for i, t := range p.Tests {
		tests[i] = strings.TrimSpace(t)
	}
	p.Tests = tests
	return p
}

// validatePanel checks p against the active lab tests seen through q.
func validatePanel(ctx context.Context, q store.Querier, p Panel) error {
	exists, err := activeTestCodes(ctx, q)
	if err != nil {
		return err
	}
	fe := ValidatePanel(p, exists)
	for k, msg := range fe {
		// ValidatePanel says "No lab test"; an inactive one is refused too.
		if strings.HasPrefix(msg, "No lab test has code") {
			fe[k] = "No active lab test" + strings.TrimPrefix(msg, "No lab test")
		}
	}
	return fe.Err()
}

// ListPanels returns the panels whose code or name contains query (all for
// an empty query), by code, with their tests in order; inactive ones only
// when includeInactive.
func ListPanels(ctx context.Context, db store.Querier, query string, includeInactive bool) ([]StoredPanel, error) {
	q := "SELECT " + panelColumns + " FROM lab_panel WHERE (LOWER(code) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')"
	args := []any{likeQuery(query), likeQuery(query)}
	if !includeInactive {
		q += " AND active = ?"
		args = append(args, true)
	}
	rows, err := db.Query(ctx, q+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list panels: %w", err)
	}
	defer rows.Close()
	var out []StoredPanel
	for rows.Next() {
		p, err := scanPanel(rows)
		if err != nil {
			return nil, fmt.Errorf("list panels: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list panels: %w", err)
	}
	rows.Close()
	byID := make(map[int64]*Panel, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i].Panel
	}
	return out, loadPanelTests(ctx, db, byID)
}

// GetPanel returns the panel with the given code, or an error wrapping
// check.ErrNotFound.
func GetPanel(ctx context.Context, db store.Querier, code string) (StoredPanel, error) {
	p, rec, err := panels.read(ctx, db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredPanel{}, fmt.Errorf("panel %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return StoredPanel{}, fmt.Errorf("read panel %s: %w", code, err)
	}
	return StoredPanel{Panel: p, Record: rec}, nil
}

// CreatePanel validates and stores a new panel of active lab tests and
// audits it; a test that is missing, inactive or listed twice is a field
// error under "tests[i]".
func CreatePanel(ctx context.Context, db *store.DB, by audit.Actor, p Panel) (StoredPanel, error) {
	p = p.tidy()
	if err := validatePanel(ctx, db, p); err != nil {
		return StoredPanel{}, err
	}
	rec, err := insert(ctx, db, by, panels, p.Code, p, func(tx *store.Tx, now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab_panel (code, name, active, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)`,
			p.Code, p.Name, true, now, now, by.Name)
	})
	if fe, ok := check.AsFieldErrors(err); ok {
		return StoredPanel{}, fe
	}
	return StoredPanel{Panel: p, Record: rec}, err
}

// UpdatePanel saves a panel's name and its ordered tests, with a reason for
// change; see Record.
func UpdatePanel(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, p Panel, reason string) error {
	return change(ctx, db, by, panels, code, version, reason, audit.Update, func(tx *store.Tx, old Panel, active bool) (Panel, bool, error) {
		p = p.tidy()
		p.Code = old.Code
		return p, active, validatePanel(ctx, tx, p)
	})
}

// SetPanelActive deactivates (active false) or reactivates a panel, with a
// reason for change. A panel is reactivated only while all its tests are
// active.
func SetPanelActive(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, active bool, reason string) error {
	return change(ctx, db, by, panels, code, version, reason, activeAction(active), func(tx *store.Tx, old Panel, was bool) (Panel, bool, error) {
		if was == active {
			return old, was, alreadyError("panel", code, active)
		}
		if active {
			if err := validatePanel(ctx, tx, old); err != nil {
				return old, was, fmt.Errorf("The panel %s lists lab tests that are no longer active (%v); edit it before reactivating it.", code, err)
			}
		}
		return old, active, nil
	})
}
