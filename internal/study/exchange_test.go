package study_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
)

var alice = audit.Actor{ID: 1, Name: "alice"}

const samples = "../odm/testdata/samples/"

func schema(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../odm/testdata/odm1-3-2/ODM1-3-2.xsd")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// validate runs xmllint with the official ODM 1.3.2 schema over file.
func validate(t *testing.T, file string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		storetest.SkipOrFail(t, "xmllint is not installed: %v", err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema(t), file).CombinedOutput()
	if err != nil {
		t.Fatalf("export does not validate against ODM 1.3.2: %v\n%s", err, out)
	}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		storetest.SkipOrFail(t, "sample %s: %v", name, err)
	}
	return b
}

func designJSON(t *testing.T, db *store.DB, code string) string {
	t.Helper()
	st, _, err := study.ODMStudy(context.Background(), db, code)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportExportRoundTrip(t *testing.T) {
	cases := []struct {
		file    string
		code    string
		confirm bool
		events  int
	}{
		{"cdisc_MetaData_Dave_1_3_2_extra_languages.xml", "", false, 5},
		{"odmlib_odm-data-snapshot.xml", "1001_VIRUS", true, 4},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data := sample(t, c.file)
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				rep, err := study.Import(ctx, db, alice, bytes.NewReader(data), study.ImportOptions{ConfirmWarnings: c.confirm})
				if err != nil {
					t.Fatalf("import: %v\n%v", err, rep.Diagnostics)
				}
				if !rep.Applied || len(rep.Studies) != 1 {
					t.Fatalf("import not applied: %+v", rep)
				}
				code := rep.Studies[0]
				if c.code != "" && code != c.code {
					t.Fatalf("study code %s, want %s", code, c.code)
				}
				events, err := study.Events(ctx, db, code)
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != c.events {
					t.Fatalf("%d events, want %d", len(events), c.events)
				}
				forms, _ := study.Forms(ctx, db)
				if len(forms) == 0 || len(forms) != rep.Forms {
					t.Fatalf("library has %d forms, report says %d", len(forms), rep.Forms)
				}

				// Export validates against the official schema.
				var buf bytes.Buffer
				if _, err := study.Export(ctx, db, code, &buf, study.ExportOptions{}); err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(t.TempDir(), "export.xml")
				if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				validate(t, file)
				// Every definition of the source is in the export.
				for _, tag := range []string{"<StudyEventDef ", "<FormDef ", "<ItemGroupDef ", "<ItemDef ", "<CodeList ", "<ConditionDef ", "<MethodDef ", "<MeasurementUnit ", "<RangeCheck "} {
					if in, out := bytes.Count(data, []byte(tag)), bytes.Count(buf.Bytes(), []byte(tag)); in != out {
						t.Errorf("%s: %d in the source, %d in the export", tag, in, out)
					}
				}

				// The export imports into an empty instance as the same design.
				db2 := storetest.Open(t, db.Engine)
				rep2, err := study.Import(ctx, db2, alice, bytes.NewReader(buf.Bytes()), study.ImportOptions{})
				if err != nil || !rep2.Applied {
					t.Fatalf("re-import: %v %+v", err, rep2.Diagnostics)
				}
				a, b := designJSON(t, db, code), designJSON(t, db2, code)
				if a != b {
					t.Fatalf("designs differ after round trip:\n%s", firstDiff(a, b))
				}

				// Importing the same file again changes nothing and says so.
				before, _ := study.ItemDataCount(ctx, db, code)
				rep3, err := study.Import(ctx, db, alice, bytes.NewReader(data), study.ImportOptions{ConfirmWarnings: true})
				if err != nil || !rep3.Applied || rep3.Errors != 0 {
					t.Fatalf("second import of the same file: %v %+v", err, rep3)
				}
				if !hasDiagnostic(rep3, odm.Info, "same content") {
					t.Fatalf("second import does not report the design as unchanged: %v", rep3.Diagnostics)
				}
				if after, _ := study.ItemDataCount(ctx, db, code); after != before {
					t.Fatalf("second import of the same file changed the clinical data from %d to %d values", before, after)
				}
				if a2 := designJSON(t, db, code); a2 != a {
					t.Fatalf("second import of the same file changed the design:\n%s", firstDiff(a, a2))
				}
			})
		})
	}
}

