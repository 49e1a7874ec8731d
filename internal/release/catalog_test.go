package release_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
)

var engines = []store.Engine{store.SQLite, store.Postgres}

var manager = audit.Actor{ID: 7, Name: "rm:alice"}

func newCatalog(t *testing.T, e store.Engine) *release.Catalog {
	t.Helper()
	db, _ := consoletest.OpenDB(t, e)
	return &release.Catalog{DB: db, Dir: filepath.Join(t.TempDir(), "releases")}
}

// copyBinary copies a built binary, optionally with bytes appended: the
// copy still runs and reports its own (different) SHA-256.
func copyBinary(t *testing.T, src, name string, extra string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(dst, append(data, extra...), 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// script writes an executable that answers `version --json` with answer.
func script(t *testing.T, answer string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat <<'EOF'\n"+answer+"\nEOF\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

const notes261 = `# cohort 26.1

## Features
- Release catalog

## Fixes
- Footer shows the build

## Known issues
`

func TestRegisterKeepsTheBuildItRan(t *testing.T) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			cat := newCatalog(t, e)
			b, added, err := cat.Register(ctx, manager, release.Registration{Binary: bin261, Notes: notes261})
			if err != nil || !added {
				t.Fatalf("register 26.1: added %v, %v", added, err)
			}
			sum, _ := console.BinarySHA256(bin261)
			if b.Version != "26.1" || b.Number != "7" || b.Time != "2026-11-25T10:00:00Z" || b.Revision != "0123456789ab" ||
				b.SHA256 != sum || b.SchemaVersion != instance.SchemaVersion() || b.Base != "" || b.RegisteredBy != "rm:alice" {
				t.Fatalf("registered %+v; want 26.1 build 7 from the binary's own answer, SHA-256 %s, schema %d", b, sum, instance.SchemaVersion())
			}
			stored := filepath.Join(cat.Dir, b.File)
			st, err := os.Stat(stored)
			if err != nil || st.Mode().Perm()&0o100 == 0 || !strings.HasPrefix(b.File, "cohort-26.1+7-"+sum[:16]) {
				t.Fatalf("stored binary %s: %v %v", b.File, st, err)
			}
			if have, _ := console.BinarySHA256(stored); have != sum {
				t.Fatalf("the stored copy hashes to %s, want %s", have, sum)
			}
			got, err := release.Resolve(ctx, cat.DB, "26.1")
			if err != nil || got.ID != b.ID || got.Notes != strings.TrimSpace(notes261) {
				t.Fatalf("resolve 26.1: %+v %v", got, err)
			}
			if v, err := cat.SchemaVersion(ctx, console.Build{Version: "26.1", Number: "7"}); err != nil || v != instance.SchemaVersion() {
				t.Fatalf("the catalog's schema version of 26.1+7: %d %v, want %d", v, err, instance.SchemaVersion())
			}
			if _, err := release.Resolve(ctx, cat.DB, "26.1+8"); err == nil || !strings.Contains(err.Error(), "is not in the release catalog") {
				t.Fatalf("an unregistered build number resolved: %v", err)
			}
			entries, _, err := audit.List(ctx, cat.DB, audit.Filter{Entity: "release_build", EntityID: "26.1+7"})
			if err != nil || len(entries) < 7 {
				t.Fatalf("the registration was not audited: %d entries, %v", len(entries), err)
			}

			// The same binary again: nothing changes.
			again, added, err := cat.Register(ctx, manager, release.Registration{Binary: bin261})
			if err != nil || added || again.ID != b.ID || again.Notes != b.Notes {
				t.Fatalf("registering the same binary again: added %v, %+v, %v", added, again, err)
			}
			// Another binary claiming 26.1 build 7 is refused.
			other := copyBinary(t, bin261, "cohort-26.1-rebuilt", "rebuilt")
			if _, _, err := cat.Register(ctx, manager, release.Registration{Binary: other}); err == nil ||
				!strings.Contains(err.Error(), "already registered with a different binary") {
				t.Fatalf("a different binary under 26.1 build 7: %v", err)
			}
			// A hotfix records its base release.
			h, _, err := cat.Register(ctx, manager, release.Registration{Binary: bin2611})
			if err != nil || h.Base != "26.1" || !h.IsHotfix() {
				t.Fatalf("register hotfix 26.1.1: %+v %v", h, err)
			}
			list, err := release.List(ctx, cat.DB)
			if err != nil || len(list) != 2 || list[0].Version != "26.1.1" || list[1].Version != "26.1" {
				t.Fatalf("catalog newest first: %+v %v", list, err)
			}
			if path, err := cat.Binary(ctx, console.Build{Version: "26.1.1", Number: "8"}); err != nil || filepath.Dir(path) != cat.Dir {
				t.Fatalf("binary of 26.1.1: %s %v", path, err)
			}
		})
	}
}

