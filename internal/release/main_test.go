package release_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Real builds of cmd/cohort, made once for the package: release 26.1
// (build 7) and its hotfix 26.1.1 (build 8).
var (
	bin261  string
	bin2611 string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cohort-release-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin261 = filepath.Join(dir, "cohort-26.1")
	bin2611 = filepath.Join(dir, "cohort-26.1.1")
	for _, b := range []struct{ out, version, number string }{{bin261, "26.1", "7"}, {bin2611, "26.1.1", "8"}} {
		cmd := exec.Command("go", "build", "-o", b.out, "-ldflags",
			"-X main.version="+b.version+" -X main.buildNumber="+b.number+" -X main.buildTime=2026-11-25T10:00:00Z -X main.revision=0123456789ab",
			"github.com/cohort-clinical/cohort/cmd/cohort")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build cohort:", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
