package odm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// smallDesign is a minimal valid design with vendor extensions in known
// places.
func smallDesign() *Document {
	vendor := "urn:example:vendor"
	note := func(pos int, text string) *Node { return &Node{Space: vendor, Local: "note", Text: text, Pos: pos} }
	return &Document{
		FileOID: "F", FileType: Snapshot, CreationDateTime: "2024-05-01T12:00:00+02:00",
		Namespaces: []NamespaceDecl{{Prefix: "v", URI: vendor}},
		Studies: []*Study{{
			OID:             "S",
			GlobalVariables: GlobalVariables{StudyName: "Study", ProtocolName: "P-1"},
			MetaDataVersions: []*MetaDataVersion{{
				OID: "V1", Name: "Version 1",
				Protocol: &Protocol{StudyEventRefs: []*StudyEventRef{{StudyEventOID: "SE", Mandatory: Yes}}},
				StudyEventDefs: []*StudyEventDef{{OID: "SE", Name: "Day 1", Repeating: No, Type: Scheduled,
					FormRefs: []*FormRef{{FormOID: "FO", Mandatory: Yes}}}},
				FormDefs: []*FormDef{{OID: "FO", Name: "Vitals", Repeating: No,
					ItemGroupRefs: []*ItemGroupRef{{ItemGroupOID: "IG", Mandatory: Yes}}}},
				ItemGroupDefs: []*ItemGroupDef{{OID: "IG", Name: "Vitals", Repeating: Yes,
					ItemRefs: []*ItemRef{{ItemOID: "IT.A", Mandatory: Yes}, {ItemOID: "IT.B", Mandatory: No}}}},
				ItemDefs: []*ItemDef{
					{OID: "IT.A", Name: "Systolic", DataType: Integer, Extensions: Extensions{Attrs: []Attr{{Space: vendor, Local: "widget", Value: "slider"}}}},
					{OID: "IT.B", Name: "Comment", DataType: Text},
				},
				Extensions: Extensions{Elements: []*Node{note(0, "before the protocol"), note(3, "after the forms"), note(99, "at the end")}},
			}},
		}},
	}
}

func TestNewDocumentIsAValidExport(t *testing.T) {
	doc := NewDocument("EXPORT-1", Snapshot, time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("CET", 3600)))
	out, _ := writeBytes(t, doc, WriteOptions{})
	want := `FileType="Snapshot" FileOID="EXPORT-1" CreationDateTime="2025-03-04T04:06:07Z" ODMVersion="1.3.2" SourceSystem="cohort"`
	if !strings.Contains(string(out), want) {
		t.Errorf("the root is not %s:\n%s", want, out)
	}
	validateBytes(t, map[string][]byte{"new-document": out})
}

func TestStrictWriterOmitsAndCountsExtensions(t *testing.T) {
	out, omitted := writeBytes(t, smallDesign(), WriteOptions{})
	if omitted != (Omitted{Attributes: 1, Elements: 3}) {
		t.Errorf("omitted %+v, want 1 attribute and 3 elements", omitted)
	}
	if bytes.Contains(out, []byte("urn:example:vendor")) {
		t.Errorf("strict output mentions the vendor namespace:\n%s", out)
	}
	validateBytes(t, map[string][]byte{"small-strict": out})
}

func TestKeptExtensionsStayInPlace(t *testing.T) {
	out, omitted := writeBytes(t, smallDesign(), WriteOptions{KeepExtensions: true})
	if omitted != (Omitted{}) {
		t.Errorf("omitted %+v with KeepExtensions", omitted)
	}
	s := string(out)
	order := []string{"before the protocol", "<Protocol>", "<FormDef", "after the forms", "<ItemGroupDef", `<ItemDef OID="IT.B"`, "at the end", "</MetaDataVersion>"}
	last := -1
	for _, marker := range order {
		i := strings.Index(s, marker)
		if i < last {
			t.Fatalf("%q is out of place in:\n%s", marker, s)
		}
		last = i
	}
	if !strings.Contains(s, `xmlns:v="urn:example:vendor"`) || !strings.Contains(s, `v:widget="slider"`) {
		t.Errorf("the vendor prefix was not kept:\n%s", s)
	}
	doc, _ := readBytes(t, out)
	nodes := doc.Studies[0].MetaDataVersions[0].Extensions.Elements
	if len(nodes) != 3 || nodes[0].Pos != 0 || nodes[1].Pos != 3 || nodes[2].Pos != 6 {
		t.Errorf("read back positions %d, %d, %d; want 0, 3 and 6 (the end)", nodes[0].Pos, nodes[1].Pos, nodes[2].Pos)
	}
}

func TestWriterRefusesInvalidDocuments(t *testing.T) {
	doc := smallDesign()
	m := doc.Studies[0].MetaDataVersions[0]
	m.ItemDefs[0].DataType = "number"
	m.ItemDefs[1].OID = "IT.A"
	var buf bytes.Buffer
	_, err := Write(context.Background(), &buf, doc, WriteOptions{})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("got %v, want a ValidationError with the bad DataType and the duplicate OID", err)
	}
	if !strings.Contains(ve.Problems[1].Message, `the DataType of ItemDef IT.A is "number"`) || buf.Len() != 0 {
		t.Errorf("got %q and %d bytes written, want the DataType named and nothing written", ve.Problems, buf.Len())
	}
}

