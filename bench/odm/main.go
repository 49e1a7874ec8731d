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
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/cohort-clinical/cohort/bench/internal/measure"
	"github.com/cohort-clinical/cohort/bench/internal/vitals"
	"github.com/cohort-clinical/cohort/internal/odm"
)

func main() {
	items := flag.Int("items", 1_000_000, "number of ItemData in the study")
	runs := flag.Int("runs", 3, "runs per measurement; the fastest counts")
	only := flag.String("only", "", "run only \"export\" or \"import\"")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	log.SetFlags(0)

	file, _, remove, err := vitals.TempFile(*items)
	if err != nil {
		log.Fatal(err)
	}
	defer remove()
	fmt.Println()
	stop, err := measure.StartCPUProfile(*cpuprofile)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	if *only != "import" {
		fmt.Println("export (rows to io.Discard)")
		ours, base, err := measure.Compare(*runs, func(func()) error { return vitals.Export(io.Discard, *items) },
			func(func()) error { return exportBaseline(io.Discard, *items) })
		if err != nil {
			log.Fatal(err)
		}
		report("odm.Writer", "encoding/xml Encoder", ours, base, *items)
		fmt.Printf("  speed of odm.Writer relative to the baseline: %.0f%% by wall time, %.0f%% by CPU time (goal: at least 50%%)\n\n",
			100*base.Seconds()/ours.Seconds(), 100*base.CPU.Seconds()/ours.CPU.Seconds())
	}
	if *only != "export" {
		fmt.Println("import (file to rows)")
		ours, base, err := measure.Compare(*runs, func(func()) error { return importOurs(file, *items) },
			func(func()) error { return vitals.Tokenize(file, nil) })
		if err != nil {
			log.Fatal(err)
		}
		report("odm.Reader", "Decoder.Token loop", ours, base, *items)
		fmt.Printf("  time of odm.Reader relative to the baseline: %.2f× by wall time, %.2f× by CPU time (goal: at most 2×)\n",
			ours.Seconds()/base.Seconds(), ours.CPU.Seconds()/base.CPU.Seconds())
	}
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
	err := vitals.Rows(items, func(r *odm.Row) error {
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

// report adds the ratio of peak heaps to measure.Report.
func report(ours, base string, o, b measure.Measurement, items int) {
	measure.Report(ours, base, o, b, items)
	fmt.Printf("  peak heap of %s relative to the baseline: %.2f×\n", ours, float64(o.Peak)/float64(max(b.Peak, 1)))
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
