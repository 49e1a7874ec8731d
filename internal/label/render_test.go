package label

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// scanTemplate is a label with one barcode of a symbology holding a whole
// sample ID, with text beside it as a real label has.
func scanTemplate(sym Symbology, dpi int) Template {
	f := Field{Name: "sample id", Kind: KindBarcode, XMM: 5, YMM: 5, Binding: BindFreeText,
		Text: "{study_code}-{subject_number}-{time_point}-{sample_type}-{tube_number}", MaxChars: 24,
		Symbology: sym, HumanReadable: true, FontHeightMM: 2.5}
	if sym == Code128 {
		f.WidthMM, f.HeightMM, f.ModuleMM = 90, 14, 0.25
	} else {
		f.WidthMM, f.HeightMM, f.ModuleMM = 50, 18, 0.4
	}
	return Template{Code: "SCAN", Name: "Scan test", WidthMM: 100, HeightMM: 40, DPI: dpi, Fields: []Field{
		f,
		{Name: "subject", Kind: KindText, XMM: 5, YMM: 30, WidthMM: 90, HeightMM: 5, Binding: BindFreeText,
			Text: "Subject {subject_number} {time_point}", MaxChars: 30, FontHeightMM: 4},
	}}
}

// readers are the gozxing readers for each symbology, with the format each
// must report.
var readers = map[Symbology]struct {
	reader func() gozxing.Reader
	format gozxing.BarcodeFormat
}{
	Code128:    {func() gozxing.Reader { return oned.NewCode128Reader() }, gozxing.BarcodeFormat_CODE_128},
	DataMatrix: {func() gozxing.Reader { return datamatrix.NewDataMatrixReader() }, gozxing.BarcodeFormat_DATA_MATRIX},
	QR:         {func() gozxing.Reader { return qrcode.NewQRCodeReader() }, gozxing.BarcodeFormat_QR_CODE},
}

// scan decodes the barcode of a symbology in img.
func scan(img image.Image, sym Symbology) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	r := readers[sym]
	res, err := r.reader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	if res.GetBarcodeFormat() != r.format {
		return "", fmt.Errorf("decoded a %v, want a %v", res.GetBarcodeFormat(), r.format)
	}
	return res.GetText(), nil
}

// quietZone is the area a field's barcode and quiet zone take on the label,
// which is what a scanner aimed at that barcode sees.
func quietZone(t Template, f Field) image.Rectangle {
	b := box(f, t.DPI)
	q := quietModules(f.Symbology) * dots(f.ModuleMM, t.DPI)
	if f.Symbology == Code128 {
		return image.Rect(b.Min.X-q, b.Min.Y, b.Max.X+q, b.Max.Y)
	}
	return b.Inset(-q)
}

// scanField decodes field i's barcode from the rendered label, cropped as
// a hand scanner aimed at it sees it: a Code 128 with its quiet zone, a 2D
// symbol with its quiet zone around the symbol itself, since the matrix
// readers look for the symbol from the middle of the image.
func scanField(t *testing.T, tpl Template, d Data, img *image.Gray, i int) string {
	t.Helper()
	f := tpl.Fields[i]
	crop := quietZone(tpl, f)
	if f.Symbology != Code128 {
		p, err := layout(tpl, d)
		if err != nil {
			t.Fatal(err)
		}
		m := p.marks[slices.IndexFunc(p.marks, func(m mark) bool { return m.field == i && m.kind == markBarcode })]
		q := quietModules(f.Symbology) * m.module
		crop = image.Rectangle{Min: m.at, Max: m.at.Add(m.size())}.Inset(-q)
	}
	got, err := scan(img.SubImage(crop), f.Symbology)
	if err != nil {
		t.Fatalf("%s at %d dpi: scan field %q: %v", tpl.Code, tpl.DPI, f.Name, err)
	}
	return got
}

func TestBarcodesDecodeToTheBoundData(t *testing.T) {
	const want = "STUDY01-1001-T0.5H-PK-03"
	for _, sym := range []Symbology{Code128, DataMatrix, QR} {
		for _, dpi := range allowedDPI {
			t.Run(fmt.Sprintf("%s at %d dpi", sym, dpi), func(t *testing.T) {
				tpl := scanTemplate(sym, dpi)
				img, err := RenderImage(tpl, ExampleData())
				if err != nil {
					t.Fatal(err)
				}
				if got := scanField(t, tpl, ExampleData(), img, 0); got != want {
					t.Errorf("decoded %q, want %q", got, want)
				}
			})
		}
	}
}

func TestCode128DecodesFromTheWholeLabel(t *testing.T) {
	// A linear scanner does not need aiming at one field: any scan line
	// across the bars reads them.
	tpl := scanTemplate(Code128, 300)
	img, err := RenderImage(tpl, ExampleData())
	if err != nil {
		t.Fatal(err)
	}
	got, err := scan(img, Code128)
	if err != nil {
		t.Fatalf("scan whole label: %v", err)
	}
	if want := "STUDY01-1001-T0.5H-PK-03"; got != want {
		t.Errorf("decoded %q, want %q", got, want)
	}
}

