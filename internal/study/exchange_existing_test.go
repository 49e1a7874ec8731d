package study_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
)

const existingHead = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:v="urn:example:v" FileType="Snapshot" FileOID="F.1" CreationDateTime="2026-01-01T00:00:00">
`

const existingStudy = ` <Study OID="EX1">
  <GlobalVariables><StudyName>Existing</StudyName><StudyDescription>E</StudyDescription><ProtocolName>EX-1</ProtocolName></GlobalVariables>
  <MetaDataVersion OID="MDV.1" Name="Version 1">
   <StudyEventDef OID="SE.V1" Name="Visit 1" Repeating="No" Type="Scheduled"><FormRef FormOID="F.VS" Mandatory="Yes"/></StudyEventDef>
   <FormDef OID="F.VS" Name="Vital signs" Repeating="No"><ItemGroupRef ItemGroupOID="IG.VS" Mandatory="Yes"/></FormDef>
   <ItemGroupDef OID="IG.VS" Name="Vital signs" Repeating="Yes">
    <ItemRef ItemOID="I.SYS" Mandatory="Yes"/><ItemRef ItemOID="I.DIA" Mandatory="Yes"/>
   </ItemGroupDef>
   <ItemDef OID="I.SYS" Name="SYSNAME" DataType="integer" Length="3"/>
   <ItemDef OID="I.DIA" Name="Diastolic" DataType="integer" Length="3"/>
  </MetaDataVersion>
 </Study>
`

const existingData = ` <ClinicalData StudyOID="EX1" MetaDataVersionOID="MDV.1">
  <SubjectData SubjectKey="S1">
   <StudyEventData StudyEventOID="SE.V1">
    <FormData FormOID="F.VS">
     <Signature><UserRef UserOID="U.1"/><LocationRef LocationOID="L.1"/><SignatureRef SignatureOID="SD.1"/><DateTimeStamp>2026-01-02T10:00:00Z</DateTimeStamp></Signature>
     <ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">
      <ItemData ItemOID="I.SYS" Value="120"><AuditRecord><UserRef UserOID="U.1"/><LocationRef LocationOID="L.1"/><DateTimeStamp>2026-01-02T09:00:00Z</DateTimeStamp><ReasonForChange>typo</ReasonForChange></AuditRecord></ItemData>
      <ItemData ItemOID="I.DIA" Value="80"><Annotation SeqNum="1"><Comment>measured twice</Comment></Annotation><v:Checked by="nurse"/></ItemData>
     </ItemGroupData>
    </FormData>
   </StudyEventData>
  </SubjectData>
  <SubjectData SubjectKey="S2">
   <StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">
    <ItemData ItemOID="I.SYS" Value="130"/>
   </ItemGroupData></FormData></StudyEventData>
  </SubjectData>
 </ClinicalData>
