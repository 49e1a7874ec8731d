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
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cohort-clinical/cohort/bench/internal/measure"
	"github.com/cohort-clinical/cohort/bench/internal/vitals"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/study"
)

func main() {
	items := flag.Int("items", 1_000_000, "number of ItemData in the study")
	engines := flag.String("engine", "sqlite", `database engine: "sqlite", "postgres" or "both"`)
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server to create a scratch database on")
	runs := flag.Int("runs", 3, "runs per side, alternately; the fastest counts (each import into a new empty database)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	file, size, remove, err := vitals.TempFile(*items)
	if err != nil {
		log.Fatal(err)
	}
	defer remove()
	dir := filepath.Dir(file)
	stop, err := measure.StartCPUProfile(*cpuprofile)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	list := []string{*engines}
	if *engines == "both" {
		list = []string{"sqlite", "postgres"}
	}
	for _, e := range list {
		if err := run(ctx, e, dir, *pg, file, size, *items, *runs); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("\nprocess peak resident memory (VmHWM, includes the database engine's caches): %s\n", vmHWM())
}

// scratch returns the DSN of an empty database and a function that drops it.
func scratch(ctx context.Context, engine, dir, pg string) (string, func(), error) {
	switch engine {
	case "sqlite":
		d, err := os.MkdirTemp(dir, "sqlite")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(d, "cohort.db"), func() { os.RemoveAll(d) }, nil
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

func run(ctx context.Context, engine, dir, pg, file string, size int64, items, runs int) error {
	fmt.Printf("\n== %s ==\n", engine)

	// Import: the bare parse, then cohort's into a new empty database,
	// alternately; the last database stays for the export.
	fmt.Println("import (file into an empty database)")
	var ours, base measure.Measurement
	var db *store.DB
	for i := range runs {
		base.Add(i, must(measure.Run(func(quarter func()) error { return vitals.Tokenize(file, quarter) })))
		if db != nil {
			db.Close()
		}
		dsn, drop, err := scratch(ctx, engine, dir, pg)
		if err != nil {
			return err
		}
		defer drop()
		if db, err = store.Open(ctx, dsn); err != nil {
			return err
		}
		if _, err := db.Migrate(ctx); err != nil {
			return err
		}
		ours.Add(i, must(measure.Run(func(quarter func()) error { return importFile(ctx, db, file, size, items, quarter) })))
	}
	defer db.Close()
	measure.Report("study.Import", "Decoder.Token loop", ours, base, items)
	fmt.Printf("  import time relative to the bare parse: %.2f× by wall time, %.2f× by CPU time (goal: at most 2×)\n",
		ours.Seconds()/base.Seconds(), ours.CPU.Seconds()/base.CPU.Seconds())
	if n, err := study.ItemDataCount(ctx, db, "ST.BENCH"); err != nil || n != int64(items) {
		return fmt.Errorf("the database holds %d ItemData after the import: %v", n, err)
	}

	// Export: alternately, the fastest run of each counts.
	fmt.Println("export (database to io.Discard)")
	s, err := study.Get(ctx, db, "ST.BENCH")
	if err != nil {
		return err
	}
	var o, b measure.Measurement
	for i := range runs {
		o.Add(i, must(measure.Run(func(quarter func()) error {
			var cw countWriter
			called := false
			_, err := study.Export(ctx, db, "ST.BENCH", &cw, study.ExportOptions{What: "clinical", Progress: func(n int64) {
				if !called && n >= int64(items/4) {
					called = true
					quarter()
				}
			}})
			return err
		})))
		b.Add(i, must(measure.Run(func(quarter func()) error { return exportBaseline(ctx, db, s.ID, items, quarter) })))
	}
	measure.Report("study.Export", "encoding/xml Encoder", o, b, items)
	fmt.Printf("  export speed relative to the bare writer: %.0f%% by wall time, %.0f%% by CPU time (goal: at least 50%%)\n",
		100*b.Seconds()/o.Seconds(), 100*b.CPU.Seconds()/o.CPU.Seconds())
	fmt.Printf("  memory: import peak heap %.1f MB after a quarter of the file, %.1f MB over all of it; export %.1f MB after %d rows, %.1f MB after %d\n",
		measure.MB(ours.QuarterPeak), measure.MB(ours.Peak), measure.MB(o.QuarterPeak), items/4, measure.MB(o.Peak), items)
	return nil
}

// importFile imports the study file into db, an empty database, and
// checks that it stored every ItemData.
func importFile(ctx context.Context, db *store.DB, file string, size int64, items int, quarter func()) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	done := false
	rep, err := study.Import(ctx, db, audit.Actor{Name: "bench"}, f, study.ImportOptions{Progress: func(n int64) {
		if !done && n >= size/4 {
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
}

// countWriter discards what is written, as io.Discard does, and counts it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

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
	var occurrence int64
	var subject, event, form, group string
	n := 0
	for rows.Next() {
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &isNull, &k[9], &k[10], &occurrence); err != nil {
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

// must stops the benchmark on a failed run: its figures would mean nothing.
func must(m measure.Measurement, err error) measure.Measurement {
	if err != nil {
		log.Fatal(err)
	}
	return m
}
