package label

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// AuditEntity is the entity name of label templates in the audit trail;
// entries name the template by its code.
const AuditEntity = "label_template"

// Stored is a template as the instance keeps it: the template itself,
// whether it is offered for printing, and the version a save must name so
// that it cannot overwrite a change it has not seen.
type Stored struct {
	ID       int64
	Template Template
	// Active templates are offered for printing; deactivated ones are kept
	// for the records that name them and can be reactivated.
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	Version   int
}

// Filter selects the templates List returns.
type Filter struct {
	// Search matches a part of the code or the name, ignoring case.
	Search string
	// IncludeInactive lists deactivated templates too.
	IncludeInactive bool
}

// maxNameChars and maxFields bound what a form can make the instance store.
const (
	maxNameChars = 200
	maxFields    = 100
)

// Problems checks a template as Create and Update do and returns its
// problems keyed like Validate's, e.g. "fields[2].module_mm"; it is empty
// when the template can be stored.
func Problems(t Template) check.FieldErrors {
	fe := check.FieldErrors{}
	checkFinite(fe, t)
	for k, msg := range Validate(t) {
		fe.Add(k, "%s", msg)
	}
	if n := utf8.RuneCountInString(t.Name); n > maxNameChars {
		fe.Add("name", "The name has %d characters; keep it to %d.", n, maxNameChars)
	}
	if len(t.Fields) > maxFields {
		fe.Add("fields", "The template has %d fields; a label holds at most %d.", len(t.Fields), maxFields)
	}
	return fe
}

// checkFinite refuses NaN and infinite sizes, which compare false against
// every bound Validate checks and so would otherwise slip through.
func checkFinite(fe check.FieldErrors, t Template) {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(t.WidthMM) {
		fe.Add("width_mm", "Enter the label's width as a number of millimetres.")
	}
	if bad(t.HeightMM) {
		fe.Add("height_mm", "Enter the label's height as a number of millimetres.")
	}
	for i, f := range t.Fields {
		for input, v := range map[string]float64{"x_mm": f.XMM, "y_mm": f.YMM, "width_mm": f.WidthMM,
			"height_mm": f.HeightMM, "font_height_mm": f.FontHeightMM, "module_mm": f.ModuleMM} {
			if bad(v) {
				fe.Add(fmt.Sprintf("fields[%d].%s", i, input), "Field %d: enter a number of millimetres.", i+1)
			}
		}
	}
}

// normalise trims what users type around names and copies the fields, so
// the caller's slice is never shared with a stored template.
func normalise(t Template) Template {
	t.Code = strings.TrimSpace(t.Code)
	t.Name = strings.TrimSpace(t.Name)
	fields := make([]Field, len(t.Fields))
	for i, f := range t.Fields {
		f.Name = strings.TrimSpace(f.Name)
		fields[i] = f
	}
	t.Fields = fields
	return t
}

// canonical is the template's stored form: its JSON with fields in print
// order, the same text for the same template on every engine.
func canonical(t Template) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode label template %s: %w", t.Code, err)
	}
	return string(b), nil
}

const storedColumns = "id, code, name, template, active, created_at, updated_at, updated_by, version"

// scanStored reads one row of storedColumns.
func scanStored(r interface{ Scan(...any) error }) (Stored, error) {
	var s Stored
	var code, name, doc string
	if err := r.Scan(&s.ID, &code, &name, &doc, &s.Active, &s.CreatedAt, &s.UpdatedAt, &s.UpdatedBy, &s.Version); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(doc), &s.Template); err != nil {
		return s, fmt.Errorf("label template %s: stored template is not readable: %w", code, err)
	}
	// The columns are what searches and the audit trail use; they win.
	s.Template.Code, s.Template.Name = code, name
	return s, nil
}

// List returns templates by code: active ones, or all with IncludeInactive,
// narrowed by Search.
func List(ctx context.Context, q store.Querier, f Filter) ([]Stored, error) {
	query := "SELECT " + storedColumns + " FROM label_template"
	var conds []string
	var args []any
	if !f.IncludeInactive {
		conds, args = append(conds, "active = ?"), append(args, true)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + likeEscaper.Replace(strings.ToLower(s)) + "%"
		conds = append(conds, `(LOWER(code) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := q.Query(ctx, query+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list label templates: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		s, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("list label templates: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// likeEscaper makes a search's own % and _ match themselves.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Get returns the template with the given code.
func Get(ctx context.Context, q store.Querier, code string) (Stored, error) {
	s, err := scanStored(q.QueryRow(ctx, "SELECT "+storedColumns+" FROM label_template WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("label template %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read label template %s: %w", code, err)
	}
	return s, nil
}

// Create validates and stores a new, active template and audits every
// attribute it starts with.
func Create(ctx context.Context, db *store.DB, by audit.Actor, t Template) (Stored, error) {
	t = normalise(t)
	s := Stored{Template: t, Active: true, Version: 1, UpdatedBy: by.Name}
	if err := Problems(t).Err(); err != nil {
		return s, err
	}
	doc, err := canonical(t)
	if err != nil {
		return s, err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO label_template (code, name, template, active, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Code, t.Name, doc, true, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("A label template with code %s already exists; it may be inactive or differ only in capitals.", t.Code)}
		}
		if err != nil {
			return fmt.Errorf("create label template %s: %w", t.Code, err)
		}
		s.ID, s.CreatedAt, s.UpdatedAt = id, now, now
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: AuditEntity, EntityID: t.Code,
			Changes: changes(nil, &s)})
	})
	return s, err
}

// Update replaces a template's name, size, resolution and fields; its code
// never changes. version is the version the user opened: a newer one means
// someone else saved first, and the save is refused with a check.Conflict.
func Update(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, t Template, reason string) error {
	t = normalise(t)
	t.Code = code
	fe := Problems(t)
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why you are making this change (reason for change).")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return change(ctx, db, by, code, version, reason, audit.Update, func(old Stored) (Stored, error) {
		if !old.Active {
			return old, fmt.Errorf("Label template %s is inactive; reactivate it before changing it.", code)
		}
		old.Template = t
		return old, nil
	})
}

// Deactivate stops a template being offered for printing while keeping it,
// and its history, for the records that name it.
func Deactivate(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string) error {
	return change(ctx, db, by, code, version, reason, audit.Deactivate, func(old Stored) (Stored, error) {
		if !old.Active {
			return old, fmt.Errorf("Label template %s is already inactive.", code)
		}
		old.Active = false
		return old, nil
	})
}

// Reactivate offers a deactivated template for printing again.
func Reactivate(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string) error {
	return change(ctx, db, by, code, version, reason, audit.Reactivate, func(old Stored) (Stored, error) {
		if old.Active {
			return old, fmt.Errorf("Label template %s is already active.", code)
		}
		old.Active = true
		return old, nil
	})
}

// change applies one edit to the stored template inside a transaction:
// it refuses a stale version, writes nothing when nothing changed, and
// audits each changed attribute with the reason.
func change(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string,
	action audit.Action, apply func(Stored) (Stored, error)) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, code)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "label template", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		next, err := apply(old)
		if err != nil {
			return err
		}
		diff := changes(&old, &next)
		if len(diff) == 0 {
			return nil
		}
		doc, err := canonical(next.Template)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE label_template SET name = ?, template = ?, active = ?, updated_at = ?, updated_by = ?,
			version = version + 1 WHERE id = ? AND version = ?`,
			next.Template.Name, doc, next.Active, time.Now().UTC(), by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("save label template %s: %w", code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: AuditEntity, EntityID: code,
			Reason: reason, Changes: diff})
	})
}