`

// TestImportIntoExistingStudy: a design version already stored is left
// alone when the file's is identical and refused when it differs or is new;
// clinical data for the study is appended and updated with audit, and the
// export keeps every container in one piece.
func TestImportIntoExistingStudy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first := existingHead + existingStudy + existingData + "</ODM>\n"
		rep, err := study.Import(ctx, db, alice, strings.NewReader(first), study.ImportOptions{})
		if err != nil || !rep.Applied {
			t.Fatalf("first import: %v %v", err, rep.Diagnostics)
		}
		design := designJSON(t, db, "EX1")

		// The same version with other content is an error naming it.
		changed := strings.Replace(existingStudy, `Name="SYSNAME"`, `Name="Systolic"`, 1)
		rep, err = study.Import(ctx, db, alice, strings.NewReader(existingHead+changed+"</ODM>\n"), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied || !hasDiagnostic(rep, odm.Error, "MDV.1") || !hasDiagnostic(rep, odm.Error, "different content") {
			t.Fatalf("changed design version: %v %v", err, rep.Diagnostics)
		}
		// A new version cannot be added: the error says why.
		newer := strings.Replace(changed, `OID="MDV.1"`, `OID="MDV.2"`, 1)
		rep, err = study.Import(ctx, db, alice, strings.NewReader(existingHead+newer+"</ODM>\n"), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || !hasDiagnostic(rep, odm.Error, "one design version per study") || !hasDiagnostic(rep, odm.Error, "MDV.2") {
			t.Fatalf("new design version: %v %v", err, rep.Diagnostics)
		}
		if got := designJSON(t, db, "EX1"); got != design {
			t.Fatalf("a refused import changed the design:\n%s", firstDiff(design, got))
		}

		// Clinical data alone: S1's systolic value changes, S1 gets a
		// second group and S2 a diastolic value, S3 is new.
		more := existingHead + ` <ClinicalData StudyOID="EX1" MetaDataVersionOID="MDV.1">
  <SubjectData SubjectKey="S3"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">
   <ItemData ItemOID="I.SYS" Value="110"/></ItemGroupData></FormData></StudyEventData></SubjectData>
  <SubjectData SubjectKey="S1"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS">
   <ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1"><ItemData ItemOID="I.SYS" Value="125"><AuditRecord><UserRef UserOID="U.2"/><LocationRef LocationOID="L.1"/><DateTimeStamp>2026-02-01T08:00:00Z</DateTimeStamp><ReasonForChange>re-measured</ReasonForChange></AuditRecord></ItemData></ItemGroupData>
   <ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="2"><ItemData ItemOID="I.SYS" Value="118"/></ItemGroupData>
  </FormData></StudyEventData></SubjectData>
  <SubjectData SubjectKey="S2"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">
   <ItemData ItemOID="I.DIA" Value="85"/></ItemGroupData></FormData></StudyEventData></SubjectData>
 </ClinicalData>
</ODM>
`
		rep, err = study.Import(ctx, db, alice, strings.NewReader(more), study.ImportOptions{Reason: "sponsor transfer 2"})
		if err != nil || !rep.Applied {
			t.Fatalf("clinical data for an existing study: %v %v", err, rep.Diagnostics)
		}
		if n, _ := study.ItemDataCount(ctx, db, "EX1"); n != 3+3 {
			t.Fatalf("%d values after the second file, want 6", n)
		}
		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "item_data"})
		if err != nil {
			t.Fatal(err)
		}
		var updates, creates int
		for _, e := range entries {
			switch {
			case e.Action == audit.Update && e.Field == "value" && e.Old == "120" && e.New == "125" && e.Reason == "sponsor transfer 2":
				updates++
			case e.Action == audit.Create && e.Field == "value":
				creates++
			}
		}
		if updates != 1 || creates != 3 {
			t.Fatalf("audit trail has %d value changes and %d added values, want 1 and 3: %+v", updates, creates, entries)
		}

		var out bytes.Buffer
		if _, err := study.Export(ctx, db, "EX1", &out, study.ExportOptions{What: "both"}); err != nil {
			t.Fatal(err)
		}
		x := out.String()
		for _, want := range []string{`<SubjectData SubjectKey="S1"`, `<SubjectData SubjectKey="S2"`, `<SubjectData SubjectKey="S3"`} {
			if strings.Count(x, want) != 1 {
				t.Fatalf("export has %s %d times, want once:\n%s", want, strings.Count(x, want), x)
			}
		}
		if strings.Index(x, `Value="118"`) > strings.Index(x, `SubjectKey="S2"`) || strings.Index(x, `Value="85"`) > strings.Index(x, `SubjectKey="S3"`) {
			t.Fatalf("added values are not inside their subjects:\n%s", x)
		}
		for _, want := range []string{"re-measured", "measured twice", "<SignatureRef SignatureOID=\"SD.1\"/>", `Value="125"`} {
			if !strings.Contains(x, want) {
				t.Fatalf("export lacks %s:\n%s", want, x)
			}
		}
		file := filepath.Join(t.TempDir(), "existing.xml")
		if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		validate(t, file)
		var kept bytes.Buffer
		if _, err := study.Export(ctx, db, "EX1", &kept, study.ExportOptions{What: "clinical", KeepExtensions: true}); err != nil || !strings.Contains(kept.String(), `by="nurse"`) {
			t.Fatalf("the vendor extension of an ItemData is not kept: %v\n%s", err, kept.String())
		}

		// Once the study is locked, its data cannot change.
		for _, to := range []study.Status{study.Active, study.Locked} {
			s, _ := study.Get(ctx, db, "EX1")
			if err := study.SetStatus(ctx, db, alice, "EX1", s.Version, to, "test"); err != nil {
				t.Fatal(err)
			}
		}
		rep, err = study.Import(ctx, db, alice, strings.NewReader(more), study.ImportOptions{})
		if !errors.Is(err, study.ErrImportRefused) || !hasDiagnostic(rep, odm.Error, "locked") {
			t.Fatalf("clinical data for a locked study: %v %v", err, rep.Diagnostics)
		}
	})
}

// manySubjects is a file of the existing-study design with n subjects of
// one value each; dup makes subject 7 give its value twice.
func manySubjects(n int, dup bool) string {
	var b strings.Builder
	b.WriteString(existingHead + existingStudy + ` <ClinicalData StudyOID="EX1" MetaDataVersionOID="MDV.1">` + "\n")
	for s := range n {
		b.WriteString(`  <SubjectData SubjectKey="S` + itoa(10000+s) + `"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">`)
		b.WriteString(`<ItemData ItemOID="I.SYS" Value="120"/>`)
		if dup && s == 7 {
			b.WriteString(`<ItemData ItemOID="I.SYS" Value="121"/>`)
		}
		b.WriteString("</ItemGroupData></FormData></StudyEventData></SubjectData>\n")
	}
	b.WriteString(" </ClinicalData>\n</ODM>\n")
	return b.String()
}

