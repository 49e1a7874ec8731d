// Package label holds barcode label configurations: the templates a clinic
// prints on sample tubes and CRF pages, their validation, and their rendering
// to ZPL II for Zebra thermal printers and to PNG and PDF previews. An
// instance keeps its templates by code (store.go): validated, audited,
// deactivated rather than deleted, and saved only against the version the
// user opened.
//
// All positions and sizes in a template are in millimetres, because that is
// what is written on the label stock's box; they are converted to printer dots
// only when rendering, using the template's DPI. The preview is drawn at the
// printer's DPI from the same layout the ZPL is written from, so every field
// sits where the printer puts it and every barcode has the printer's module
// size. Text in the preview uses a built-in bitmap font that is wider than
// the printer's own, so text that fits the preview fits the print.
package label

// Kind says what a field puts on the label.
type Kind string

// The kinds of field.
const (
	// KindText prints the field's content as a line of text.
	KindText Kind = "text"
	// KindBarcode prints the field's content as a barcode.
	KindBarcode Kind = "barcode"
)

// Symbology is the barcode standard a barcode field is printed in.
type Symbology string

// The symbologies a barcode field can use.
const (
	// Code128 is the linear barcode most lab sample tubes carry.
	Code128 Symbology = "code128"
	// DataMatrix is the ECC 200 square matrix code.
	DataMatrix Symbology = "datamatrix"
	// QR is the QR Code model 2, error correction level M.
	QR Symbology = "qr"
)

// Binding names the value of a print job that a field shows.
type Binding string

// The bindings a field can use.
const (
	// BindSubjectNumber is the subject (volunteer) number in the study.
	BindSubjectNumber Binding = "subject_number"
	// BindStudyCode is the study's code, e.g. STUDY01.
	BindStudyCode Binding = "study_code"
	// BindTimePoint is the nominal time point, e.g. T0.5H or Day 1.
	BindTimePoint Binding = "time_point"
	// BindSampleType is the sample matrix, e.g. PK, PD, urine.
	BindSampleType Binding = "sample_type"
	// BindTubeNumber is the tube's number within the subject's samples.
	BindTubeNumber Binding = "tube_number"
	// BindFreeText takes the field's Text: fixed text, which may name
	// the other bindings in braces, as in "{study_code}-{subject_number}".
	BindFreeText Binding = "free_text"
)

// dataBindings are the bindings a print job supplies values for, in the order
// they are listed to users.
var dataBindings = []Binding{BindSubjectNumber, BindStudyCode, BindTimePoint, BindSampleType, BindTubeNumber}

// allowedDPI are the print head resolutions Zebra printers come with.
var allowedDPI = []int{203, 300, 600}

// maxLabelMM bounds a label's sides: past 200 mm it is not a label any
// clinic printer takes, and the value is almost certainly a typing slip.
const maxLabelMM = 200

// Template is a barcode label configuration: the label stock's size, the
// printer's resolution and the fields printed on it.
type Template struct {
	// Code identifies the template, e.g. PK-TUBE-50X25.
	Code string `json:"code"`
	// Name is the template's name shown to users.
	Name string `json:"name"`
	// WidthMM and HeightMM are the label's size as it leaves the printer.
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`
	// DPI is the printer's resolution in dots per inch: 203, 300 or 600.
	DPI int `json:"dpi"`
	// Fields are printed in order; later fields print over earlier ones.
	Fields []Field `json:"fields"`
}

// Field is one text or barcode on a label. Its content is drawn from the
// top-left corner of its box and must fit inside the box; a barcode's
// human-readable line runs along the box's bottom edge, and its quiet zone
// lies outside the box and must be clear of other fields.
type Field struct {
	// Name identifies the field within its template, e.g. "subject".
	Name string `json:"name"`
	// Kind says whether the field prints text or a barcode.
	Kind Kind `json:"kind"`

	// XMM and YMM place the box's top-left corner, measured from the
	// label's top-left corner as it leaves the printer.
	XMM float64 `json:"x_mm"`
	YMM float64 `json:"y_mm"`
	// WidthMM and HeightMM are the box's size.
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`

	// Binding names the value the field shows.
	Binding Binding `json:"binding"`
	// Text is the fixed text, with optional {binding} placeholders, of a
	// free_text field; "{{" and "}}" print a literal brace.
	Text string `json:"text,omitempty"`
	// MaxChars is the longest content, in characters, the field must hold.
	// It is required when the content depends on a print job's data, so
	// that validation can prove the longest value fits before a print run
	// and a print job with a longer value is refused instead of cut off.
	MaxChars int `json:"max_chars,omitempty"`

	// FontHeightMM is the text's character height; for a barcode it is the
	// height of the human-readable line.
	FontHeightMM float64 `json:"font_height_mm,omitempty"`
	// Rotation turns a text field clockwise by 0, 90, 180 or 270 degrees.
	Rotation int `json:"rotation,omitempty"`

	// Symbology is the barcode standard of a barcode field.
	Symbology Symbology `json:"symbology,omitempty"`
	// ModuleMM is a barcode's narrowest bar (Code 128) or its cell size
	// (DataMatrix, QR). It is rounded to whole printer dots.
	ModuleMM float64 `json:"module_mm,omitempty"`
	// HumanReadable prints the barcode's content as text along the bottom
	// of the field's box.
	HumanReadable bool `json:"human_readable,omitempty"`
}

