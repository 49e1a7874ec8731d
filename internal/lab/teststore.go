package lab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// StoredTest is a lab test as the instance keeps it, with its reference
// ranges and choices in their order.
type StoredTest struct {
	Test
	Record
}

const testColumns = "code, name, loinc, specimen, result_type, unit, decimal_places, " + recordColumns

func scanTest(r scanner) (StoredTest, error) {
	var t StoredTest
	var specimen, resultType string
	err := r.Scan(append([]any{&t.Code, &t.Name, &t.LOINC, &specimen, &resultType, &t.Unit, &t.DecimalPlaces}, t.Record.targets()...)...)
	t.Specimen, t.ResultType = Specimen(specimen), ResultType(resultType)
	return t, err
}

var tests = entity[Test]{
	table: "lab_test",
	noun:  "lab test",
	read: func(ctx context.Context, q store.Querier, code string) (Test, Record, error) {
		t, err := scanTest(q.QueryRow(ctx, "SELECT "+testColumns+" FROM lab_test WHERE code = ?", code))
		if err != nil {
			return Test{}, Record{}, err
		}
		err = loadTestRows(ctx, q, map[int64]*Test{t.ID: &t.Test})
		return t.Test, t.Record, err
	},
	fields: func(t Test) []audit.Change {
		return []audit.Change{{Field: "code", New: t.Code}, {Field: "name", New: t.Name}, {Field: "loinc", New: t.LOINC},
			{Field: "specimen", New: string(t.Specimen)}, {Field: "result_type", New: string(t.ResultType)},
			{Field: "unit", New: t.Unit}, {Field: "decimal_places", New: strconv.Itoa(t.DecimalPlaces)},
			{Field: "choices", New: strings.Join(t.Choices, "; ")}, {Field: "ranges", New: describeRanges(t.Ranges)}}
	},
	write: writeTest,
}

// describeRanges renders ranges for the audit trail, one per line, e.g.
// "male, ages 18 to under 65: 13–17".
func describeRanges(rs []ReferenceRange) string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		low, high := "", ""
		if r.Low != nil {
			low = formatLimit(*r.Low)
		}
		if r.High != nil {
			high = formatLimit(*r.High)
		}
		lines[i] = fmt.Sprintf("%s: %s–%s", r.Who(), low, high)
	}
	return strings.Join(lines, "\n")
}

func writeTest(ctx context.Context, tx *store.Tx, id int64, t Test) error {
	if _, err := tx.Exec(ctx, "UPDATE lab_test SET name = ?, loinc = ?, specimen = ?, result_type = ?, unit = ?, decimal_places = ? WHERE id = ?",
		t.Name, t.LOINC, string(t.Specimen), string(t.ResultType), t.Unit, t.DecimalPlaces, id); err != nil {
		return err
	}
	// Ranges and choices are replaced whole: they have no identity of their
	// own, and the audit trail keeps the old and the new list.
	for _, q := range []string{"DELETE FROM lab_test_range WHERE test_id = ?", "DELETE FROM lab_test_choice WHERE test_id = ?"} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	for i, r := range t.Ranges {
		if _, err := tx.Exec(ctx, "INSERT INTO lab_test_range (test_id, position, sex, age_from, age_to, low, high) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, i, string(r.Sex), r.AgeFrom, r.AgeTo, nullable(r.Low), nullable(r.High)); err != nil {
			return err
		}
	}
	for i, c := range t.Choices {
		if _, err := tx.Exec(ctx, "INSERT INTO lab_test_choice (test_id, position, label) VALUES (?, ?, ?)", id, i, c); err != nil {
			return err
		}
	}
	return nil
}

func nullable(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}

