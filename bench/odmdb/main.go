// Command odmdb-bench measures cohort's ODM exchange through a real
// database on a study with a million ItemData, against bare encoding/xml
// baselines measured in the same run, and prints the figures and ratios.
//
//	go run ./bench/odmdb [-items 1000000] [-engine sqlite|postgres|both]
//
// For each engine it writes the study as an ODM file, then:
//
//   - import: study.Import of the file into an empty database (design,
//     1,000,000 rows stored in one transaction) against a bare
//     Decoder.Token loop over the same file;
//   - export: study.Export of the clinical data from that database against
//     a bare encoding/xml Encoder emitting the same elements from the same
//     rows of the same query (study.ClinicalQuery);
//   - memory: the peak live heap of each, and the peak when a quarter of
//     the rows were done, which shows whether memory grows with the rows.
//
// See README.md.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/study"
)

func main() {
	items := flag.Int("items", 1_000_000, "number of ItemData in the study")
	engines := flag.String("engine", "sqlite", `database engine: "sqlite", "postgres" or "both"`)
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server to create a scratch database on")
	runs := flag.Int("runs", 1, "export runs per side; the fastest counts (import runs once: it needs an empty database)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "odmdb-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "study.xml")
	if err := writeFile(file, *items); err != nil {
		log.Fatal(err)
	}
	info, err := os.Stat(file)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("study: %d ItemData, %d subjects, %.1f MB of ODM XML (%s, %d CPUs)\n",
		*items, subjects(*items), float64(info.Size())/1e6, runtime.Version(), runtime.NumCPU())

	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	list := []string{*engines}
	if *engines == "both" {
		list = []string{"sqlite", "postgres"}
	}
	for _, e := range list {
		dsn, drop, err := scratch(ctx, e, dir, *pg)
		if err != nil {
			log.Fatal(err)
		}
		err = run(ctx, e, dsn, file, *items, *runs)
		drop()
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("\nprocess peak resident memory (VmHWM, includes the database engine's caches): %s\n", vmHWM())
}

// scratch returns the DSN of an empty database and a function that drops it.
func scratch(ctx context.Context, engine, dir, pg string) (string, func(), error) {
	switch engine {
	case "sqlite":
		p := filepath.Join(dir, "cohort.db")
		return p, func() {}, nil
	case "postgres":
		admin, err := sql.Open("pgx", pg)
		if err != nil {
			return "", nil, err
		}
		var b [6]byte
		rand.Read(b[:])
		name := "cohort_bench_" + hex.EncodeToString(b[:])
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			admin.Close()
			return "", nil, fmt.Errorf("create scratch database on %s: %w", pg, err)
		}
		u, err := url.Parse(pg)
		if err != nil {
			admin.Close()
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			admin.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("unknown engine %q: say sqlite, postgres or both", engine)
}

func run(ctx context.Context, engine, dsn, file string, items, runs int) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Printf("\n== %s ==\n", engine)
	size, _ := os.Stat(file)

	// Import: the bare parse first, then cohort's into the empty database.
	fmt.Println("import (file into an empty database)")
	base := measure(func(quarter func()) error { return importBaseline(file, size.Size(), quarter) })
	ours := measure(func(quarter func()) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		done := false
		rep, err := study.Import(ctx, db, audit.Actor{Name: "bench"}, f, study.ImportOptions{Progress: func(n int64) {
			if !done && n >= size.Size()/4 {
				done = true
				quarter()
			}
		}})
		if err != nil {
			return err
		}
		if !rep.Applied || rep.ItemData != int64(items) {
			return fmt.Errorf("import stored %d ItemData (applied %v): %v", rep.ItemData, rep.Applied, rep.Diagnostics)
		}
		return nil
	})
	report("study.Import", "Decoder.Token loop", ours, base, items)
	fmt.Printf("  import time relative to the bare parse: %.2f× by wall time, %.2f× by CPU time (goal: at most 2×)\n",
		ours.seconds()/base.seconds(), ours.cpu.Seconds()/base.cpu.Seconds())
	if n, err := study.ItemDataCount(ctx, db, "ST.BENCH"); err != nil || n != int64(items) {
		return fmt.Errorf("the database holds %d ItemData after the import: %v", n, err)
	}

	// Export: alternately, the fastest run of each counts.
	fmt.Println("export (database to io.Discard)")
	s, err := study.Get(ctx, db, "ST.BENCH")
	if err != nil {
		return err
	}
	var o, b measurement
	for i := range runs {
		o.add(i, measure(func(quarter func()) error {
			var cw countWriter
			called := false
			_, err := study.Export(ctx, db, "ST.BENCH", &cw, study.ExportOptions{What: "clinical", Progress: func(n int64) {
				if !called && n >= int64(items/4) {
					called = true
					quarter()
				}
			}})
			return err
		}))
		b.add(i, measure(func(quarter func()) error { return exportBaseline(ctx, db, s.ID, items, quarter) }))
	}
	report("study.Export", "encoding/xml Encoder", o, b, items)
	fmt.Printf("  export speed relative to the bare writer: %.0f%% by wall time, %.0f%% by CPU time (goal: at least 50%%)\n",
		100*b.seconds()/o.seconds(), 100*b.cpu.Seconds()/o.cpu.Seconds())
	fmt.Printf("  memory: import peak heap %.1f MB after a quarter of the file, %.1f MB over all of it; export %.1f MB after %d rows, %.1f MB after %d\n",
		mb(ours.quarterPeak), mb(ours.peak), mb(o.quarterPeak), items/4, mb(o.peak), items)
	return nil
}

