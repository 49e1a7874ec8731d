package dictionary

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	meddra270 = "testdata/meddra/27.0"
	meddra271 = "testdata/meddra/27.1"
)

func mustMedDRA(t *testing.T, fsys fs.FS) *Version {
	t.Helper()
	v, err := ParseMedDRA(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func countLevels(v *Version) map[Level]int {
	n := map[Level]int{}
	for _, t := range v.Terms {
		n[t.Level]++
	}
	return n
}

func TestParseMedDRAReadsARelease(t *testing.T) {
	v := mustMedDRA(t, os.DirFS(meddra271))
	if v.Kind != MedDRA || v.Release != "27.1" || v.Language != "English" {
		t.Errorf("version = %s %q %q, want meddra 27.1 English", v.Kind, v.Release, v.Language)
	}
	want := map[Level]int{SOC: 6, HLGT: 11, HLT: 21, PT: 62, LLT: 165}
	if got := countLevels(v); !maps.Equal(got, want) {
		t.Errorf("terms per level = %v, want %v", got, want)
	}
	// Links: SOC→HLGT 11, HLGT→HLT 21, HLT→PT 66 (four PTs are under two
	// HLTs), PT→LLT 165.
	if len(v.Links) != 11+21+66+165 {
		t.Errorf("%d links, want %d", len(v.Links), 11+21+66+165)
	}

	for _, tc := range []struct {
		level Level
		code  string
		want  Term
	}{
		{SOC, "91000050", Term{Level: SOC, Code: "91000050", Name: "Nervous system disorders", Current: true, Abbrev: "Nerv", Order: 1}},
		{PT, "94000460", Term{Level: PT, Code: "94000460", Name: "Syncope", Current: true, PrimarySOC: "91000050"}},
		{PT, "94000060", Term{Level: PT, Code: "94000060", Name: "Chest discomfort", Current: true, PrimarySOC: "91000030"}},
		{LLT, "94000460", Term{Level: LLT, Code: "94000460", Name: "Syncope", Current: true}},
		{LLT, "95000750", Term{Level: LLT, Code: "95000750", Name: "Fainting", Current: true}},
		{LLT, "95000020", Term{Level: LLT, Code: "95000020", Name: "Tachycardia NOS", Current: false}},
		{LLT, "95000320", Term{Level: LLT, Code: "95000320", Name: "Feeling of discomfort", Current: false}},
	} {
		got, ok := v.Lookup(tc.level, tc.code)
		if !ok || got != tc.want {
			t.Errorf("Lookup(%s, %s) = %+v, %v; want %+v", tc.level, tc.code, got, ok, tc.want)
		}
	}
	if _, ok := v.Lookup(HLT, "94000460"); ok {
		t.Error("Lookup found a PT's code at the HLT level")
	}
}

func TestMedDRAReleasesDiffer(t *testing.T) {
	old := mustMedDRA(t, os.DirFS(meddra270))
	cur := mustMedDRA(t, os.DirFS(meddra271))
	if old.Release != "27.0" {
		t.Errorf("release = %q, want 27.0", old.Release)
	}
	if got := countLevels(old); got[PT] != 60 || got[LLT] != 159 {
		t.Errorf("27.0 has %d PTs and %d LLTs, want 60 and 159", got[PT], got[LLT])
	}
	if _, ok := old.Lookup(PT, "94000610"); ok {
		t.Error(`27.0 has PT "Infusion related reaction", which 27.1 added`)
	}
	if p, ok := cur.Lookup(PT, "94000610"); !ok || p.Name != "Infusion related reaction" {
		t.Errorf("27.1 PT 94000610 = %+v, %v", p, ok)
	}
	// "Feeling of discomfort" was retired in 27.1.
	if llt, _ := old.Lookup(LLT, "95000320"); !llt.Current {
		t.Error(`27.0 LLT "Feeling of discomfort" should be current`)
	}
}

func TestMedDRAHierarchy(t *testing.T) {
	v := mustMedDRA(t, os.DirFS(meddra271))

	if got, want := names(v.Roots()), []string{
		"Nervous system disorders", "Gastrointestinal disorders", "Cardiac disorders",
		"Skin and subcutaneous tissue disorders", "General disorders and administration site conditions", "Investigations",
	}; !slices.Equal(got, want) {
		t.Errorf("Roots() = %q, want the international order %q", got, want)
	}
	if got, want := names(v.Children(SOC, "91000050")), []string{"Headaches", "Neurological disorders NEC"}; !slices.Equal(got, want) {
		t.Errorf("Children(SOC Nerv) = %q, want %q", got, want)
	}
	// A multi-axial HLT collects PTs whose primary SOC is elsewhere.
	if got, want := names(v.Children(HLT, "93000030")), []string{
		"Chest discomfort", "Dizziness postural", "Palpitations", "Presyncope", "Syncope",
	}; !slices.Equal(got, want) {
		t.Errorf("Children(HLT Cardiac signs and symptoms NEC) = %q, want %q", got, want)
	}
	if got, want := names(v.Children(PT, "94000460")), []string{"Fainting", "Passed out", "Syncope"}; !slices.Equal(got, want) {
		t.Errorf("Children(PT Syncope) = %q, want %q", got, want)
	}
	if got := v.Children(LLT, "95000750"); len(got) != 0 {
		t.Errorf("an LLT has children: %v", got)
	}
	if got, want := names(v.Parents(PT, "94000460")), []string{"Cardiac signs and symptoms NEC", "Disturbances in consciousness NEC"}; !slices.Equal(got, want) {
		t.Errorf("Parents(PT Syncope) = %q, want %q", got, want)
	}

	// An LLT of a multi-axial PT has one path per SOC, the primary first.
	paths := v.Paths(LLT, "95000750")
	want := []struct {
		path    string
		primary bool
	}{
		{"Nervous system disorders › Neurological disorders NEC › Disturbances in consciousness NEC › Syncope › Fainting", true},
		{"Cardiac disorders › Cardiac disorder signs and symptoms › Cardiac signs and symptoms NEC › Syncope › Fainting", false},
	}
	if len(paths) != len(want) {
		t.Fatalf("Paths(LLT Fainting) has %d paths, want %d", len(paths), len(want))
	}
	for i, w := range want {
		if pathNames(paths[i]) != w.path || paths[i].Primary != w.primary {
			t.Errorf("path %d = %s (primary %v), want %s (primary %v)", i+1, pathNames(paths[i]), paths[i].Primary, w.path, w.primary)
		}
	}
	// Primary first even when its SOC sorts last by name.
	chest := v.Paths(PT, "94000060")
	if len(chest) != 2 || !chest[0].Primary || chest[0].Terms[0].Name != "General disorders and administration site conditions" || chest[1].Primary {
		t.Errorf("Paths(PT Chest discomfort) = %v", chest)
	}
	if got := v.Paths(PT, "94000390"); len(got) != 1 || !got[0].Primary {
		t.Errorf("Paths(PT Headache) = %v, want one primary path", got)
	}
	// Above the PT there is no primary path to speak of.
	if got := v.Paths(HLGT, "92000090"); len(got) != 1 || got[0].Primary || pathNames(got[0]) != "Nervous system disorders › Headaches" {
		t.Errorf("Paths(HLGT Headaches) = %v", got)
	}
	if got := v.Paths(LLT, "99999999"); got != nil {
		t.Errorf("Paths of a missing term = %v, want nil", got)
	}
}

func TestParseMedDRAAcceptsDistributionVariants(t *testing.T) {
	base := mustMedDRA(t, os.DirFS(meddra271))

	for name, build := range map[string]func(fstest.MapFS) fstest.MapFS{
		// A release as unzipped: the files in MedAscii/ beside other folders.
		"MedAscii folder": func(f fstest.MapFS) fstest.MapFS {
			out := fstest.MapFS{"readme.pdf": {Data: []byte("%PDF")}, "SeqAscii/llt.seq": {Data: []byte("x")}}
			for n, file := range f {
				out["MedAscii/"+n] = file
			}
			return out
		},
		"upper-case file names": func(f fstest.MapFS) fstest.MapFS {
			out := fstest.MapFS{}
			for n, file := range f {
				out[strings.ToUpper(n)] = file
			}
			return out
		},
		"CRLF line ends and byte order mark": func(f fstest.MapFS) fstest.MapFS {
			for n, file := range f {
				f[n] = &fstest.MapFile{Data: []byte("\uFEFF" + strings.ReplaceAll(string(file.Data), "\n", "\r\n"))}
			}
			return f
		},
	} {
		v, err := ParseMedDRA(context.Background(), build(loadDir(t, meddra271)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if v.Release != base.Release || !slices.Equal(v.Terms, base.Terms) || !slices.Equal(v.Links, base.Links) {
			t.Errorf("%s: parsed differently from the plain release", name)
		}
	}
}

func TestParseMedDRAWithoutOptionalFiles(t *testing.T) {
	fsys := loadDir(t, meddra271)
	delete(fsys, "meddra_release.asc")
	delete(fsys, "intl_ord.asc")
	v := mustMedDRA(t, fsys)
	if v.Release != "" || v.Language != "" {
		t.Errorf("without meddra_release.asc the release is %q %q, want it left to the caller", v.Release, v.Language)
	}
	// Without the international order, SOCs are listed by name.
	if got := names(v.Roots()); !slices.IsSorted(got) {
		t.Errorf("Roots() without intl_ord.asc = %q, want them by name", got)
	}
}

func TestParseMedDRARejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, fstest.MapFS)
		want   []string
	}{
		{"pt_code not a number", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "llt.asc", 12, setField(2, "12x"))
		}, []string{`llt.asc line 12: field pt_code: "12x" is not a number`}},
		{"LLT pointing to an unknown PT", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "llt.asc", 5, setField(2, "94009990"))
		}, []string{`llt.asc line 5: field pt_code: PT 94009990 does not exist in pt.asc`}},
		{"currency neither Y nor N", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "llt.asc", 3, setField(9, "X"))
		}, []string{`llt.asc line 3: field llt_currency: "X" is neither Y nor N`}},
		{"duplicate LLT code", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "llt.asc", 7, setField(0, "95000010"))
		}, []string{`llt.asc line 7: field llt_code: LLT 95000010 is listed twice (first on line 2)`}},
		{"code of the wrong length", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "hlt.asc", 2, setField(0, "9300002"))
		}, []string{`hlt.asc line 2: field hlt_code: "9300002" is not a MedDRA code, which has 8 digits`}},
		{"field missing", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "pt.asc", 3, func(l string) string { return strings.Replace(l, "$$", "$", 1) })
		}, []string{`pt.asc line 3: the line has 10 fields where pt.asc has 11 (pt_code$pt_name$null_field$pt_soc_code$pt_whoart_code$pt_harts_code$pt_costart_sym$pt_icd9_code$pt_icd9cm_code$pt_icd10_code$pt_jart_code$)`}},
		{"line without the final $", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "hlgt_hlt.asc", 2, func(l string) string { return strings.TrimSuffix(l, "$") })
		}, []string{`hlgt_hlt.asc line 2: the line does not end with "$" as every line of hlgt_hlt.asc does`}},
		{"empty name", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "soc.asc", 4, setField(1, ""))
		}, []string{`soc.asc line 4: field soc_name: the name is empty`}},
		{"PT with an unknown primary SOC", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "pt.asc", 2, setField(3, "91000099"))
		}, []string{`pt.asc line 2: field pt_soc_code: SOC 91000099 does not exist in soc.asc`}},
		{"relationship to an unknown term", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "soc_hlgt.asc", 3, setField(1, "92000999"))
		}, []string{
			`soc_hlgt.asc line 3: field hlgt_code: HLGT 92000999 does not exist in hlgt.asc`,
		}},
		{"duplicate relationship", func(t *testing.T, f fstest.MapFS) {
			appendLine(f, "hlgt_hlt.asc", "92000010$93000020$")
		}, []string{`hlgt_hlt.asc line 22: HLGT 92000010 is linked to HLT 93000020 twice (first on line 2)`}},
		{"HLT linked to no HLGT", func(t *testing.T, f fstest.MapFS) {
			removeLine(t, f, "hlgt_hlt.asc", 2)
		}, []string{`hlt.asc line 2: HLT 93000020 "Supraventricular arrhythmias" is not linked to any HLGT in hlgt_hlt.asc`}},
		{"primary SOC the PT is not linked to", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "pt.asc", 1, setField(3, "91000060"))
		}, []string{`pt.asc line 1: field pt_soc_code: SOC 91000060 is not among the SOCs PT 94000010 "Tachycardia" is linked to (91000010)`}},
		{"mdhier primary flag disagrees", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "mdhier.asc", 49, setField(11, "Y"))
		}, []string{`mdhier.asc line 49: field primary_soc_fg: is Y but SOC 91000010 is not PT 94000460's primary SOC (91000050)`}},
		{"mdhier path without a primary", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "mdhier.asc", 48, setField(11, "N"))
		}, []string{`mdhier.asc line 48: field primary_soc_fg: is N but SOC 91000050 is PT 94000460's primary SOC`}},
		{"mdhier PT without any primary path", func(t *testing.T, f fstest.MapFS) {
			removeLine(t, f, "mdhier.asc", 48)
		}, []string{`mdhier.asc: PT 94000460 "Syncope" has no primary path (no line with primary_soc_fg Y)`}},
		{"mdhier name disagrees", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "mdhier.asc", 1, setField(4, "Tachycardie"))
		}, []string{`mdhier.asc line 1: field pt_name: "Tachycardie" differs from the name in pt.asc ("Tachycardia")`}},
		{"mdhier path not in the relationship files", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "mdhier.asc", 1, setField(1, "93000020"))
		}, []string{`mdhier.asc line 1: field hlt_code: HLT 93000020 is not linked to PT 94000010 in hlt_pt.asc`}},
		{"bad release", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "meddra_release.asc", 1, setField(0, "v27"))
		}, []string{`meddra_release.asc line 1: field version: "v27" is not a MedDRA version such as 27.0`}},
		{"intl_ord.asc places a SOC twice", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "intl_ord.asc", 2, setField(1, "91000050"))
		}, []string{`intl_ord.asc line 2: field soc_code: SOC 91000050 is placed twice (first on line 1)`}},
		{"not UTF-8", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "llt.asc", 9, setField(1, "Vertige \xe9"))
		}, []string{`llt.asc line 9: the line is not UTF-8 text; convert the file to UTF-8 (for example with iconv -f WINDOWS-1252 -t UTF-8) and import it again`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := loadDir(t, meddra271)
			tc.damage(t, fsys)
			v, err := ParseMedDRA(context.Background(), fsys)
			if v != nil {
				t.Error("a failed parse returned a version")
			}
			wantParseErrors(t, err, tc.want...)
		})
	}
}

