package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

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
// command as a newcomer would, in an empty directory, then stops it with
// SIGTERM.
func TestServeStartsFromNothingAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COHORT_DATA_DIR=", "COHORT_DATABASE=", "COHORT_ADMIN_PASSWORD=")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var url, password string
	lines := bufio.NewScanner(stdout)
	urlRe := regexp.MustCompile(`serving at (http://\S+/)`)
	pwRe := regexp.MustCompile(`one-time password: (\S+)`)
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for url == "" && lines.Scan() {
		if m := pwRe.FindStringSubmatch(lines.Text()); m != nil {
			password = m[1]
		}
		if m := urlRe.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if url == "" || len(password) < 12 {
		t.Fatalf("serve printed no URL (%q) or no one-time password (%q)", url, password)
	}
	if _, err := os.Stat(filepath.Join(dir, "cohort-data", "cohort.db")); err != nil {
		t.Fatalf("no embedded database in the default data directory: %v", err)
	}
	resp, err := http.Get(url + "readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get(url + "login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Demo Clinical Research Unit") || !strings.Contains(string(body), "cohort test · build 42") {
		t.Fatalf("login page lacks the demo organisation or the build:\n%s", body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGTERM: %v", err)
	}
}
