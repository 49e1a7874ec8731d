// Command odm-bench measures the ODM exchange of internal/odm on a study
// with a million ItemData, against bare encoding/xml baselines measured in
// the same run, and prints the figures and their ratios.
//
//	go run ./bench/odm [-items 1000000] [-runs 3]
//
// Export: odm.Writer against an encoding/xml Encoder emitting the same
// elements from the same rows. Import: odm.Reader against a bare
// Decoder.Token loop over the same file. Each side runs -runs times and the
// fastest run counts; peak memory is the live heap above the starting point,
// sampled every millisecond.
package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cohort-clinical/cohort/internal/odm"
)

func main() {
	items := flag.Int("items", 1_000_000, "number of ItemData in the study")
	runs := flag.Int("runs", 3, "runs per measurement; the fastest counts")
	only := flag.String("only", "", "run only \"export\" or \"import\"")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	log.SetFlags(0)

	dir, err := os.MkdirTemp("", "odm-bench")
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
	fmt.Printf("study: %d ItemData, %d subjects, %.1f MB of ODM XML (%s, %d CPUs)\n\n",
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

	if *only != "import" {
		fmt.Println("export (rows to io.Discard)")
		ours, base := compare(*runs, func() error { return exportOurs(io.Discard, *items) },
			func() error { return exportBaseline(io.Discard, *items) })
		report("odm.Writer", "encoding/xml Encoder", ours, base, *items)
		fmt.Printf("  speed of odm.Writer relative to the baseline: %.0f%% by wall time, %.0f%% by CPU time (goal: at least 50%%)\n\n",
			100*base.seconds()/ours.seconds(), 100*base.cpu.Seconds()/ours.cpu.Seconds())
	}
	if *only != "export" {
		fmt.Println("import (file to rows)")
		ours, base := compare(*runs, func() error { return importOurs(file, *items) },
			func() error { return importBaseline(file) })
		report("odm.Reader", "Decoder.Token loop", ours, base, *items)
		fmt.Printf("  time of odm.Reader relative to the baseline: %.2f× by wall time, %.2f× by CPU time (goal: at most 2×)\n",
			ours.seconds()/base.seconds(), ours.cpu.Seconds()/base.cpu.Seconds())
	}
}

// measurement is the fastest run of a job and the highest peak heap of all
// runs.
type measurement struct {
	elapsed time.Duration
	cpu     time.Duration // user and system time of the process during the run
	peak    uint64        // bytes of live heap above the level before the run
}

func (m measurement) seconds() float64 { return m.elapsed.Seconds() }

func report(ours, base string, o, b measurement, items int) {
	fmt.Printf("  %-22s %6.2f s  %5.0f k rows/s  CPU %6.2f s  peak heap %5.1f MB\n", ours, o.seconds(), float64(items)/o.seconds()/1e3, o.cpu.Seconds(), float64(o.peak)/1e6)
	fmt.Printf("  %-22s %6.2f s  %5.0f k rows/s  CPU %6.2f s  peak heap %5.1f MB\n", base, b.seconds(), float64(items)/b.seconds()/1e3, b.cpu.Seconds(), float64(b.peak)/1e6)
	fmt.Printf("  peak heap of %s relative to the baseline: %.2f×\n", ours, float64(o.peak)/float64(max(b.peak, 1)))
}

// compare runs ours and the baseline n times each, alternately, so that a
// change in the machine's load affects both alike.
func compare(n int, ours, base func() error) (measurement, measurement) {
	var o, b measurement
	for i := 0; i < n; i++ {
		o.add(i, measure(ours))
		b.add(i, measure(base))
	}
	return o, b
}

// add keeps the fastest times and the highest peak of the runs so far.
func (m *measurement) add(run int, r measurement) {
	if run == 0 || r.elapsed < m.elapsed {
		m.elapsed = r.elapsed
	}
	if run == 0 || r.cpu < m.cpu {
		m.cpu = r.cpu
	}
	m.peak = max(m.peak, r.peak)
}

// measure runs job once, sampling the live heap meanwhile.
func measure(job func() error) measurement {
	runtime.GC()
	start := heapLive()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the live heap; runtime/metrics does not stop the world
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
	t0, c0 := time.Now(), cpuTime()
	if err := job(); err != nil {
		log.Fatal(err)
	}
	elapsed, cpu := time.Since(t0), cpuTime()-c0
	close(done)
	wg.Wait()
	m := measurement{elapsed: elapsed, cpu: cpu}
	if p := peak.Load(); p > start {
		m.peak = p - start
	}
	return m
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapLive() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// The study: subjects with one screening visit of two forms; each form has
// repeating vital-sign groups of ten items.
const (
	itemsPerGroup   = 10
	groupsPerForm   = 5
	formsPerSubject = 2
	itemsPerSubject = itemsPerGroup * groupsPerForm * formsPerSubject
)

func subjects(items int) int { return (items + itemsPerSubject - 1) / itemsPerSubject }

// rows yields the study's rows sorted, fresh values each time, as a storage
// layer reading a table would.
func rows(items int, yield func(*odm.Row) error) error {
	clinical := &odm.ClinicalData{StudyOID: "ST.BENCH", MetaDataVersionOID: "MDV.1"}
	itemOIDs := make([]string, itemsPerGroup)
	for i := range itemOIDs {
		itemOIDs[i] = "IT.VS." + strconv.Itoa(i+1)
	}
	for n := 0; n < items; n++ {
		s, rest := n/itemsPerSubject, n%itemsPerSubject
		f, rest := rest/(itemsPerGroup*groupsPerForm), rest%(itemsPerGroup*groupsPerForm)
		g, i := rest/itemsPerGroup, rest%itemsPerGroup
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

// design is the metadata of the study.
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
		GlobalVariables: odm.GlobalVariables{StudyName: "Benchmark", ProtocolName: "BENCH-1"},
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

func exportOurs(out io.Writer, items int) error {
	ctx := context.Background()
	w := odm.NewWriter(out, odm.WriteOptions{})
	if err := w.Begin(ctx, design()); err != nil {
		return err
	}
	if err := rows(items, func(r *odm.Row) error { return w.WriteRow(ctx, r) }); err != nil {
		return err
	}
	return w.Close(ctx)
}

func writeFile(path string, items int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := exportOurs(f, items); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// exportBaseline writes the same ClinicalData with a bare encoding/xml
// Encoder: the same elements, attributes and indentation from the same
// rows, opening and closing containers as keys change, but no checks, no
// extensions and no metadata.
func exportBaseline(out io.Writer, items int) error {
	enc := xml.NewEncoder(out)
	enc.Indent("", "\t")
	name := func(local string) xml.Name { return xml.Name{Local: local} }
	attr := func(n, v string) xml.Attr { return xml.Attr{Name: name(n), Value: v} }
	start := func(local string, attrs ...xml.Attr) error {
		return enc.EncodeToken(xml.StartElement{Name: name(local), Attr: attrs})
	}
	end := func(local string) error { return enc.EncodeToken(xml.EndElement{Name: name(local)}) }
	if err := start("ODM", attr("xmlns", odm.Namespace), attr("FileType", "Snapshot"), attr("FileOID", "BENCH"),
		attr("CreationDateTime", "2025-01-01T00:00:00Z"), attr("ODMVersion", "1.3.2")); err != nil {
		return err
	}
	if err := start("ClinicalData", attr("StudyOID", "ST.BENCH"), attr("MetaDataVersionOID", "MDV.1")); err != nil {
		return err
	}
	var subject, form, group string
	err := rows(items, func(r *odm.Row) error {
		newSubject := r.Subject.SubjectKey != subject
		newForm := newSubject || r.Form.FormOID != form
		newGroup := newForm || r.Group.ItemGroupRepeatKey != group
		if subject != "" {
			if newGroup {
				end("ItemGroupData")
			}
			if newForm {
				end("FormData")
			}
			if newSubject {
				end("StudyEventData")
				end("SubjectData")
			}
		}
		if newSubject {
			start("SubjectData", attr("SubjectKey", r.Subject.SubjectKey))
			start("StudyEventData", attr("StudyEventOID", r.Event.StudyEventOID), attr("StudyEventRepeatKey", r.Event.StudyEventRepeatKey))
		}
		if newForm {
			start("FormData", attr("FormOID", r.Form.FormOID), attr("FormRepeatKey", r.Form.FormRepeatKey))
		}
		if newGroup {
			start("ItemGroupData", attr("ItemGroupOID", r.Group.ItemGroupOID), attr("ItemGroupRepeatKey", r.Group.ItemGroupRepeatKey))
		}
		subject, form, group = r.Subject.SubjectKey, r.Form.FormOID, r.Group.ItemGroupRepeatKey
		if err := start("ItemData", attr("ItemOID", r.Item.ItemOID), attr("Value", r.Item.Value)); err != nil {
			return err
		}
		return end("ItemData")
	})
	if err != nil {
		return err
	}
	for _, n := range []string{"ItemGroupData", "FormData", "StudyEventData", "SubjectData", "ClinicalData", "ODM"} {
		if err := end(n); err != nil {
			return err
		}
	}
	return enc.Close()
}

func importOurs(path string, items int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	r := odm.NewReader(f, odm.ReadOptions{})
	if _, err := r.Metadata(ctx); err != nil {
		return err
	}
	n := 0
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if row.Item != nil {
			n++
		}
	}
	if n != items {
		return fmt.Errorf("read %d ItemData, want %d", n, items)
	}
	if d := r.Diagnostics(); d.HasErrors() {
		return fmt.Errorf("the benchmark file read with errors:\n%s", d)
	}
	return nil
}

// importBaseline only tokenises the file: the least any reader built on
// encoding/xml can do.
func importBaseline(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
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
