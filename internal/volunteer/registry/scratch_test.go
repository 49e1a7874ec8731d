package registry

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

func TestScratch(t *testing.T) {
	dsn := os.Getenv("SCRATCH_DB")
	if dsn == "" {
		t.Skip()
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, _ := db.Query(ctx, "SELECT given_name || ' ' || family_name, birth_date FROM volunteer WHERE id % 997 = 0 AND status <> 'privacy-removed' LIMIT 400")
	var names, births []string
	for rows.Next() {
		var n, b string
		rows.Scan(&n, &b)
		names = append(names, n)
		births = append(births, b)
	}
	rows.Close()
	type hit struct {
		d    time.Duration
		q    string
		plan string
		tot  int
	}
	for _, kind := range []string{"name", "birth"} {
		var hits []hit
		for i := range names {
			q := Query{Name: names[i], Sort: ByFamilyName}
			if kind == "birth" {
				q = Query{BirthDate: births[i]}
			}
			t0 := time.Now()
			res, err := Search(ctx, db, q, true)
			d := time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, hit{d, q.Name + q.BirthDate, res.Plan, res.Total})
		}
		slices.SortFunc(hits, func(a, b hit) int { return int(b.d - a.d) })
		for _, h := range hits[:8] {
			fmt.Printf("%s %v %q %s %d\n", kind, h.d, h.q, h.plan, h.tot)
		}
		fmt.Println("median", hits[len(hits)/2].d)
	}
}

func TestScratchExplain(t *testing.T) {
	dsn := os.Getenv("SCRATCH_DB")
	if dsn == "" {
		t.Skip()
	}
	ctx := context.Background()
	db, _ := store.Open(ctx, dsn)
	defer db.Close()
	for _, q := range []Query{{Name: "Inge Jacobs", Sort: ByFamilyName}, {BirthDate: "2000-12-02"}, {Name: "jansen"}, {Name: "jan"}} {
		cs := criteria(q)
		var all int
		db.QueryRow(ctx, "SELECT MAX(id) FROM volunteer").Scan(&all)
		for _, c := range cs {
			t0 := time.Now()
			c.estimate(ctx, db, all)
			fmt.Printf("%s %q count %d (%v)\n", c.kind, c.lo, c.count, time.Since(t0))
		}
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			res, _ := Search(ctx, db, q, true)
			fmt.Printf("  %s %d %v\n", res.Plan, res.Total, time.Since(t0))
		}
	}
	explain := func(q string, args ...any) {
		rows, err := db.Query(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println("   ", a, b, d)
		}
		rows.Close()
	}
	explain("SELECT m.volunteer_id, COUNT(*) OVER () FROM (SELECT DISTINCT t.volunteer_id, t.number, t.family_key, t.birth_date FROM volunteer_name_token t WHERE t.token >= ? AND t.token < ? AND instr(t.name_tokens, ?) > 0) m ORDER BY m.family_key, m.number LIMIT 25 OFFSET 0", "inge", "inge\U0010FFFF", " jacobs")
	explain("SELECT v.id, COUNT(*) OVER () FROM (SELECT c.id FROM volunteer c WHERE c.birth_date = ?) d CROSS JOIN volunteer v WHERE v.id = d.id ORDER BY v.number LIMIT 25 OFFSET 0", "2000-12-02")
	explain("SELECT COUNT(*) FROM (SELECT v.id FROM volunteer v WHERE v.birth_date = ? LIMIT 5001) c", "2000-12-02")
	explain("SELECT v.id FROM volunteer v WHERE instr(v.name_tokens, ?) > 0 ORDER BY v.number LIMIT 26 OFFSET 0", " jan")
}

func TestScratchPragma(t *testing.T) {
	dsn := os.Getenv("SCRATCH_DB")
	if dsn == "" {
		t.Skip()
	}
	ctx := context.Background()
	db, _ := store.Open(ctx, dsn)
	var v int
	err := db.QueryRow(ctx, "PRAGMA default_cache_size").Scan(&v)
	fmt.Println("default_cache_size", v, err)
	_, err = db.Exec(ctx, "PRAGMA default_cache_size = 4096")
	fmt.Println("set", err)
	db.Close()
	db, _ = store.Open(ctx, dsn)
	defer db.Close()
	err = db.QueryRow(ctx, "PRAGMA cache_size").Scan(&v)
	fmt.Println("cache_size on a new reader", v, err)
}
