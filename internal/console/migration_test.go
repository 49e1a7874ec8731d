package console_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func countIn(t *testing.T, dsn, query string, args ...any) int {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrationRunsRebuildTheMigrationInstance walks the migration program
// through the console with real instance processes: a first run creates the
// organisation's Migration environment; an edit made in the instance is
// gone after the next run, which uses a changed specification; the two
// runs' reports are compared; only the latest run can be signed off; the
// signed-off run loads into another database with the same output.
func TestMigrationRunsRebuildTheMigrationInstance(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			if e == store.Postgres {
				storetest.NewDSN(t, e) // skips (or fails in CI) without PostgreSQL
			}
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			dana := audit.Actor{ID: 1, Name: "dana"}
			if _, err := console.CreateOrganisation(ctx, c.DB, dana, "harbourview", "Harbourview CRU"); err != nil {
				t.Fatal(err)
			}
			run1, err := c.StartMigration(ctx, dana, console.MigrationRequest{Org: "harbourview", Sample: true, Reason: "first look at ClinBase data"})
			if err != nil {
				t.Fatal(err)
			}
			if run1.Number != 1 || len(run1.SpecSHA256) != 64 || len(run1.SourceSHA256) != 64 {
				t.Fatalf("run 1: %+v", run1)
			}
			op, err := console.GetOperation(ctx, c.DB, run1.OperationID)
			if err != nil {
				t.Fatal(err)
			}
			done := consoletest.Wait(t, c, op, console.OpDone)
			if !strings.Contains(done.Log, "Migrated ") {
				t.Errorf("the operation log does not report the migration:\n%s", done.Log)
			}
			run1, err = console.GetMigrationRun(ctx, c.DB, "harbourview", 1)
			if err != nil {
				t.Fatal(err)
			}
			if run1.State != console.RunDone || run1.Report == nil || run1.Report.Volunteers < 9000 {
				t.Fatalf("run 1 after the operation: state %s, report %+v, failure %s", run1.State, run1.Report, run1.Failure)
			}
			inst := instance(t, c, run1.Instance)
			if inst.Kind != console.Migration || inst.State != console.Running {
				t.Fatalf("the Migration instance %s is %s %s", inst.Key(), inst.Kind, inst.State)
			}
			dsn := c.Places.DSN(inst)
			// The Migration instance runs read-only: its pages say so.
			ispec, err := c.Spec(inst)
			if err != nil {
				t.Fatal(err)
			}
			if _, body := get(t, "http://"+ispec.Addr+"/login"); !ispec.ReadOnly || !strings.Contains(body, "read-only-banner") {
				t.Errorf("the Migration instance is not marked read-only (spec %v)", ispec.ReadOnly)
			}
			if n := countIn(t, dsn, "SELECT COUNT(*) FROM volunteer"); n != run1.Report.Volunteers {
				t.Fatalf("%d volunteers in the instance, the report says %d", n, run1.Report.Volunteers)
			}
			// A hand edit in the Migration instance is not kept.
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, "UPDATE volunteer SET notes = 'EDITED BY HAND' WHERE id = (SELECT MIN(id) FROM volunteer)"); err != nil {
				t.Fatal(err)
			}
			db.Close()

			// Run 2: duplicates rejected instead of merged, from paths.
			dir := t.TempDir()
			spec := strings.Replace(string(sample.SpecJSON()), `"duplicates": "merge"`, `"duplicates": "reject"`, 1)
			if err := os.WriteFile(filepath.Join(dir, "spec.json"), []byte(spec), 0o644); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(dir, "source")
			if err := os.CopyFS(src, sample.SourceFS()); err != nil {
				t.Fatal(err)
			}
			run2, err := c.StartMigration(ctx, dana, console.MigrationRequest{Org: "harbourview", SpecPath: filepath.Join(dir, "spec.json"), SourcePath: src, Reason: "reject duplicates"})
			if err != nil {
				t.Fatal(err)
			}
			if run2.SourceSHA256 != run1.SourceSHA256 || run2.SpecSHA256 == run1.SpecSHA256 {
				t.Errorf("fingerprints: source %s/%s should match, spec %s/%s should differ", run1.SourceSHA256, run2.SourceSHA256, run1.SpecSHA256, run2.SpecSHA256)
			}
			op2, _ := console.GetOperation(ctx, c.DB, run2.OperationID)
			consoletest.Wait(t, c, op2, console.OpDone)
			if n := countIn(t, dsn, "SELECT COUNT(*) FROM volunteer WHERE notes = 'EDITED BY HAND'"); n != 0 {
				t.Error("the hand edit survived the rebuild of the Migration instance")
			}
			_, _, diffs, err := console.CompareMigrationRuns(ctx, c.DB, "harbourview", 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			var merged, dupRejected bool
			for _, d := range diffs {
				if d.Table == "PATIENT" && d.Figure == "merged" && d.Before > 0 && d.After == 0 {
					merged = true
				}
				if d.Table == "PATIENT" && d.Figure == "rejected: duplicate" && d.Before == 0 && d.After > 0 {
					dupRejected = true
				}
			}
			if !merged || !dupRejected {
				t.Errorf("comparison of runs 1 and 2 misses the merged/duplicate change: %+v", diffs)
			}

			// Sign-off: the latest successful run only, with a reason.
			var refusal *console.Refusal
			if err := c.SignOffMigration(ctx, dana, "harbourview", 1, "looks fine"); !errors.As(err, &refusal) {
				t.Errorf("signing off an older run: %v, want a refusal", err)
			}
			if err := c.SignOffMigration(ctx, dana, "harbourview", 2, " "); err == nil {
				t.Error("a sign-off without a reason was accepted")
			}
			if err := c.SignOffMigration(ctx, dana, "harbourview", 2, "customer QC of iteration 2 passed"); err != nil {
				t.Fatal(err)
			}
			facts, err := console.FactsOf(ctx, c.DB, "harbourview")
			if err != nil {
				t.Fatal(err)
			}
			if !facts.Has(console.MigrationSignedOff) {
				t.Error("the sign-off did not record the milestone")
			}
			run2, _ = console.GetMigrationRun(ctx, c.DB, "harbourview", 2)
			if !run2.SignedOff() || run2.SignedOffBy != "dana" {
				t.Errorf("run 2 after sign-off: %+v", run2)
			}

			// LoadMigration gives another prepared database the same output.
			target := storetest.Open(t, e)
			tdsn := storetest.NewDSN(t, e)
			target.Close()
			tdb, err := store.Open(ctx, tdsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tdb.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			tdb.Close()
			var lines []string
			if err := c.LoadMigration(ctx, run2.ID, console.Spec{Key: "harbourview/val/main", DSN: tdsn}, func(s string) { lines = append(lines, s) }); err != nil {
				t.Fatal(err)
			}
			if n := countIn(t, tdsn, "SELECT COUNT(*) FROM volunteer"); n != run2.Report.Volunteers || len(lines) < 2 {
				t.Errorf("loaded %d volunteers (run 2 has %d), %d progress lines", n, run2.Report.Volunteers, len(lines))
			}
			// A changed copy of the source can no longer repeat the run.
			f, err := os.OpenFile(filepath.Join(run2.SourcePath, "PATIENT.csv"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("999998,\"EXTRA, Row\",01/01/1990,M,,,,,,,,,,,,,\n")
			f.Close()
			if err := c.LoadMigration(ctx, run2.ID, console.Spec{Key: "harbourview/val/main", DSN: tdsn}, nil); err == nil || !strings.Contains(err.Error(), "cannot be repeated exactly") {
				t.Errorf("loading a run whose source copy changed: %v", err)
			}
		})
	}
}
