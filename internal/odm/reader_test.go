package odm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// flawed is a small design with one of each kind of problem the reader
// reports, each on a line of its own.
const flawed = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:oc="http://www.openclinica.org/ns/odm_ext_v130/v3.1" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00" ODMVersion="1.3">
<Study OID="S">
<GlobalVariables><StudyName>S</StudyName><StudyDescription/><ProtocolName>P</ProtocolName></GlobalVariables>
<MetaDataVersion OID="V1" Name="v1">
<FormDef OID="F.DM" Repeating="No">
<ItemGroupRef ItemGroupOID="IG.DM" Mandatory="yes"/>
</FormDef>
<ItemGroupDef OID="IG.DM" Name="Demographics" Repeating="No">
<ItemRef ItemOID="IT.BRTHDAT" Mandatory="Yes"/>
<ItemRef ItemOID="IT.MISSING" Mandatory="No"/>
</ItemGroupDef>
<ItemDef OID="IT.BRTHDAT" Name="Birth date" DataType="date">
<oc:ItemDetails><oc:ItemPresentInForm FormOID="F.DM"/></oc:ItemDetails>
</ItemDef>
<ItemDef OID="IT.SEX" Name="Sex" DataType="number"><CodeListRef CodeListOID="CL.SEX"/></ItemDef>
<ItemDef OID="IT.SEX" Name="Sex again" DataType="text"/>
<CodeList OID="CL.SEX" Name="Sex" DataType="text"><CodeListItem CodedValue="F"><Decode><TranslatedText>Female</TranslatedText></Decode></CodeListItem></CodeList>
</MetaDataVersion>
</Study>
<ClinicalData StudyOID="S" MetaDataVersionOID="V1">
<SubjectData SubjectKey="001">
<StudyEventData StudyEventOID="SE.NONE">
<FormData FormOID="F.DM">
<ItemGroupData ItemGroupOID="IG.DM">
<ItemData ItemOID="IT.BRTHDAT" Value="31/12/1990"/>
<ItemData ItemOID="IT.UNDEFINED" Value="1"/>
<ItemData ItemOID="IT.SEX" Value="X"/>
</ItemGroupData>
</FormData>
</StudyEventData>
</SubjectData>
</ClinicalData>
</ODM>
`

func TestDiagnosticsSayWhatAndWhere(t *testing.T) {
	_, diags := readBytes(t, []byte(flawed))
	want := []struct {
		line     int
		severity Severity
		code     Code
		oid      string
		text     string
	}{
		{2, Info, CodeVersion, "F", "declares ODM version 1.3"},
		{6, Error, CodeMissingAttribute, "F.DM", "FormDef F.DM has no Name"},
		{7, Warning, CodeNormalized, "F.DM", `the Mandatory of ItemGroupRef is "yes"`},
		{11, Error, CodeDanglingReference, "IG.DM", "refers to the ItemDef IT.MISSING, which is not defined"},
		{14, Info, CodeExtension, "IT.BRTHDAT", "vendor element oc:ItemDetails inside ItemDef was kept"},
		{16, Error, CodeBadValue, "IT.SEX", `the DataType of ItemDef IT.SEX is "number"`},
		{17, Error, CodeDuplicate, "V1", `the OID "IT.SEX" occurs twice`},
		{23, Error, CodeDanglingReference, "SE.NONE", "study event SE.NONE, which the design does not define"},
		{26, Warning, CodeItemValue, "IT.BRTHDAT", `"31/12/1990" of item IT.BRTHDAT is not a valid date`},
		{27, Error, CodeDanglingReference, "IT.UNDEFINED", "item IT.UNDEFINED, which the design does not define"},
		{28, Warning, CodeItemValue, "IT.SEX", `"X" of item IT.SEX is not in its code list`},
	}
	for _, w := range want {
		found := false
		for _, d := range diags.List {
			if d.Line == w.line && d.Severity == w.severity && d.Code == w.code && d.OID == w.oid && strings.Contains(d.Message, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing %s %s on line %d in %s: %q", w.severity, w.code, w.line, w.oid, w.text)
		}
	}
	if t.Failed() {
		t.Logf("diagnostics:\n%s", diags)
	}
	if got := diags.Count(Error); got != 6 {
		t.Errorf("counted %d errors, want 6:\n%s", got, diags)
	}
}

func TestDiagnosticsAreCapped(t *testing.T) {
	var in strings.Builder
	in.WriteString(strings.TrimSuffix(flawed[:strings.Index(flawed, "<ItemData")], "\n"))
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&in, "<ItemData ItemOID=\"IT.UNDEFINED%d\" Value=\"1\"/>\n", i)
	}
	in.WriteString("</ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData></ODM>")
	_, diags, err := ReadAll(context.Background(), strings.NewReader(in.String()), ReadOptions{MaxDiagnostics: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags.List) != 100 || diags.Count(Error) < 5000 || diags.Suppressed != diags.Count(Error)+diags.Count(Warning)+diags.Count(Info)-100 {
		t.Errorf("listed %d, counted %d errors, suppressed %d; want 100 listed and every error counted",
			len(diags.List), diags.Count(Error), diags.Suppressed)
	}
}

func TestNoNamespaceReadsAsODM(t *testing.T) {
	with, _ := readBytes(t, []byte(flawed))
	without, diags := readBytes(t, []byte(strings.Replace(flawed, ` xmlns="http://www.cdisc.org/ns/odm/v1.3"`, "", 1)))
	normalize(with, false)
	normalize(without, false)
	sameModel(t, "with and without the ODM namespace", with, without)
	if !strings.Contains(diags.String(), "has no namespace") {
		t.Errorf("no warning about the missing namespace:\n%s", diags)
	}
}

// openClinicaLike has vendor elements before, between and after the ODM
// children of streamed containers, as OpenClinica writes links and audit
// logs around its data.
const openClinicaLike = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:OpenClinica="http://www.openclinica.org/ns/odm_ext_v130/v3.1" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00" ODMVersion="1.3.2">
<ClinicalData StudyOID="S" MetaDataVersionOID="V1">
<SubjectData SubjectKey="001" OpenClinica:StudySubjectID="SS-001">
<OpenClinica:links><OpenClinica:link rel="sign"/></OpenClinica:links>
<StudyEventData StudyEventOID="SE.1" OpenClinica:Status="completed">
<FormData FormOID="F.1">
<ItemGroupData ItemGroupOID="IG.1" ItemGroupRepeatKey="1">
<ItemData ItemOID="IT.1" Value="a"/>
<ItemData ItemOID="IT.2" Value="b" OpenClinica:ReasonForNullValue=""><AuditRecord><UserRef UserOID="U1"/><LocationRef LocationOID="L1"/><DateTimeStamp>2024-01-01T10:00:00Z</DateTimeStamp></AuditRecord></ItemData>
</ItemGroupData>
</FormData>
<FormData FormOID="F.EMPTY"/>
</StudyEventData>
<OpenClinica:AuditLogs EntityID="SS-001"><OpenClinica:AuditLog OldValue="" NewValue="x">note</OpenClinica:AuditLog></OpenClinica:AuditLogs>
</SubjectData>
<SubjectData SubjectKey="002">
<StudyEventData StudyEventOID="SE.1"><FormData FormOID="F.1"><ItemGroupData ItemGroupOID="IG.1"><ItemData ItemOID="IT.1" Value="c"/></ItemGroupData></FormData></StudyEventData>
</SubjectData>
</ClinicalData>
</ODM>
`

