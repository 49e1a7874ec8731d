package dictionary

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/dictionary/demodata"
)

func TestNewVersionRebuildsAParsedVersion(t *testing.T) {
	// Storage saves Terms and Links and rebuilds the Version from them.
	parsed := mustMedDRA(t, os.DirFS(meddra271))
	rebuilt, err := NewVersion(parsed.Kind, parsed.Release, parsed.Language, slices.Clone(parsed.Terms), slices.Clone(parsed.Links))
	if err != nil {
		t.Fatal(err)
	}
	a, b := parsed.Paths(LLT, "95000750"), rebuilt.Paths(LLT, "95000750")
	if len(a) != len(b) || pathNames(a[0]) != pathNames(b[0]) || pathNames(a[1]) != pathNames(b[1]) {
		t.Errorf("rebuilt paths %v differ from parsed %v", b, a)
	}
}

func TestNewVersionRefusesInconsistentData(t *testing.T) {
	soc := Term{Level: SOC, Code: "91000050", Name: "Nervous system disorders", Current: true}
	hlgt := Term{Level: HLGT, Code: "92000090", Name: "Headaches", Current: true}
	pt := Term{Level: PT, Code: "94000390", Name: "Headache", Current: true, PrimarySOC: "91000050"}
	for _, tc := range []struct {
		name  string
		kind  Kind
		terms []Term
		links []Link
		want  string
	}{
		{"unknown kind", "icd10", nil, nil, `new dictionary version: unknown dictionary kind "icd10"`},
		{"term of another dictionary", MedDRA, []Term{{Level: ATC1, Code: "N", Name: "NERVOUS SYSTEM"}}, nil,
			"new meddra version 27.1: term ATC1 N: level ATC1 is not a meddra level"},
		{"term twice", MedDRA, []Term{soc, soc}, nil, "new meddra version 27.1: term SOC 91000050 is listed twice"},
		{"term without code", MedDRA, []Term{{Level: SOC, Name: "X"}}, nil, `new meddra version 27.1: a SOC term named "X" has no code`},
		{"term without name", MedDRA, []Term{{Level: SOC, Code: "91000010"}}, nil, "new meddra version 27.1: term SOC 91000010 has no name"},
		{"unknown primary SOC", MedDRA, []Term{pt}, nil, "new meddra version 27.1: term PT 94000390: its primary SOC 91000050 does not exist"},
		{"link to nothing", MedDRA, []Term{soc}, []Link{{soc.Ref(), hlgt.Ref()}},
			"new meddra version 27.1: link SOC 91000050 → HLGT 92000090: HLGT 92000090 does not exist"},
		{"link skipping a level", MedDRA, []Term{soc, pt}, []Link{{soc.Ref(), pt.Ref()}},
			"new meddra version 27.1: link SOC 91000050 → PT 94000390: a SOC cannot be the parent of a PT"},
		{"link upside down", MedDRA, []Term{soc, hlgt}, []Link{{hlgt.Ref(), soc.Ref()}},
			"new meddra version 27.1: link HLGT 92000090 → SOC 91000050: a HLGT cannot be the parent of a SOC"},
		{"link twice", MedDRA, []Term{soc, hlgt}, []Link{{soc.Ref(), hlgt.Ref()}, {soc.Ref(), hlgt.Ref()}},
			"new meddra version 27.1: link SOC 91000050 → HLGT 92000090 is listed twice"},
	} {
		v, err := NewVersion(tc.kind, "27.1", "English", tc.terms, tc.links)
		if v != nil || err == nil || err.Error() != tc.want {
			t.Errorf("%s: NewVersion = %v, %v; want error %s", tc.name, v, err, tc.want)
		}
	}
	// A drug may hang from any ATC level, as WHODrug classifies at the
	// level that fits.
	if _, err := NewVersion(WHODrug, "x", "", []Term{
		{Level: ATC1, Code: "N", Name: "NERVOUS SYSTEM"},
		{Level: Drug, Code: "90000101001", Name: "PARACETAMOL"},
	}, []Link{{TermRef{ATC1, "N"}, TermRef{Drug, "90000101001"}}}); err != nil {
		t.Errorf("ATC1 → drug refused: %v", err)
	}
}

