package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// binary is the cohort command built once for the tests that run it as a
// real child process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cohort-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cohort")
	build := exec.Command("go", "build", "-o", binary, "-ldflags", "-X main.version=test -X main.buildNumber=42", ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build cohort: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestAuditVerifyNamesTheTamperedEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"Amsterdam", "Rotterdam", "Utrecht"} {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return audit.Record(ctx, tx, audit.Event{Actor: audit.Actor{ID: 1, Name: "admin"}, Action: audit.Create,
					Entity: "site", EntityID: name[:3], Changes: []audit.Change{{Field: "name", New: name}}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		dsn := dsnOf(t, db)
		out, err := exec.Command(binary, "audit", "verify", "--database", dsn).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "intact: 3 entries") {
			t.Fatalf("verify of an intact trail: %v\n%s", err, out)
		}

		// Someone with database access bypasses the guard and rewrites history.
		if db.Engine == store.SQLite {
			storetest.MustExec(t, db, "DROP TRIGGER audit_entry_no_update")
		} else {
			storetest.MustExec(t, db, "ALTER TABLE audit_entry DISABLE TRIGGER USER")
		}
		storetest.MustExec(t, db, "UPDATE audit_entry SET new_value = 'Eindhoven' WHERE seq = 2")

		cmd := exec.Command(binary, "audit", "verify", "--database", dsn)
		out, err = cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("verify of a tampered trail exited %d, want 1: %v\n%s", cmd.ProcessState.ExitCode(), err, out)
		}
		if !strings.Contains(string(out), "TAMPERED") || !strings.Contains(string(out), "entry 2 ") {
			t.Fatalf("verify does not name entry 2:\n%s", out)
		}
	})
}

// dsnOf gives the command line the same database the test holds open.
func dsnOf(t *testing.T, db *store.DB) string {
	if db.Engine == store.SQLite {
		return db.Location
	}
	var name string
	if err := db.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(storetest.PostgresDSN(), "/postgres?", "/"+name+"?", 1)
}

// TestServeStartsFromNothingAndStopsGracefully runs the README's start
// command as a newcomer would, in an empty directory: the console starts
// with its own database and administrator, creates the demo customer with
// a running Demo instance reachable through its proxy, and on SIGTERM stops
// cleanly, instances included.
func TestServeStartsFromNothingAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	con := startConsole(t, dir)
	if len(con.password) < 12 {
		t.Fatalf("serve printed no one-time password for the console administrator (%q)", con.password)
	}
	if _, err := os.Stat(filepath.Join(dir, "cohort-data", "console.db")); err != nil {
		t.Fatalf("no console database in the default data directory: %v", err)
	}
	code, body := fetch(t, con.url+"readyz")
	if code != 200 || !strings.Contains(body, "console schema") {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if _, body := fetch(t, con.url+"login"); !strings.Contains(body, "Log in to the console") || !strings.Contains(body, "cohort console test · build 42") {
		t.Fatalf("the console's login page lacks its title or the build:\n%s", body)
	}
	demo := con.waitDemo(t)
	if demo != con.url+"i/demo-cru/demo/main/" || len(con.demoPassword) < 12 {
		t.Fatalf("demo instance at %q with password %q", demo, con.demoPassword)
	}
	code, body = fetch(t, demo+"login")
	if code != 200 || !strings.Contains(body, "Demo Clinical Research Unit") || !strings.Contains(body, "cohort test · build 42") {
		t.Fatalf("the Demo instance's login page through the proxy: %d\n%s", code, body)
	}
	pid := instancePID(t, dir, "demo-cru/demo/main")
	con.cmd.Process.Signal(syscall.SIGTERM)
	if err := con.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGTERM: %v", err)
	}
	if processAlive(pid) {
		t.Fatal("the Demo instance's process outlived the console")
	}
}
