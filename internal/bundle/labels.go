package bundle

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/store"
)

// labelCategory carries barcode label templates, active and inactive, keyed
// by template code: the label's size in millimetres, the printer's DPI and
// the fields in print order. Millimetres are decimal text ("0.17"), exactly
// as the instance stores them; a field's optional settings are left out
// when unset. On import a template is checked as the template editor checks
// it. A template whose active flag differs from this instance's is ignored:
// an import never deactivates or reactivates.
type labelCategory struct{}

type labelFields struct {
	Name     string            `json:"name"`
	WidthMM  string            `json:"width_mm"`
	HeightMM string            `json:"height_mm"`
	DPI      int               `json:"dpi"`
	Fields   []labelFieldField `json:"fields"`
	Active   bool              `json:"active"`
}

// labelFieldField is one field printed on a label (label.Field).
type labelFieldField struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	XMM           string `json:"x_mm"`
	YMM           string `json:"y_mm"`
	WidthMM       string `json:"width_mm"`
	HeightMM      string `json:"height_mm"`
	Binding       string `json:"binding"`
	Text          string `json:"text,omitempty"`
	MaxChars      int    `json:"max_chars,omitempty"`
	FontHeightMM  string `json:"font_height_mm,omitempty"`
	Rotation      int    `json:"rotation,omitempty"`
	Symbology     string `json:"symbology,omitempty"`
	ModuleMM      string `json:"module_mm,omitempty"`
	HumanReadable bool   `json:"human_readable,omitempty"`
}

func (labelCategory) Name() string     { return "barcode-labels" }
func (labelCategory) Promotable() bool { return true }

func (labelCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	templates, err := label.List(ctx, q, label.Filter{IncludeInactive: true})
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(templates))
	for _, s := range templates {
		t := s.Template
		f := labelFields{Name: t.Name, WidthMM: decimalText(t.WidthMM), HeightMM: decimalText(t.HeightMM), DPI: t.DPI,
			Fields: []labelFieldField{}, Active: s.Active}
		for _, fl := range t.Fields {
			f.Fields = append(f.Fields, labelFieldField{Name: fl.Name, Kind: string(fl.Kind),
				XMM: decimalText(fl.XMM), YMM: decimalText(fl.YMM), WidthMM: decimalText(fl.WidthMM), HeightMM: decimalText(fl.HeightMM),
				Binding: string(fl.Binding), Text: fl.Text, MaxChars: fl.MaxChars, FontHeightMM: optionalDecimal(fl.FontHeightMM),
				Rotation: fl.Rotation, Symbology: string(fl.Symbology), ModuleMM: optionalDecimal(fl.ModuleMM), HumanReadable: fl.HumanReadable})
		}
		rec, err := NewRecord(t.Code, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (labelCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	templates, err := label.List(ctx, q, label.Filter{IncludeInactive: true})
	if err != nil {
		return nil, err
	}
	here := map[string]bool{}
	for _, s := range templates {
		here[s.Template.Code] = s.Active
	}
	skip := map[string]string{}
	for _, rec := range incoming {
		if active, ok := here[rec.Key]; ok {
			if why := activeSkip("label template", active, activeField(rec)); why != "" {
				skip[rec.Key] = why
			}
		}
	}
	return skip, nil
}

func (labelCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, rec := range records {
		s, err := labelTemplate(rec)
		if err == nil {
			err = label.Import(ctx, tx, by, s, reason)
		}
		if err != nil {
			return recordError("barcode-labels", rec.Key, err)
		}
	}
	return nil
}

// labelTemplate reads a record back into a stored template.
func labelTemplate(rec Record) (label.Stored, error) {
	var f labelFields
	if err := rec.Decode(&f); err != nil {
		return label.Stored{}, err
	}
	t := label.Template{Code: rec.Key, Name: f.Name, DPI: f.DPI, Fields: []label.Field{}}
	var err error
	if t.WidthMM, err = parseDecimal("width_mm", f.WidthMM, false); err != nil {
		return label.Stored{}, err
	}
	if t.HeightMM, err = parseDecimal("height_mm", f.HeightMM, false); err != nil {
		return label.Stored{}, err
	}
	for i, ff := range f.Fields {
		fl := label.Field{Name: ff.Name, Kind: label.Kind(ff.Kind), Binding: label.Binding(ff.Binding), Text: ff.Text,
			MaxChars: ff.MaxChars, Rotation: ff.Rotation, Symbology: label.Symbology(ff.Symbology), HumanReadable: ff.HumanReadable}
		for _, v := range []struct {
			name     string
			text     string
			optional bool
			dst      *float64
		}{
			{"x_mm", ff.XMM, false, &fl.XMM}, {"y_mm", ff.YMM, false, &fl.YMM},
			{"width_mm", ff.WidthMM, false, &fl.WidthMM}, {"height_mm", ff.HeightMM, false, &fl.HeightMM},
			{"font_height_mm", ff.FontHeightMM, true, &fl.FontHeightMM}, {"module_mm", ff.ModuleMM, true, &fl.ModuleMM},
		} {
			if *v.dst, err = parseDecimal(fmt.Sprintf("fields[%d].%s", i, v.name), v.text, v.optional); err != nil {
				return label.Stored{}, err
			}
		}
		t.Fields = append(t.Fields, fl)
	}
	return label.Stored{Template: t, Active: f.Active}, nil
}