func TestWriterRefusesCharactersXMLCannotCarry(t *testing.T) {
	doc := smallDesign()
	doc.ClinicalData = []*ClinicalData{{StudyOID: "S", MetaDataVersionOID: "V1", Subjects: []*SubjectData{{SubjectKey: "001",
		StudyEvents: []*StudyEventData{{StudyEventOID: "SE", Forms: []*FormData{{FormOID: "FO", ItemGroups: []*ItemGroupData{{ItemGroupOID: "IG",
			Items: []*ItemData{{ItemOID: "IT.B", Value: "bell\x07"}}}}}}}}}}}}
	_, err := Write(context.Background(), io.Discard, doc, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "the Value of ItemData contains the character U+0007, which XML 1.0 cannot carry") {
		t.Errorf("got %v, want a sentence about U+0007 in the Value of ItemData", err)
	}
}

func TestWriterOpensContainersByKey(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	w := NewWriter(&buf, WriteOptions{})
	if err := w.Begin(ctx, smallDesign()); err != nil {
		t.Fatal(err)
	}
	ref := &Row{Reference: &ReferenceData{StudyOID: "S", MetaDataVersionOID: "V1"}, Group: &ItemGroupData{ItemGroupOID: "IG"}, Item: &ItemData{ItemOID: "IT.A", Value: "1"}}
	if err := w.WriteRow(ctx, ref); err != nil {
		t.Fatal(err)
	}
	// Fresh values with equal keys are the same container.
	for row := range bigRows(3, 25) {
		if err := w.WriteRow(ctx, row); err != nil {
			t.Fatal(err)
		}
	}
	empty := &Row{Clinical: &ClinicalData{StudyOID: "S", MetaDataVersionOID: "V1"}, Subject: &SubjectData{SubjectKey: "SUBJ-999999"}}
	if err := w.WriteRow(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	counts := map[string]int{"<ReferenceData": 1, "<ClinicalData": 1, "<SubjectData": 4, "<StudyEventData": 3, "<ItemGroupData": 10, "<ItemData": 76}
	for tag, want := range counts {
		if got := strings.Count(out, tag+" "); got != want {
			t.Errorf("%d %s elements, want %d", got, tag, want)
		}
	}
	validateBytes(t, map[string][]byte{"rows": buf.Bytes()})

	w = NewWriter(io.Discard, WriteOptions{})
	if err := w.Begin(ctx, smallDesign()); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(ctx, ref); err == nil || !strings.Contains(err.Error(), "ReferenceData rows must come before ClinicalData rows") {
		t.Errorf("a ReferenceData row after clinical data gave %v", err)
	}
}

func TestWriterRefusesFormsOutsideEventsUnlessKept(t *testing.T) {
	row := &Row{Clinical: &ClinicalData{StudyOID: "S", MetaDataVersionOID: "V1"}, Subject: &SubjectData{SubjectKey: "1"},
		Form: &FormData{FormOID: "FO"}, Group: &ItemGroupData{ItemGroupOID: "IG"}, Item: &ItemData{ItemOID: "IT.A", Value: "1"}}
	for _, keep := range []bool{false, true} {
		ctx := context.Background()
		var buf bytes.Buffer
		w := NewWriter(&buf, WriteOptions{KeepExtensions: keep})
		if err := w.Begin(ctx, smallDesign()); err != nil {
			t.Fatal(err)
		}
		err := w.WriteRow(ctx, row)
		if keep && err != nil {
			t.Errorf("KeepExtensions refused a REDCap form: %v", err)
		}
		if !keep && (err == nil || !strings.Contains(err.Error(), "the form FO of subject 1 is in no study event")) {
			t.Errorf("strict writing of a form outside events gave %v", err)
		}
	}
}

func TestWriterStopsWhenCancelledAndReportsProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []int64
	w := NewWriter(io.Discard, WriteOptions{Progress: func(n int64) { seen = append(seen, n) }})
	if err := w.Begin(ctx, smallDesign()); err != nil {
		t.Fatal(err)
	}
	var err error
	for row := range bigRows(300, 100) {
		if len(seen) == 2 {
			cancel()
		}
		if err = w.WriteRow(ctx, row); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	if seen[0] != 10_000 || seen[1] != 20_000 {
		t.Errorf("progress reported %v, want every 10,000 rows", seen)
	}
	if err := w.Close(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Close after a cancellation returned %v, want the cancellation again", err)
	}
}

func TestWriterMemoryDoesNotGrowWithRows(t *testing.T) {
	ctx := context.Background()
	w := NewWriter(io.Discard, WriteOptions{})
	if err := w.Begin(ctx, smallDesign()); err != nil {
		t.Fatal(err)
	}
	var early uint64
	for row := range bigRows(4000, 100) {
		if err := w.WriteRow(ctx, row); err != nil {
			t.Fatal(err)
		}
		if w.Rows() == 50_000 {
			early = heapAfterGC()
		}
	}
	late := heapAfterGC()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if late > early+1<<20 {
		t.Errorf("the live heap grew from %d to %d bytes between row 50,000 and row 400,000", early, late)
	}
}
