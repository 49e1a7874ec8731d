package study

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// benchRows is the number of ItemData per export in BenchmarkClinicalExport.
const benchRows = 200_000

// genRow is the i-th generated ItemData: 100 per subject, ten repeats of a
// ten-item vital-signs group in one form at one visit.
func genRow(i int) (subject, groupRepeat, item, value string) {
	return fmt.Sprintf("S%06d", i/100), strconv.Itoa(i%100/10 + 1), "I." + strconv.Itoa(i%10), strconv.Itoa(100 + i%50)
}

// BenchmarkClinicalExport compares the export of clinical data streamed
// from a database cursor (SQLite) into the ODM writer with the bare writer
// fed the same rows from memory, measured alternately in the same run. It
// reports the ratio of their times and the peak heap growth of the
// database-backed export, which stays flat as rows grow.
//
//	go test -run '^$' -bench ClinicalExport ./internal/study/
func BenchmarkClinicalExport(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	s, err := Create(ctx, db, audit.Actor{Name: "bench"}, Study{Code: "BENCH", Title: "Benchmark"})
	if err != nil {
		b.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		// Stored as the import stores them: by the inserter, in batches.
		in := newInserter(ctx, tx)
		defer in.close()
		batch := in.empty()
		var group int64
		for i := range benchRows {
			subj, rep, item, val := genRow(i)
			if i%10 == 0 {
				group++
				batch.groups = append(batch.groups, pendingGroup{studyID: s.ID, id: group, seq: group, keys: [7]string{subj, "SE.VISIT", "", "F.VS", "", "IG.VS", rep}})
			}
			batch.items = append(batch.items, pendingItem{studyID: s.ID, group: group, seq: int64(i + 1), item: item, value: val})
			if in.full(batch) {
				if batch, err = in.send(batch); err != nil {
					return err
				}
			}
		}
		if _, err := in.send(batch); err != nil {
			return err
		}
		return in.wait()
	})
	if err != nil {
		b.Fatal(err)
	}
	doc := odm.NewDocument("BENCH", odm.Snapshot, time.Now())
	bare := func() error {
		w := odm.NewWriter(io.Discard, odm.WriteOptions{})
		if err := w.Begin(ctx, doc); err != nil {
			return err
		}
		cd := &odm.ClinicalData{StudyOID: "BENCH", MetaDataVersionOID: "MDV.1"}
		for i := range benchRows {
			subj, rep, item, val := genRow(i)
			row := odm.Row{Clinical: cd, Subject: &odm.SubjectData{SubjectKey: subj},
				Event: &odm.StudyEventData{StudyEventOID: "SE.VISIT"}, Form: &odm.FormData{FormOID: "F.VS"},
				Group: &odm.ItemGroupData{ItemGroupOID: "IG.VS", ItemGroupRepeatKey: rep}, Item: &odm.ItemData{ItemOID: item, Value: val}}
			if err := w.WriteRow(ctx, &row); err != nil {
				return err
			}
		}
		return w.Close(ctx)
	}
	fromDB := func() error {
		w := odm.NewWriter(io.Discard, odm.WriteOptions{})
		if err := w.Begin(ctx, doc); err != nil {
			return err
		}
		if err := writeClinical(ctx, db, s.ID, "BENCH", "MDV.1", w); err != nil {
			return err
		}
		if w.Rows() != benchRows {
			return fmt.Errorf("wrote %d rows, want %d", w.Rows(), benchRows)
		}
		return w.Close(ctx)
	}
	var tBare, tDB time.Duration
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := bare(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan uint64)
		stop := make(chan struct{})
		go func() {
			var max uint64
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					done <- max
					return
				case <-time.After(5 * time.Millisecond):
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > before.HeapAlloc && m.HeapAlloc-before.HeapAlloc > max {
						max = m.HeapAlloc - before.HeapAlloc
					}
				}
			}
		}()
		t2 := time.Now()
		if err := fromDB(); err != nil {
			b.Fatal(err)
		}
		tDB += time.Since(t2)
		close(stop)
		peak = max(peak, <-done)
		tBare += t1.Sub(t0)
	}
	b.ReportMetric(float64(tBare)/float64(tDB)*100, "%-of-bare-speed")
	b.ReportMetric(float64(benchRows)/tDB.Seconds()*float64(b.N), "db-rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkClinicalImport compares importing a generated file (design plus
// benchRows ItemData) into an empty SQLite instance with the bare ODM
// reader draining the same file, measured alternately in the same run.
//
//	go test -run '^$' -bench ClinicalImport ./internal/study/
func BenchmarkClinicalImport(b *testing.B) {
	ctx := context.Background()
	doc := odm.NewDocument("BENCH", odm.Snapshot, time.Now())
	n := 10
	var refs []*odm.ItemRef
	var items []*odm.ItemDef
	for i := range 10 {
		oid := "I." + strconv.Itoa(i)
		refs = append(refs, &odm.ItemRef{ItemOID: oid, Mandatory: odm.No})
		items = append(items, &odm.ItemDef{OID: oid, Name: oid, DataType: odm.Integer, Length: &n})
	}
	doc.Studies = []*odm.Study{{OID: "BENCH", GlobalVariables: odm.GlobalVariables{StudyName: "B", StudyDescription: "B", ProtocolName: "B"},
		MetaDataVersions: []*odm.MetaDataVersion{{OID: "MDV.1", Name: "v1",
			StudyEventDefs: []*odm.StudyEventDef{{OID: "SE.VISIT", Name: "Visit", Repeating: odm.No, Type: odm.Scheduled,
				FormRefs: []*odm.FormRef{{FormOID: "F.VS", Mandatory: odm.Yes}}}},
			FormDefs: []*odm.FormDef{{OID: "F.VS", Name: "VS", Repeating: odm.No,
				ItemGroupRefs: []*odm.ItemGroupRef{{ItemGroupOID: "IG.VS", Mandatory: odm.Yes}}}},
			ItemGroupDefs: []*odm.ItemGroupDef{{OID: "IG.VS", Name: "VS", Repeating: odm.Yes, ItemRefs: refs}},
			ItemDefs:      items}}}}
	var file bytes.Buffer
	w := odm.NewWriter(&file, odm.WriteOptions{})
	if err := w.Begin(ctx, doc); err != nil {
		b.Fatal(err)
	}
	cd := &odm.ClinicalData{StudyOID: "BENCH", MetaDataVersionOID: "MDV.1"}
	for i := range benchRows {
		subj, rep, item, val := genRow(i)
		row := odm.Row{Clinical: cd, Subject: &odm.SubjectData{SubjectKey: subj},
			Event: &odm.StudyEventData{StudyEventOID: "SE.VISIT"}, Form: &odm.FormData{FormOID: "F.VS"},
			Group: &odm.ItemGroupData{ItemGroupOID: "IG.VS", ItemGroupRepeatKey: rep}, Item: &odm.ItemData{ItemOID: item, Value: val}}
		if err := w.WriteRow(ctx, &row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	var tBare, tImport time.Duration
	for b.Loop() {
		t0 := time.Now()
		r := odm.NewReader(bytes.NewReader(file.Bytes()), odm.ReadOptions{})
		if _, err := r.Metadata(ctx); err != nil {
			b.Fatal(err)
		}
		if n, err := drain(ctx, r); err != nil || n != benchRows {
			b.Fatalf("bare read: %d rows, %v", n, err)
		}
		tBare += time.Since(t0)
		b.StopTimer()
		db := storetest.Open(b, store.SQLite)
		b.StartTimer()
		t1 := time.Now()
		rep, err := Import(ctx, db, audit.Actor{Name: "bench"}, bytes.NewReader(file.Bytes()), ImportOptions{})
		if err != nil || !rep.Applied || rep.ItemData != benchRows {
			b.Fatalf("import: %v %+v", err, rep.Diagnostics)
		}
		tImport += time.Since(t1)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(tImport)/float64(tBare), "x-bare-reader-time")
	b.ReportMetric(float64(benchRows)/tImport.Seconds()*float64(b.N), "import-rows/s")
	b.ReportMetric(float64(file.Len())/(1<<20), "file-MiB")
}