func TestVersionLiteralIndexesOnFirstUse(t *testing.T) {
	v := &Version{Kind: MedDRA, Terms: []Term{{Level: SOC, Code: "91000050", Name: "Nervous system disorders"}}}
	if got, ok := v.Lookup(SOC, "91000050"); !ok || got.Name != "Nervous system disorders" {
		t.Errorf("Lookup on a literal Version = %+v, %v", got, ok)
	}
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		level Level
		kind  Kind
		depth int
	}{
		{SOC, MedDRA, 1}, {LLT, MedDRA, 5}, {ATC1, WHODrug, 1}, {ATC5, WHODrug, 5}, {Drug, WHODrug, 6}, {"XYZ", "", 0},
	} {
		if tc.level.Kind() != tc.kind || tc.level.Depth() != tc.depth {
			t.Errorf("%s: kind %q depth %d, want %q %d", tc.level, tc.level.Kind(), tc.level.Depth(), tc.kind, tc.depth)
		}
	}
}

func TestDemoDataParsesAndMatchesTestdata(t *testing.T) {
	for _, tc := range []struct {
		demo, testdata string
		kind           Kind
		release        string
	}{
		{"meddra/27.1", meddra271, MedDRA, "27.1"},
		{"whodrug/GLOBALB3Mar26", whodrugDir, WHODrug, "GLOBALB3Mar26-SYNTHETIC"},
	} {
		sub, err := fs.Sub(demodata.DemoFS, tc.demo)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Parse(context.Background(), sub)
		if err != nil {
			t.Fatalf("demo %s: %v", tc.demo, err)
		}
		if v.Kind != tc.kind || v.Release != tc.release {
			t.Errorf("demo %s parsed as %s %q", tc.demo, v.Kind, v.Release)
		}
		// The demo copy and the test copy are one data set: a change to one
		// must be made to the other.
		entries, err := fs.ReadDir(sub, ".")
		if err != nil {
			t.Fatal(err)
		}
		local, err := os.ReadDir(tc.testdata)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(local) {
			t.Errorf("demo %s has %d files, testdata %d", tc.demo, len(entries), len(local))
		}
		for _, e := range entries {
			demo, _ := fs.ReadFile(sub, e.Name())
			test, err := os.ReadFile(path.Join(tc.testdata, e.Name()))
			if err != nil || !bytes.Equal(demo, test) {
				t.Errorf("demodata %s/%s differs from %s (%v)", tc.demo, e.Name(), tc.testdata, err)
			}
		}
	}
	// Nothing in the demo data may look like licensed content: MedDRA
	// codes run from 10000001 to 10099999 and the synthetic ones from 91…,
	// and the synthetic WHODrug record numbers all start with 9.
	meddraFiles, _ := fs.ReadDir(demodata.DemoFS, "meddra/27.1")
	for _, e := range meddraFiles {
		data, _ := fs.ReadFile(demodata.DemoFS, "meddra/27.1/"+e.Name())
		for i, line := range strings.Split(string(data), "\n") {
			for _, field := range strings.Split(line, "$") {
				if len(field) == 8 && isDigits(field) && !strings.HasPrefix(field, "9") {
					t.Errorf("meddra/27.1/%s line %d has a code outside the synthetic range: %s", e.Name(), i+1, field)
				}
			}
		}
	}
	for _, file := range []string{"DD.txt", "DDA.txt"} {
		data, _ := fs.ReadFile(demodata.DemoFS, "whodrug/GLOBALB3Mar26/"+file)
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !strings.HasPrefix(line, "9") {
				t.Errorf("whodrug %s line %d has a drug record number outside the synthetic range: %q", file, i+1, line)
			}
		}
	}
}
