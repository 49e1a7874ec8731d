package release_test

import (
	"context"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// BenchmarkStartChecks measures what the catalog adds in front of every
// start of an instance on a catalog build (and so to an upgrade's held
// time): verifying the stored binary's SHA-256 and reading the database's
// schema version for the guard. Run with -bench StartChecks -run '^$'.
func BenchmarkStartChecks(b *testing.B) {
	ctx := context.Background()
	for _, e := range engines {
		b.Run(string(e), func(b *testing.B) {
			c, cat := consoleOn261(b, e)
			reg, err := release.Get(ctx, cat.DB, "26.1", "7")
			if err != nil {
				b.Fatal(err)
			}
			dsn := storetest.NewDSN(b, e)
			db, err := store.Open(ctx, dsn)
			if err == nil {
				_, err = db.Migrate(ctx)
				db.Close()
			}
			if err != nil {
				b.Fatalf("an instance database to check: %v", err)
			}
			guard := c.Runtime.(*release.Guard)
			spec := console.Spec{Key: "acme/sandbox/main", Binary: c.Binary, DSN: dsn}
			b.Run("binary-sha256-cold", func(b *testing.B) {
				for b.Loop() {
					fresh := &release.Catalog{DB: cat.DB, Dir: cat.Dir} // nothing remembered: hashes the whole file
					if _, err := fresh.Binary(ctx, reg.Ref()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("binary-sha256-remembered", func(b *testing.B) {
				for b.Loop() {
					if _, err := cat.Binary(ctx, reg.Ref()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("schema-guard", func(b *testing.B) {
				for b.Loop() {
					if err := guard.Check(ctx, spec); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
