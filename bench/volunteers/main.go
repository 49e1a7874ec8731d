// Command volunteers-bench measures the volunteer database at scale on
// SQLite and PostgreSQL, against baselines taken in the same run:
//
//   - search: p50 and p99 of registry.Search by name prefix, date of birth,
//     volunteer number and phone at -count volunteers (500 000 by default),
//     against a primary-key lookup of one volunteer;
//   - import: rows per second of registry.Import of a synthetic CSV file
//     into an empty instance, against a bare encoding/csv parse of the same
//     file.
//
// Run: go run ./bench/volunteers [-engines sqlite,postgres] [-count 500000] [-queries 2000] [-import 20000]
//
// The SQLite database is kept in -dir (default: a directory under the
// system temporary directory) and the PostgreSQL one as database
// cohort_bench_volunteers on $COHORT_TEST_POSTGRES, so a second run with
// -reuse skips the load.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cohort-clinical/cohort/bench/internal/measure"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
	"github.com/cohort-clinical/cohort/internal/volunteer/synthetic"
)

var bench = audit.Actor{ID: 0, Name: "benchmark"}

func main() {
	engines := flag.String("engines", "sqlite,postgres", "engines to measure")
	count := flag.Int("count", 500_000, "volunteers in the searched database")
	queries := flag.Int("queries", 2000, "searches of each kind")
	importRows := flag.Int("import", 20_000, "rows of the imported CSV file (0 skips the import benchmark)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "cohort-bench-volunteers"), "where the SQLite databases live")
	reuse := flag.Bool("reuse", false, "reuse a database loaded by an earlier run")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	stopProfile, err := measure.StartCPUProfile(*cpuprofile)
	check(err)
	defer stopProfile()
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	for _, e := range strings.Split(*engines, ",") {
		if *count == 0 && *importRows > 0 {
			engine := store.Engine(strings.TrimSpace(e))
			idb, err := openBench(ctx, engine, *dir, "import", false)
			check(err)
			check(importBench(ctx, idb, *importRows))
			idb.Close()
			continue
		}
		engine := store.Engine(strings.TrimSpace(e))
		fmt.Printf("== %s ==\n", engine)
		db, err := openBench(ctx, engine, *dir, "volunteers", *reuse)
		check(err)
		check(load(ctx, db, *count))
		check(searchBench(ctx, db, *queries))
		db.Close()
		if *importRows > 0 {
			idb, err := openBench(ctx, engine, *dir, "import", false)
			check(err)
			check(importBench(ctx, idb, *importRows))
			idb.Close()
		}
		fmt.Println()
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// openBench opens (and, unless reuse, recreates) a benchmark database.
func openBench(ctx context.Context, engine store.Engine, dir, name string, reuse bool) (*store.DB, error) {
	var dsn string
	switch engine {
	case store.SQLite:
		dsn = filepath.Join(dir, name+".db")
		if !reuse {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(dsn + suffix)
			}
		}
	case store.Postgres:
		admin, err := sql.Open("pgx", storetest.PostgresDSN())
		if err != nil {
			return nil, err
		}
		defer admin.Close()
		dbname := "cohort_bench_" + name
		var exists bool
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbname).Scan(&exists); err != nil {
			return nil, fmt.Errorf("PostgreSQL at %s: %w", storetest.PostgresDSN(), err)
		}
		if exists && !reuse {
			if _, err := admin.ExecContext(ctx, "DROP DATABASE "+dbname+" WITH (FORCE)"); err != nil {
				return nil, err
			}
			exists = false
		}
		if !exists {
			if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbname); err != nil {
				return nil, err
			}
		}
		u, err := url.Parse(storetest.PostgresDSN())
		if err != nil {
			return nil, err
		}
		u.Path = "/" + dbname
		dsn = u.String()
	default:
		return nil, fmt.Errorf("unknown engine %q", engine)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	// The instance's own preparation: schema, administrator, demo clinic.
	if _, err := instance.Prepare(ctx, db, instance.Options{Demo: true, AdminPassword: "Benchmark password 1"}); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// load fills the database up to count volunteers with registry.Populate.
func load(ctx context.Context, db *store.DB, count int) error {
	var have int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM volunteer").Scan(&have); err != nil {
		return err
	}
	if have >= count {
		fmt.Printf("load: %d volunteers already there\n", have)
		return nil
	}
	start := time.Now()
	n, err := registry.Populate(ctx, db, bench, registry.PopulateOptions{Count: count - have, Seed: 2026,
		Progress: func(done int) {
			if done%50000 == 0 {
				fmt.Fprintf(os.Stderr, "  %d stored, %.0f/s\n", done, float64(done)/time.Since(start).Seconds())
			}
		}})
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("load: %d synthetic volunteers in %.1f s (%.0f volunteers/s, registry.Populate)\n", n, d.Seconds(), float64(n)/d.Seconds())
	return nil
}

// sample is a volunteer whose details make the benchmark's searches.
type sample struct {
	id                     int64
	given, family, number  string
	birth, phone           string
	givenTok, familyTokens []string
}

func samples(ctx context.Context, db *store.DB, n int) ([]sample, error) {
	var maxID int64
	if err := db.QueryRow(ctx, "SELECT MAX(id) FROM volunteer").Scan(&maxID); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(7, 11))
	var out []sample
	for len(out) < n {
		id := 1 + r.Int64N(maxID)
		var s sample
		s.id = id
		err := db.QueryRow(ctx, `SELECT v.number, v.given_name, v.family_name, v.birth_date, COALESCE(p.number, '')
			FROM volunteer v LEFT JOIN volunteer_phone p ON p.volunteer_id = v.id AND p.position = 0
			WHERE v.id = ? AND v.status <> 'privacy-removed'`, id).Scan(&s.number, &s.given, &s.family, &s.birth, &s.phone)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.familyTokens = strings.Fields(volunteer.NormalizeName(s.family))
		s.givenTok = strings.Fields(volunteer.NormalizeName(s.given))
		if len(s.familyTokens) == 0 || len(s.givenTok) == 0 || s.phone == "" {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// prefix returns the first n letters of s (all of it if shorter).
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// searchBench times each kind of search against a primary-key lookup of
// one volunteer, run in alternation so both see the same machine.
func searchBench(ctx context.Context, db *store.DB, n int) error {
	ss, err := samples(ctx, db, n)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(3, 5))
	kinds := []struct {
		name  string
		query func(s sample) registry.Query
	}{
		{"name: family-name prefix (3-6 letters)", func(s sample) registry.Query {
			tok := s.familyTokens[len(s.familyTokens)-1]
			return registry.Query{Name: prefix(tok, 3+r.IntN(4))}
		}},
		{"name: family prefix + given prefix", func(s sample) registry.Query {
			tok := s.familyTokens[len(s.familyTokens)-1]
			return registry.Query{Name: prefix(tok, 3+r.IntN(4)) + " " + prefix(s.givenTok[0], 2+r.IntN(3))}
		}},
		{"name: full name, sorted by family name", func(s sample) registry.Query {
			return registry.Query{Name: s.given + " " + s.family, Sort: registry.ByFamilyName}
		}},
		{"date of birth", func(s sample) registry.Query { return registry.Query{BirthDate: s.birth} }},
		{"volunteer number", func(s sample) registry.Query { return registry.Query{Number: s.number} }},
		{"phone (last 8 digits)", func(s sample) registry.Query { return registry.Query{Phone: s.phone[len(s.phone)-8:]} }},
	}
	baseline := func(s sample) error {
		var num string
		return db.QueryRow(ctx, "SELECT number FROM volunteer WHERE id = ?", s.id).Scan(&num)
	}
	fmt.Printf("search: %d queries of each kind, page of 25, unmasked; baseline: SELECT number FROM volunteer WHERE id = ?\n", len(ss))
	fmt.Printf("  %-42s %9s %9s %9s %9s %7s  %s\n", "kind", "p50", "p99", "base p50", "base p99", "p99/base", "plans (matches: median)")
	for _, k := range kinds {
		qs := make([]registry.Query, len(ss))
		for i, s := range ss {
			qs[i] = k.query(s)
		}
		// Warm the caches once, as a running instance would be.
		for i := range min(200, len(qs)) {
			if _, err := registry.Search(ctx, db, qs[i], true); err != nil {
				return err
			}
		}
		var lat, base []time.Duration
		plans := map[string]int{}
		var totals []int
		for i, q := range qs {
			t0 := time.Now()
			if err := baseline(ss[i]); err != nil {
				return err
			}
			t1 := time.Now()
			res, err := registry.Search(ctx, db, q, true)
			if err != nil {
				return fmt.Errorf("%s %+v: %w", k.name, q, err)
			}
			lat = append(lat, time.Since(t1))
			base = append(base, t1.Sub(t0))
			plans[res.Plan]++
			totals = append(totals, res.Total)
			if len(res.Rows) == 0 {
				return fmt.Errorf("%s %+v found nobody, but the volunteer it was made from exists", k.name, q)
			}
		}
		slices.Sort(lat)
		slices.Sort(base)
		slices.Sort(totals)
		var planText []string
		for p, c := range plans {
			planText = append(planText, fmt.Sprintf("%s %d", p, c))
		}
		slices.Sort(planText)
		p50, p99 := pct(lat, 50), pct(lat, 99)
		fmt.Printf("  %-42s %9s %9s %9s %9s %7.1fx  %s (%d)\n", k.name, ms(p50), ms(p99), ms(pct(base, 50)), ms(pct(base, 99)),
			float64(p99)/float64(pct(base, 50)), strings.Join(planText, ", "), totals[len(totals)/2])
	}
	return nil
}

func pct(ds []time.Duration, p int) time.Duration { return ds[min(len(ds)-1, len(ds)*p/100)] }

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000) }

