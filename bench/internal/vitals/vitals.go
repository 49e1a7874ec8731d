// Package vitals is the study both ODM benchmarks exchange: subjects with
// one screening visit of two forms, each form with repeating vital-sign
// groups of ten integer items.
package vitals

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/cohort-clinical/cohort/internal/odm"
)

// The study's shape.
const (
	ItemsPerGroup   = 10
	GroupsPerForm   = 5
	FormsPerSubject = 2
	ItemsPerSubject = ItemsPerGroup * GroupsPerForm * FormsPerSubject
)

// Subjects is how many subjects hold items ItemData.
func Subjects(items int) int { return (items + ItemsPerSubject - 1) / ItemsPerSubject }

// Rows yields the study's rows in order, fresh values each time, as a
// storage layer reading a table would.
func Rows(items int, yield func(*odm.Row) error) error {
	clinical := &odm.ClinicalData{StudyOID: "ST.BENCH", MetaDataVersionOID: "MDV.1"}
	itemOIDs := make([]string, ItemsPerGroup)
	for i := range itemOIDs {
		itemOIDs[i] = "IT.VS." + strconv.Itoa(i+1)
	}
	for n := range items {
		s, rest := n/ItemsPerSubject, n%ItemsPerSubject
		f, rest := rest/(ItemsPerGroup*GroupsPerForm), rest%(ItemsPerGroup*GroupsPerForm)
		g, i := rest/ItemsPerGroup, rest%ItemsPerGroup
		row := &odm.Row{
			Clinical: clinical,
			Subject:  &odm.SubjectData{SubjectKey: "SUBJ-" + strconv.Itoa(100000+s)},
			Event:    &odm.StudyEventData{StudyEventOID: "SE.SCREENING", StudyEventRepeatKey: "1"},
			Form:     &odm.FormData{FormOID: "F.VS" + strconv.Itoa(f+1), FormRepeatKey: "1"},
			Group:    &odm.ItemGroupData{ItemGroupOID: "IG.VS", ItemGroupRepeatKey: strconv.Itoa(g + 1)},
			Item:     &odm.ItemData{ItemOID: itemOIDs[i], Value: strconv.Itoa(60 + (n*7)%120)},
		}
		if err := yield(row); err != nil {
			return err
		}
	}
	return nil
}

// Design is the study's metadata.
func Design() *odm.Document {
	var refs []*odm.ItemRef
	var defs []*odm.ItemDef
	for i := 1; i <= ItemsPerGroup; i++ {
		oid := "IT.VS." + strconv.Itoa(i)
		refs = append(refs, &odm.ItemRef{ItemOID: oid, Mandatory: odm.No})
		defs = append(defs, &odm.ItemDef{OID: oid, Name: "Vital sign " + strconv.Itoa(i), DataType: odm.Integer})
	}
	var forms []*odm.FormDef
	var formRefs []*odm.FormRef
	for f := 1; f <= FormsPerSubject; f++ {
		oid := "F.VS" + strconv.Itoa(f)
		forms = append(forms, &odm.FormDef{OID: oid, Name: "Vitals " + strconv.Itoa(f), Repeating: odm.No,
			ItemGroupRefs: []*odm.ItemGroupRef{{ItemGroupOID: "IG.VS", Mandatory: odm.Yes}}})
		formRefs = append(formRefs, &odm.FormRef{FormOID: oid, Mandatory: odm.Yes})
	}
	doc := odm.NewDocument("BENCH", odm.Snapshot, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	doc.Studies = []*odm.Study{{
		OID:             "ST.BENCH",
		GlobalVariables: odm.GlobalVariables{StudyName: "Benchmark", StudyDescription: "Benchmark", ProtocolName: "BENCH-1"},
		MetaDataVersions: []*odm.MetaDataVersion{{
			OID: "MDV.1", Name: "Version 1",
			Protocol:       &odm.Protocol{StudyEventRefs: []*odm.StudyEventRef{{StudyEventOID: "SE.SCREENING", Mandatory: odm.Yes}}},
			StudyEventDefs: []*odm.StudyEventDef{{OID: "SE.SCREENING", Name: "Screening", Repeating: odm.No, Type: odm.Scheduled, FormRefs: formRefs}},
			FormDefs:       forms,
			ItemGroupDefs:  []*odm.ItemGroupDef{{OID: "IG.VS", Name: "Vital signs", Repeating: odm.Yes, ItemRefs: refs}},
			ItemDefs:       defs,
		}},
	}}
	return doc
}

// WriteFile writes the study with items ItemData to path with cohort's
// writer.
func WriteFile(path string, items int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Export(f, items); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Export writes the study with items ItemData to out with cohort's writer.
func Export(out interface{ Write([]byte) (int, error) }, items int) error {
	ctx := context.Background()
	w := odm.NewWriter(out, odm.WriteOptions{})
	if err := w.Begin(ctx, Design()); err != nil {
		return err
	}
	if err := Rows(items, func(r *odm.Row) error { return w.WriteRow(ctx, r) }); err != nil {
		return err
	}
	return w.Close(ctx)
}

// TempFile writes the study with items ItemData to a file in a new
// temporary directory, prints a line describing it, and returns the file,
// its size and a function that removes the directory.
func TempFile(items int) (path string, size int64, remove func(), err error) {
	dir, err := os.MkdirTemp("", "vitals-bench")
	if err != nil {
		return "", 0, nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "study.xml")
	if err := WriteFile(path, items); err != nil {
		remove()
		return "", 0, nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		remove()
		return "", 0, nil, err
	}
	fmt.Printf("study: %d ItemData, %d subjects, %.1f MB of ODM XML (%s, %d CPUs)\n",
		items, Subjects(items), float64(info.Size())/1e6, runtime.Version(), runtime.NumCPU())
	return path, info.Size(), remove, nil
}

// Tokenize only tokenises the file at path with a bare encoding/xml
// Decoder: the least any reader built on encoding/xml can do, and the
// baseline both benchmarks compare cohort's import with. It calls quarter,
// when not nil, once a quarter of the file is read.
func Tokenize(path string, quarter func()) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	dec := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if quarter != nil && dec.InputOffset() >= info.Size()/4 {
			quarter()
			quarter = nil
		}
	}
}