// loadTestRows fills in the ranges and choices of the tests by id.
func loadTestRows(ctx context.Context, q store.Querier, byID map[int64]*Test) error {
	if len(byID) == 0 {
		return nil
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	in := "(" + strings.Join(ids, ", ") + ")"
	rows, err := q.Query(ctx, "SELECT test_id, sex, age_from, age_to, low, high FROM lab_test_range WHERE test_id IN "+in+" ORDER BY test_id, position")
	if err != nil {
		return fmt.Errorf("read reference ranges: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r ReferenceRange
		var sex string
		var low, high sql.NullFloat64
		if err := rows.Scan(&id, &sex, &r.AgeFrom, &r.AgeTo, &low, &high); err != nil {
			return fmt.Errorf("read reference ranges: %w", err)
		}
		r.Sex = Sex(sex)
		if low.Valid {
			r.Low = &low.Float64
		}
		if high.Valid {
			r.High = &high.Float64
		}
		byID[id].Ranges = append(byID[id].Ranges, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read reference ranges: %w", err)
	}
	rows.Close()
	rows, err = q.Query(ctx, "SELECT test_id, label FROM lab_test_choice WHERE test_id IN "+in+" ORDER BY test_id, position")
	if err != nil {
		return fmt.Errorf("read choices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var label string
		if err := rows.Scan(&id, &label); err != nil {
			return fmt.Errorf("read choices: %w", err)
		}
		byID[id].Choices = append(byID[id].Choices, label)
	}
	return rows.Err()
}

// tidy trims what people type around codes, names and units, so "mmol/l "
// pasted from a lab's catalogue is the unit mmol/l and not an error about a
// space nobody can see.
func (t Test) tidy() Test {
	t.Code, t.Name, t.LOINC, t.Unit = strings.TrimSpace(t.Code), strings.TrimSpace(t.Name), strings.TrimSpace(t.LOINC), strings.TrimSpace(t.Unit)
	choices := make([]string, len(t.Choices))
	for i, c := range t.Choices {
		choices[i] = strings.TrimSpace(c)
	}
	t.Choices = choices
	if len(t.Choices) == 0 {
		t.Choices = nil
	}
	if len(t.Ranges) == 0 {
		t.Ranges = nil
	}
	return t
}

// ListTests returns the lab tests whose code, name or LOINC code contains
// query (all for an empty query), by code, with their ranges and choices;
// inactive ones only when includeInactive.
func ListTests(ctx context.Context, db store.Querier, query string, includeInactive bool) ([]StoredTest, error) {
	q := "SELECT " + testColumns + " FROM lab_test WHERE (LOWER(code) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\' OR loinc LIKE ? ESCAPE '\\')"
	args := []any{likeQuery(query), likeQuery(query), likeQuery(query)}
	if !includeInactive {
		q += " AND active = ?"
		args = append(args, true)
	}
	rows, err := db.Query(ctx, q+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list lab tests: %w", err)
	}
	defer rows.Close()
	var out []StoredTest
	for rows.Next() {
		t, err := scanTest(rows)
		if err != nil {
			return nil, fmt.Errorf("list lab tests: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lab tests: %w", err)
	}
	rows.Close()
	byID := make(map[int64]*Test, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i].Test
	}
	return out, loadTestRows(ctx, db, byID)
}

// GetTest returns the lab test with the given code, with its ranges and
// choices, or an error wrapping check.ErrNotFound.
func GetTest(ctx context.Context, db store.Querier, code string) (StoredTest, error) {
	t, rec, err := tests.read(ctx, db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredTest{}, fmt.Errorf("lab test %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return StoredTest{}, fmt.Errorf("read lab test %s: %w", code, err)
	}
	return StoredTest{Test: t, Record: rec}, nil
}

// CreateTest validates and stores a new lab test and audits it. Problems
// come back as check.FieldErrors keyed as ValidateTest keys them: a
// non-UCUM unit under "unit", an overlapping range under "ranges[i]".
func CreateTest(ctx context.Context, db *store.DB, by audit.Actor, t Test) (StoredTest, error) {
	t = t.tidy()
	if err := t.Validate(); err != nil {
		return StoredTest{}, err
	}
	rec, err := insert(ctx, db, by, tests, t.Code, t, func(tx *store.Tx, now time.Time) (int64, error) {
		return tx.InsertID(ctx, `INSERT INTO lab_test (code, name, specimen, result_type, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.Code, t.Name, string(t.Specimen), string(t.ResultType), true, now, now, by.Name)
	})
	return StoredTest{Test: t, Record: rec}, err
}

// UpdateTest saves changes to a lab test's fields other than its code,
// ranges and choices included, with a reason for change; see Record.
func UpdateTest(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, t Test, reason string) error {
	return change(ctx, db, by, tests, code, version, reason, audit.Update, func(_ *store.Tx, old Test, active bool) (Test, bool, error) {
		t = t.tidy()
		t.Code = old.Code
		return t, active, t.Validate()
	})
}

// SetTestActive deactivates (active false) or reactivates a lab test, with
// a reason for change. A test still listed in an active panel cannot be
// deactivated: the panel would order a test nobody can record.
func SetTestActive(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, active bool, reason string) error {
	return change(ctx, db, by, tests, code, version, reason, activeAction(active), func(tx *store.Tx, old Test, was bool) (Test, bool, error) {
		if was == active {
			return old, was, alreadyError("lab test", code, active)
		}
		if !active {
			panels, err := panelsWithTest(ctx, tx, code)
			if err != nil {
				return old, was, err
			}
			if len(panels) > 0 {
				return old, was, fmt.Errorf("The lab test %s is in the active panel(s) %s; take it out of them before deactivating it.", code, strings.Join(panels, ", "))
			}
		}
		return old, active, nil
	})
}

// panelsWithTest returns the codes of the active panels that list a test.
func panelsWithTest(ctx context.Context, q store.Querier, code string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT p.code FROM lab_panel p JOIN lab_panel_test pt ON pt.panel_id = p.id
		JOIN lab_test t ON t.id = pt.test_id WHERE t.code = ? AND p.active = ? ORDER BY p.code`, code, true)
	if err != nil {
		return nil, fmt.Errorf("find panels with test %s: %w", code, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
