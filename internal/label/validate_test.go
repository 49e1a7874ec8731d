package label

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/datamatrix"
	"github.com/boombuler/barcode/qr"
)

func TestDemoTemplatesAreValid(t *testing.T) {
	demos := DemoTemplates()
	if len(demos) != 2 {
		t.Fatalf("DemoTemplates returned %d templates, want 2", len(demos))
	}
	want := []struct {
		code          string
		width, height float64
		dpi           int
		symbology     Symbology
	}{
		{"PK-TUBE-50X25", 50, 25, 300, Code128},
		{"CRF-VOL-100X50", 100, 50, 203, DataMatrix},
	}
	for i, w := range want {
		tpl := demos[i]
		if tpl.Code != w.code || tpl.WidthMM != w.width || tpl.HeightMM != w.height || tpl.DPI != w.dpi {
			t.Errorf("demo %d is %s %v×%v mm at %d dpi, want %s %v×%v mm at %d dpi",
				i, tpl.Code, tpl.WidthMM, tpl.HeightMM, tpl.DPI, w.code, w.width, w.height, w.dpi)
		}
		var symbologies []Symbology
		for _, f := range tpl.Fields {
			if f.Kind == KindBarcode {
				symbologies = append(symbologies, f.Symbology)
			}
		}
		if len(symbologies) != 1 || symbologies[0] != w.symbology {
			t.Errorf("demo %s has barcodes %v, want one %s", tpl.Code, symbologies, w.symbology)
		}
		if errs := Validate(tpl); errs != nil {
			t.Errorf("demo %s is not valid: %v", tpl.Code, errs)
		}
	}
}

// validBase is a small valid template that the cases below break one input
// at a time.
func validBase() Template {
	return Template{
		Code: "T1", Name: "Test", WidthMM: 80, HeightMM: 30, DPI: 300,
		Fields: []Field{
			{Name: "subject", Kind: KindText, XMM: 2, YMM: 2, WidthMM: 30, HeightMM: 4, Binding: BindSubjectNumber, MaxChars: 8, FontHeightMM: 3},
			{Name: "code", Kind: KindBarcode, XMM: 5, YMM: 8, WidthMM: 56, HeightMM: 12, Binding: BindFreeText,
				Text: "{study_code}-{subject_number}", MaxChars: 16, Symbology: Code128, ModuleMM: 0.25, HumanReadable: true, FontHeightMM: 2},
			{Name: "matrix", Kind: KindBarcode, XMM: 68, YMM: 8, WidthMM: 8, HeightMM: 8, Binding: BindSubjectNumber, MaxChars: 8,
				Symbology: DataMatrix, ModuleMM: 0.5},
		},
	}
}

func TestValidateAcceptsBase(t *testing.T) {
	if errs := Validate(validBase()); errs != nil {
		t.Fatalf("Validate(validBase()) = %v, want no errors", errs)
	}
}

