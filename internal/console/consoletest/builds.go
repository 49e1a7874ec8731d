package consoletest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cohort-clinical/cohort/internal/console"
)

// Catalog is a release catalog over builds a test or benchmark made: each
// build's binary by its version and number.
type Catalog map[console.Build]string

// Binary returns the binary of build b.
func (m Catalog) Binary(_ context.Context, b console.Build) (string, error) {
	if p, ok := m[b]; ok {
		return p, nil
	}
	return "", fmt.Errorf("build %s is not registered", b)
}

// ModuleRoot is the directory of the module being tested.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// GoBuild builds cmd/cohort from the module in dir into out as build b
// (its version and build number set by the linker). -trimpath lets a copy
// of the module reuse the build cache.
func GoBuild(dir, out string, b console.Build) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "-ldflags", "-X main.version="+b.Version+" -X main.buildNumber="+b.Number, "./cmd/cohort")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", b, err)
	}
	return nil
}

// CopyWithMigration copies the module's source from root to dst and adds
// one migration, named file, per dialect (sqlite, postgres): the source of
// a build that needs one more schema version.
func CopyWithMigration(root, dst, file string, migration map[string]string) error {
	if err := copyModule(root, dst); err != nil {
		return err
	}
	for dialect, sql := range migration {
		if err := os.WriteFile(filepath.Join(dst, "migrations", dialect, file), []byte(sql), 0o644); err != nil {
			return fmt.Errorf("add the migration %s for %s: %w", file, dialect, err)
		}
	}
	return nil
}

// copyModule copies the module's source (no .git, no data, no binaries).
func copyModule(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "cohort-data") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() || (rel != "go.mod" && rel != "go.sum" && !strings.HasSuffix(rel, ".go") && !strings.Contains(rel, string(filepath.Separator))) {
			return nil // top-level binaries and notes stay behind
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
}