func mb(n uint64) float64 { return float64(n) / 1e6 }

// countWriter discards what is written, as io.Discard does, and counts it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// measurement is the fastest run of a job and the highest peaks of all runs.
type measurement struct {
	elapsed     time.Duration
	cpu         time.Duration // user and system time of the process during the run
	peak        uint64        // bytes of live heap above the level before the run
	quarterPeak uint64        // the same, until a quarter of the rows were done
}

func (m measurement) seconds() float64 { return m.elapsed.Seconds() }

func (m *measurement) add(run int, r measurement) {
	if run == 0 || r.elapsed < m.elapsed {
		m.elapsed = r.elapsed
	}
	if run == 0 || r.cpu < m.cpu {
		m.cpu = r.cpu
	}
	m.peak = max(m.peak, r.peak)
	m.quarterPeak = max(m.quarterPeak, r.quarterPeak)
}

func report(ours, base string, o, b measurement, items int) {
	fmt.Printf("  %-22s %6.2f s  %5.0f k rows/s  CPU %6.2f s  peak heap %6.1f MB\n", ours, o.seconds(), float64(items)/o.seconds()/1e3, o.cpu.Seconds(), mb(o.peak))
	fmt.Printf("  %-22s %6.2f s  %5.0f k rows/s  CPU %6.2f s  peak heap %6.1f MB\n", base, b.seconds(), float64(items)/b.seconds()/1e3, b.cpu.Seconds(), mb(b.peak))
}