func TestValidateReportsEachProblemOnItsInput(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Template)
		key    string
		says   string
	}{
		{"no code", func(t *Template) { t.Code = " " }, "code", "Give the template a code"},
		{"code with space", func(t *Template) { t.Code = "PK TUBE" }, "code", "may contain only letters"},
		{"no name", func(t *Template) { t.Name = "" }, "name", "Give the template a name"},
		{"zero width", func(t *Template) { t.WidthMM = 0 }, "width_mm", "more than 0 and at most 200 mm; it is 0 mm"},
		{"too tall", func(t *Template) { t.HeightMM = 250 }, "height_mm", "at most 200 mm; it is 250 mm"},
		{"odd dpi", func(t *Template) { t.DPI = 150 }, "dpi", "203, 300 or 600 dpi; it is 150"},
		{"no fields", func(t *Template) { t.Fields = nil }, "fields", "at least one field"},
		{"unnamed field", func(t *Template) { t.Fields[0].Name = "" }, "fields[0].name", "Give field 1 a name"},
		{"duplicate field name", func(t *Template) { t.Fields[2].Name = "subject" }, "fields[2].name", `Field 1 is also named "subject"`},
		{"field off the right edge", func(t *Template) { t.Fields[0].XMM = 60 }, "fields[0].width_mm", "ends at 90 mm from the left, past the label's 80 mm width"},
		{"field above the label", func(t *Template) { t.Fields[0].YMM = -1 }, "fields[0].y_mm", "1 mm above the label's top edge"},
		{"unknown binding", func(t *Template) { t.Fields[0].Binding = "volunteer_name" }, "fields[0].binding", `"volunteer_name" is not a binding`},
		{"no binding", func(t *Template) { t.Fields[0].Binding = "" }, "fields[0].binding", "choose what the field shows"},
		{"unknown placeholder", func(t *Template) { t.Fields[1].Text = "{study}-{subject_number}" }, "fields[1].text", "names {study}, which is not a binding"},
		{"unclosed brace", func(t *Template) { t.Fields[1].Text = "{study_code-x" }, "fields[1].text", `"{" at character 1 without a closing "}"`},
		{"stray closing brace", func(t *Template) { t.Fields[1].Text = "A}B" }, "fields[1].text", `"}" at character 2 without an opening "{"`},
		{"text with a non-free-text binding", func(t *Template) { t.Fields[0].Text = "Subject" }, "fields[0].text", "used only with the free_text binding"},
		{"empty barcode", func(t *Template) { t.Fields[1].Text = "" }, "fields[1].text", "barcode with no content"},
		{"accent in a barcode", func(t *Template) { t.Fields[1].Text = "Étude-{subject_number}" }, "fields[1].text", `'É' at character 1 cannot go in a barcode`},
		{"tab in a barcode", func(t *Template) { t.Fields[1].Text = "A\tB" }, "fields[1].text", "control character U+0009 at character 2"},
		{"character the font lacks", func(t *Template) {
			t.Fields[0] = Field{Name: "arrow", Kind: KindText, XMM: 2, YMM: 2, WidthMM: 30, HeightMM: 4, Binding: BindFreeText, Text: "A → B", FontHeightMM: 3}
		}, "fields[0].text", `'→' at character 3 cannot be printed`},
		{"bound content without max_chars", func(t *Template) { t.Fields[0].MaxChars = 0 }, "fields[0].max_chars", "depends on the print job"},
		{"max_chars below fixed text", func(t *Template) { t.Fields[1].Text, t.Fields[1].MaxChars = "ID {study_code}-{subject_number}", 3 }, "fields[1].max_chars", "4 characters of fixed text alone, more than its maximum of 3"},
		{"max_chars beyond a label", func(t *Template) { t.Fields[0].MaxChars = 500 }, "fields[0].max_chars", "at most 200 characters"},
		{"no kind", func(t *Template) { t.Fields[0].Kind = "" }, "fields[0].kind", "needs a kind"},
		{"unknown kind", func(t *Template) { t.Fields[0].Kind = "image" }, "fields[0].kind", `kind "image"`},
		{"text too long for its box", func(t *Template) { t.Fields[0].MaxChars = 20 }, "fields[0].width_mm", "20 characters at 3 mm high need 44.03 mm, more than the box's width of 30 mm"},
		{"font too small for the printer", func(t *Template) { t.Fields[0].FontHeightMM = 0.5 }, "fields[0].font_height_mm", "below the smallest the printer draws at 300 dpi, 0.85 mm"},
		{"font taller than its box", func(t *Template) { t.Fields[0].FontHeightMM = 5 }, "fields[0].font_height_mm", "characters 5 mm high do not fit the box's height of 4 mm"},
		{"rotated text along a short box", func(t *Template) { t.Fields[0].Rotation = 90 }, "fields[0].height_mm", "8 characters at 3 mm high need 17.36 mm, more than the box's height of 4 mm"},
		{"rotated text across a narrow box", func(t *Template) { t.Fields[0].Rotation, t.Fields[0].WidthMM, t.Fields[0].HeightMM = 270, 2, 5 }, "fields[0].font_height_mm", "characters 3 mm high do not fit the box's width of 2 mm"},
		{"odd rotation", func(t *Template) { t.Fields[0].Rotation = 45 }, "fields[0].rotation", "rotation 45"},
		{"rotated barcode", func(t *Template) { t.Fields[2].Rotation = 90 }, "fields[2].rotation", "barcodes print unrotated"},
		{"no symbology", func(t *Template) { t.Fields[1].Symbology = "" }, "fields[1].symbology", "needs a symbology"},
		{"unknown symbology", func(t *Template) { t.Fields[1].Symbology = "ean13" }, "fields[1].symbology", `symbology "ean13"`},
		{"no module", func(t *Template) { t.Fields[1].ModuleMM = 0 }, "fields[1].module_mm", "module size of more than 0 mm"},
		{"module under a dot", func(t *Template) { t.Fields[1].ModuleMM = 0.04 }, "fields[1].module_mm", "less than one printer dot (0.08 mm at 300 dpi)"},
		{"module past ZPL's limit", func(t *Template) { t.Fields[1].ModuleMM = 1 }, "fields[1].module_mm", "at most 10 dots"},
		{"barcode too wide for its box", func(t *Template) { t.Fields[1].MaxChars = 30 }, "fields[1].width_mm", "a Code 128 of 30 characters at a 0.25 mm module can be 92.71 mm wide, more than the box's width of 56 mm"},
		{"code 128 over 80 characters", func(t *Template) { t.Fields[1].MaxChars = 81 }, "fields[1].max_chars", "at most 80 characters"},
		{"bars too short", func(t *Template) { t.Fields[1].HeightMM = 7 }, "fields[1].height_mm", "at least 5 mm"},
		{"human-readable line too wide", func(t *Template) {
			t.Fields[2].HumanReadable, t.Fields[2].FontHeightMM = true, 3
		}, "fields[2].width_mm", "the human-readable line of 8 characters needs 17.36 mm, more than the box's width of 8 mm"},
		{"human-readable line without font", func(t *Template) { t.Fields[1].FontHeightMM = 0 }, "fields[1].font_height_mm", "human-readable line's character height of more than 0 mm"},
		{"datamatrix too tall with its line", func(t *Template) {
			t.Fields[2].HumanReadable, t.Fields[2].FontHeightMM, t.Fields[2].MaxChars = true, 2.5, 1
		}, "fields[2].height_mm", "a DataMatrix of 1 characters at a 0.5 mm module can be 5.08 mm high plus 3.13 mm for the human-readable line, more than the box's height of 8 mm"},
		{"datamatrix over capacity", func(t *Template) { t.Fields[2].MaxChars = 200 }, "fields[2].width_mm", "a DataMatrix of 200 characters at a 0.5 mm module can be 26.42 mm wide, more than the box's width of 8 mm"},
		{"qr over a label's capacity", func(t *Template) {
			t.Fields[2].Symbology, t.Fields[2].Binding, t.Fields[2].Text = QR, BindFreeText, strings.Repeat("x", 214)
		}, "fields[2].text", "214 characters are more than a label's QR code holds (213)"},
		{"quiet zone off the label", func(t *Template) { t.Fields[1].XMM = 1 }, "fields[1].x_mm", "needs 2.54 mm of blank quiet zone on left and right, which runs off the label"},
		{"quiet zone over another field", func(t *Template) { t.Fields[0].HeightMM = 6.5 }, "fields[1].x_mm", `overlap field "subject"`},
		{"2D quiet zone off the label", func(t *Template) { t.Fields[2].YMM = 22 }, "fields[2].x_mm", "0.51 mm of blank quiet zone on every side"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := validBase()
			c.change(&tpl)
			errs := Validate(tpl)
			got, ok := errs[c.key]
			if !ok {
				t.Fatalf("Validate reported %v, want a problem on %s", errs, c.key)
			}
			if !strings.Contains(got, c.says) {
				t.Errorf("errs[%s] = %q, want it to say %q", c.key, got, c.says)
			}
			if len(errs) != 1 {
				t.Errorf("Validate reported %d problems, want only the one on %s: %v", len(errs), c.key, errs)
			}
			if r, _ := utf8.DecodeRuneInString(got); r < 'A' || r > 'Z' || !strings.HasSuffix(got, ".") {
				t.Errorf("errs[%s] = %q, want a sentence", c.key, got)
			}
		})
	}
}

