package odm

import (
	"os"
	"strings"
	"testing"
)

// The three files in testdata/samples were written by other systems (see
// the README there): CDISC's own metadata example, an odmlib snapshot with
// clinical data, and a REDCap project export.

const (
	sampleCDISC  = "testdata/samples/cdisc_MetaData_Dave_1_3_2_extra_languages.xml"
	sampleOdmlib = "testdata/samples/odmlib_odm-data-snapshot.xml"
	sampleREDCap = "testdata/samples/redcap_repeating-instruments_project.xml"
)

func readSample(t *testing.T, path string) ([]byte, *Document, *Diagnostics) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, diags := readBytes(t, data)
	return data, doc, diags
}

func countItems(doc *Document) (subjects, items int) {
	for _, c := range doc.ClinicalData {
		subjects += len(c.Subjects)
	}
	for row := range doc.Rows() {
		if row.Item != nil {
			items++
		}
	}
	return subjects, items
}

func TestSampleCDISCImports(t *testing.T) {
	_, doc, diags := readSample(t, sampleCDISC)
	if diags.HasErrors() {
		t.Errorf("CDISC's own example read with errors:\n%s", diags)
	}
	m := doc.Studies[0].MetaDataVersions[0]
	got := []int{len(m.StudyEventDefs), len(m.FormDefs), len(m.ItemDefs), len(m.CodeLists)}
	want := []int{5, 7, 63, 12}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("study events, forms, items, code lists = %v, want %v", got, want)
		}
	}
	langs := map[string]bool{}
	for _, it := range m.ItemDefs {
		if it.Question != nil {
			for _, tt := range it.Question.Texts {
				langs[tt.Lang] = true
			}
		}
	}
	for _, l := range []string{"en", "fr", "de", "ko"} {
		if !langs[l] {
			t.Errorf("no question was read in the language %q; got %v", l, langs)
		}
	}
}

func TestSampleOdmlibImports(t *testing.T) {
	_, doc, diags := readSample(t, sampleOdmlib)
	if diags.HasErrors() {
		t.Errorf("the odmlib snapshot read with errors:\n%s", diags)
	}
	if subjects, items := countItems(doc); subjects != 2 || items != 165 {
		t.Errorf("read %d subjects and %d ItemData, want 2 and 165", subjects, items)
	}
	if len(doc.AdminData) != 1 || len(doc.AdminData[0].Users) != 1 || len(doc.AdminData[0].Locations) != 1 {
		t.Errorf("AdminData = %+v, want one user and one location", doc.AdminData)
	}
	// The file gives several dates a Length of 9 that they do not fit in;
	// the reader must say so, with the line.
	var found bool
	for _, d := range diags.List {
		if d.Code == CodeItemValue && d.OID == "IT.BRTHDAT" && d.Line == 855 && d.Severity == Warning {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning on line 855 for IT.BRTHDAT longer than its Length; got:\n%s", diags)
	}
}

func TestSampleREDCapImports(t *testing.T) {
	_, doc, diags := readSample(t, sampleREDCap)
	if diags.HasErrors() {
		t.Errorf("the REDCap export read with errors:\n%s", diags)
	}
	if subjects, items := countItems(doc); subjects != 2 || items != 34 {
		t.Errorf("read %d subjects and %d ItemData, want 2 and 34", subjects, items)
	}
	if got := len(doc.ClinicalData[0].Subjects[0].Forms); got != 4 {
		t.Errorf("subject 1 has %d forms outside events, want 4", got)
	}
	var structure, version bool
	for _, d := range diags.List {
		structure = structure || d.Code == CodeStructure && d.Severity == Warning && d.Line == 158
		version = version || d.Code == CodeVersion && d.Severity == Info && strings.Contains(d.Message, "1.3.1")
	}
	if !structure || !version {
		t.Errorf("want a warning on line 158 about FormData outside events and an info about ODM 1.3.1; got:\n%s", diags)
	}
	g := doc.Studies[0].GlobalVariables
	if n := len(g.Extensions.Elements); n != 27 {
		t.Errorf("GlobalVariables kept %d REDCap elements, want 27", n)
	}
	dob := findItem(doc, "dob")
	if v := extAttr(dob.Extensions, "https://projectredcap.org", "FieldNote"); v != "YYYY-MM-DD" {
		t.Errorf("redcap:FieldNote of dob = %q, want YYYY-MM-DD", v)
	}
}

func findItem(doc *Document, oid string) *ItemDef {
	for _, s := range doc.Studies {
		for _, m := range s.MetaDataVersions {
			for _, it := range m.ItemDefs {
				if it.OID == oid {
					return it
				}
			}
		}
	}
	return nil
}

func extAttr(e Extensions, space, local string) string {
	for _, a := range e.Attrs {
		if a.Space == space && a.Local == local {
			return a.Value
		}
	}
	return ""
}

// TestSamplesRoundTrip checks that the two schema-valid samples come back
// the same through export and import, and that their strict export still
// validates.
func TestSamplesRoundTrip(t *testing.T) {
	outputs := map[string][]byte{}
	for name, path := range map[string]string{"cdisc": sampleCDISC, "odmlib": sampleOdmlib} {
		_, first, _ := readSample(t, path)
		kept, _ := writeBytes(t, first, WriteOptions{KeepExtensions: true})
		second, _ := readBytes(t, kept)
		normalize(first, false)
		normalize(second, false)
		sameModel(t, name, first, second)

		strict, omitted := writeBytes(t, first, WriteOptions{})
		outputs[name] = strict
		if name == "odmlib" && omitted.Attributes != 1 {
			t.Errorf("strict export of odmlib omitted %+v, want its xsi:schemaLocation only", omitted)
		}
	}
	validateBytes(t, outputs)
}

// TestREDCapExtensionsSurvive checks that REDCap's vendor elements and
// attributes, and its forms outside events, come back from a KeepExtensions
// export; that the strict export of its design validates; and that the
// kept export validates once REDCap's nodes are stripped.
func TestREDCapExtensionsSurvive(t *testing.T) {
	_, first, _ := readSample(t, sampleREDCap)
	kept, _ := writeBytes(t, first, WriteOptions{KeepExtensions: true})
	if !strings.Contains(string(kept), `xmlns:redcap="https://projectredcap.org"`) ||
		!strings.Contains(string(kept), `redcap:FieldNote="YYYY-MM-DD"`) {
		t.Fatalf("the kept export does not carry REDCap's namespace and attributes with their prefix")
	}
	second, _ := readBytes(t, kept)
	normalize(first, false)
	normalize(second, false)
	sameModel(t, "REDCap", first, second)

	// ODM 1.3.2 has no place for REDCap's forms outside events, so only the
	// design can be exported strictly.
	design := *first
	design.ClinicalData = nil
	strict, omitted := writeBytes(t, &design, WriteOptions{})
	if omitted.Elements != 27 || omitted.Attributes < 50 {
		t.Errorf("strict export omitted %+v, want REDCap's 27 elements and its attributes", omitted)
	}
	keptDesign, _ := writeBytes(t, &design, WriteOptions{KeepExtensions: true})
	stripped, err := stripForeign(keptDesign)
	if err != nil {
		t.Fatal(err)
	}
	validateBytes(t, map[string][]byte{"redcap-strict": strict, "redcap-kept-stripped": stripped})
}