// TestImportKeepsExtensions: with KeepExtensions the export carries the
// vendor extensions and imports back to the same design.
func TestImportKeepsExtensions(t *testing.T) {
	data := sample(t, "redcap_repeating-instruments_project.xml")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rep, err := study.Import(ctx, db, alice, bytes.NewReader(data), study.ImportOptions{})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if rep.Applied || !rep.NeedsConfirmation || rep.Warnings == 0 {
			t.Fatalf("REDCap file with clinical data applied without confirmation: %+v", rep)
		}
		if list, _ := study.List(ctx, db); len(list) != 0 {
			t.Fatalf("unconfirmed import stored %d studies", len(list))
		}
		rep, err = study.Import(ctx, db, alice, bytes.NewReader(data), study.ImportOptions{ConfirmWarnings: true})
		if err != nil || !rep.Applied {
			t.Fatalf("confirmed import: %v %+v", err, rep.Diagnostics)
		}
		code := rep.Studies[0]
		var buf bytes.Buffer
		omitted, err := study.Export(ctx, db, code, &buf, study.ExportOptions{KeepExtensions: true})
		if err != nil {
			t.Fatal(err)
		}
		if omitted.Attributes+omitted.Elements != 0 || !strings.Contains(buf.String(), "redcap:") {
			t.Fatalf("extensions not kept: %+v", omitted)
		}
		db2 := storetest.Open(t, db.Engine)
		if rep, err := study.Import(ctx, db2, alice, bytes.NewReader(buf.Bytes()), study.ImportOptions{ConfirmWarnings: true}); err != nil || !rep.Applied {
			t.Fatalf("re-import: %v %+v", err, rep)
		}
		if a, b := designJSON(t, db, code), designJSON(t, db2, code); a != b {
			t.Fatalf("designs differ after round trip with extensions:\n%s", firstDiff(a, b))
		}
		// Without KeepExtensions they are left out and counted.
		omitted, err = study.Export(ctx, db, code, &bytes.Buffer{}, study.ExportOptions{})
		if err != nil || omitted.Attributes == 0 {
			t.Fatalf("strict export: %v, omitted %+v", err, omitted)
		}
	})
}

