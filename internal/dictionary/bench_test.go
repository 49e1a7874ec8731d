package dictionary_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// syntheticMedDRA writes a MedDRA ASCII distribution of the size of a real
// release — 27 SOCs, about 340 HLGTs, 1 700 HLTs, 26 000 PTs and lltCount
// LLTs (each PT's own LLT included) — in the real file layout, with names
// made of pronounceable invented words so prefixes spread as real terms'
// do. The same seed gives the same release.
func syntheticMedDRA(lltCount int) fstest.MapFS {
	rng := rand.New(rand.NewPCG(27, 1))
	syllables := strings.Fields("ab ac ad al an ar as at ba be bi bo ca ce ci co cu da de di do du el em en er es fa fe fi fo ga ge gi go ha he hi ho hy in ir is la le li lo lu ma me mi mo mu na ne ni no nu ob oc ol om on or os pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu ul um ur va ve vi vo xa ze")
	words := make([]string, 3000)
	for i := range words {
		var w strings.Builder
		for n := 2 + rng.IntN(3); n > 0; n-- {
			w.WriteString(syllables[rng.IntN(len(syllables))])
		}
		words[i] = w.String()
	}
	name := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[rng.IntN(len(words))]
		}
		s := strings.Join(parts, " ")
		return strings.ToUpper(s[:1]) + s[1:]
	}
	const socs, hlgts, hlts, pts = 27, 340, 1700, 26000
	var soc, hlgt, hlt, pt, llt, socHLGT, hlgtHLT, hltPT, mdhier strings.Builder
	rec := func(b *strings.Builder, fields ...string) { b.WriteString(strings.Join(fields, "$") + "$\n") }
	empty := func(n int) []string { return make([]string, n) }
	type term struct{ code, name string }
	socT, hlgtT, hltT := make([]term, socs), make([]term, hlgts), make([]term, hlts)
	hlgtSOC, hltHLGT := make([]int, hlgts), make([]int, hlts)
	for i := range socT {
		socT[i] = term{fmt.Sprintf("%08d", 10010000+i), name(2) + " disorders"}
		rec(&soc, append([]string{socT[i].code, socT[i].name, fmt.Sprintf("S%02d", i)}, empty(7)...)...)
	}
	for i := range hlgtT {
		hlgtT[i] = term{fmt.Sprintf("%08d", 10020000+i), name(2)}
		hlgtSOC[i] = i % socs
		rec(&hlgt, append([]string{hlgtT[i].code, hlgtT[i].name}, empty(7)...)...)
		rec(&socHLGT, socT[hlgtSOC[i]].code, hlgtT[i].code)
	}
	for i := range hltT {
		hltT[i] = term{fmt.Sprintf("%08d", 10030000+i), name(2) + " NEC"}
		hltHLGT[i] = i % hlgts
		rec(&hlt, append([]string{hltT[i].code, hltT[i].name}, empty(7)...)...)
		rec(&hlgtHLT, hlgtT[hltHLGT[i]].code, hltT[i].code)
	}
	ptCodes := make([]string, pts)
	for i := range pts {
		code, n := fmt.Sprintf("%08d", 10100000+i), name(1+rng.IntN(3))
		ptCodes[i] = code
		h := i % hlts
		g := hltHLGT[h]
		s := socT[hlgtSOC[g]]
		rec(&pt, append([]string{code, n, "", s.code}, empty(7)...)...)
		rec(&hltPT, hltT[h].code, code)
		rec(&mdhier, code, hltT[h].code, hlgtT[g].code, s.code, n, hltT[h].name, hlgtT[g].name, s.name, fmt.Sprintf("S%02d", hlgtSOC[g]), "", s.code, "Y")
		rec(&llt, append(append([]string{code, n, code}, empty(6)...), "Y", "")...)
	}
	for i := 0; i < lltCount-pts; i++ {
		current := "Y"
		if rng.IntN(10) == 0 {
			current = "N"
		}
		rec(&llt, append(append([]string{fmt.Sprintf("%08d", 10200000+i), name(1 + rng.IntN(4)), ptCodes[rng.IntN(pts)]}, empty(6)...), current, "")...)
	}
	file := func(b *strings.Builder) *fstest.MapFile { return &fstest.MapFile{Data: []byte(b.String())} }
	return fstest.MapFS{
		"meddra_release.asc": {Data: []byte("27.1$English$$$$\n")},
		"soc.asc":            file(&soc), "hlgt.asc": file(&hlgt), "hlt.asc": file(&hlt), "pt.asc": file(&pt), "llt.asc": file(&llt),
		"soc_hlgt.asc": file(&socHLGT), "hlgt_hlt.asc": file(&hlgtHLT), "hlt_pt.asc": file(&hltPT), "mdhier.asc": file(&mdhier),
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkStoredSearch imports a release of real size into each engine,
// then times prefix searches of random term names (3 to 6 characters, the
// way people type) against the baseline of a primary-key lookup of a random
// term in the same run, and reports p50 and p99 of both and their ratio.
//
//	go test -run '^$' -bench StoredSearch ./internal/dictionary/
func BenchmarkStoredSearch(b *testing.B) {
	ctx := context.Background()
	fsys := syntheticMedDRA(80000)
	parsed, err := dictionary.Parse(ctx, fsys)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		db := storetest.Open(b, engine)
		start := time.Now()
		s, err := dictionary.Import(ctx, db, alice, parsed, "synthetic")
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		r := dictionary.NewReader(db, s.ID)
		b.Run(string(engine), func(b *testing.B) {
			b.ReportMetric(took.Seconds(), "import-s")
			var search, lookup []time.Duration
			hits := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				term := parsed.Terms[rng.IntN(len(parsed.Terms))]
				prefix := strings.ToLower(term.Name[:min(len(term.Name), 3+rng.IntN(4))])
				t0 := time.Now()
				found, err := r.Search(ctx, prefix, 20)
				t1 := time.Now()
				if err != nil || len(found) == 0 {
					b.Fatalf("search %q: %d terms, %v", prefix, len(found), err)
				}
				hits += len(found)
				other := parsed.Terms[rng.IntN(len(parsed.Terms))]
				t2 := time.Now()
				if _, err := r.Lookup(ctx, other.Level, other.Code); err != nil {
					b.Fatal(err)
				}
				search, lookup = append(search, t1.Sub(t0)), append(lookup, time.Since(t2))
			}
			b.StopTimer()
			s50, s99, l50, l99 := percentile(search, .5), percentile(search, .99), percentile(lookup, .5), percentile(lookup, .99)
			b.ReportMetric(float64(s50.Microseconds()), "search-p50-µs")
			b.ReportMetric(float64(s99.Microseconds()), "search-p99-µs")
			b.ReportMetric(float64(l50.Microseconds()), "pk-p50-µs")
			b.ReportMetric(float64(l99.Microseconds()), "pk-p99-µs")
			b.ReportMetric(float64(s50)/float64(l50), "p50-ratio")
			b.ReportMetric(float64(s99)/float64(l99), "p99-ratio")
			if b.N >= 100 {
				b.Logf("%s: imported %d terms and %d links in %.2fs", engine, s.Terms, s.Links, took.Seconds())
				b.Logf("%s, %d searches (%.1f hits each): search p50 %v p99 %v; primary-key lookup p50 %v p99 %v; search/lookup ×%.1f at p50, ×%.1f at p99",
					engine, b.N, float64(hits)/float64(b.N), s50, s99, l50, l99, float64(s50)/float64(l50), float64(s99)/float64(l99))
			}
		})
	}
}
