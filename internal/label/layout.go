package label

import (
	"fmt"
	"image"
	"image/color"
	"unicode/utf8"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/datamatrix"
	"github.com/boombuler/barcode/qr"
)

// markKind says how a mark is drawn.
type markKind int

const (
	markText markKind = iota
	markBarcode
)

// mark is one thing printed on a label, placed in dots. The ZPL and the
// preview are both drawn from the same marks, so they cannot disagree about
// where anything goes.
type mark struct {
	kind  markKind
	field int         // index of the field the mark prints
	at    image.Point // top-left corner

	// Text: content, character height, clockwise rotation, and, when
	// centre > 0, the width of the run of dots it is centred in.
	text     string
	fontDots int
	rotation int
	centre   int

	// Barcode: the encoded symbol (one pixel per module), the module size
	// and, for Code 128, the bar height.
	symbology Symbology
	symbol    barcode.Barcode
	module    int
	barHeight int
}

// size is a barcode mark's size in dots.
func (m mark) size() image.Point {
	b := m.symbol.Bounds()
	if m.symbology == Code128 {
		return image.Pt(b.Dx()*m.module, m.barHeight)
	}
	return image.Pt(b.Dx()*m.module, b.Dy()*m.module)
}

// textSize is a text mark's bounding box in dots, after rotation.
func (m mark) textSize() image.Point {
	w := textWidth(utf8.RuneCountInString(m.text), m.fontDots)
	if m.rotation == 90 || m.rotation == 270 {
		return image.Pt(m.fontDots, w)
	}
	return image.Pt(w, m.fontDots)
}

// plan is a template laid out for one print job.
type plan struct {
	dpi   int
	size  image.Point // the label in dots
	marks []mark
}

// layout validates t, binds d to its fields and places every mark. It fails
// when the template is invalid or a value is missing, too long or cannot be
// printed, so that no label is printed with a field cut off or left blank.
func layout(t Template, d Data) (*plan, error) {
	if errs := Validate(t); errs != nil {
		return nil, fmt.Errorf("template %q is not valid: %w", t.Code, errs)
	}
	p := &plan{dpi: t.DPI, size: image.Pt(dots(t.WidthMM, t.DPI), dots(t.HeightMM, t.DPI))}
	for i, f := range t.Fields {
		marks, err := placeField(f, d, t.DPI)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		for j := range marks {
			marks[j].field = i
		}
		p.marks = append(p.marks, marks...)
	}
	return p, nil
}

// placeField binds d to one field and places its marks.
func placeField(f Field, d Data, dpi int) ([]mark, error) {
	segs, err := content(f)
	if err != nil {
		return nil, err
	}
	s, err := resolve(segs, d)
	if err != nil {
		return nil, err
	}
	n := utf8.RuneCountInString(s)
	if !isFixed(segs) && n > f.MaxChars {
		return nil, fmt.Errorf("%q is %d characters long, more than the %d the field holds", s, n, f.MaxChars)
	}
	if err := checkChars(s, f); err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	b := box(f, dpi)

	if f.Kind == KindText {
		t := mark{kind: markText, at: b.Min, text: s, fontDots: dots(f.FontHeightMM, dpi), rotation: f.Rotation}
		// Validation sized the box for MaxChars; checking again here means a
		// mistake in that sizing refuses a label rather than clipping it.
		if !(image.Rectangle{Min: b.Min, Max: b.Min.Add(t.textSize())}).In(b) {
			return nil, fmt.Errorf("%q does not fit the field's box", s)
		}
		return []mark{t}, nil
	}

	if s == "" {
		return nil, fmt.Errorf("the barcode would be empty")
	}
	sym, err := encode(f.Symbology, s)
	if err != nil {
		return nil, fmt.Errorf("encode %q as %s: %w", s, symbologyName(f.Symbology), err)
	}
	bc := mark{kind: markBarcode, at: b.Min, symbology: f.Symbology, symbol: sym, module: dots(f.ModuleMM, dpi)}
	hr, font := 0, 0
	if f.HumanReadable {
		font = dots(f.FontHeightMM, dpi)
		hr = font + hrGap(font)
	}
	if f.Symbology == Code128 {
		bc.barHeight = b.Dy() - hr
	}
	sz := bc.size()
	if sz.X > b.Dx() || sz.Y+hr > b.Dy() {
		return nil, fmt.Errorf("the %s for %q is %s × %s, larger than the field's box", symbologyName(f.Symbology), s, mm(millimetres(sz.X, dpi)), mm(millimetres(sz.Y+hr, dpi)))
	}
	marks := []mark{bc}
	if f.HumanReadable {
		// The line sits at the box's bottom, centred under the symbol
		// when it is narrower, as scanners' users expect to read it.
		t := mark{kind: markText, at: image.Pt(b.Min.X, b.Max.Y-font), text: s, fontDots: font}
		if t.textSize().X <= sz.X {
			t.centre = sz.X
		}
		marks = append(marks, t)
	}
	return marks, nil
}

// encode encodes s in a symbology, one pixel per module.
func encode(sym Symbology, s string) (barcode.Barcode, error) {
	switch sym {
	case Code128:
		return code128.Encode(s)
	case DataMatrix:
		return datamatrix.Encode(s)
	case QR:
		return qr.Encode(s, qr.M, qr.Auto)
	}
	return nil, fmt.Errorf("unknown symbology %q", string(sym))
}

// dark reports whether a symbol's pixel is a bar or a dark cell.
func dark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 128
}
