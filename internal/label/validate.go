package label

import (
	"fmt"
	"image"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// FieldErrors maps the name of a template's input, such as "dpi" or
// "fields[2].module_mm" (named as in the template's JSON), to a sentence
// saying what is wrong with it.
type FieldErrors map[string]string

// Error lists every problem, sorted by input name, so that FieldErrors can be
// returned as an error.
func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	// Each problem is a sentence with its full stop, so a space separates them.
	return strings.Join(parts, " ")
}

// add records a problem unless the input already has one: the first problem
// found is the most basic, and fixing it often makes the later ones moot.
func (e FieldErrors) add(key, format string, args ...any) {
	if _, ok := e[key]; !ok {
		e[key] = fmt.Sprintf(format, args...)
	}
}

// codePattern keeps template codes safe to use in file names and URLs.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxFieldChars bounds MaxChars: longer content does not belong on a label.
const maxFieldChars = 200

// Validate checks a template before it is stored or printed and returns its
// problems, or nil when it has none. Content that depends on a print job is
// checked at its longest (the field's MaxChars), so that a template that
// passes prints every print job whose values fit MaxChars.
func Validate(t Template) FieldErrors {
	errs := FieldErrors{}
	switch {
	case strings.TrimSpace(t.Code) == "":
		errs.add("code", "Give the template a code, e.g. PK-TUBE-50X25.")
	case len(t.Code) > 40:
		errs.add("code", "The code is %d characters long; keep it to 40.", len(t.Code))
	case !codePattern.MatchString(t.Code):
		errs.add("code", "The code %q may contain only letters, digits, '.', '-' and '_', and must start with a letter or digit.", t.Code)
	}
	if strings.TrimSpace(t.Name) == "" {
		errs.add("name", "Give the template a name.")
	}
	sizeOK := true
	for _, side := range []struct {
		key, what string
		v         float64
	}{{"width_mm", "width", t.WidthMM}, {"height_mm", "height", t.HeightMM}} {
		if !(side.v > 0) || side.v > maxLabelMM {
			errs.add(side.key, "The label's %s must be more than 0 and at most %d mm; it is %s.", side.what, maxLabelMM, mm(side.v))
			sizeOK = false
		}
	}
	dpiOK := slices.Contains(allowedDPI, t.DPI)
	if !dpiOK {
		errs.add("dpi", "The printer resolution must be 203, 300 or 600 dpi; it is %d.", t.DPI)
	}
	if len(t.Fields) == 0 {
		errs.add("fields", "Add at least one field: the label would print blank.")
	}

	names := map[string]int{}
	for i, f := range t.Fields {
		key := func(input string) string { return fmt.Sprintf("fields[%d].%s", i, input) }
		switch n := strings.TrimSpace(f.Name); {
		case n == "":
			errs.add(key("name"), "Give field %d a name.", i+1)
		default:
			if j, dup := names[n]; dup {
				errs.add(key("name"), "Field %d is also named %q; field names must differ.", j+1, n)
			}
			names[n] = i
		}
		v := fieldValidation{t: t, f: f, i: i, key: key, errs: errs, sizeOK: sizeOK, dpiOK: dpiOK}
		v.check()
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// fieldValidation checks one field of a template.
type fieldValidation struct {
	t      Template
	f      Field
	i      int
	key    func(input string) string
	errs   FieldErrors
	sizeOK bool // the label's size is valid, so the field can be placed on it
	dpiOK  bool // the DPI is valid, so millimetres convert to dots
}

// label names the field in messages.
func (v fieldValidation) label() string {
	if n := strings.TrimSpace(v.f.Name); n != "" {
		return fmt.Sprintf("Field %q", n)
	}
	return fmt.Sprintf("Field %d", v.i+1)
}

func (v fieldValidation) check() {
	f := v.f
	placed := v.checkBox()

	segs, err := content(f)
	if err != nil {
		k := "binding"
		if f.Binding == BindFreeText {
			k = "text"
		}
		v.errs.add(v.key(k), "%s: %s.", v.label(), err)
		return
	}
	if f.Binding != BindFreeText && f.Text != "" {
		v.errs.add(v.key("text"), "%s shows %s; its text is used only with the free_text binding, so leave it empty.", v.label(), f.Binding)
	}
	if err := checkChars(fixedText(segs), f); err != nil {
		v.errs.add(v.key("text"), "%s: %s.", v.label(), err)
		return
	}

	// n is the longest content the field must hold.
	n := utf8.RuneCountInString(fixedText(segs))
	if !isFixed(segs) {
		switch {
		case f.MaxChars <= 0:
			v.errs.add(v.key("max_chars"), "%s depends on the print job; set the longest value it must hold, in characters.", v.label())
			return
		case f.MaxChars > maxFieldChars:
			v.errs.add(v.key("max_chars"), "%s must hold at most %d characters; %d is too many for a label.", v.label(), maxFieldChars, f.MaxChars)
			return
		case f.MaxChars < n:
			v.errs.add(v.key("max_chars"), "%s has %d characters of fixed text alone, more than its maximum of %d.", v.label(), n, f.MaxChars)
			return
		}
		n = f.MaxChars
	}

	switch f.Kind {
	case KindText:
		v.checkText(n, placed)
	case KindBarcode:
		if n == 0 {
			v.errs.add(v.key("text"), "%s is a barcode with no content; give it text or a binding.", v.label())
			return
		}
		v.checkBarcode(n, isFixed(segs), placed)
	case "":
		v.errs.add(v.key("kind"), "%s needs a kind: text or barcode.", v.label())
	default:
		v.errs.add(v.key("kind"), "%s has kind %q; use text or barcode.", v.label(), string(f.Kind))
	}
}

// checkBox checks the field's box lies on the label and reports whether it
// is sound enough to check the content's fit against.
func (v fieldValidation) checkBox() bool {
	f := v.f
	ok := true
	const eps = 1e-9 // millimetres typed as decimals do not add up exactly
	if f.XMM < 0 {
		v.errs.add(v.key("x_mm"), "%s starts %s left of the label's edge.", v.label(), mm(-f.XMM))
		ok = false
	}
	if f.YMM < 0 {
		v.errs.add(v.key("y_mm"), "%s starts %s above the label's top edge.", v.label(), mm(-f.YMM))
		ok = false
	}
	if !(f.WidthMM > 0) {
		v.errs.add(v.key("width_mm"), "%s needs a width of more than 0 mm.", v.label())
		ok = false
	}
	if !(f.HeightMM > 0) {
		v.errs.add(v.key("height_mm"), "%s needs a height of more than 0 mm.", v.label())
		ok = false
	}
	if !ok || !v.sizeOK {
		return false
	}
	if end := f.XMM + f.WidthMM; end > v.t.WidthMM+eps {
		v.errs.add(v.key("width_mm"), "%s ends at %s from the left, past the label's %s width.", v.label(), mm(end), mm(v.t.WidthMM))
		ok = false
	}
	if end := f.YMM + f.HeightMM; end > v.t.HeightMM+eps {
		v.errs.add(v.key("height_mm"), "%s ends at %s from the top, past the label's %s height.", v.label(), mm(end), mm(v.t.HeightMM))
		ok = false
	}
	return ok && v.dpiOK
}

// checkFont checks a character height and returns it in dots.
func (v fieldValidation) checkFont(what string) (int, bool) {
	f := v.f
	if !(f.FontHeightMM > 0) {
		v.errs.add(v.key("font_height_mm"), "%s needs a %s height of more than 0 mm.", v.label(), what)
		return 0, false
	}
	if !v.dpiOK {
		return 0, false
	}
	h := dots(f.FontHeightMM, v.t.DPI)
	if h < minFontDots {
		v.errs.add(v.key("font_height_mm"), "%s: the %s height of %s is below the smallest the printer draws at %d dpi, %s.",
			v.label(), what, mm(f.FontHeightMM), v.t.DPI, mm(millimetres(minFontDots, v.t.DPI)))
		return 0, false
	}
	return h, true
}

// checkText checks a text field holds n characters.
func (v fieldValidation) checkText(n int, placed bool) {
	f := v.f
	if !slices.Contains([]int{0, 90, 180, 270}, f.Rotation) {
		v.errs.add(v.key("rotation"), "%s has rotation %d; use 0, 90, 180 or 270 degrees.", v.label(), f.Rotation)
		return
	}
	h, ok := v.checkFont("character")
	if !ok || !placed {
		return
	}
	// Sizes are compared in dots, as printed, but the box is named in the
	// millimetres the user typed.
	b := box(f, v.t.DPI)
	across, along := b.Dy(), b.Dx()
	acrossMM, alongMM := f.HeightMM, f.WidthMM
	acrossName, alongName := "height", "width"
	if f.Rotation == 90 || f.Rotation == 270 {
		across, along = along, across
		acrossMM, alongMM = alongMM, acrossMM
		acrossName, alongName = alongName, acrossName
	}
	if h > across {
		v.errs.add(v.key("font_height_mm"), "%s: characters %s high do not fit the box's %s of %s.", v.label(), mm(f.FontHeightMM), acrossName, mm(acrossMM))
		return
	}
	if w := textWidth(n, h); w > along {
		v.errs.add(v.key(alongName+"_mm"), "%s: %d characters at %s high need %s, more than the box's %s of %s.",
			v.label(), n, mm(f.FontHeightMM), mm(millimetres(w, v.t.DPI)), alongName, mm(alongMM))
	}
}

// checkBarcode checks a barcode field holds n characters, with its quiet
// zone clear.
func (v fieldValidation) checkBarcode(n int, fixed, placed bool) {
	f := v.f
	if f.Rotation != 0 {
		v.errs.add(v.key("rotation"), "%s: barcodes print unrotated; set rotation to 0.", v.label())
	}
	switch f.Symbology {
	case Code128, DataMatrix, QR:
	case "":
		v.errs.add(v.key("symbology"), "%s needs a symbology: code128, datamatrix or qr.", v.label())
		return
	default:
		v.errs.add(v.key("symbology"), "%s has symbology %q; use code128, datamatrix or qr.", v.label(), string(f.Symbology))
		return
	}
	name := symbologyName(f.Symbology)
	// Too much content is fixed text's fault, or the maximum's.
	lengthKey := v.key("max_chars")
	if fixed {
		lengthKey = v.key("text")
	}

	var side int // modules per side of the largest 2D symbol n characters need
	switch f.Symbology {
	case Code128:
		if n > maxCode128Chars {
			v.errs.add(lengthKey, "%s: a Code 128 holds at most %d characters, not %d; use a DataMatrix or QR code.", v.label(), maxCode128Chars, n)
			return
		}
	case DataMatrix:
		if side = dataMatrixWorstSide(n); side == 0 {
			v.errs.add(lengthKey, "%s: %d characters are more than a DataMatrix holds.", v.label(), n)
			return
		}
	case QR:
		if side = qrWorstSide(n); side == 0 {
			v.errs.add(lengthKey, "%s: %d characters are more than a label's QR code holds (%d).", v.label(), n, qrByteCapacityM[len(qrByteCapacityM)-1])
			return
		}
	}

	if !(f.ModuleMM > 0) {
		v.errs.add(v.key("module_mm"), "%s needs a module size of more than 0 mm.", v.label())
		return
	}
	if !v.dpiOK {
		return
	}
	dpi := v.t.DPI
	m := dots(f.ModuleMM, dpi)
	if m < 1 {
		v.errs.add(v.key("module_mm"), "%s: a module of %s is less than one printer dot (%s at %d dpi).", v.label(), mm(f.ModuleMM), mm(millimetres(1, dpi)), dpi)
		return
	}
	if f.Symbology != DataMatrix && m > maxZPLModuleDots {
		v.errs.add(v.key("module_mm"), "%s: a %s module can be at most %d dots, %s at %d dpi.", v.label(), name, maxZPLModuleDots, mm(millimetres(maxZPLModuleDots, dpi)), dpi)
		return
	}

	hr := 0 // height of the human-readable line with its gap
	if f.HumanReadable {
		h, ok := v.checkFont("human-readable line's character")
		if !ok {
			return
		}
		hr = h + hrGap(h)
		if placed {
			if w := textWidth(n, h); w > box(f, dpi).Dx() {
				v.errs.add(v.key("width_mm"), "%s: the human-readable line of %d characters needs %s, more than the box's width of %s.",
					v.label(), n, mm(millimetres(w, dpi)), mm(f.WidthMM))
				return
			}
		}
	}
	if !placed {
		return
	}

	b := box(f, dpi)
	var symW, symH int
	if f.Symbology == Code128 {
		symW = code128WorstModules(n) * m
		symH = b.Dy() - hr
		if minBar := dots(minBarMM, dpi); symH < minBar {
			v.errs.add(v.key("height_mm"), "%s: the bars are %s high; make the box taller so they are at least %d mm.", v.label(), mm(millimetres(max(symH, 0), dpi)), minBarMM)
			return
		}
	} else {
		symW, symH = side*m, side*m
	}
	if symW > b.Dx() {
		v.errs.add(v.key("width_mm"), "%s: a %s of %d characters at a %s module can be %s wide, more than the box's width of %s.",
			v.label(), name, n, mm(f.ModuleMM), mm(millimetres(symW, dpi)), mm(f.WidthMM))
		return
	}
	if symH+hr > b.Dy() {
		v.errs.add(v.key("height_mm"), "%s: a %s of %d characters at a %s module can be %s high%s, more than the box's height of %s.",
			v.label(), name, n, mm(f.ModuleMM), mm(millimetres(symH, dpi)), withHR(f.HumanReadable, hr, dpi), mm(f.HeightMM))
		return
	}
	v.checkQuietZone(b, quietModules(f.Symbology)*m)
}

// withHR completes a message about a barcode's height when the
// human-readable line adds to it.
func withHR(on bool, hr, dpi int) string {
	if !on {
		return ""
	}
	return " plus " + mm(millimetres(hr, dpi)) + " for the human-readable line"
}

// checkQuietZone checks the blank margin a scanner needs around a barcode is
// on the label and free of other fields. The margin is measured from the
// field's box, not the symbol, so that it holds for the widest symbol.
func (v fieldValidation) checkQuietZone(b image.Rectangle, q int) {
	dpi := v.t.DPI
	zone := image.Rect(b.Min.X-q, b.Min.Y, b.Max.X+q, b.Max.Y)
	sides := "left and right"
	if v.f.Symbology != Code128 {
		zone = b.Inset(-q)
		sides = "every side"
	}
	labelRect := image.Rect(0, 0, dots(v.t.WidthMM, dpi), dots(v.t.HeightMM, dpi))
	if !zone.In(labelRect) {
		v.errs.add(v.key("x_mm"), "%s: the barcode needs %s of blank quiet zone on %s, which runs off the label; move the field or make it smaller.",
			v.label(), mm(millimetres(q, dpi)), sides)
		return
	}
	for j, other := range v.t.Fields {
		if j == v.i || !(other.WidthMM > 0 && other.HeightMM > 0) {
			continue
		}
		if zone.Overlaps(box(other, dpi)) {
			v.errs.add(v.key("x_mm"), "%s: the barcode and its quiet zone of %s overlap field %q; scanners need it blank.",
				v.label(), mm(millimetres(q, dpi)), other.Name)
			return
		}
	}
}
