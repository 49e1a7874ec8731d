package bundle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// syntheticMedDRA builds a MedDRA version of the size of a real release —
// 27 SOCs, 340 HLGTs, 1 700 HLTs, 26 000 PTs and llts LLTs (each PT's own
// LLT included) — with invented names, every tenth extra LLT no longer
// current.
func syntheticMedDRA(llts int) *dictionary.Version {
	const socs, hlgts, hlts, pts = 27, 340, 1700, 26000
	var terms []dictionary.Term
	var links []dictionary.Link
	ref := func(l dictionary.Level, code int) dictionary.TermRef {
		return dictionary.TermRef{Level: l, Code: fmt.Sprintf("%08d", code)}
	}
	add := func(l dictionary.Level, code int, name string, parent dictionary.TermRef, parentCode int) dictionary.Term {
		t := dictionary.Term{Level: l, Code: fmt.Sprintf("%08d", code), Name: name, Current: true}
		if parentCode > 0 {
			links = append(links, dictionary.Link{Parent: parent, Child: t.Ref()})
		}
		return t
	}
	for i := range socs {
		t := add(dictionary.SOC, 10010000+i, fmt.Sprintf("System organ class %d disorders", i), dictionary.TermRef{}, 0)
		t.Abbrev, t.Order = fmt.Sprintf("S%02d", i), i+1
		terms = append(terms, t)
	}
	for i := range hlgts {
		terms = append(terms, add(dictionary.HLGT, 10020000+i, fmt.Sprintf("Group term %d", i), ref(dictionary.SOC, 10010000+i%socs), 1))
	}
	for i := range hlts {
		terms = append(terms, add(dictionary.HLT, 10030000+i, fmt.Sprintf("High level term %d NEC", i), ref(dictionary.HLGT, 10020000+i%hlgts), 1))
	}
	for i := range pts {
		t := add(dictionary.PT, 10100000+i, fmt.Sprintf("Preferred term %d", i), ref(dictionary.HLT, 10030000+i%hlts), 1)
		t.PrimarySOC = fmt.Sprintf("%08d", 10010000+(i%hlts%hlgts)%socs)
		terms = append(terms, t)
		terms = append(terms, add(dictionary.LLT, 10100000+i, t.Name, t.Ref(), 1))
	}
	for i := 0; i < llts-pts; i++ {
		t := add(dictionary.LLT, 10200000+i, fmt.Sprintf("Lowest level term %d", i), ref(dictionary.PT, 10100000+(i*7919)%pts), 1)
		t.Current = i%10 != 0
		terms = append(terms, t)
	}
	return &dictionary.Version{Kind: dictionary.MedDRA, Release: "27.1", Language: "English", Terms: terms, Links: links}
}

// BenchmarkDictionaryBundle moves a MedDRA release of real size (80 000
// LLTs) through a configuration bundle on each engine, against baselines
// measured in the same run: storing the same parsed release directly
// (dictionary.Import, what uploading the distribution does) and reading it
// back whole (Reader.Load). It reports the bundle's size, the export,
// import and unchanged re-preview times, and the ratios
// bundle-import/direct-import and export/load.
//
//	go test -run '^$' -bench DictionaryBundle -benchtime 1x ./internal/bundle/
func BenchmarkDictionaryBundle(b *testing.B) {
	ctx := context.Background()
	v := syntheticMedDRA(80000)
	if _, err := dictionary.NewVersion(v.Kind, v.Release, v.Language, v.Terms, v.Links); err != nil {
		b.Fatal(err)
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				src := storetest.Open(b, engine)
				t0 := time.Now()
				s, err := dictionary.Import(ctx, src, admin, v, "synthetic")
				if err != nil {
					b.Fatal(err)
				}
				direct := time.Since(t0)
				t0 = time.Now()
				if _, err := dictionary.NewReader(src, s.ID).Load(ctx); err != nil {
					b.Fatal(err)
				}
				load := time.Since(t0)
				t0 = time.Now()
				_, data, err := bundle.Export(ctx, src, only("medical-dictionaries"))
				if err != nil {
					b.Fatal(err)
				}
				export := time.Since(t0)

				dst := storetest.Open(b, engine)
				t0 = time.Now()
				bd, err := bundle.Decode(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bundle.Import(ctx, dst, admin, bd, bundle.ImportOptions{Reason: "benchmark"}); err != nil {
					b.Fatal(err)
				}
				imported := time.Since(t0)
				t0 = time.Now()
				plan, err := bundle.Preview(ctx, dst, bd)
				if err != nil || plan.Changes() != 0 {
					b.Fatalf("preview after import: %d changes, %v", plan.Changes(), err)
				}
				again := time.Since(t0)

				b.ReportMetric(float64(len(data))/1e6, "bundle-MB")
				b.ReportMetric(export.Seconds(), "export-s")
				b.ReportMetric(imported.Seconds(), "import-s")
				b.ReportMetric(again.Seconds(), "unchanged-preview-s")
				b.ReportMetric(imported.Seconds()/direct.Seconds(), "import/direct")
				b.ReportMetric(export.Seconds()/load.Seconds(), "export/load")
				b.Logf("%s: %d terms, %d links, bundle %.1f MB; export %v (Reader.Load %v, ×%.1f); import %v (dictionary.Import %v, ×%.1f); unchanged preview %v",
					engine, len(v.Terms), len(v.Links), float64(len(data))/1e6, export.Round(time.Millisecond), load.Round(time.Millisecond),
					export.Seconds()/load.Seconds(), imported.Round(time.Millisecond), direct.Round(time.Millisecond),
					imported.Seconds()/direct.Seconds(), again.Round(time.Millisecond))
			}
		})
	}
}
