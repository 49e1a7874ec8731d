package label

import (
	"bytes"
	"encoding/hex"
	"flag"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// mixedTemplate uses every kind of field, rotation and symbology, with data
// full of characters ZPL gives a meaning.
func mixedTemplate() Template {
	return Template{Code: "MIXED-600", Name: "Every feature", WidthMM: 100, HeightMM: 60, DPI: 600, Fields: []Field{
		{Name: "upside down", Kind: KindText, XMM: 5, YMM: 3, WidthMM: 40, HeightMM: 4, Binding: BindStudyCode, MaxChars: 10, FontHeightMM: 3, Rotation: 180},
		{Name: "up the edge", Kind: KindText, XMM: 92, YMM: 5, WidthMM: 4, HeightMM: 50, Binding: BindFreeText,
			Text: "Tube {tube_number} ~ {sample_type}", MaxChars: 20, FontHeightMM: 3, Rotation: 270},
		{Name: "awkward", Kind: KindBarcode, XMM: 5, YMM: 10, WidthMM: 80, HeightMM: 14, Binding: BindFreeText,
			Text: `A_B^C~D>E\F{{x}}`, Symbology: Code128, ModuleMM: 0.254, HumanReadable: true, FontHeightMM: 2.5},
		{Name: "lot", Kind: KindBarcode, XMM: 5, YMM: 30, WidthMM: 40, HeightMM: 25, Binding: BindFreeText,
			Text: "LOT_{subject_number}^1", MaxChars: 20, Symbology: DataMatrix, ModuleMM: 0.5, HumanReadable: true, FontHeightMM: 2.5},
		{Name: "link", Kind: KindBarcode, XMM: 50, YMM: 30, WidthMM: 38, HeightMM: 25, Binding: BindFreeText,
			Text: "{study_code}/{subject_number}", MaxChars: 20, Symbology: QR, ModuleMM: 0.4, HumanReadable: true, FontHeightMM: 2.5},
	}}
}

func goldenTemplates() []Template {
	return append(DemoTemplates(), mixedTemplate())
}

func TestZPLMatchesGoldenFiles(t *testing.T) {
	for _, tpl := range goldenTemplates() {
		got, err := RenderZPL(tpl, ExampleData())
		if err != nil {
			t.Fatalf("RenderZPL(%s): %v", tpl.Code, err)
		}
		path := filepath.Join("testdata", tpl.Code+".zpl")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read golden file (run go test -run TestZPLMatchesGoldenFiles -update to write it): %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("RenderZPL(%s) differs from %s:\n got:\n%s\nwant:\n%s", tpl.Code, path, got, want)
		}
	}
}

