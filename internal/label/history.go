package label

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
)

// changes lists what differs between two versions of a stored template as
// the audit trail shows it: one entry per label attribute, one per field
// (named by the field's name, its value a readable summary of every
// attribute) and one for the order fields print in. old is nil for a new
// template.
func changes(old, new *Stored) []audit.Change {
	before, after := map[string]string{}, map[string]string{}
	var order []string
	if old != nil {
		order = attributes(old, before)
	}
	for _, name := range attributes(new, after) {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	// Deactivation is the last thing a reader of the trail looks for.
	if i := slices.Index(order, "active"); i >= 0 {
		order = append(slices.Delete(order, i, i+1), "active")
	}
	return audit.Diff(order, before, after)
}

// attributes fills values with s's audited attributes and returns their
// names in display order.
func attributes(s *Stored, values map[string]string) []string {
	t := s.Template
	values["code"] = t.Code
	values["name"] = t.Name
	values["width_mm"] = decimal(t.WidthMM)
	values["height_mm"] = decimal(t.HeightMM)
	values["dpi"] = strconv.Itoa(t.DPI)
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = strconv.Quote(f.Name)
	}
	values["field order"] = strings.Join(names, ", ")
	values["active"] = yesNo(s.Active)
	order := []string{"code", "name", "width_mm", "height_mm", "dpi", "field order"}
	for _, f := range t.Fields {
		key := fmt.Sprintf("field %q", f.Name)
		values[key] = summary(f)
		order = append(order, key)
	}
	return append(order, "active")
}

// summary describes every attribute of a field that is set, so that any
// change to the field changes its summary.
func summary(f Field) string {
	parts := []string{
		string(f.Kind),
		"at " + decimal(f.XMM) + ", " + decimal(f.YMM) + " mm",
		"size " + decimal(f.WidthMM) + " × " + decimal(f.HeightMM) + " mm",
		"shows " + string(f.Binding),
	}
	if f.Text != "" {
		parts = append(parts, "text "+strconv.Quote(f.Text))
	}
	if f.MaxChars != 0 {
		parts = append(parts, "at most "+strconv.Itoa(f.MaxChars)+" characters")
	}
	if f.FontHeightMM != 0 {
		parts = append(parts, "font "+decimal(f.FontHeightMM)+" mm")
	}
	if f.Rotation != 0 {
		parts = append(parts, "rotated "+strconv.Itoa(f.Rotation)+"°")
	}
	if f.Symbology != "" {
		parts = append(parts, string(f.Symbology))
	}
	if f.ModuleMM != 0 {
		parts = append(parts, "module "+decimal(f.ModuleMM)+" mm")
	}
	if f.HumanReadable {
		parts = append(parts, "human-readable")
	}
	return strings.Join(parts, "; ")
}

// decimal writes a number of millimetres exactly as stored, with no
// rounding, so the trail never hides a change.
func decimal(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