func TestStreamingRows(t *testing.T) {
	r := NewReader(strings.NewReader(openClinicaLike), ReadOptions{})
	ctx := context.Background()
	if _, err := r.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []*Row
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
		if len(rows) == 4 {
			// By the time a row of subject 002 comes, subject 001 is
			// complete, its trailing audit logs included.
			s1 := rows[0].Subject
			if n := len(s1.Extensions.Elements); n != 2 || s1.Extensions.Elements[1].Local != "AuditLogs" || s1.Extensions.Elements[1].Pos != 1 {
				t.Errorf("subject 001 holds %d extension elements when subject 002 starts, want links at 0 and AuditLogs at 1", n)
			}
		}
	}
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4 (two items, one empty form, one item)", len(rows))
	}
	if rows[0].Group != rows[1].Group || rows[0].Subject != rows[2].Subject || rows[0].Subject == rows[3].Subject {
		t.Error("rows of one container do not share it, or rows of different subjects do")
	}
	if rows[2].Form.FormOID != "F.EMPTY" || rows[2].Group != nil || rows[2].Item != nil || rows[2].Line != 13 {
		t.Errorf("the empty form came as %+v, want a row without group or item from line 13", rows[2])
	}
	if rows[1].Line != 10 || rows[1].Item.AuditRecord == nil || rows[1].Item.AuditRecord.UserRef.UserOID != "U1" {
		t.Errorf("the second row is %+v, want IT.2 from line 10 with its audit record", rows[1].Item)
	}
	if v := extAttr(rows[0].Subject.Extensions, "http://www.openclinica.org/ns/odm_ext_v130/v3.1", "StudySubjectID"); v != "SS-001" {
		t.Errorf("OpenClinica:StudySubjectID = %q, want SS-001", v)
	}
	// The extensions come back where they were.
	doc, _ := readBytes(t, []byte(openClinicaLike))
	kept, _ := writeBytes(t, doc, WriteOptions{KeepExtensions: true})
	out := string(kept)
	links, event, logs := strings.Index(out, "<OpenClinica:links>"), strings.Index(out, "<StudyEventData"), strings.Index(out, "<OpenClinica:AuditLogs")
	if !(links < event && event < logs) {
		t.Errorf("links, event and audit logs are at %d, %d, %d in the export, want that order:\n%s", links, event, logs, out)
	}
	again, _ := readBytes(t, kept)
	normalize(doc, false)
	normalize(again, false)
	sameModel(t, "OpenClinica-like round trip", doc, again)
}

