package odm

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// schemaPath is the copy of the official ODM 1.3.2 schema set in testdata.
const schemaPath = "testdata/odm1-3-2/ODM1-3-2.xsd"

// requireXmllint returns the path of xmllint, skipping the test when it is
// missing, or failing it when CI=true, where a skipped schema check would
// hide a regression.
func requireXmllint(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("xmllint is needed to validate against the ODM schema and is not installed: %v", err)
		}
		t.Skip("xmllint is not installed; set CI=true to make this a failure")
	}
	return path
}

// validate runs xmllint with the ODM 1.3.2 schema over files in one call
// and returns, per file that does not validate, xmllint's complaints.
func validate(t testing.TB, files ...string) map[string]string {
	t.Helper()
	xmllint := requireXmllint(t)
	args := append([]string{"--noout", "--nonet", "--schema", schemaPath}, files...)
	out, err := exec.Command(xmllint, args...).CombinedOutput()
	failures := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range files {
			if line == f+" validates" {
				break
			}
			if strings.HasPrefix(line, f+":") || line == f+" fails to validate" {
				failures[f] += line + "\n"
			}
		}
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run xmllint: %v", err)
	}
	if err != nil && len(failures) == 0 {
		t.Fatalf("xmllint failed without naming a file: %s", out)
	}
	return failures
}

// validateBytes writes each document to a temporary file and validates
// them all in one xmllint call; it fails the test for each invalid one.
func validateBytes(t testing.TB, docs map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	var files []string
	byFile := map[string]string{}
	for name, data := range docs {
		f := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		byFile[f] = name
	}
	for f, msg := range validate(t, files...) {
		t.Errorf("%s does not validate against ODM 1.3.2:\n%s", byFile[f], clip(msg, 2000))
	}
}

// readBytes reads data with ReadAll and fails the test on a read error.
func readBytes(t testing.TB, data []byte) (*Document, *Diagnostics) {
	t.Helper()
	doc, diags, err := ReadAll(context.Background(), bytes.NewReader(data), ReadOptions{})
	if err != nil {
		t.Fatalf("read: %v\ndiagnostics:\n%s", err, diags)
	}
	return doc, diags
}

// writeBytes writes doc with Write and fails the test on an error.
func writeBytes(t testing.TB, doc *Document, opts WriteOptions) ([]byte, Omitted) {
	t.Helper()
	var buf bytes.Buffer
	om, err := Write(context.Background(), &buf, doc, opts)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return buf.Bytes(), om
}

// normalize clears what legitimately differs between two reads of the same
// content: source line numbers, and with positions also the places of
// extension elements.
func normalize(v any, positions bool) {
	walk(reflect.ValueOf(v), func(n *Node) {
		n.Line = 0
		if positions {
			n.Pos = 0
		}
	})
}

func walk(v reflect.Value, fn func(*Node)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if n, ok := v.Interface().(*Node); ok {
			fn(n)
		}
		walk(v.Elem(), fn)
	case reflect.Struct:
		if v.CanAddr() {
			if n, ok := v.Addr().Interface().(*Node); ok {
				fn(n)
			}
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), fn)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), fn)
		}
	}
}

// sameModel fails the test, showing where, if a and b differ.
func sameModel(t testing.TB, what string, a, b any) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		return
	}
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			from := max(0, i-8)
			t.Fatalf("%s: models differ at JSON line %d:\nfirst:\n%s\nsecond:\n%s", what, i,
				strings.Join(la[from:min(len(la), i+4)], "\n"), strings.Join(lb[from:min(len(lb), i+4)], "\n"))
		}
	}
	t.Fatalf("%s: models differ in a way JSON does not show (nil versus empty slice?)", what)
}

// stripForeign removes from an XML document every element and attribute in
// a namespace other than ODM's (and xml:), which is what a KeepExtensions
// output must validate without.
func stripForeign(data []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out bytes.Buffer
	skip, depth := 0, 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 || t.Name.Space != "" {
				skip++
				continue
			}
			depth++
			fmt.Fprintf(&out, "<%s", t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space != "" && a.Name.Space != "xml" && a.Name.Space != "xmlns" {
					continue
				}
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				fmt.Fprintf(&out, " %s=\"", name)
				xml.EscapeText(&out, []byte(a.Value))
				out.WriteString(`"`)
			}
			out.WriteString(">")
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			depth--
			fmt.Fprintf(&out, "</%s>", t.Name.Local)
		case xml.CharData:
			if skip == 0 && depth > 0 {
				xml.EscapeText(&out, t)
			}
		case xml.ProcInst:
			fmt.Fprintf(&out, "<?%s %s?>", t.Target, t.Inst)
		}
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