// measure runs job once, sampling the live heap every millisecond; job
// calls quarter when a quarter of its rows are done.
func measure(job func(quarter func()) error) measurement {
	runtime.GC()
	start := heapLive()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // runtime/metrics does not stop the world
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if h := heapLive(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	var quarter uint64
	t0, c0 := time.Now(), cpuTime()
	if err := job(func() {
		if h := heapLive(); h > peak.Load() {
			peak.Store(h)
		}
		quarter = peak.Load()
	}); err != nil {
		log.Fatal(err)
	}
	elapsed, cpu := time.Since(t0), cpuTime()-c0
	close(done)
	wg.Wait()
	m := measurement{elapsed: elapsed, cpu: cpu}
	if p := peak.Load(); p > start {
		m.peak = p - start
	}
	if quarter > start {
		m.quarterPeak = quarter - start
	}
	return m
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapLive() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// vmHWM is the process's peak resident set size from /proc.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// The study: subjects with one screening visit of two forms; each form has
// repeating vital-sign groups of ten items (as in bench/odm).
const (
	itemsPerGroup   = 10
	groupsPerForm   = 5
	formsPerSubject = 2
	itemsPerSubject = itemsPerGroup * groupsPerForm * formsPerSubject
)

func subjects(items int) int { return (items + itemsPerSubject - 1) / itemsPerSubject }

func design() *odm.Document {
	var refs []*odm.ItemRef
	var defs []*odm.ItemDef
	for i := 1; i <= itemsPerGroup; i++ {
		oid := "IT.VS." + strconv.Itoa(i)
		refs = append(refs, &odm.ItemRef{ItemOID: oid, Mandatory: odm.No})
		defs = append(defs, &odm.ItemDef{OID: oid, Name: "Vital sign " + strconv.Itoa(i), DataType: odm.Integer})
	}
	var forms []*odm.FormDef
	var formRefs []*odm.FormRef
	for f := 1; f <= formsPerSubject; f++ {
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

// writeFile writes the study with its clinical data.
func writeFile(path string, items int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	w := odm.NewWriter(f, odm.WriteOptions{})
	if err := w.Begin(ctx, design()); err != nil {
		return err
	}
	clinical := &odm.ClinicalData{StudyOID: "ST.BENCH", MetaDataVersionOID: "MDV.1"}
	for n := range items {
		s, rest := n/itemsPerSubject, n%itemsPerSubject
		fm, rest := rest/(itemsPerGroup*groupsPerForm), rest%(itemsPerGroup*groupsPerForm)
		g, i := rest/itemsPerGroup, rest%itemsPerGroup
		row := &odm.Row{
			Clinical: clinical,
			Subject:  &odm.SubjectData{SubjectKey: "SUBJ-" + strconv.Itoa(100000+s)},
			Event:    &odm.StudyEventData{StudyEventOID: "SE.SCREENING", StudyEventRepeatKey: "1"},
			Form:     &odm.FormData{FormOID: "F.VS" + strconv.Itoa(fm+1), FormRepeatKey: "1"},
			Group:    &odm.ItemGroupData{ItemGroupOID: "IG.VS", ItemGroupRepeatKey: strconv.Itoa(g + 1)},
			Item:     &odm.ItemData{ItemOID: "IT.VS." + strconv.Itoa(i+1), Value: strconv.Itoa(60 + (n*7)%120)},
		}
		if err := w.WriteRow(ctx, row); err != nil {
			return err
		}
	}
	return w.Close(ctx)
}

// exportBaseline runs the export's query and writes the rows with a bare
// encoding/xml Encoder: the same elements, attributes and indentation,
// opening and closing containers as keys change, but no checks, no
// details, no extensions and no metadata.
func exportBaseline(ctx context.Context, db *store.DB, studyID int64, items int, quarter func()) error {
	rows, err := db.Query(ctx, study.ClinicalQuery(), studyID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cw countWriter
	enc := xml.NewEncoder(&cw)
	enc.Indent("", "\t")
	name := func(local string) xml.Name { return xml.Name{Local: local} }
	attr := func(n, v string) xml.Attr { return xml.Attr{Name: name(n), Value: v} }
	start := func(local string, attrs ...xml.Attr) {
		enc.EncodeToken(xml.StartElement{Name: name(local), Attr: attrs})
	}
	end := func(local string) { enc.EncodeToken(xml.EndElement{Name: name(local)}) }
	enc.EncodeToken(xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)})
	start("ODM", attr("xmlns", odm.Namespace), attr("FileType", "Snapshot"), attr("Granularity", "AllClinicalData"), attr("FileOID", "BENCH"),
		attr("CreationDateTime", "2025-01-01T00:00:00Z"), attr("ODMVersion", "1.3.2"))
	start("ClinicalData", attr("StudyOID", "ST.BENCH"), attr("MetaDataVersionOID", "MDV.1"))
	var k [11]sql.RawBytes
	var isNull bool
	var subject, event, form, group string
	n := 0
	for rows.Next() {
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &isNull, &k[9], &k[10]); err != nil {
			return err
		}
		s, e, f, g := string(k[0]), string(k[1])+"\x00"+string(k[2]), string(k[3])+"\x00"+string(k[4]), string(k[5])+"\x00"+string(k[6])
		newSubject := s != subject
		newEvent := newSubject || e != event
		newForm := newEvent || f != form
		newGroup := newForm || g != group
		if subject != "" {
			if newGroup {
				end("ItemGroupData")
			}
			if newForm {
				end("FormData")
			}
			if newEvent {
				end("StudyEventData")
			}
			if newSubject {
				end("SubjectData")
			}
		}
		if newSubject {
			start("SubjectData", attr("SubjectKey", s))
		}
		if newEvent {
			start("StudyEventData", attr("StudyEventOID", string(k[1])), attr("StudyEventRepeatKey", string(k[2])))
		}
		if newForm {
			start("FormData", attr("FormOID", string(k[3])), attr("FormRepeatKey", string(k[4])))
		}
		if newGroup {
			start("ItemGroupData", attr("ItemGroupOID", string(k[5])), attr("ItemGroupRepeatKey", string(k[6])))
		}
		subject, event, form, group = s, e, f, g
		start("ItemData", attr("ItemOID", string(k[7])), attr("Value", string(k[8])))
		end("ItemData")
		if n++; n == items/4 {
			quarter()
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range []string{"ItemGroupData", "FormData", "StudyEventData", "SubjectData", "ClinicalData", "ODM"} {
		end(n)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if n != items {
		return fmt.Errorf("the baseline read %d rows, want %d", n, items)
	}
	return nil
}

// importBaseline only tokenises the file: the least any reader built on
// encoding/xml can do.
func importBaseline(path string, size int64, quarter func()) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	called := false
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !called && dec.InputOffset() >= size/4 {
			called = true
			quarter()
		}
	}
}

// cpuTime returns the user and system time the process has used, which a
// busy machine disturbs less than wall time.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