// TestImportCancelled: an import cancelled while its rows are being stored
// stops with the context's error and stores nothing.
func TestImportCancelled(t *testing.T) {
	file := manySubjects(20000, false)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := study.Import(ctx, db, alice, strings.NewReader(file), study.ImportOptions{Progress: func(n int64) {
			if n > int64(len(file)/2) {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled import: %v", err)
		}
		if list, _ := study.List(context.Background(), db); len(list) != 0 {
			t.Fatal("a cancelled import stored its study")
		}
	})
}

// TestImportDuplicateItemAppliesNothing: an item given twice in one item
// group occurrence, among enough values to fill several insert batches, is
// an error of the report and nothing is stored.
func TestImportDuplicateItemAppliesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rep, err := study.Import(ctx, db, alice, strings.NewReader(manySubjects(1200, true)), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied || !hasDiagnostic(rep, odm.Error, "same item twice") {
			t.Fatalf("import of a duplicate item: %v %v", err, rep.Diagnostics)
		}
		if list, _ := study.List(ctx, db); len(list) != 0 {
			t.Fatal("an import with a duplicate item stored its study")
		}
	})
}

// TestImportGivesAnOccurrenceAgain: a file may give an item group
// occurrence again after others (the same subject, event, form and group
// keys in a second ItemGroupData), in the same insert batch or many
// batches later. Its values join the first occurrence, its details are
// kept, and the export writes the occurrence once; giving an item of it
// again is still an error.
func TestImportGivesAnOccurrenceAgain(t *testing.T) {
	again := func(subject, item, value string) string {
		return `  <SubjectData SubjectKey="` + subject + `"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS">` +
			`<ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1" TransactionType="Upsert"><ItemData ItemOID="` + item + `" Value="` + value + `"/>` +
			"</ItemGroupData></FormData></StudyEventData></SubjectData>\n"
	}
	file := func(extra string) string {
		return strings.Replace(manySubjects(1200, false), " </ClinicalData>", again("S10001", "I.DIA", "81")+extra+" </ClinicalData>", 1)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// S10001 is in the first batch; S11199, given again right after
		// itself, is in the last.
		rep, err := study.Import(ctx, db, alice, strings.NewReader(file(again("S11199", "I.DIA", "79"))), study.ImportOptions{ConfirmWarnings: true})
		if err != nil || !rep.Applied {
			t.Fatalf("import: %v %v", err, rep.Diagnostics)
		}
		if n, err := study.ItemDataCount(ctx, db, "EX1"); err != nil || n != 1202 {
			t.Fatalf("the study holds %d values (%v), want 1202", n, err)
		}
		var out bytes.Buffer
		if _, err := study.Export(ctx, db, "EX1", &out, study.ExportOptions{What: "clinical"}); err != nil {
			t.Fatal(err)
		}
		doc := out.String()
		for _, subject := range []string{"S10001", "S11199"} {
			if n := strings.Count(doc, `SubjectKey="`+subject+`"`); n != 1 {
				t.Errorf("the export writes subject %s %d times, want once", subject, n)
			}
			at := strings.Index(doc, `SubjectKey="`+subject+`"`)
			occurrence := doc[at : at+strings.Index(doc[at:], "</ItemGroupData>")]
			for _, want := range []string{`TransactionType="Upsert"`, `ItemOID="I.SYS" Value="120"`, `ItemOID="I.DIA"`} {
				if !strings.Contains(occurrence, want) {
					t.Errorf("subject %s's item group lacks %s:\n%s", subject, want, occurrence)
				}
			}
		}
	})
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rep, err := study.Import(ctx, db, alice, strings.NewReader(file(again("S10500", "I.SYS", "119"))), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied || !hasDiagnostic(rep, odm.Error, "same item twice") {
			t.Fatalf("import giving an item of an occurrence again: %v %v", err, rep.Diagnostics)
		}
	})
}