func TestRegisterRefusesWhatItCannotTrust(t *testing.T) {
	ctx := context.Background()
	cat := newCatalog(t, store.SQLite)
	schema := `"schema_version": 9`
	cases := []struct {
		name, binary, want string
		dev                bool
	}{
		{"a binary whose answer names another file", script(t, `{"version": "26.3", "build": "1", "sha256": "`+strings.Repeat("ab", 32)+`", `+schema+`}`),
			"reports SHA-256 abab", false},
		{"a development build", script(t, `{"version": "dev", "build": "0", `+schema+`}`), "not a release version", false},
		{"a bad build number", script(t, `{"version": "26.3", "build": "seven", `+schema+`}`), "build number \"seven\"", true},
		{"a build older than the catalog", script(t, `{"version": "26.3", "build": "1"}`), "does not say which schema version", false},
		{"something that is not cohort", script(t, `not json`), "not a cohort build identity", false},
		{"a missing file", filepath.Join(t.TempDir(), "nothing"), "There is no binary at", false},
	}
	for _, c := range cases {
		_, _, err := cat.Register(ctx, manager, release.Registration{Binary: c.binary, Development: c.dev})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if list, _ := release.List(ctx, cat.DB); len(list) != 0 {
		t.Fatalf("refused registrations left %d builds in the catalog", len(list))
	}
	if files, _ := os.ReadDir(cat.Dir); len(files) != 0 {
		t.Fatalf("refused registrations left %d files in the releases directory", len(files))
	}
	notExec := copyBinary(t, bin261, "cohort", "")
	os.Chmod(notExec, 0o644)
	if _, _, err := cat.Register(ctx, manager, release.Registration{Binary: notExec}); err == nil || !strings.Contains(err.Error(), "is not executable") {
		t.Errorf("a file that is not executable: %v", err)
	}
}

func TestATamperedBinaryIsNeverHandedOut(t *testing.T) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			cat := newCatalog(t, e)
			b, _, err := cat.Register(ctx, manager, release.Registration{Binary: bin261})
			if err != nil {
				t.Fatal(err)
			}
			ref := b.Ref()
			if _, err := cat.Binary(ctx, ref); err != nil {
				t.Fatalf("an intact binary was refused: %v", err)
			}
			stored := filepath.Join(cat.Dir, b.File)
			// Changed in place, same size: found although the intact file
			// was checked a moment ago.
			orig, _ := os.ReadFile(stored)
			patched := append([]byte(nil), orig...)
			patched[len(patched)/2] ^= 0xff
			if err := os.WriteFile(stored, patched, 0o755); err != nil {
				t.Fatal(err)
			}
			var tampered *release.TamperedError
			if _, err := cat.Binary(ctx, ref); !errors.As(err, &tampered) {
				t.Fatalf("a binary changed in place (same size) was handed out: %v", err)
			}
			os.WriteFile(stored, orig, 0o755)
			if _, err := cat.Binary(ctx, ref); err != nil {
				t.Fatalf("the original content put back was refused: %v", err)
			}
			f, err := os.OpenFile(stored, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("implant")
			f.Close()
			_, err = cat.Binary(ctx, ref)
			if !errors.As(err, &tampered) || !strings.Contains(err.Error(), "no longer matches what was registered") {
				t.Fatalf("a changed binary was handed out: %v", err)
			}
			// Through the console, the instance is not started on it.
			c := &console.Console{DB: cat.DB, Build: console.Build{Version: "dev", Number: "0"}, Catalog: cat}
			if _, err := c.SpecOn(ctx, console.Instance{Org: "acme", Env: "prod", Role: console.Main}, ref); !errors.As(err, &tampered) {
				t.Fatalf("the console would run a changed binary: %v", err)
			}
			if bad, err := cat.Verify(ctx); err != nil || bad[b.Key()] == nil {
				t.Fatalf("verify did not name the changed binary: %v %v", bad, err)
			}
			// Registering the original again restores the copy.
			if _, added, err := cat.Register(ctx, manager, release.Registration{Binary: bin261}); err != nil || added {
				t.Fatalf("re-register the original: %v %v", added, err)
			}
			if _, err := cat.Binary(ctx, ref); err != nil {
				t.Fatalf("the restored binary is refused: %v", err)
			}
			os.Remove(stored)
			if _, err := cat.Binary(ctx, ref); err == nil || !strings.Contains(err.Error(), "is missing") {
				t.Fatalf("a missing binary: %v", err)
			}
			if _, err := cat.Binary(ctx, console.Build{Version: "26.9", Number: "1"}); err == nil || !strings.Contains(err.Error(), "is not in this console's release catalog") {
				t.Fatalf("an unregistered build: %v", err)
			}
		})
	}
}

// TestTheConsoleRegistersItsOwnDevelopmentBuild registers a build whose
// version is not a release (what `go build` without -X gives): the CLI and
// pages refuse it, the console's own registration admits it, once.
func TestTheConsoleRegistersItsOwnDevelopmentBuild(t *testing.T) {
	ctx := context.Background()
	cat := newCatalog(t, store.SQLite)
	own := selfReporting(t, "dev", "0", 9)
	if _, _, err := cat.Register(ctx, manager, release.Registration{Binary: own}); err == nil || !strings.Contains(err.Error(), "not a release version") {
		t.Fatalf("the CLI's registration admitted a development build: %v", err)
	}
	b, added, err := cat.RegisterOwn(ctx, own)
	if err != nil || !added || b.RegisteredBy != "console" || b.IsRelease() || b.Version != "dev" {
		t.Fatalf("register the console's own build: %+v %v %v", b, added, err)
	}
	if _, added, err := cat.RegisterOwn(ctx, own); err != nil || added {
		t.Fatalf("the console's own build registered twice: %v %v", added, err)
	}
}

// selfReporting writes an executable that, like cohort, answers
// `version --json` with the given identity and its own SHA-256.
func selfReporting(t *testing.T, version, number string, schema int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort")
	body := "#!/bin/sh\nsum=$(sha256sum \"$0\" | cut -d' ' -f1)\n" +
		"printf '{\"version\": \"" + version + "\", \"build\": \"" + number + "\", \"sha256\": \"%s\", \"schema_version\": " +
		strconv.Itoa(schema) + "}\\n' \"$sum\"\n"
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
