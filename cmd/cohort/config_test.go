package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// cohortRun runs the real binary and returns its standard output, standard
// error and exit code.
func cohortRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "USER=qa.lead")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestConfigExportAndImportWithTheBinary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		by := audit.Actor{ID: 1, Name: "admin"}
		if err := access.SeedRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := access.CreateRole(ctx, db, by, access.Role{Code: "lab-tech", Name: "Lab technician", Permissions: access.Set{access.ConfigView: true}}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []site.Site{{Code: "AMS", Name: "Amsterdam", TimeZone: "Europe/Amsterdam"}, {Code: "OLD", Name: "Closed ward", TimeZone: "UTC"}} {
			if _, err := site.Create(ctx, db, by, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := site.Archive(ctx, db, by, "OLD", 1, "closed"); err != nil {
			t.Fatal(err)
		}
		if err := setting.Save(ctx, db, by, setting.General, "", map[string]string{"org.name": "Leiden CRU", "sso.client_id": "sandbox-client"}, "setup"); err != nil {
			t.Fatal(err)
		}
		src := dsnOf(t, db)
		dir := t.TempDir()
		first, second := filepath.Join(dir, "first.json"), filepath.Join(dir, "second.json")

		// Two exports with the same --at are byte-identical.
		at := "2026-03-01T10:00:00Z"
		for _, f := range []string{first, second} {
			_, stderr, code := cohortRun(t, "config", "export", "--database", src, "--at", at, "--source-name", "Sandbox Main", "-o", f)
			if code != 0 || !strings.Contains(stderr, "wrote configuration bundle") || !strings.Contains(stderr, "roles, sites, general-settings, system-settings") {
				t.Fatalf("export exited %d: %s", code, stderr)
			}
		}
		a, _ := os.ReadFile(first)
		b, _ := os.ReadFile(second)
		if !bytes.Equal(a, b) {
			t.Fatal("two exports with the same --at differ")
		}
		if strings.Contains(string(a), "Closed ward") || strings.Contains(string(a), "sandbox-client") {
			t.Fatal("the bundle holds an archived site or an integration-specific setting")
		}
		// To standard output, and with chosen categories.
		stdout, _, code := cohortRun(t, "config", "export", "--database", src, "--categories", "sites")
		if code != 0 || !strings.Contains(stdout, `"category": "sites"`) || strings.Contains(stdout, `"category": "roles"`) {
			t.Fatalf("export of sites to stdout (%d):\n%s", code, stdout)
		}
		if _, stderr, code := cohortRun(t, "config", "export", "--database", src, "--categories", "roles,teleporters"); code != 1 ||
			!strings.Contains(stderr, `no configuration category "teleporters"`) {
			t.Fatalf("unknown category: exit %d: %s", code, stderr)
		}

		// A dry run into an empty instance shows the plan and changes nothing.
		target := storetest.Open(t, db.Engine)
		dst := dsnOf(t, target)
		stdout, stderr, code := cohortRun(t, "config", "import", "--database", dst, "--dry-run", first)
		if code != 0 {
			t.Fatalf("dry run exited %d: %s", code, stderr)
		}
		for _, want := range []string{"from Leiden CRU (Sandbox Main), exported 2026-03-01T10:00:00Z", "roles: 6 added",
			`+ add lab-tech: description "", name "Lab technician", permissions "config.view"`, "sites: 1 added",
			`~ change org.name`, `value: "Demo Clinical Research Unit" → "Leiden CRU"`, "Dry run: nothing was changed. Importing would add or change 8 records."} {
			if !strings.Contains(stdout, want) {
				t.Errorf("dry run output lacks %q:\n%s", want, stdout)
			}
		}
		if _, n, _ := audit.List(ctx, target, audit.Filter{}); n != 0 {
			t.Fatalf("a dry run wrote %d audit entries", n)
		}

		// Without a reason the import is refused; with one (after the file
		// name) it is applied; a second time there is nothing to do.
		if _, stderr, code := cohortRun(t, "config", "import", "--database", dst, first); code != 2 || !strings.Contains(stderr, "--reason") {
			t.Fatalf("import without a reason: exit %d: %s", code, stderr)
		}
		stdout, stderr, code = cohortRun(t, "config", "import", "--database", dst, first, "--reason", "Promote to VAL")
		if code != 0 || !strings.Contains(stdout, "records added or changed in one transaction") {
			t.Fatalf("import exited %d: %s\n%s", code, stderr, stdout)
		}
		entries, _, _ := audit.List(ctx, target, audit.Filter{Entity: "role", EntityID: "lab-tech"})
		if len(entries) == 0 || entries[0].Actor != "cli:qa.lead" || !strings.HasPrefix(entries[0].Reason, "Promote to VAL [configuration bundle ") {
			t.Fatalf("audit of the import: %+v", entries)
		}
		stdout, _, code = cohortRun(t, "config", "import", "--database", dst, "--reason", "again", first)
		if code != 0 || !strings.Contains(stdout, "Nothing to import: this instance already matches the bundle.") {
			t.Fatalf("second import (%d):\n%s", code, stdout)
		}
		roundTrip := filepath.Join(dir, "round-trip.json")
		if _, stderr, code := cohortRun(t, "config", "export", "--database", dst, "--at", at, "--source-name", "Sandbox Main", "-o", roundTrip); code != 0 {
			t.Fatalf("export from the target: %s", stderr)
		}
		if c, _ := os.ReadFile(roundTrip); !bytes.Equal(a, c) {
			t.Fatalf("export → import → export is not byte-identical:\n%s", c)
		}

		// A bundle changed after export is refused and changes nothing.
		tampered := filepath.Join(dir, "tampered.json")
		os.WriteFile(tampered, bytes.Replace(a, []byte("Lab technician"), []byte("Lab technicIan"), 1), 0o644)
		_, n0, _ := audit.List(ctx, target, audit.Filter{})
		_, stderr, code = cohortRun(t, "config", "import", "--database", dst, "--reason", "x", tampered)
		if code != 1 || !strings.Contains(stderr, "The bundle was changed after export: its content hash is") {
			t.Fatalf("tampered bundle: exit %d: %s", code, stderr)
		}
		malformed := filepath.Join(dir, "malformed.json")
		os.WriteFile(malformed, []byte("{\n  \"manifest\": {\n    \"format\": \"cohort-configuration-bundle\"\n    \"format_version\": 1\n"), 0o644)
		_, stderr, code = cohortRun(t, "config", "import", "--database", dst, "--dry-run", malformed)
		if code != 1 || !strings.Contains(stderr, "line 4, column 5") {
			t.Fatalf("malformed bundle: exit %d: %s", code, stderr)
		}
		if _, n1, _ := audit.List(ctx, target, audit.Filter{}); n1 != n0 {
			t.Fatal("a refused import wrote to the audit trail")
		}
	})
}