// Data holds the values one print job binds to a template's fields.
type Data map[Binding]string

// DemoTemplates returns the two templates a new instance starts with: a
// 50×25 mm PK sample tube label for a 300 dpi printer and a 100×50 mm
// CRF/volunteer label for a 203 dpi printer.
func DemoTemplates() []Template {
	return []Template{
		{
			Code:     "PK-TUBE-50X25",
			Name:     "PK sample tube 50×25 mm",
			WidthMM:  50,
			HeightMM: 25,
			DPI:      300,
			Fields: []Field{
				{Name: "study", Kind: KindText, XMM: 2, YMM: 1, WidthMM: 23, HeightMM: 3, Binding: BindStudyCode, MaxChars: 10, FontHeightMM: 2.8},
				{Name: "subject", Kind: KindText, XMM: 26, YMM: 1, WidthMM: 22, HeightMM: 3, Binding: BindFreeText, Text: "Subj {subject_number}", MaxChars: 10, FontHeightMM: 2.8},
				// The study code is left out of the barcode: the sample ID
				// with it does not fit 50 mm at a module a 300 dpi head
				// prints reliably, and subjects are numbered per study.
				{Name: "sample id", Kind: KindBarcode, XMM: 4, YMM: 4.8, WidthMM: 42, HeightMM: 11.2, Binding: BindFreeText,
					Text: "{subject_number}-{time_point}-{sample_type}-{tube_number}", MaxChars: 18,
					Symbology: Code128, ModuleMM: 0.17, HumanReadable: true, FontHeightMM: 2},
				{Name: "time point", Kind: KindText, XMM: 2, YMM: 17, WidthMM: 30, HeightMM: 3, Binding: BindFreeText, Text: "{time_point} {sample_type}", MaxChars: 14, FontHeightMM: 2.8},
				{Name: "tube", Kind: KindText, XMM: 33, YMM: 17, WidthMM: 15, HeightMM: 3, Binding: BindFreeText, Text: "Tube {tube_number}", MaxChars: 7, FontHeightMM: 2.8},
				{Name: "storage", Kind: KindText, XMM: 2, YMM: 21.5, WidthMM: 46, HeightMM: 2.2, Binding: BindFreeText, Text: "Store at -20 °C", FontHeightMM: 2},
			},
		},
		{
			Code:     "CRF-VOL-100X50",
			Name:     "CRF / volunteer label 100×50 mm",
			WidthMM:  100,
			HeightMM: 50,
			DPI:      203,
			Fields: []Field{
				{Name: "subject code", Kind: KindBarcode, XMM: 4, YMM: 4, WidthMM: 18, HeightMM: 18, Binding: BindFreeText,
					Text: "{study_code}-{subject_number}-{time_point}", MaxChars: 30, Symbology: DataMatrix, ModuleMM: 0.75},
				{Name: "study", Kind: KindText, XMM: 24, YMM: 4, WidthMM: 68, HeightMM: 5, Binding: BindFreeText, Text: "Study {study_code}", MaxChars: 20, FontHeightMM: 4.5},
				{Name: "subject", Kind: KindText, XMM: 24, YMM: 11, WidthMM: 68, HeightMM: 6.5, Binding: BindFreeText, Text: "Subject {subject_number}", MaxChars: 16, FontHeightMM: 5.5},
				{Name: "visit", Kind: KindText, XMM: 24, YMM: 19.5, WidthMM: 68, HeightMM: 5, Binding: BindFreeText, Text: "Visit {time_point}", MaxChars: 20, FontHeightMM: 4.5},
				{Name: "initials", Kind: KindText, XMM: 4, YMM: 30, WidthMM: 88, HeightMM: 4, Binding: BindFreeText, Text: "Initials _____  Date __________", FontHeightMM: 3.5},
				{Name: "signature", Kind: KindText, XMM: 4, YMM: 38, WidthMM: 88, HeightMM: 4, Binding: BindFreeText, Text: "Checked by ____________________", FontHeightMM: 3.5},
				{Name: "edge", Kind: KindText, XMM: 94, YMM: 4, WidthMM: 4, HeightMM: 42, Binding: BindFreeText, Text: "VOLUNTEER CRF", FontHeightMM: 3, Rotation: 90},
			},
		},
	}
}

// ExampleData returns the values of a typical print job, for previews in the
// template editor.
func ExampleData() Data {
	return Data{
		BindStudyCode:     "STUDY01",
		BindSubjectNumber: "1001",
		BindTimePoint:     "T0.5H",
		BindSampleType:    "PK",
		BindTubeNumber:    "03",
	}
}
