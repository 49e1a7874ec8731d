package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var (
	releaseOnce   sync.Once
	releaseBinary string
	releaseErr    error
)

// release262 builds cohort as release 26.2 (build 5), once for the tests
// that register a real release build.
func release262(t *testing.T) string {
	t.Helper()
	releaseOnce.Do(func() {
		releaseBinary = filepath.Join(filepath.Dir(binary), "cohort-26.2")
		out, err := exec.Command("go", "build", "-o", releaseBinary, "-ldflags",
			"-X main.version=26.2 -X main.buildNumber=5 -X main.buildTime=2026-11-25T12:00:00Z -X main.revision=feedfacecafe", ".").CombinedOutput()
		if err != nil {
			releaseErr = err
			t.Logf("%s", out)
		}
	})
	if releaseErr != nil {
		t.Fatalf("build release 26.2: %v", releaseErr)
	}
	return releaseBinary
}

// cohortCLI runs the built binary and returns its exit code and output.
func cohortCLI(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COHORT_DATA_DIR=", "COHORT_DATABASE=")
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func TestVersionReportsTheSchemaTheBuildNeeds(t *testing.T) {
	out, err := exec.Command(binary, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Version       string `json:"version"`
		Build         string `json:"build"`
		SHA256        string `json:"sha256"`
		SchemaVersion int64  `json:"schema_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "test" || v.Build != "42" || len(v.SHA256) != 64 || v.SchemaVersion != instance.SchemaVersion() || v.SchemaVersion == 0 {
		t.Fatalf("version --json: %s (want schema %d)", out, instance.SchemaVersion())
	}
}

func TestReleaseCatalogFromTheCommandLine(t *testing.T) {
	rel := release262(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.md")
	os.WriteFile(notes, []byte("## Features\n- Release catalog\n\n## Fixes\n- Footer build\n\n## Known issues\n- None known\n"), 0o644)

	code, out := cohortCLI(t, dir, "release", "register", rel, "--notes", notes)
	if code != 0 || !strings.Contains(out, "Registered build 26.2 (build 5): built 2026-11-25T12:00:00Z from revision feedfacecafe, schema "+strconv.FormatInt(instance.SchemaVersion(), 10)) {
		t.Fatalf("register: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "register", rel); code != 0 || !strings.Contains(out, "was already registered with this binary") {
		t.Fatalf("register again: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "register", binary); code != 1 || !strings.Contains(out, `reports version "test", which is not a release version`) {
		t.Fatalf("register a development build: exit %d\n%s", code, out)
	}
	code, out = cohortCLI(t, dir, "release", "list", "--json")
	var list []struct {
		Version, Build, SHA256 string
		SchemaVersion          int64  `json:"schema_version"`
		RegisteredBy           string `json:"registered_by"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 || list[0].Version != "26.2" ||
		list[0].SchemaVersion != instance.SchemaVersion() || !strings.HasPrefix(list[0].RegisteredBy, "cli:") {
		t.Fatalf("list --json: exit %d, %v\n%s", code, err, out)
	}
	if code, out := cohortCLI(t, dir, "release", "show", "26.2+5"); code != 0 || !strings.Contains(out, "## Known issues\n- None known") || !strings.Contains(out, list[0].SHA256) {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "show", "26.3"); code != 1 || !strings.Contains(out, "Build 26.3 is not in the release catalog") {
		t.Fatalf("show an unregistered build: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "verify"); code != 0 || !strings.Contains(out, "All 1 stored binaries match") {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}

	// New instances on a chosen build; an unregistered one is refused.
	if code, out := cohortCLI(t, dir, "instance", "create", "acme/sandbox", "--kind", "sandbox", "--org-name", "Acme CRU", "--build", "26.9", "--wait=false"); code != 1 ||
		!strings.Contains(out, "Build 26.9 is not in the release catalog") {
		t.Fatalf("create on an unregistered build: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "instance", "create", "acme/sandbox", "--kind", "sandbox", "--org-name", "Acme CRU", "--build", "26.2", "--wait=false"); code != 0 {
		t.Fatalf("create on 26.2: exit %d\n%s", code, out)
	}
	code, out = cohortCLI(t, dir, "instance", "list", "--json")
	if code != 0 || strings.Count(out, `"build": "26.2 (build 5)"`)+strings.Count(out, `"build":"26.2 (build 5)"`) != 2 {
		t.Fatalf("the new pair does not record build 26.2: exit %d\n%s", code, out)
	}

	// A hotfix of 26.2 is offered to the pair; the customer's answers are
	// recorded, and nothing is installed without an acceptance the
	// console takes (this pair is still being made).
	hotfix := filepath.Join(dir, "cohort-26.2.1")
	os.WriteFile(hotfix, []byte("#!/bin/sh\nsum=$(sha256sum \"$0\" | cut -d' ' -f1)\n"+
		"printf '{\"version\": \"26.2.1\", \"build\": \"6\", \"sha256\": \"%s\", \"schema_version\": 3}\\n' \"$sum\"\n"), 0o755)
	if code, out := cohortCLI(t, dir, "release", "register", hotfix); code != 0 || !strings.Contains(out, "It is a hotfix of release 26.2") {
		t.Fatalf("register hotfix 26.2.1: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "hotfixes", "acme/sandbox/main"); code != 0 || !strings.Contains(out, "acme/sandbox/main runs 26.2 (build 5); hotfix 26.2.1 (build 6) is offered") {
		t.Fatalf("hotfixes: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "decline", "acme/sandbox/main", "26.2.1"); code != 2 || !strings.Contains(out, "--reason") {
		t.Fatalf("decline without a reason: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "decline", "acme/sandbox/main", "26.2.1", "--reason", "not affected"); code != 0 || !strings.Contains(out, "Declined hotfix 26.2.1 (build 6)") {
		t.Fatalf("decline: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "accept", "acme/sandbox/main", "26.2.1", "--reason", "CR-114", "--wait=false"); code != 1 || !strings.Contains(out, "is busy") {
		t.Fatalf("accept for an instance still being made: exit %d\n%s", code, out)
	}
	if code, out := cohortCLI(t, dir, "release", "hotfixes", "acme/sandbox/main"); code != 0 || !strings.Contains(out, "Declined by cli:") || strings.Contains(out, "Accepted") {
		t.Fatalf("hotfixes after the answers: exit %d\n%s", code, out)
	}

	// The stored copy is changed behind the catalog's back.
	stored, _ := filepath.Glob(filepath.Join(dir, "cohort-data", "releases", "cohort-26.2+5-*"))
	if len(stored) != 1 {
		t.Fatalf("stored binaries: %v", stored)
	}
	f, _ := os.OpenFile(stored[0], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("implant")
	f.Close()
	if code, out := cohortCLI(t, dir, "release", "verify"); code != 1 || !strings.Contains(out, "no longer matches what was registered") || !strings.Contains(out, "1 of 2 stored binaries failed") {
		t.Fatalf("verify a changed binary: exit %d\n%s", code, out)
	}
}

// TestInstanceServeRefusesADatabaseAheadOfItsBuild starts the real command
// on a real database a newer build migrated.
func TestInstanceServeRefusesADatabaseAheadOfItsBuild(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ahead := instance.SchemaVersion() + 2
		storetest.MustExec(t, db, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", ahead, true)
		code, out := cohortCLI(t, t.TempDir(), "instance", "serve", "--database", dsnOf(t, db), "--addr", "127.0.0.1:0")
		want := "This database is at schema " + strconv.FormatInt(ahead, 10) + ", but build test (build 42) knows only up to " +
			strconv.FormatInt(instance.SchemaVersion(), 10) + "; start it with a build whose schema version is " + strconv.FormatInt(ahead, 10) + " or later."
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("instance serve on a database ahead of it: exit %d\n%s\nwant %s", code, out, want)
		}
		var v int64
		db.QueryRow(context.Background(), "SELECT MAX(version_id) FROM goose_db_version").Scan(&v)
		if v != ahead {
			t.Fatalf("the refused database's schema moved to %d", v)
		}
	})
}

// TestTheConsoleRegistersItsOwnBuildOnStart starts `cohort serve` in an
// empty directory: its catalog then holds its own build, so it is never
// empty, and its /metrics names the build.
func TestTheConsoleRegistersItsOwnBuildOnStart(t *testing.T) {
	dir := t.TempDir()
	con := startConsole(t, dir, "COHORT_NO_DEMO=true")
	code, out := cohortCLI(t, dir, "release", "list", "--json")
	if code != 0 || !strings.Contains(out, `"version": "test"`) || !strings.Contains(out, `"registered_by": "console"`) {
		t.Fatalf("the console's own build is not in its catalog: exit %d\n%s", code, out)
	}
	if code, body := fetch(t, con.url+"metrics"); code != 200 || !strings.Contains(body, `cohort_build_info{component="console",version="test",build="42"`) ||
		!strings.Contains(body, "cohort_release_builds 1") {
		t.Fatalf("the console's /metrics: %d\n%s", code, body)
	}
}

// TestInstancesKeepTheirBuildWhenTheConsoleIsReplaced runs a console on
// release 26.2, whose Demo instance is made on 26.2, then replaces the
// console with another build: the Demo instance comes back on 26.2, run
// from the catalog's copy, side by side with the new console's build.
func TestInstancesKeepTheirBuildWhenTheConsoleIsReplaced(t *testing.T) {
	rel := release262(t)
	dir := t.TempDir()
	own := binary
	binary = rel
	first := startConsole(t, dir)
	binary = own
	demo := first.waitDemo(t)
	if code, body := fetch(t, demo+"login"); code != 200 || !strings.Contains(body, "cohort 26.2 · build 5 · built 2026-11-25T12:00:00Z · revision feedfacecafe") {
		t.Fatalf("the Demo instance made by console 26.2 is not on 26.2: %d\n%s", code, body)
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("console 26.2 did not stop cleanly: %v", err)
	}

	second := startConsole(t, dir)
	if _, body := fetch(t, second.url+"login"); !strings.Contains(body, "cohort console test · build 42") {
		t.Fatalf("the replacing console's footer:\n%s", body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := fetch(t, second.url+"i/demo-cru/demo/main/login")
		if code == 200 && strings.Contains(body, "cohort 26.2 · build 5") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Demo instance did not come back on 26.2 under the new console: %d\n%s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(instancePID(t, dir, "demo-cru/demo/main")) + "/exe")
	if err != nil || !strings.Contains(exe, filepath.Join("cohort-data", "releases", "cohort-26.2+5-")) {
		t.Fatalf("the Demo instance runs %s (%v), not the catalog's copy of 26.2", exe, err)
	}
	code, out := cohortCLI(t, dir, "release", "list", "--json")
	if code != 0 || !strings.Contains(out, `"version": "26.2"`) || !strings.Contains(out, `"version": "test"`) {
		t.Fatalf("the catalog does not hold both consoles' builds: exit %d\n%s", code, out)
	}
}
