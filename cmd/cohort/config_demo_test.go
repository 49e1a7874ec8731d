package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestConfigBundleOfTheDemoWithTheBinary moves the demo clinic's whole
// configuration — dictionaries, devices, labs, label templates and the
// Configure lists as well as roles, sites and settings — from one instance
// to an empty one with the command, and back out byte for byte.
func TestConfigBundleOfTheDemoWithTheBinary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := demo.Seed(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		all := "roles,sites,general-settings,system-settings,medical-dictionaries,devices,labs,barcode-labels,configure-lists"
		dir := t.TempDir()
		first, second := filepath.Join(dir, "demo.json"), filepath.Join(dir, "again.json")
		export := func(dsn, file string) []byte {
			t.Helper()
			_, stderr, code := cohortRun(t, "config", "export", "--database", dsn, "--categories", all, "--at", "2026-03-01T10:00:00Z",
				"--source-name", "Demo", "-o", file)
			if code != 0 {
				t.Fatalf("export exited %d: %s", code, stderr)
			}
			data, _ := os.ReadFile(file)
			return data
		}
		a := export(dsnOf(t, db), first)

		target := storetest.Open(t, db.Engine)
		dst := dsnOf(t, target)
		stdout, stderr, code := cohortRun(t, "config", "import", "--database", dst, "--dry-run", first)
		if code != 0 {
			t.Fatalf("dry run exited %d: %s", code, stderr)
		}
		for _, want := range []string{"medical-dictionaries: 2 added", `+ add meddra/27.1: active "true", language "English", links "263 entries", terms "265 entries"`,
			"devices: 42 added", `+ add type/STADIOMETER: active "true", calibration_interval_days "0", calibration_required "false"`,
			"labs: 43 added", "barcode-labels: 2 added", "configure-lists: 73 added", `+ add recruitment_source/NEWSPAPER: active "false"`} {
			if !strings.Contains(stdout, want) {
				t.Errorf("dry run output lacks %q:\n%.3000s", want, stdout)
			}
		}
		stdout, stderr, code = cohortRun(t, "config", "import", "--database", dst, "--reason", "Demo for Acme CRU", first)
		if code != 0 || !strings.Contains(stdout, "records added or changed in one transaction") {
			t.Fatalf("import exited %d: %s", code, stderr)
		}
		if b := export(dst, second); !bytes.Equal(a, b) {
			t.Fatal("export → import → export of the demo configuration is not byte-identical")
		}
	})
}
