package dictionary

import (
	"errors"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// loadDir copies a testdata release into memory, so a test can damage one
// line and parse the result.
func loadDir(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// setLine replaces line n (1-based) of file with what change makes of it.
func setLine(t *testing.T, fsys fstest.MapFS, file string, n int, change func(string) string) {
	t.Helper()
	lines := strings.Split(string(fsys[file].Data), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("%s has no line %d", file, n)
	}
	lines[n-1] = change(lines[n-1])
	fsys[file] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n"))}
}

// setField replaces field i (0-based) of a $-separated line.
func setField(i int, value string) func(string) string {
	return func(line string) string {
		f := strings.Split(line, "$")
		f[i] = value
		return strings.Join(f, "$")
	}
}

// setColumns replaces the fixed-width columns [from, to) of a line.
func setColumns(from, to int, value string) func(string) string {
	return func(line string) string { return line[:from] + value + line[to:] }
}

// findLine returns the 1-based number of the first line of file holding s.
func findLine(t *testing.T, fsys fstest.MapFS, file, s string) int {
	t.Helper()
	for i, l := range strings.Split(string(fsys[file].Data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

// removeLine deletes line n (1-based) of file.
func removeLine(t *testing.T, fsys fstest.MapFS, file string, n int) {
	t.Helper()
	lines := strings.Split(string(fsys[file].Data), "\n")
	lines = append(lines[:n-1], lines[n:]...)
	fsys[file] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n"))}
}

// appendLine adds a line at the end of file.
func appendLine(fsys fstest.MapFS, file, line string) {
	fsys[file] = &fstest.MapFile{Data: append(append([]byte{}, fsys[file].Data...), []byte(line+"\n")...)}
}

// wantParseErrors checks that err lists exactly the given problems, each
// message whole, and that errors.As finds the first as a *ParseError.
func wantParseErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("parse succeeded, want errors %q", want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v has no *ParseError", err)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %v does not list its problems", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func names(ts []Term) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

func pathNames(p Path) string {
	return strings.Join(names(p.Terms), " › ")
}