func TestParseMedDRAListsEveryProblemInAFile(t *testing.T) {
	fsys := loadDir(t, meddra271)
	setLine(t, fsys, "llt.asc", 12, setField(2, "12x"))
	setLine(t, fsys, "llt.asc", 40, setField(9, ""))
	wantParseErrors(t, func() error { _, err := ParseMedDRA(context.Background(), fsys); return err }(),
		`llt.asc line 12: field pt_code: "12x" is not a number`,
		`llt.asc line 40: field llt_currency: "" is neither Y nor N`,
	)

	// Past maxProblems the rest is counted, not listed.
	fsys = loadDir(t, meddra271)
	for n := 1; n <= 30; n++ {
		setLine(t, fsys, "llt.asc", n, setField(9, "?"))
	}
	_, err := ParseMedDRA(context.Background(), fsys)
	if err == nil || !strings.HasSuffix(err.Error(), "and 10 more problems not listed") || strings.Count(err.Error(), "\n") != maxProblems {
		t.Errorf("30 problems reported as:\n%v", err)
	}
}

func TestParseMedDRAMissingFile(t *testing.T) {
	fsys := loadDir(t, meddra271)
	delete(fsys, "hlt_pt.asc")
	_, err := ParseMedDRA(context.Background(), fsys)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not fs.ErrNotExist", err)
	}
	wantParseErrors(t, err, `hlt_pt.asc: the file is missing; a MedDRA ASCII distribution has soc.asc, hlgt.asc, hlt.asc, pt.asc, llt.asc, soc_hlgt.asc, hlgt_hlt.asc, hlt_pt.asc, mdhier.asc`)
}