// TestImportErrorsApplyNothing: a file with an error stores nothing and the
// report names the line.
func TestImportErrorsApplyNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bad := `<?xml version="1.0"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" CreationDateTime="2020-01-01T00:00:00">
 <Study OID="S1"><GlobalVariables><StudyName>S</StudyName><StudyDescription>S</StudyDescription><ProtocolName>P</ProtocolName></GlobalVariables>
  <MetaDataVersion OID="M" Name="M">
   <FormDef OID="F1" Name="F" Repeating="No"><ItemGroupRef ItemGroupOID="MISSING" Mandatory="Yes"/></FormDef>
  </MetaDataVersion>
 </Study>
</ODM>`
		rep, err := study.Import(ctx, db, alice, strings.NewReader(bad), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied || rep.Errors == 0 {
			t.Fatalf("import of a dangling reference: %v %+v", err, rep)
		}
		found := false
		for _, d := range rep.Diagnostics {
			if d.Severity == odm.Error && d.Line == 5 {
				found = true
			}
		}
		if !found {
			t.Fatalf("no error on line 5: %v", rep.Diagnostics)
		}
		if list, _ := study.List(ctx, db); len(list) != 0 {
			t.Fatal("a refused import stored a study")
		}
		if forms, _ := study.Forms(ctx, db); len(forms) != 0 {
			t.Fatal("a refused import stored a form")
		}
		// An error found in the clinical data, after the design was stored
		// in the transaction, rolls the design back too.
		late := `<?xml version="1.0"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" CreationDateTime="2020-01-01T00:00:00">
 <Study OID="S1"><GlobalVariables><StudyName>S</StudyName><StudyDescription>S</StudyDescription><ProtocolName>P</ProtocolName></GlobalVariables></Study>
 <ClinicalData StudyOID="OTHER" MetaDataVersionOID="M"><SubjectData SubjectKey="1"><StudyEventData StudyEventOID="E"><FormData FormOID="F">
  <ItemGroupData ItemGroupOID="G"><ItemData ItemOID="I" Value="1"/></ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData>
</ODM>`
		rep, err = study.Import(ctx, db, alice, strings.NewReader(late), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied {
			t.Fatalf("import with bad clinical data: %v %+v", err, rep.Diagnostics)
		}
		if list, _ := study.List(ctx, db); len(list) != 0 {
			t.Fatal("an import refused for its clinical data kept its study")
		}
		// A truncated file is an error too.
		rep, err = study.Import(ctx, db, alice, strings.NewReader(bad[:300]), study.ImportOptions{ConfirmWarnings: true})
		if !errors.Is(err, study.ErrImportRefused) || rep.Applied {
			t.Fatalf("truncated file: %v", err)
		}
	})
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			lo := max(0, i-5)
			return "line " + itoa(i) + ":\n" + strings.Join(la[lo:min(len(la), i+3)], "\n") + "\n---\n" + strings.Join(lb[lo:min(len(lb), i+3)], "\n")
		}
	}
	return "lengths differ"
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestClinicalDataRoundTrip: the odmlib sample's ItemData are stored, and
// exported with the design as one schema-valid file that imports into an
// empty instance as the same data.
func TestClinicalDataRoundTrip(t *testing.T) {
	data := sample(t, "odmlib_odm-data-snapshot.xml")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rep, err := study.Import(ctx, db, alice, bytes.NewReader(data), study.ImportOptions{ConfirmWarnings: true})
		if err != nil || !rep.Applied {
			t.Fatalf("import: %v %+v", err, rep.Diagnostics)
		}
		code := rep.Studies[0]
		want := int64(bytes.Count(data, []byte("<ItemData ")))
		if n, err := study.ItemDataCount(ctx, db, code); err != nil || n != want || rep.ItemData != want {
			t.Fatalf("stored %d ItemData (report %d), the file has %d: %v", n, rep.ItemData, want, err)
		}
		var both bytes.Buffer
		if _, err := study.Export(ctx, db, code, &both, study.ExportOptions{What: "both"}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "both.xml")
		os.WriteFile(file, both.Bytes(), 0o600)
		validate(t, file)
		if got := int64(bytes.Count(both.Bytes(), []byte("<ItemData "))); got != want {
			t.Fatalf("export has %d ItemData, want %d", got, want)
		}
		db2 := storetest.Open(t, db.Engine)
		rep2, err := study.Import(ctx, db2, alice, bytes.NewReader(both.Bytes()), study.ImportOptions{ConfirmWarnings: true})
		if err != nil || !rep2.Applied {
			t.Fatalf("re-import: %v %+v", err, rep2.Diagnostics)
		}
		var c1, c2 bytes.Buffer
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if _, err := study.Export(ctx, db, code, &c1, study.ExportOptions{What: "clinical", Now: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := study.Export(ctx, db2, code, &c2, study.ExportOptions{What: "clinical", Now: now}); err != nil {
			t.Fatal(err)
		}
		if c1.String() != c2.String() || !bytes.Contains(c1.Bytes(), []byte("<ClinicalData")) {
			t.Fatalf("clinical data differs after round trip:\n%s", firstDiff(c1.String(), c2.String()))
		}
	})
}

// hasDiagnostic reports whether rep has a finding of severity sev whose
// message contains text.
func hasDiagnostic(rep *study.ImportReport, sev odm.Severity, text string) bool {
	for _, d := range rep.Diagnostics {
		if d.Severity == sev && strings.Contains(d.Message, text) {
			return true
		}
	}
	return false
}