func TestDemoLabelsDecode(t *testing.T) {
	want := map[string]string{
		"PK-TUBE-50X25":  "1001-T0.5H-PK-03",
		"CRF-VOL-100X50": "STUDY01-1001-T0.5H",
	}
	for _, tpl := range DemoTemplates() {
		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatalf("render %s: %v", tpl.Code, err)
		}
		for i, f := range tpl.Fields {
			if f.Kind != KindBarcode {
				continue
			}
			if got := scanField(t, tpl, ExampleData(), img, i); got != want[tpl.Code] {
				t.Errorf("%s field %q decoded %q, want %q", tpl.Code, f.Name, got, want[tpl.Code])
			}
		}
	}
}

func TestBarcodesCarryZPLCommandCharacters(t *testing.T) {
	// The characters ZPL, DataMatrix escapes and Code 128 subset switching
	// give a meaning must reach the scanner as plain data.
	const want = `A_B^C~D>E\F{x}`
	for _, sym := range []Symbology{Code128, DataMatrix, QR} {
		tpl := scanTemplate(sym, 300)
		tpl.Fields[0].Text = `A_B^C~D>E\F{{x}}`
		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatalf("%s: %v", sym, err)
		}
		if got := scanField(t, tpl, ExampleData(), img, 0); got != want {
			t.Errorf("%s decoded %q, want %q", sym, got, want)
		}
	}
}

func TestQuietZonesAreBlank(t *testing.T) {
	templates := DemoTemplates()
	for _, sym := range []Symbology{Code128, DataMatrix, QR} {
		templates = append(templates, scanTemplate(sym, 203))
	}
	for _, tpl := range templates {
		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatalf("render %s: %v", tpl.Code, err)
		}
		for _, f := range tpl.Fields {
			if f.Kind != KindBarcode {
				continue
			}
			zone, b := quietZone(tpl, f), box(f, tpl.DPI)
			inked := 0
			for y := zone.Min.Y; y < zone.Max.Y; y++ {
				for x := zone.Min.X; x < zone.Max.X; x++ {
					if !image.Pt(x, y).In(b) && img.GrayAt(x, y).Y != 0xff {
						inked++
					}
				}
			}
			if inked > 0 {
				t.Errorf("%s field %q: %d dots inked in the quiet zone around its box", tpl.Code, f.Name, inked)
			}
			if inkIn(img, b) == 0 {
				t.Errorf("%s field %q: no barcode drawn in its box", tpl.Code, f.Name)
			}
		}
	}
}

// inkIn counts the black dots of img inside r.
func inkIn(img *image.Gray, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.GrayAt(x, y).Y == 0 {
				n++
			}
		}
	}
	return n
}

func TestPreviewIsTheLabelSizeInDots(t *testing.T) {
	want := map[string]image.Point{
		"PK-TUBE-50X25":  {591, 295}, // 50 × 25 mm at 300 dpi
		"CRF-VOL-100X50": {799, 400}, // 100 × 50 mm at 203 dpi
	}
	for _, tpl := range DemoTemplates() {
		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got != want[tpl.Code] {
			t.Errorf("%s preview is %v dots, want %v", tpl.Code, got, want[tpl.Code])
		}
		for _, v := range img.Pix {
			if v != 0 && v != 0xff {
				t.Fatalf("%s preview has grey level %d; a thermal printer prints only black and white", tpl.Code, v)
			}
		}
	}
}

func TestPNGIsThePreviewAtThePrintersResolution(t *testing.T) {
	for _, tpl := range DemoTemplates() {
		data, err := RenderPNG(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: the PNG does not decode: %v", tpl.Code, err)
		}
		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		if decoded.Bounds() != img.Bounds() {
			t.Fatalf("%s: PNG is %v, preview is %v", tpl.Code, decoded.Bounds(), img.Bounds())
		}
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				if r, _, _, _ := decoded.At(x, y).RGBA(); uint8(r>>8) != img.GrayAt(x, y).Y {
					t.Fatalf("%s: PNG differs from the preview at (%d,%d)", tpl.Code, x, y)
				}
			}
		}
		i := bytes.Index(data, []byte("pHYs"))
		if i < 0 {
			t.Fatalf("%s: PNG has no pHYs chunk", tpl.Code)
		}
		x, y, unit := binary.BigEndian.Uint32(data[i+4:]), binary.BigEndian.Uint32(data[i+8:]), data[i+12]
		want := map[int]uint32{203: 7992, 300: 11811}[tpl.DPI]
		if x != want || y != want || unit != 1 {
			t.Errorf("%s: pHYs says %d×%d per unit %d, want %d per metre", tpl.Code, x, y, unit, want)
		}
	}
}