func TestParseMedDRATwoReleasesAtOnce(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, rel := range []string{"27.0", "27.1"} {
		for n, f := range loadDir(t, "testdata/meddra/"+rel) {
			fsys[rel+"/"+n] = f
		}
	}
	_, err := ParseMedDRA(context.Background(), fsys)
	want := "read MedDRA distribution: the folders 27.0, 27.1 all hold llt.asc; import one release at a time"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestParseMedDRAStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ParseMedDRA(ctx, os.DirFS(meddra271))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		fsys fs.FS
		want Kind
	}{
		{os.DirFS(meddra271), MedDRA},
		{os.DirFS("testdata/whodrug/GLOBALB3Mar26"), WHODrug},
		{os.DirFS("testdata/whodrug"), WHODrug}, // the release's own folder
	} {
		if got, err := Detect(tc.fsys); err != nil || got != tc.want {
			t.Errorf("Detect = %s, %v; want %s", got, err, tc.want)
		}
	}
	if _, err := Detect(fstest.MapFS{"notes.txt": {Data: []byte("x")}}); !errors.Is(err, ErrUnknownDistribution) {
		t.Errorf("Detect(unrelated files) = %v, want ErrUnknownDistribution", err)
	}
	v, err := Parse(context.Background(), os.DirFS(meddra271))
	if err != nil || v.Kind != MedDRA || v.Release != "27.1" {
		t.Errorf("Parse(MedDRA) = %v, %v", v, err)
	}
}
