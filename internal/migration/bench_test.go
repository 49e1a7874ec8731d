package migration_test

import (
	"context"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// BenchmarkSampleMigration migrates the shipped sample (≈31,000 source rows)
// into a fresh database per engine and reports source rows per second and
// the ratio against a bare read of every row of the same source in the same
// run (what transforms, checks, duplicate detection, storage and audit
// cost on top of reading).
//
//	go test -run '^$' -bench SampleMigration -benchtime 3x ./internal/migration/
func BenchmarkSampleMigration(b *testing.B) {
	ctx := context.Background()
	spec, err := sample.Spec()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			var rows int
			var bare, full time.Duration
			for b.Loop() {
				b.StopTimer()
				db := storetest.Open(b, e)
				src := sample.Source()
				start := time.Now()
				tables, _ := src.Tables(ctx)
				n := 0
				for _, t := range tables {
					src.Rows(ctx, t, func(r migration.Row) error { n++; return nil })
				}
				bare += time.Since(start)
				b.StartTimer()
				start = time.Now()
				rep, err := migration.Run(ctx, db, spec, src, migration.Options{Today: sampleToday})
				full += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				rows = rep.RowsRead()
				_ = n
			}
			b.ReportMetric(float64(rows)/full.Seconds()*float64(b.N), "rows/s")
			b.ReportMetric(float64(full)/float64(bare), "x-bare-read")
		})
	}
}
