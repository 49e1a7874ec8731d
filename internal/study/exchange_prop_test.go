package study

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/odm/odmtest"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// propSeeds is how many random designs each engine gets: enough to meet
// every kind of element, few enough to run in seconds.
const propSeeds = 8

// TestRandomStudiesRoundTripThroughDatabase is the property test of the
// exchange through a real database: random valid designs with clinical
// data (audit records, signatures, annotations, empty containers and, for
// every other seed, vendor extensions everywhere) are imported into an
// instance, exported, imported into a second, empty instance and exported
// again. Both exports must be the same file, their clinical data the same
// as the generated file's, importing the generated file a second time must
// change nothing, and the strict exports must validate against the
// official schema.
func TestRandomStudiesRoundTripThroughDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db1 *store.DB) {
		ctx := context.Background()
		db2 := storetest.Open(t, db1.Engine)
		by := audit.Actor{ID: 1, Name: "prop"}
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		dir := t.TempDir()
		var strict []string
		// What the clinical data of the exports held, so that the test
		// shows it met what it is about.
		seen := struct {
			tags []string
			n    map[string]int
		}{[]string{"<ItemData ", "<AuditRecord", "<Signature", "<Annotation", "<va:", "TransactionType=", "<MeasurementUnitRef", "<InvestigatorRef"}, map[string]int{}}
		for seed := uint64(1); seed <= propSeeds; seed++ {
			ext := seed%2 == 0
			doc := propDocument(seed, ext)
			var file bytes.Buffer
			if _, err := odm.Write(ctx, &file, doc, odm.WriteOptions{KeepExtensions: ext}); err != nil {
				t.Fatalf("seed %d: write generated file: %v", seed, err)
			}
			rep, err := Import(ctx, db1, by, bytes.NewReader(file.Bytes()), ImportOptions{ConfirmWarnings: true})
			if err != nil || !rep.Applied {
				t.Fatalf("seed %d: import: %v\n%v", seed, err, rep.Diagnostics)
			}
			generated, _, err := odm.ReadAll(ctx, bytes.NewReader(file.Bytes()), odm.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, code := range rep.Studies {
				var first bytes.Buffer
				if _, err := Export(ctx, db1, code, &first, ExportOptions{What: "both", KeepExtensions: true, Now: now}); err != nil {
					t.Fatalf("seed %d: export %s: %v", seed, code, err)
				}
				rep2, err := Import(ctx, db2, by, bytes.NewReader(first.Bytes()), ImportOptions{ConfirmWarnings: true})
				if err != nil || !rep2.Applied {
					t.Fatalf("seed %d: re-import %s: %v\n%v", seed, code, err, rep2.Diagnostics)
				}
				var second bytes.Buffer
				if _, err := Export(ctx, db2, code, &second, ExportOptions{What: "both", KeepExtensions: true, Now: now}); err != nil {
					t.Fatalf("seed %d: export %s again: %v", seed, code, err)
				}
				if first.String() != second.String() {
					t.Fatalf("seed %d, study %s: the export of the re-imported study differs:\n%s", seed, code, diffLines(first.String(), second.String()))
				}
				// Importing the generated file again changes nothing.
				again, err := Import(ctx, db1, by, bytes.NewReader(file.Bytes()), ImportOptions{ConfirmWarnings: true})
				if err != nil || !again.Applied || again.ValuesAdded+again.ValuesChanged != 0 {
					t.Fatalf("seed %d: second import of the same file: %v added %d changed %d\n%v", seed, err, again.ValuesAdded, again.ValuesChanged, again.Diagnostics)
				}
				var unchanged bytes.Buffer
				if _, err := Export(ctx, db1, code, &unchanged, ExportOptions{What: "both", KeepExtensions: true, Now: now}); err != nil {
					t.Fatal(err)
				}
				if unchanged.String() != first.String() {
					t.Fatalf("seed %d, study %s: a second import of the same file changed the study:\n%s", seed, code, diffLines(first.String(), unchanged.String()))
				}
				// The clinical data is what the generated file held.
				exported, _, err := odm.ReadAll(ctx, bytes.NewReader(first.Bytes()), odm.ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				want, got := clinicalJSON(t, generated, exported.Studies[0].OID), clinicalJSON(t, exported, exported.Studies[0].OID)
				if want != got {
					t.Fatalf("seed %d, study %s: exported clinical data differs from the generated:\n%s", seed, code, diffLines(want, got))
				}
				if i := bytes.Index(first.Bytes(), []byte("<ClinicalData")); i >= 0 {
					for _, tag := range seen.tags {
						seen.n[tag] += bytes.Count(first.Bytes()[i:], []byte(tag))
					}
				}
				var s bytes.Buffer
				if _, err := Export(ctx, db1, code, &s, ExportOptions{What: "both", Now: now}); err != nil {
					t.Fatalf("seed %d: strict export %s: %v", seed, code, err)
				}
				name := filepath.Join(dir, fmt.Sprintf("seed%02d-%s.xml", seed, code))
				if err := os.WriteFile(name, s.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				strict = append(strict, name)
			}
		}
		if entries, n, err := audit.List(ctx, db1, audit.Filter{Entity: "item_data"}); err != nil || n != 0 {
			t.Fatalf("importing the same files again recorded %d changes of clinical data: %v %+v", n, err, entries)
		}
		for _, tag := range seen.tags {
			if seen.n[tag] == 0 {
				t.Errorf("the clinical data of %d random studies held no %s; give the generator more seeds", propSeeds, tag)
			}
		}
		t.Logf("clinical data round-tripped: %v", seen.n)
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			storetest.SkipOrFail(t, "xmllint is not installed: %v", err)
		}
		args := append([]string{"--noout", "--nonet", "--schema", "../odm/testdata/odm1-3-2/ODM1-3-2.xsd"}, strict...)
		if out, err := exec.Command(xmllint, args...).CombinedOutput(); err != nil {
			t.Fatalf("strict exports do not validate against ODM 1.3.2: %v\n%s", err, out)
		}
	})
}