func TestZPLLabelSizeIsMillimetresAtDPI(t *testing.T) {
	want := map[string]string{
		"PK-TUBE-50X25":  "^PW591\n^LL295\n",
		"CRF-VOL-100X50": "^PW799\n^LL400\n",
		"MIXED-600":      "^PW2362\n^LL1417\n",
	}
	for _, tpl := range goldenTemplates() {
		zpl, err := RenderZPL(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(zpl, []byte(want[tpl.Code])) {
			t.Errorf("%s: ZPL lacks %q:\n%s", tpl.Code, want[tpl.Code], zpl)
		}
		if !bytes.HasPrefix(zpl, []byte("^XA\n")) || !bytes.HasSuffix(zpl, []byte("^XZ\n")) {
			t.Errorf("%s: ZPL does not run from ^XA to ^XZ:\n%s", tpl.Code, zpl)
		}
	}
}

// zplCommand matches what follows a caret in the ZPL this package writes.
var zplCommand = regexp.MustCompile(`^(XA|XZ|CI|PW|LL|LH|FO|A0|FB|BY|BC|BX|BQ|FH|FD|FS)`)

func TestDataCannotInjectZPL(t *testing.T) {
	tpl := mixedTemplate()
	d := ExampleData()
	d[BindStudyCode] = "^XZ~JA^X" // ends the label and cancels the printer's jobs, unless escaped
	zpl, err := RenderZPL(tpl, d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(zpl, '~') {
		t.Errorf("ZPL contains a raw tilde, which the printer would take as a control command:\n%s", zpl)
	}
	for i, part := range strings.Split(string(zpl), "^")[1:] {
		if !zplCommand.MatchString(part) {
			t.Errorf("caret %d starts %q, not a command this package writes", i+1, part)
		}
	}
	if n := bytes.Count(zpl, []byte("^XZ")); n != 1 {
		t.Errorf("ZPL has %d ^XZ, want the one that ends the label", n)
	}
}

// zplField is one field of ZPL: its commands and its data as the printer
// reads it, after ^FH hex codes are decoded.
type zplField struct {
	commands string
	data     string
}

// parseZPLFields splits ZPL into its fields, decoding ^FH_ hex codes the way
// the printer does.
func parseZPLFields(t *testing.T, zpl []byte) []zplField {
	t.Helper()
	var fields []zplField
	for _, line := range strings.Split(string(zpl), "\n") {
		cmds, data, ok := strings.Cut(line, "^FD")
		if !ok {
			continue
		}
		data, ok = strings.CutSuffix(data, "^FS")
		if !ok {
			t.Fatalf("field %q does not end with ^FS", line)
		}
		if strings.HasSuffix(cmds, "^FH_") {
			var out strings.Builder
			for i := 0; i < len(data); i++ {
				if data[i] != '_' {
					out.WriteByte(data[i])
					continue
				}
				b, err := hex.DecodeString(data[i+1 : i+3])
				if err != nil {
					t.Fatalf("field %q: bad hex code at %d: %v", line, i, err)
				}
				out.Write(b)
				i += 2
			}
			data = out.String()
		}
		fields = append(fields, zplField{commands: cmds, data: data})
	}
	return fields
}

func TestZPLFieldDataIsWhatTheLabelShows(t *testing.T) {
	zpl, err := RenderZPL(mixedTemplate(), ExampleData())
	if err != nil {
		t.Fatal(err)
	}
	fields := parseZPLFields(t, zpl)
	// Each layer the printer peels off the data: field block escapes for
	// centred text, DataMatrix escapes, QR's mode prefix.
	printed := func(f zplField) string {
		switch {
		case strings.Contains(f.commands, "^FB"):
			return strings.ReplaceAll(f.data, `\\`, `\`)
		case strings.Contains(f.commands, "^BX"):
			if !strings.HasSuffix(f.commands, ",_") && !strings.Contains(f.commands, ",_^FH") {
				t.Errorf("DataMatrix field %q does not set _ as its escape character", f.commands)
			}
			// With quality 200 the printer reads "_" as the start of an
			// escape sequence; "__" is the only one data may use.
			var out strings.Builder
			for i := 0; i < len(f.data); i++ {
				if f.data[i] == '_' {
					if i+1 >= len(f.data) || f.data[i+1] != '_' {
						t.Errorf("DataMatrix data %q has an escape sequence at %d", f.data, i)
					}
					i++
				}
				out.WriteByte(f.data[min(i, len(f.data)-1)])
			}
			return out.String()
		case strings.Contains(f.commands, "^BQ"):
			rest, ok := strings.CutPrefix(f.data, "MA,")
			if !ok {
				t.Errorf("QR field data %q lacks the MA, prefix", f.data)
			}
			return rest
		}
		return f.data
	}
	want := []struct{ command, shows string }{
		{"^A0I,71,71", "STUDY01"},
		{"^A0B,71,71", "Tube 03 ~ PK"},
		{"^BCN,", `A_B^C~D>E\F{x}`},
		{"^FB", `A_B^C~D>E\F{x}`},
		{"^BXN,12,200,14,14,,_", "LOT_1001^1"},
		{"^A0N,59,59", "LOT_1001^1"},
		{"^BQN,2,9,M,7", "STUDY01/1001"},
		{"^A0N,59,59", "STUDY01/1001"},
	}
	if len(fields) != len(want) {
		t.Fatalf("ZPL has %d fields, want %d:\n%s", len(fields), len(want), zpl)
	}
	for i, w := range want {
		if !strings.Contains(fields[i].commands, w.command) {
			t.Errorf("field %d is %q, want %q", i+1, fields[i].commands, w.command)
		}
		if got := printed(fields[i]); got != w.shows {
			t.Errorf("field %d (%s) shows %q, want %q", i+1, fields[i].commands, got, w.shows)
		}
	}
}

func TestZPLPlacesFieldsWhereThePreviewDraws(t *testing.T) {
	// The human-readable line of the tube label is centred under its bars
	// in both: the ZPL's field block spans the symbol, and the preview's
	// ink is centred in the same span.
	tpl := DemoTemplates()[0]
	p, err := layout(tpl, ExampleData())
	if err != nil {
		t.Fatal(err)
	}
	zpl, err := RenderZPL(tpl, ExampleData())
	if err != nil {
		t.Fatal(err)
	}
	img, err := RenderImage(tpl, ExampleData())
	if err != nil {
		t.Fatal(err)
	}
	bars, line := p.marks[2], p.marks[3]
	if bars.kind != markBarcode || line.kind != markText {
		t.Fatalf("marks 3 and 4 are kinds %d and %d, want the barcode and its line", bars.kind, line.kind)
	}
	width := bars.size().X
	if want := "^FO47,57^BY2^BCN,102,N,N,N,A^FD"; !bytes.Contains(zpl, []byte(want)) {
		t.Errorf("ZPL lacks the bars at the box's corner, %q:\n%s", want, zpl)
	}
	fb := "^FO47,165^A0N,24,24^FB" + strconv.Itoa(width) + ",1,0,C,0^FD1001-T0.5H-PK-03^FS"
	if !bytes.Contains(zpl, []byte(fb)) {
		t.Errorf("ZPL lacks the human-readable line centred under the %d-dot bars, %q:\n%s", width, fb, zpl)
	}
	row := image.Rect(47, 165, 47+width, 165+24)
	left, right := row.Max.X, row.Min.X
	for y := row.Min.Y; y < row.Max.Y; y++ {
		for x := row.Min.X; x < row.Max.X; x++ {
			if img.GrayAt(x, y).Y == 0 {
				left, right = min(left, x), max(right, x+1)
			}
		}
	}
	// Glyphs have blank columns at their sides, so the ink may be off
	// centre by one font column.
	if l, r := left-row.Min.X, row.Max.X-right; l-r > 24/fontRows+1 || r-l > 24/fontRows+1 {
		t.Errorf("preview's line has %d dots left of it and %d right under the bars, want it centred", l, r)
	}
}
