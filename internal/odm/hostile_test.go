package odm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Hostile input: each case must end in a ReadError whose message names the
// line, without reading more than a bounded amount into memory.

// repeat is an io.Reader of n copies of b, so that huge inputs need not be
// held in memory by the test itself.
type repeat struct {
	b byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return int(k), nil
}

// allocated returns how many bytes fn allocated. Peak memory cannot exceed
// it, so it bounds memory without any timing.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// readHostile reads in and returns the error, which must be a *ReadError
// naming a line, and the bytes allocated meanwhile.
func readHostile(t *testing.T, in io.Reader, opts ReadOptions) (*ReadError, uint64) {
	t.Helper()
	var err error
	var diags *Diagnostics
	alloc := allocated(func() {
		_, diags, err = ReadAll(context.Background(), in, opts)
	})
	var re *ReadError
	if !errors.As(err, &re) {
		t.Fatalf("got error %v (%T), want a *ReadError; diagnostics:\n%s", err, err, diags)
	}
	if re.Line < 1 || !strings.HasPrefix(re.Error(), "line ") {
		t.Errorf("the error %q does not name its line", re.Error())
	}
	return re, alloc
}

const odmOpen = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00" ODMVersion="1.3.2">
`

func TestExternalEntityIsNeverRead(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	const marker = "TOP-SECRET-PATIENT-LIST"
	if err := os.WriteFile(secret, []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `<?xml version="1.0"?>
<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file://` + secret + `">]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="&xxe;" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00">
<Study OID="S"><GlobalVariables><StudyName>&xxe;</StudyName><StudyDescription/><ProtocolName>P</ProtocolName></GlobalVariables></Study>
</ODM>`
	re, _ := readHostile(t, strings.NewReader(doc), ReadOptions{})
	if !errors.Is(re, ErrEntity) || re.Line != 2 {
		t.Errorf("got %q, want the entity refusal on line 2", re)
	}
	if strings.Contains(re.Error(), marker) {
		t.Errorf("the error reveals the file's content: %q", re)
	}

	// Without a DOCTYPE internal subset the entity is simply undefined:
	// encoding/xml knows only the five XML entities and never resolves
	// anything, so the reference is an error and the file is not read.
	doc = `<?xml version="1.0"?>