// propDocument is a generated document cut to what a study holds: the
// first design version of each study and its clinical data. Study OIDs get
// the seed, so that the studies of all seeds live in one instance.
func propDocument(seed uint64, ext bool) *odm.Document {
	doc := odmtest.Generate(seed, ext)
	rename := map[string]string{}
	mdv := map[string]string{}
	for _, s := range doc.Studies {
		rename[s.OID] = fmt.Sprintf("P%d.%s", seed, s.OID)
		s.OID = rename[s.OID]
		s.MetaDataVersions = s.MetaDataVersions[:1]
		mdv[s.OID] = s.MetaDataVersions[0].OID
	}
	var keep []*odm.ClinicalData
	for _, c := range doc.ClinicalData {
		c.StudyOID = rename[c.StudyOID]
		// A ClinicalData without subjects has nothing to keep it by.
		if mdv[c.StudyOID] == c.MetaDataVersionOID && len(c.Subjects) > 0 {
			keep = append(keep, c)
		}
	}
	doc.ClinicalData = keep
	doc.ReferenceData = nil
	for _, a := range doc.AdminData {
		a.StudyOID = rename[a.StudyOID]
		for _, l := range a.Locations {
			for _, r := range l.MetaDataVersionRefs {
				r.StudyOID = rename[r.StudyOID]
			}
		}
	}
	return doc
}

// clinicalJSON is the clinical data of one study in doc, source lines
// cleared, as indented JSON.
func clinicalJSON(t *testing.T, doc *odm.Document, studyOID string) string {
	t.Helper()
	var subjects []*odm.SubjectData
	var ext []odm.Extensions
	for _, c := range doc.ClinicalData {
		if c.StudyOID == studyOID {
			subjects = append(subjects, c.Subjects...)
			ext = append(ext, c.Extensions)
		}
	}
	clearLines(reflect.ValueOf(&subjects))
	clearLines(reflect.ValueOf(&ext))
	b, err := json.MarshalIndent(struct {
		Subjects   []*odm.SubjectData
		Extensions []odm.Extensions
	}{subjects, ext}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func diffLines(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		if i >= len(la) || i >= len(lb) || la[i] != lb[i] {
			lo := max(0, i-6)
			return fmt.Sprintf("line %d:\n%s\n--- versus ---\n%s", i+1,
				strings.Join(la[lo:min(len(la), i+4)], "\n"), strings.Join(lb[lo:min(len(lb), i+4)], "\n"))
		}
	}
	return "(same lines)"
}