// TestImportNewAndExistingStudyInOneFile: a file that brings a new study
// with its data, then data for a study the instance has, stores both; the
// existing study is looked up while the new study's values are still
// being stored.
func TestImportNewAndExistingStudyInOneFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if rep, err := study.Import(ctx, db, alice, strings.NewReader(existingHead+existingStudy+existingData+"</ODM>\n"), study.ImportOptions{}); err != nil || !rep.Applied {
			t.Fatalf("first import: %v %v", err, rep.Diagnostics)
		}
		before, err := study.ItemDataCount(ctx, db, "EX1")
		if err != nil {
			t.Fatal(err)
		}
		file := strings.ReplaceAll(manySubjects(6000, false), `OID="EX1"`, `OID="EX2"`)
		file = strings.Replace(file, " </ClinicalData>\n</ODM>\n", ` </ClinicalData>
 <ClinicalData StudyOID="EX1" MetaDataVersionOID="MDV.1">
  <SubjectData SubjectKey="S9"><StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="1">
   <ItemData ItemOID="I.SYS" Value="131"/></ItemGroupData></FormData></StudyEventData></SubjectData>
 </ClinicalData>
</ODM>
`, 1)
		rep, err := study.Import(ctx, db, alice, strings.NewReader(file), study.ImportOptions{ConfirmWarnings: true})
		if err != nil || !rep.Applied || rep.ValuesAdded != 1 {
			t.Fatalf("import of a new and an existing study: %v added %d %v", err, rep.ValuesAdded, rep.Diagnostics)
		}
		if n, err := study.ItemDataCount(ctx, db, "EX2"); err != nil || n != 6000 {
			t.Fatalf("the new study holds %d values (%v), want 6000", n, err)
		}
		if n, err := study.ItemDataCount(ctx, db, "EX1"); err != nil || n != before+1 {
			t.Fatalf("the existing study holds %d values (%v), want %d", n, err, before+1)
		}
	})
}