<!DOCTYPE ODM SYSTEM "file://` + secret + `">
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00">
<Study OID="&xxe;"/>
</ODM>`
	re, _ = readHostile(t, strings.NewReader(doc), ReadOptions{})
	if re.Line != 4 || !strings.Contains(re.Msg, "&xxe;") || strings.Contains(re.Error(), marker) {
		t.Errorf("got %q, want a refusal of &xxe; on line 4 that does not reveal the file", re)
	}
}

// TestEncodingXMLExpandsNoEntities pins the standard library behaviour the
// reader relies on: entities declared in a DOCTYPE are not expanded, the
// DOCTYPE is handed over as an opaque directive.
func TestEncodingXMLExpandsNoEntities(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(`<!DOCTYPE a [<!ENTITY xxe SYSTEM "file://` + secret + `">]><a>&xxe;</a>`))
	var sawDirective bool
	for {
		tok, err := dec.Token()
		if err != nil {
			var se *xml.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "&xxe;") {
				t.Fatalf("got %v, want a syntax error on the undefined entity &xxe;", err)
			}
			break
		}
		switch tok := tok.(type) {
		case xml.Directive:
			sawDirective = true
		case xml.CharData:
			if strings.Contains(string(tok), "SECRET") {
				t.Fatal("encoding/xml expanded an external entity")
			}
		}
	}
	if !sawDirective {
		t.Error("the DOCTYPE did not come through as a directive")
	}
}

func TestBillionLaughsIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString("<!ENTITY " + name + " \"" + strings.Repeat("&"+prev+";", 10) + "\">\n")
		prev = name
	}
	b.WriteString("]>\n<ODM xmlns=\"http://www.cdisc.org/ns/odm/v1.3\">&" + prev + ";</ODM>")
	re, alloc := readHostile(t, strings.NewReader(b.String()), ReadOptions{})
	if !errors.Is(re, ErrEntity) || re.Line != 2 {
		t.Errorf("got %q, want the entity refusal on line 2", re)
	}
	if alloc > 1<<20 {
		t.Errorf("refusing a billion laughs allocated %d bytes, want under 1 MiB", alloc)
	}
}

func TestHugeValuesAreRefusedInBoundedMemory(t *testing.T) {
	const huge = 100 << 20
	cases := []struct {
		name, before, after, want string
	}{
		{"attribute value", odmOpen + `<Study OID="`, `"/></ODM>`, "attribute value runs longer than 1048576 bytes"},
		{"text", odmOpen + `<Study OID="S"><GlobalVariables><StudyName>`, `</StudyName></GlobalVariables></Study></ODM>`, "text runs longer than 1048576 bytes"},
		{"comment", odmOpen + `<!--`, `--></ODM>`, "comment runs longer than 1048576 bytes"},
		{"attribute list", odmOpen + `<Study OID="S" `, `/></ODM>`, "tag with its attributes runs longer than 4194304 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fill := byte('a')
			if c.name == "attribute list" {
				fill = ' ' // white space between attributes is legal, and endless
			}
			in := io.MultiReader(strings.NewReader(c.before), &repeat{fill, huge}, strings.NewReader(c.after))
			re, alloc := readHostile(t, in, ReadOptions{})
			if !errors.Is(re, ErrLimit) || !strings.Contains(re.Msg, c.want) || re.Line != 3 {
				t.Errorf("got %q, want %q on line 3", re, c.want)
			}
			if alloc > 16<<20 {
				t.Errorf("refusing a %d MiB %s allocated %d MiB, want under 16 MiB", huge>>20, c.name, alloc>>20)
			}
		})
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	in := odmOpen + strings.Repeat("<x:a xmlns:x=\"urn:x\">", 10_000) + strings.Repeat("</x:a>", 10_000) + "</ODM>"
	re, alloc := readHostile(t, strings.NewReader(in), ReadOptions{})
	if !errors.Is(re, ErrLimit) || !strings.Contains(re.Msg, "nested more than 256 deep") || re.Line != 3 {
		t.Errorf("got %q, want the depth limit on line 3", re)
	}
	if alloc > 8<<20 {
		t.Errorf("refusing deep nesting allocated %d bytes, want under 8 MiB", alloc)
	}
}

func TestTooManyElementsAreRefused(t *testing.T) {
	in := odmOpen + "<Study OID=\"S\">" + strings.Repeat("<v:x xmlns:v=\"urn:v\"/>\n", 5000) + "</Study></ODM>"
	re, _ := readHostile(t, strings.NewReader(in), ReadOptions{MaxMetadataElements: 1000})
	if !errors.Is(re, ErrLimit) || !strings.Contains(re.Msg, "more than 1000 elements") {
		t.Errorf("got %q, want the element limit", re)
	}
}

func TestMalformedInputGetsASentence(t *testing.T) {
	odmlib, err := os.ReadFile(sampleOdmlib)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   []byte
		line int
		want string
	}{
		{"invalid UTF-8", []byte(odmOpen + "<Study OID=\"S\xff\xfe\"/></ODM>"), 3, "not valid UTF-8"},
		{"control character", []byte(odmOpen + "\n<Study OID=\"S\">\x01</Study></ODM>"), 4, "the character U+0001, which XML does not allow"},
		{"truncated", odmlib[:len(odmlib)/2], bytes.Count(odmlib[:len(odmlib)/2], []byte("\n")) + 1, "truncated"},
		{"UTF-16", append([]byte{0xFF, 0xFE}, "<\x00O\x00"...), 1, "UTF-16"},
		{"not ODM", []byte("<?xml version=\"1.0\"?>\n<html/>"), 2, "the root element is html, not ODM"},
		{"empty", []byte(""), 1, "contains no ODM element"},
		{"second root", []byte(odmOpen + "</ODM>\n<ODM/>"), 4, "second root element"},
		{"unknown encoding", []byte("<?xml version=\"1.0\" encoding=\"EBCDIC\"?>\n<ODM/>"), 1, "EBCDIC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadAll(context.Background(), bytes.NewReader(c.in), ReadOptions{})
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a *ReadError saying %q", err, c.want)
			}
			if re.Line != c.line || !strings.Contains(re.Msg, c.want) {
				t.Errorf("got %q, want %q on line %d", re, c.want, c.line)
			}
		})
	}
}