// importBench times registry.Import of a synthetic file into an empty
// instance against a bare encoding/csv parse of the same bytes.
func importBench(ctx context.Context, db *store.DB, rows int) error {
	cfg, err := registry.SyntheticConfig(ctx, db)
	if err != nil {
		return err
	}
	cfg.DuplicateRate = 0
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	cols := []string{"given_name", "family_name", "other_names", "birth_date", "sex_at_birth", "gender", "phone.mobile",
		"email", "address.line1", "address.postal_code", "address.city", "address.country", "preferred_site", "status",
		"recruitment_source", "medical_history", "substance_use"}
	w.Write(cols)
	mapping := map[string]string{}
	for _, c := range cols {
		mapping[c] = c
	}
	err = synthetic.Generate(99, rows, cfg, func(v volunteer.Volunteer) error {
		if v.Status == volunteer.StatusPrivacyRemoved {
			v.Status = volunteer.StatusInactive
			v.GivenName, v.FamilyName, v.BirthDate = "Anna", "Privacy", volunteer.NewDate(1990, 1, 1)
		}
		phone := ""
		if len(v.Phones) > 0 {
			phone = v.Phones[0].Number
		}
		coded := func(es []volunteer.CodedEntry) string {
			var out []string
			for _, e := range es {
				out = append(out, e.Code+"@"+e.Start.ISO())
			}
			return strings.Join(out, "; ")
		}
		return w.Write([]string{v.GivenName, v.FamilyName, v.OtherNames, v.BirthDate.String(), string(v.SexAtBirth), string(v.Gender), phone,
			v.Email, v.Address.Line1, v.Address.PostalCode, v.Address.City, v.Address.Country, v.PreferredSite, string(v.Status),
			v.RecruitmentSource, coded(v.MedicalHistory), coded(v.SubstanceUse)})
	})
	if err != nil {
		return err
	}
	w.Flush()
	data := buf.Bytes()

	// Bare parse, best of three.
	var parse time.Duration
	for range 3 {
		t0 := time.Now()
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		n := 0
		for {
			if _, err := cr.Read(); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			n++
		}
		if d := time.Since(t0); parse == 0 || d < parse {
			parse = d
		}
	}
	t0 := time.Now()
	res, err := registry.Import(ctx, db, bench, bytes.NewReader(data), registry.ImportOptions{Mapping: mapping, Mode: registry.ValidRows,
		DuplicateReason: "benchmark data", Rejects: io.Discard})
	if err != nil {
		return err
	}
	d := time.Since(t0)
	if res.Rejected > 0 {
		fmt.Printf("  (%d rows rejected, first: %v)\n", res.Rejected, res.Problems[0])
	}
	fmt.Printf("import: %d rows (%.1f MB) into an empty instance: %.0f rows/s (registry.Import, valid-rows, with duplicate check and audit)\n",
		rows, float64(len(data))/1e6, float64(res.Imported)/d.Seconds())
	fmt.Printf("  bare encoding/csv parse of the same file: %.0f rows/s; import takes %.0fx the parse time\n",
		float64(rows)/parse.Seconds(), d.Seconds()/parse.Seconds())
	return nil
}
