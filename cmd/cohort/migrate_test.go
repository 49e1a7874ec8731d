package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestMigrateIntoADatabaseWithTheBinary runs the shipped sample into a
// database twice with the real binary: the second run rebuilds it from
// scratch rather than adding to it. A database holding volunteers that
// people registered is refused, and a broken specification names its line.
func TestMigrateIntoADatabaseWithTheBinary(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			dir := t.TempDir()
			dsn := storetest.NewDSN(t, e)
			reportFile := filepath.Join(dir, "report.json")
			var first int
			for i := range 2 {
				out, errOut, code := cohortRun(t, "migrate", "run", "--sample", "--into", dsn, "--report", reportFile, "--reason", "trial")
				if code != 0 || !strings.Contains(out, "Rebuilt") || !strings.Contains(out, "PATIENT → volunteer") || !strings.Contains(errOut, "store") {
					t.Fatalf("migrate run %d: exit %d\n%s\n%s", i+1, code, out, errOut)
				}
				b, err := os.ReadFile(reportFile)
				if err != nil {
					t.Fatal(err)
				}
				var rep migration.Report
				if err := json.Unmarshal(b, &rep); err != nil {
					t.Fatal(err)
				}
				db, err := store.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				n := volunteers(t, db)
				db.Close()
				if n != rep.Volunteers || n < 9000 {
					t.Fatalf("run %d: %d volunteers stored, report says %d", i+1, n, rep.Volunteers)
				}
				if i == 0 {
					first = n
				} else if n != first {
					t.Fatalf("the second run left %d volunteers, the first %d: the target was not rebuilt", n, first)
				}
			}

			// Volunteers registered by people make a database no target.
			people := storetest.NewDSN(t, e)
			if _, errOut, code := cohortRun(t, "demo", "volunteers", "--count", "5", "--database", people); code != 0 {
				t.Fatalf("demo volunteers: %s", errOut)
			}
			if _, errOut, code := cohortRun(t, "migrate", "run", "--sample", "--into", people); code != 1 || !strings.Contains(errOut, "not a migration target") {
				t.Errorf("migrating into a database with people's volunteers: exit %d\n%s", code, errOut)
			}
		})
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.json")
	os.WriteFile(spec, []byte("{\n  \"name\": \"x\",\n  \"studies\": {\"table\": \"S\", \"fields\": [\n    {\"field\": \"code\", \"column\": \"C\", \"transforms\": [\"uper\"]}\n  ]}\n}\n"), 0o644)
	if _, errOut, code := cohortRun(t, "migrate", "run", "--spec", spec, "--source", dir, "--into", filepath.Join(dir, "x.db")); code != 1 ||
		!strings.Contains(errOut, `line 4 (studies.fields[0].transforms[0]): "uper" is not a transform`) {
		t.Errorf("a broken specification: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := cohortRun(t, "migrate", "run", "--sample"); code != 2 || !strings.Contains(errOut, "--into DSN or --org ORG") {
		t.Errorf("no target: exit %d\n%s", code, errOut)
	}
}

const consolePassword = "Console pass 1234"

// TestMigrateThroughTheRegistryWithTheBinary queues a run for an
// organisation with no console running, lists it and refuses its sign-off
// while it has not run.
func TestMigrateThroughTheRegistryWithTheBinary(t *testing.T) {
	dataDir := t.TempDir()
	ctx := context.Background()
	c, err := openConsole(ctx, dataDir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := console.Bootstrap(ctx, c.DB, consolePassword); err != nil {
		t.Fatal(err)
	}
	if _, err := console.CreateOrganisation(ctx, c.DB, audit.Actor{Name: "test"}, "harbourview", "Harbourview CRU"); err != nil {
		t.Fatal(err)
	}
	c.DB.Close()
	out, errOut, code := cohortRun(t, "migrate", "run", "--sample", "--org", "harbourview", "--data-dir", dataDir, "--reason", "first look")
	if code != 0 || !strings.Contains(out, "Migration run 1 of harbourview") || !strings.Contains(out, "No console is running") {
		t.Fatalf("migrate run --org: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cohortRun(t, "migrate", "runs", "--org", "harbourview", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(out, "queued") || !strings.Contains(out, "cli:") {
		t.Fatalf("migrate runs: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cohortRun(t, "migrate", "report", "harbourview/1", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(out, "Migration run 1 of harbourview: queued") || !strings.Contains(out, "sha256:") {
		t.Fatalf("migrate report: exit %d\n%s\n%s", code, out, errOut)
	}
	sign := func(password string, args ...string) (string, int) {
		cmd := exec.Command(binary, append([]string{"migrate", "signoff", "--data-dir", dataDir}, args...)...)
		cmd.Stdin = strings.NewReader(password + "\n")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := sign(consolePassword, "harbourview/1", "--reason", "ok"); code != 2 || !strings.Contains(out, "--user") {
		t.Fatalf("signing off without --user: exit %d\n%s", code, out)
	}
	if out, code := sign("wrong password", "harbourview/1", "--user", "admin", "--reason", "ok"); code != 1 || !strings.Contains(out, "not correct; nothing was signed") {
		t.Fatalf("signing off with a wrong password: exit %d\n%s", code, out)
	}
	if out, code := sign(consolePassword, "harbourview/1", "--user", "admin", "--reason", "ok"); code != 1 || !strings.Contains(out, "only a successful run") {
		t.Fatalf("signing off a queued run: exit %d\n%s", code, out)
	}
	if _, errOut, code = cohortRun(t, "migrate", "run", "--sample", "--org", "harbourview", "--data-dir", dataDir); code != 1 || !strings.Contains(errOut, "busy") {
		t.Fatalf("a second run while the first is queued: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "migrations", "harbourview", "run-1", "source", "PATIENT.csv")); err != nil {
		t.Errorf("the run's copy of the source: %v", err)
	}
}
