package web

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
)

// The label editor posts a template as flat form inputs named like the keys
// label.Validate reports problems under ("width_mm", "fields[2].module_mm"),
// so every problem lands beside the input it is about without translation.

// labelRowInputs are the inputs of one field row in column order; a row's
// problems are listed in this order.
var labelRowInputs = []string{"name", "kind", "x_mm", "y_mm", "width_mm", "height_mm", "binding", "text",
	"max_chars", "font_height_mm", "rotation", "symbology", "module_mm", "human_readable"}

// maxLabelRows bounds the rows a posted form is read for; the store refuses
// templates with more fields than that anyway.
const maxLabelRows = 100

var labelRowKey = regexp.MustCompile(`^fields\[(\d+)\]\.[a-z_]+$`)

// labelRow is one field row of the editor: its position and its problems.
type labelRow struct {
	Index int
	// Errors are the row's problems in column order.
	Errors []string
	bad    map[string]bool
}

// Name is the form name of the row's input.
func (r labelRow) Name(input string) string { return fmt.Sprintf("fields[%d].%s", r.Index, input) }

// ID is the element id of the row's input; brackets and dots would need
// escaping in CSS selectors, so ids use dashes.
func (r labelRow) ID(input string) string { return fmt.Sprintf("f-fields-%d-%s", r.Index, input) }

// ErrID is the element id of the row's list of problems.
func (r labelRow) ErrID() string { return fmt.Sprintf("e-fields-%d", r.Index) }

// Number is the row's number as users count, from 1.
func (r labelRow) Number() int { return r.Index + 1 }

// Invalid reports whether the input has a problem.
func (r labelRow) Invalid(input string) bool { return r.bad[input] }

// labelRowCount returns how many field rows a form holds.
func labelRowCount(form url.Values) int {
	n := 0
	for k := range form {
		m := labelRowKey.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		if i, err := strconv.Atoi(m[1]); err == nil && i < maxLabelRows && i >= n {
			n = i + 1
		}
	}
	return n
}

// labelRows lays out a form's rows with the problems errs reports on them.
func labelRows(form url.Values, errs map[string]string) []labelRow {
	rows := make([]labelRow, labelRowCount(form))
	for i := range rows {
		r := labelRow{Index: i, bad: map[string]bool{}}
		prefix := fmt.Sprintf("fields[%d].", i)
		var inputs []string
		for k := range errs {
			if in, ok := strings.CutPrefix(k, prefix); ok {
				inputs = append(inputs, in)
			}
		}
		// Known inputs in column order, anything else after them.
		sort.Slice(inputs, func(a, b int) bool {
			ia, ib := slices.Index(labelRowInputs, inputs[a]), slices.Index(labelRowInputs, inputs[b])
			if ia < 0 {
				ia = len(labelRowInputs)
			}
			if ib < 0 {
				ib = len(labelRowInputs)
			}
			return ia < ib || ia == ib && inputs[a] < inputs[b]
		})
		for _, in := range inputs {
			r.Errors = append(r.Errors, errs[prefix+in])
			r.bad[in] = true
		}
		rows[i] = r
	}
	return rows
}

// addLabelRow appends an empty text row with the usual defaults.
func addLabelRow(form url.Values) {
	r := labelRow{Index: labelRowCount(form)}
	form.Set(r.Name("kind"), string(label.KindText))
	form.Set(r.Name("binding"), string(label.BindFreeText))
	form.Set(r.Name("rotation"), "0")
}

// removeLabelRow deletes row i and moves the rows after it up, keeping
// what the user typed in them, valid or not.
func removeLabelRow(form url.Values, i int) {
	n := labelRowCount(form)
	if i < 0 || i >= n {
		return
	}
	for j := i; j < n-1; j++ {
		from, to := labelRow{Index: j + 1}, labelRow{Index: j}
		for _, in := range labelRowInputs {
			if v, ok := form[from.Name(in)]; ok {
				form[to.Name(in)] = v
			} else {
				delete(form, to.Name(in))
			}
		}
	}
	last := labelRow{Index: n - 1}
	for _, in := range labelRowInputs {
		delete(form, last.Name(in))
	}
}

// templateForm writes a template as the editor's inputs.
func templateForm(t label.Template) url.Values {
	form := url.Values{}
	form.Set("code", t.Code)
	form.Set("name", t.Name)
	form.Set("width_mm", optDecimal(t.WidthMM))
	form.Set("height_mm", optDecimal(t.HeightMM))
	form.Set("dpi", strconv.Itoa(t.DPI))
	for i, f := range t.Fields {
		r := labelRow{Index: i}
		form.Set(r.Name("name"), f.Name)
		form.Set(r.Name("kind"), string(f.Kind))
		form.Set(r.Name("x_mm"), strconv.FormatFloat(f.XMM, 'f', -1, 64))
		form.Set(r.Name("y_mm"), strconv.FormatFloat(f.YMM, 'f', -1, 64))
		form.Set(r.Name("width_mm"), optDecimal(f.WidthMM))
		form.Set(r.Name("height_mm"), optDecimal(f.HeightMM))
		form.Set(r.Name("binding"), string(f.Binding))
		form.Set(r.Name("text"), f.Text)
		form.Set(r.Name("max_chars"), optInt(f.MaxChars))
		form.Set(r.Name("font_height_mm"), optDecimal(f.FontHeightMM))
		form.Set(r.Name("rotation"), strconv.Itoa(f.Rotation))
		form.Set(r.Name("symbology"), string(f.Symbology))
		form.Set(r.Name("module_mm"), optDecimal(f.ModuleMM))
		if f.HumanReadable {
			form.Set(r.Name("human_readable"), "true")
		}
	}
	return form
}