func TestFieldErrorsReadAsOneSortedError(t *testing.T) {
	tpl := validBase()
	tpl.DPI = 100
	tpl.Code = ""
	var err error = Validate(tpl)
	want := "code: Give the template a code, e.g. PK-TUBE-50X25. dpi: The printer resolution must be 203, 300 or 600 dpi; it is 100."
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestTouchingFieldsAreNotOverlapping(t *testing.T) {
	// The quiet zone ends exactly where the next field starts: 12.7 mm is
	// 150 dots at 300 dpi, so the two boxes share an edge and no dot.
	tpl := Template{Code: "T", Name: "T", WidthMM: 60, HeightMM: 30, DPI: 300, Fields: []Field{
		{Name: "code", Kind: KindBarcode, XMM: 2.54, YMM: 2, WidthMM: 40, HeightMM: 10, Binding: BindFreeText, Text: "ABC",
			Symbology: Code128, ModuleMM: 0.254},
		{Name: "right", Kind: KindText, XMM: 2.54 + 40 + 2.54, YMM: 2, WidthMM: 10, HeightMM: 4, Binding: BindFreeText, Text: "X", FontHeightMM: 3},
	}}
	if errs := Validate(tpl); errs != nil {
		t.Errorf("Validate = %v, want none for a field just outside the quiet zone", errs)
	}
	tpl.Fields[1].XMM -= 0.1
	if errs := Validate(tpl); errs["fields[0].x_mm"] == "" {
		t.Errorf("Validate = %v, want the quiet zone overlap reported once the field moves 0.1 mm left", errs)
	}
}

func TestCode128WorstCaseBoundsTheEncoder(t *testing.T) {
	for _, s := range []string{"a", "abcdefghij", "STUDY01-1001-T0.5H-PK-03", "1234567890", "A1B2C3D4", "12345", "x1234y", "~^_\\>"} {
		bc, err := code128.Encode(s)
		if err != nil {
			t.Fatalf("encode %q: %v", s, err)
		}
		n := utf8.RuneCountInString(s)
		if got, bound := bc.Bounds().Dx(), code128WorstModules(n); got > bound {
			t.Errorf("Code 128 of %q is %d modules, more than the worst case %d", s, got, bound)
		}
	}
	// Letters only encode in subset B, where the bound is exact.
	bc, err := code128.Encode("abcdefghij")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bc.Bounds().Dx(), code128WorstModules(10); got != want {
		t.Errorf("Code 128 of 10 lower-case letters is %d modules, want the worst case %d", got, want)
	}
}

func TestMatrixWorstCaseMatchesTheEncoder(t *testing.T) {
	// Upper-case letters cost one codeword each in DataMatrix's ASCII
	// encodation, and lower-case letters force QR's byte mode: the worst
	// cases the tables assume.
	for n := 1; n <= 150; n++ {
		dm, err := datamatrix.Encode(strings.Repeat("A", n))
		if err != nil {
			t.Fatalf("DataMatrix of %d letters: %v", n, err)
		}
		if got, want := dm.Bounds().Dx(), dataMatrixWorstSide(n); got != want {
			t.Errorf("DataMatrix of %d letters is %d modules, the table says %d", n, got, want)
		}
	}
	for n := 1; n <= qrByteCapacityM[len(qrByteCapacityM)-1]; n++ {
		q, err := qr.Encode(strings.Repeat("a", n), qr.M, qr.Auto)
		if err != nil {
			t.Fatalf("QR of %d letters: %v", n, err)
		}
		if got, want := q.Bounds().Dx(), qrWorstSide(n); got != want {
			t.Errorf("QR of %d letters is %d modules, the table says %d", n, got, want)
		}
	}
}