// stream writes subjects×items rows through a Writer into a pipe and
// returns the reading end, so that tests can read large files that never
// exist in memory.
func stream(subjects, itemsPerSubject int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		ctx := context.Background()
		w := NewWriter(pw, WriteOptions{})
		doc := &Document{FileOID: "BIG", FileType: Snapshot, CreationDateTime: "2024-01-01T00:00:00Z"}
		if err := w.Begin(ctx, doc); err != nil {
			pw.CloseWithError(err)
			return
		}
		for row := range bigRows(subjects, itemsPerSubject) {
			if err := w.WriteRow(ctx, row); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close(ctx))
	}()
	return pr
}

// bigRows yields sorted rows of a simple study, fresh values each time, as
// a storage layer would.
func bigRows(subjects, itemsPerSubject int) func(func(*Row) bool) {
	return func(yield func(*Row) bool) {
		c := &ClinicalData{StudyOID: "S", MetaDataVersionOID: "V1"}
		for s := 0; s < subjects; s++ {
			for i := 0; i < itemsPerSubject; i++ {
				row := &Row{Clinical: c,
					Subject: &SubjectData{SubjectKey: fmt.Sprintf("SUBJ-%06d", s)},
					Event:   &StudyEventData{StudyEventOID: "SE.DAY1"},
					Form:    &FormData{FormOID: "F.VS"},
					Group:   &ItemGroupData{ItemGroupOID: "IG.VS", ItemGroupRepeatKey: fmt.Sprint(i/10 + 1)},
					Item:    &ItemData{ItemOID: fmt.Sprintf("IT.%d", i%10), Value: fmt.Sprint(100 + i%50)},
				}
				if !yield(row) {
					return
				}
			}
		}
	}
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestReaderMemoryDoesNotGrowWithRows(t *testing.T) {
	r := NewReader(stream(4000, 100), ReadOptions{})
	ctx := context.Background()
	var early uint64
	rows := 0
	for {
		_, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if rows == 50_000 {
			early = heapAfterGC()
		}
	}
	late := heapAfterGC()
	if rows != 400_000 {
		t.Fatalf("read %d rows, want 400000", rows)
	}
	if late > early+1<<20 {
		t.Errorf("the live heap grew from %d to %d bytes between row 50,000 and row 400,000", early, late)
	}
}

func TestReaderStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewReader(stream(100, 100), ReadOptions{})
	var err error
	for rows := 0; err == nil; rows++ {
		if rows == 10 {
			cancel()
		}
		_, err = r.Next(ctx)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped at line") {
		t.Errorf("got %v, want the cancellation with the line reached", err)
	}
}

func TestReaderReportsProgress(t *testing.T) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, stream(100, 100)); err != nil {
		t.Fatal(err)
	}
	var seen []int64
	_, _, err := ReadAll(context.Background(), bytes.NewReader(buf.Bytes()), ReadOptions{Progress: func(n int64) { seen = append(seen, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != int64(buf.Len()) {
		t.Fatalf("progress went %v, want it to end at the file size %d", seen, buf.Len())
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Errorf("progress went backwards: %v", seen)
		}
	}
}

func TestTypedItemDataAndLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
		`<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00">` +
		`<ClinicalData StudyOID="S" MetaDataVersionOID="V"><SubjectData SubjectKey="1"><StudyEventData StudyEventOID="E"><FormData FormOID="F"><ItemGroupData ItemGroupOID="G">` +
		"<ItemDataString ItemOID=\"I1\">Z\xfcrich</ItemDataString><ItemDataInteger ItemOID=\"I2\" MeasurementUnitOID=\"MU\">42</ItemDataInteger>" +
		`</ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData></ODM>`
	doc, diags := readBytes(t, []byte(in))
	items := doc.ClinicalData[0].Subjects[0].StudyEvents[0].Forms[0].ItemGroups[0].Items
	if len(items) != 2 || items[0].Value != "Zürich" || items[1].Value != "42" || items[1].MeasurementUnitRef.MeasurementUnitOID != "MU" {
		t.Fatalf("typed items read as %+v %+v", items[0], items[1])
	}
	if !strings.Contains(diags.String(), "typed elements such as ItemDataString were read as ItemData") {
		t.Errorf("no note about typed ItemData:\n%s", diags)
	}
}