// optDecimal leaves a zero blank, so inputs a kind of field does not use
// stay empty rather than showing 0.
func optDecimal(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func optInt(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// templateFromForm reads the editor's inputs. Inputs that are not numbers
// where numbers belong are returned as problems; they read as 0.
func templateFromForm(form url.Values) (label.Template, check.FieldErrors) {
	fe := check.FieldErrors{}
	t := label.Template{
		Code:     form.Get("code"),
		Name:     form.Get("name"),
		WidthMM:  formDecimal(fe, form, "width_mm", "The label's width"),
		HeightMM: formDecimal(fe, form, "height_mm", "The label's height"),
		DPI:      formInt(fe, form, "dpi", "The printer resolution"),
	}
	for i := range labelRowCount(form) {
		r := labelRow{Index: i}
		who := fmt.Sprintf("Field %d", r.Number())
		if n := strings.TrimSpace(form.Get(r.Name("name"))); n != "" {
			who = fmt.Sprintf("Field %q", n)
		}
		t.Fields = append(t.Fields, label.Field{
			Name:          form.Get(r.Name("name")),
			Kind:          label.Kind(form.Get(r.Name("kind"))),
			XMM:           formDecimal(fe, form, r.Name("x_mm"), who+": the X position"),
			YMM:           formDecimal(fe, form, r.Name("y_mm"), who+": the Y position"),
			WidthMM:       formDecimal(fe, form, r.Name("width_mm"), who+": the width"),
			HeightMM:      formDecimal(fe, form, r.Name("height_mm"), who+": the height"),
			Binding:       label.Binding(form.Get(r.Name("binding"))),
			Text:          form.Get(r.Name("text")),
			MaxChars:      formInt(fe, form, r.Name("max_chars"), who+": the maximum length"),
			FontHeightMM:  formDecimal(fe, form, r.Name("font_height_mm"), who+": the font height"),
			Rotation:      formInt(fe, form, r.Name("rotation"), who+": the rotation"),
			Symbology:     label.Symbology(form.Get(r.Name("symbology"))),
			ModuleMM:      formDecimal(fe, form, r.Name("module_mm"), who+": the module size"),
			HumanReadable: form.Get(r.Name("human_readable")) != "",
		})
	}
	return t, fe
}

// formDecimal reads millimetres, accepting a decimal comma as many clinics
// type it; blank reads as 0.
func formDecimal(fe check.FieldErrors, form url.Values, key, what string) float64 {
	s := strings.TrimSpace(form.Get(key))
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		fe.Add(key, "%s, %q, is not a number; write millimetres like 4.5.", what, s)
		return 0
	}
	return v
}

// formInt reads a whole number; blank reads as 0.
func formInt(fe check.FieldErrors, form url.Values, key, what string) int {
	s := strings.TrimSpace(form.Get(key))
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		fe.Add(key, "%s, %q, is not a whole number.", what, s)
		return 0
	}
	return v
}

// blankLabel is where a template started from scratch begins: a common
// tube label size on a 300 dpi printer, with one text field.
func blankLabel() label.Template {
	return label.Template{WidthMM: 50, HeightMM: 25, DPI: 300, Fields: []label.Field{
		{Kind: label.KindText, Binding: label.BindFreeText, XMM: 2, YMM: 2, WidthMM: 46, HeightMM: 4, FontHeightMM: 3},
	}}
}

// labelChoices are the options of the editor's drop-downs.
type labelChoices struct {
	Kinds, Bindings, Symbologies, Rotations, DPIs []string
}

func newLabelChoices() labelChoices {
	c := labelChoices{Symbologies: []string{""}}
	for _, k := range label.Kinds() {
		c.Kinds = append(c.Kinds, string(k))
	}
	for _, b := range label.Bindings() {
		c.Bindings = append(c.Bindings, string(b))
	}
	for _, s := range label.Symbologies() {
		c.Symbologies = append(c.Symbologies, string(s))
	}
	for _, r := range label.Rotations() {
		c.Rotations = append(c.Rotations, strconv.Itoa(r))
	}
	for _, d := range label.DPIs() {
		c.DPIs = append(c.DPIs, strconv.Itoa(d))
	}
	return c
}
