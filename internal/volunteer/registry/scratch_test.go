package registry

import (
	"context"
	"fmt"
	"os"
	"strings"
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
	for _, q := range strings.Split(os.Getenv("SCRATCH_Q"), "|") {
		for _, tok := range strings.Fields(q) {
			var n int
			t0 := time.Now()
			db.QueryRow(ctx, "SELECT COUNT(*) FROM volunteer_name_token WHERE token >= ? AND token < ?", tok, tok+hiSuffix).Scan(&n)
			fmt.Printf("%q: %d tokens (%v)\n", tok, n, time.Since(t0))
		}
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			res, err := Search(ctx, db, Query{Name: q}, true)
			fmt.Printf("  search %q: plan %s total %d exact %v rows %d in %v err %v\n", q, res.Plan, res.Total, res.Exact, len(res.Rows), time.Since(t0), err)
		}
	}
	if ex := os.Getenv("SCRATCH_EXPLAIN"); ex != "" {
		rows, err := db.Query(ctx, "EXPLAIN QUERY PLAN "+ex)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println(a, b, d)
		}
		rows.Close()
	}
}
