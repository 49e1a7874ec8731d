package consoletest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/migration/sample"
)

// SmallLegacySource writes the shipped sample Migration Specification and
// the first rows of each table of the sample legacy source (ClinBase 4
// CSV files) into dir (the test's temporary directory when empty), and
// returns their paths.
// A migration run over it takes seconds instead of the full sample's ten
// thousand volunteers, while every table and rule is still exercised.
func SmallLegacySource(t testing.TB, dir string, rows int) (specPath, sourceDir string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	specPath, sourceDir = filepath.Join(dir, "spec.json"), filepath.Join(dir, "source")
	if err := os.WriteFile(specPath, sample.SpecJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sourceDir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := sample.SourceFS()
	entries, err := fs.ReadDir(src, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(src, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		// The header line and rows data lines.
		lines := strings.SplitAfter(string(b), "\n")
		if len(lines) > rows+1 {
			lines = lines[:rows+1]
		}
		if err := os.WriteFile(filepath.Join(sourceDir, e.Name()), []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return specPath, sourceDir
}