func TestRotatedTextTurnsClockwise(t *testing.T) {
	// "H." ends in a full stop on the baseline. Turned clockwise, the
	// text's end and its baseline move round the box's corners in turn, and
	// the opposite corner (above the stop) stays blank.
	corners := []struct {
		rotation    int
		stop, blank string
	}{
		{0, "bottom-right", "top-right"},
		{90, "bottom-left", "bottom-right"},
		{180, "top-left", "bottom-left"},
		{270, "top-right", "top-left"},
	}
	for _, c := range corners {
		tpl := Template{Code: "ROT", Name: "Rotation", WidthMM: 30, HeightMM: 30, DPI: 203, Fields: []Field{
			{Name: "text", Kind: KindText, XMM: 5, YMM: 5, WidthMM: 20, HeightMM: 20, Binding: BindFreeText, Text: "H.", FontHeightMM: 4, Rotation: c.rotation},
		}}
		img, err := RenderImage(tpl, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := box(tpl.Fields[0], tpl.DPI)
		h := dots(4, 203)
		sz := image.Pt(textWidth(2, h), h)
		if c.rotation == 90 || c.rotation == 270 {
			sz.X, sz.Y = sz.Y, sz.X
		}
		text := image.Rectangle{Min: b.Min, Max: b.Min.Add(sz)}
		if all, inside := inkIn(img, img.Bounds()), inkIn(img, text); all == 0 || all != inside {
			t.Fatalf("rotation %d: %d of %d dots inked inside the text's %v box", c.rotation, inside, all, sz)
		}
		quarter := func(name string) image.Rectangle {
			half := text.Size().Div(2)
			r := image.Rectangle{Min: text.Min, Max: text.Min.Add(half)}
			if strings.HasSuffix(name, "right") {
				r = r.Add(image.Pt(text.Dx()-half.X, 0))
			}
			if strings.HasPrefix(name, "bottom") {
				r = r.Add(image.Pt(0, text.Dy()-half.Y))
			}
			return r
		}
		if inkIn(img, quarter(c.stop)) == 0 {
			t.Errorf("rotation %d: the full stop's %s corner is blank", c.rotation, c.stop)
		}
		if n := inkIn(img, quarter(c.blank)); n != 0 {
			t.Errorf("rotation %d: %d dots inked in the %s corner, above the full stop", c.rotation, n, c.blank)
		}
	}
}

func TestRenderRefusesBadPrintJobs(t *testing.T) {
	tube := DemoTemplates()[0]
	full := ExampleData()
	without := func(b Binding) Data {
		d := ExampleData()
		delete(d, b)
		return d
	}
	with := func(b Binding, v string) Data {
		d := ExampleData()
		d[b] = v
		return d
	}
	cases := []struct {
		name string
		data Data
		says string
	}{
		{"missing subject", without(BindSubjectNumber), `field "subject": the print job has no subject_number`},
		{"missing tube", without(BindTubeNumber), `field "sample id": the print job has no tube_number`},
		{"value longer than the field holds", with(BindStudyCode, "STUDY-0001-EXT"), `field "study": "STUDY-0001-EXT" is 14 characters long, more than the 10 the field holds`},
		{"non-ASCII in a barcode", with(BindSampleType, "PKé"), `field "sample id": "1001-T0.5H-PKé-03": 'é' at character 14 cannot go in a barcode`},
		{"control character in text", with(BindStudyCode, "ST\nUDY"), `field "study": "ST\nUDY": the control character U+000A at character 3 cannot be printed`},
	}
	for _, c := range cases {
		for name, render := range map[string]func(Template, Data) ([]byte, error){"ZPL": RenderZPL, "PNG": RenderPNG, "PDF": RenderPDF} {
			out, err := render(tube, c.data)
			if err == nil {
				t.Errorf("%s: Render%s returned %d bytes, want an error", c.name, name, len(out))
				continue
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("%s: Render%s error %q, want it to say %q", c.name, name, err, c.says)
			}
		}
	}
	if _, err := RenderZPL(tube, full); err != nil {
		t.Errorf("RenderZPL with the example data: %v", err)
	}

	broken := tube
	broken.DPI = 250
	_, err := RenderZPL(broken, full)
	var fe FieldErrors
	if !errors.As(err, &fe) || fe["dpi"] == "" {
		t.Errorf("RenderZPL of a template with dpi 250 returned %v, want FieldErrors naming dpi", err)
	}
}

func TestFontCoversWhatLabelsPrint(t *testing.T) {
	seen := map[glyph]rune{}
	check := func(r rune) {
		g, ok := glyphs[r]
		if !ok {
			t.Errorf("the font has no glyph for %q", r)
			return
		}
		if r == ' ' {
			if g != (glyph{}) {
				t.Errorf("the space glyph has ink")
			}
			return
		}
		if g == (glyph{}) {
			t.Errorf("the glyph for %q is blank", r)
		}
		if other, dup := seen[g]; dup {
			t.Errorf("the glyphs for %q and %q are drawn the same", other, r)
		}
		seen[g] = r
	}
	for r := rune(0x20); r <= 0x7e; r++ {
		check(r)
	}
	check('°')
	check('µ')
	if len(glyphs) != 95+2 {
		t.Errorf("the font has %d glyphs, want printable ASCII, ° and µ (97)", len(glyphs))
	}
}
