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

const whodrugDir = "testdata/whodrug/GLOBALB3Mar26"

func mustWHODrug(t *testing.T, fsys fs.FS) *Version {
	t.Helper()
	v, err := ParseWHODrug(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseWHODrugReadsARelease(t *testing.T) {
	v := mustWHODrug(t, os.DirFS(whodrugDir))
	if v.Kind != WHODrug || v.Release != "GLOBALB3Mar26-SYNTHETIC" {
		t.Errorf("version = %s %q", v.Kind, v.Release)
	}
	want := map[Level]int{ATC1: 6, ATC2: 10, ATC3: 11, ATC4: 13, Drug: 47}
	if got := countLevels(v); !maps.Equal(got, want) {
		t.Errorf("terms per level = %v, want %v", got, want)
	}
	// ATC links: every group below level 1 has its parent (34); DDA.txt
	// classifies 47 drug names, one of them twice.
	if len(v.Links) != 34+48 {
		t.Errorf("%d links, want %d", len(v.Links), 34+48)
	}
	for _, tc := range []struct {
		level Level
		code  string
		want  Term
	}{
		{Drug, "90000101001", Term{Level: Drug, Code: "90000101001", Name: "PARACETAMOL", Current: true, Preferred: true}},
		{Drug, "90000101A1C", Term{Level: Drug, Code: "90000101A1C", Name: "CALMAPYR", Current: true}},
		{Drug, "90001501001", Term{Level: Drug, Code: "90001501001", Name: "PARACETAMOL;IBUPROFEN", Current: true, Preferred: true}},
		{ATC4, "N02BE", Term{Level: ATC4, Code: "N02BE", Name: "ANILIDES", Current: true}},
		{ATC1, "N", Term{Level: ATC1, Code: "N", Name: "NERVOUS SYSTEM", Current: true}},
	} {
		if got, ok := v.Lookup(tc.level, tc.code); !ok || got != tc.want {
			t.Errorf("Lookup(%s, %s) = %+v, %v; want %+v", tc.level, tc.code, got, ok, tc.want)
		}
	}
}

func TestWHODrugPreferredNames(t *testing.T) {
	v := mustWHODrug(t, os.DirFS(whodrugDir))
	for code, want := range map[string]string{
		"90000101A1C": "PARACETAMOL",      // trade name of the base substance
		"90000101001": "PARACETAMOL",      // a preferred name is its own
		"90000202002": "IBUPROFEN LYSINE", // trade name of a salt: the salt's preferred name
		"90000702002": "METOPROLOL SUCCINATE",
	} {
		if got, ok := v.PreferredName(code); !ok || got.Name != want {
			t.Errorf("PreferredName(%s) = %q, %v; want %q", code, got.Name, ok, want)
		}
	}
	for _, code := range []string{"90009901001", "N02BE", ""} {
		if got, ok := v.PreferredName(code); ok {
			t.Errorf("PreferredName(%q) = %+v, want none", code, got)
		}
	}
}

func TestWHODrugHierarchy(t *testing.T) {
	v := mustWHODrug(t, os.DirFS(whodrugDir))
	if got, want := codes(v.Roots()), []string{"A", "B", "C", "M", "N", "R"}; !slices.Equal(got, want) {
		t.Errorf("Roots() = %q, want %q", got, want)
	}
	if got, want := codes(v.Children(ATC3, "N02B")), []string{"N02BA", "N02BE"}; !slices.Equal(got, want) {
		t.Errorf("Children(N02B) = %q, want %q", got, want)
	}
	if got, want := names(v.Children(ATC4, "N02BE")), []string{
		"CALMAPYR", "DUOFEBRIL", "FEBRIDOL", "PARACETAMOL", "PARACETAMOL;IBUPROFEN", "PYRETAB",
	}; !slices.Equal(got, want) {
		t.Errorf("Children(N02BE) = %q, want %q", got, want)
	}
	// Acetylsalicylic acid is classified twice: as an analgesic and as an
	// antithrombotic.
	paths := v.Paths(Drug, "90000301001")
	var got []string
	for _, p := range paths {
		got = append(got, pathNames(p))
		if p.Primary {
			t.Errorf("WHODrug path %s marked primary", pathNames(p))
		}
	}
	want := []string{
		"BLOOD AND BLOOD FORMING ORGANS › ANTITHROMBOTIC AGENTS › ANTITHROMBOTIC AGENTS › PLATELET AGGREGATION INHIBITORS EXCL. HEPARIN › ACETYLSALICYLIC ACID",
		"NERVOUS SYSTEM › ANALGESICS › OTHER ANALGESICS AND ANTIPYRETICS › SALICYLIC ACID AND DERIVATIVES › ACETYLSALICYLIC ACID",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Paths(ACETYLSALICYLIC ACID) =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// A trade name is classified on its own: CARDIOSAL only as antithrombotic.
	if got := v.Parents(Drug, "90000301002"); len(got) != 1 || got[0].Code != "B01AC" {
		t.Errorf("Parents(CARDIOSAL) = %v, want B01AC", got)
	}
}

func TestParseWHODrugWithoutVersionFile(t *testing.T) {
	fsys := loadDir(t, whodrugDir)
	delete(fsys, "version.txt")
	if v := mustWHODrug(t, fsys); v.Release != "" {
		t.Errorf("Release = %q, want it left to the caller", v.Release)
	}
}

func TestParseWHODrugRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, fstest.MapFS)
		want   []string
	}{
		{"drug record number not a number", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 2, setColumns(0, 6, "90A001"))
		}, []string{`DD.txt line 2: field drug_record_number (columns 1–6): "90A001" is not a number of 6 digits`}},
		{"sequence number 1 not a number", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 3, setColumns(6, 8, "0x"))
		}, []string{`DD.txt line 3: field sequence_number_1 (columns 7–8): "0x" is not a number of 2 digits`}},
		{"sequence number 2 in lower case", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 4, setColumns(8, 11, "a1c"))
		}, []string{`DD.txt line 4: field sequence_number_2 (columns 9–11): "a1c" is not 3 digits or capital letters`}},
		{"drug name missing", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 5, func(l string) string { return l[:30] })
		}, []string{`DD.txt line 5: field drug_name (columns 31–): the field is empty`}},
		{"line cut short", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 6, func(l string) string { return l[:9] })
		}, []string{`DD.txt line 6: field sequence_number_2 (columns 9–11): "0" is not 3 digits or capital letters`}},
		{"duplicate drug code", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 7, setColumns(0, 11, "90000201002"))
		}, []string{`DD.txt line 7: field drug code (columns 1–11): drug 90000201002 is listed twice (first on line 6)`}},
		{"classification of an unknown drug", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DDA.txt", 9, setColumns(0, 11, "90009902002"))
		}, []string{`DDA.txt line 9: field drug code (columns 1–11): drug 90009902002 does not exist in DD.txt`}},
		{"classification under an unknown ATC", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DDA.txt", 10, setColumns(12, 19, "N02BX  "))
		}, []string{`DDA.txt line 10: field atc_code (columns 13–19): ATC N02BX does not exist in INA.txt`}},
		{"classification without ATC", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DDA.txt", 10, func(l string) string { return l[:12] })
		}, []string{`DDA.txt line 10: field atc_code (columns 13–19): the field is empty`}},
		{"duplicate classification", func(t *testing.T, f fstest.MapFS) {
			appendLine(f, "DDA.txt", "900003010012N02BA  ")
		}, []string{`DDA.txt line 49: drug 90000301001 is classified under ATC N02BA twice (first on line 10)`}},
		{"ATC code of the wrong level", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "INA.txt", 28, setColumns(7, 8, "4"))
		}, []string{`INA.txt line 28: field atc_code (columns 1–7): "N02B" is not an ATC code of level 4 (such as N02BE)`}},
		{"ATC level out of range", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "INA.txt", 27, setColumns(7, 8, "7"))
		}, []string{`INA.txt line 27: field level (column 8): "7" is not an ATC level from 1 to 5`}},
		{"ATC group without its parent", func(t *testing.T, f fstest.MapFS) {
			removeLine(t, f, "INA.txt", 31)
		}, []string{`INA.txt line 31: field atc_code (columns 1–7): ATC N02CC's parent group N02C is not in INA.txt`}},
		{"ATC listed twice", func(t *testing.T, f fstest.MapFS) {
			appendLine(f, "INA.txt", "N02BE  4ANILIDES")
		}, []string{`INA.txt line 41: field atc_code (columns 1–7): ATC N02BE is listed twice (first on line 30)`}},
		{"ATC text missing", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "INA.txt", 30, func(l string) string { return l[:8] })
		}, []string{`INA.txt line 30: field atc_text (columns 9–): the field is empty`}},
		{"missing DDA.txt", func(t *testing.T, f fstest.MapFS) {
			delete(f, "DDA.txt")
		}, []string{`DDA.txt: the file is missing; a WHODrug B3 distribution has DD.txt, DDA.txt, INA.txt`}},
		{"not UTF-8", func(t *testing.T, f fstest.MapFS) {
			setLine(t, f, "DD.txt", 8, func(l string) string { return l + "\xc9" })
		}, []string{`DD.txt line 8: the line is not UTF-8 text; convert the file to UTF-8 (for example with iconv -f WINDOWS-1252 -t UTF-8) and import it again`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := loadDir(t, whodrugDir)
			tc.damage(t, fsys)
			v, err := ParseWHODrug(context.Background(), fsys)
			if v != nil {
				t.Error("a failed parse returned a version")
			}
			wantParseErrors(t, err, tc.want...)
			if !strings.HasPrefix(err.Error(), "read WHODrug distribution: ") {
				t.Errorf("error %q does not say what was being read", err)
			}
		})
	}
}

func TestParseWHODrugMissingFileIsNotExist(t *testing.T) {
	fsys := loadDir(t, whodrugDir)
	delete(fsys, "INA.txt")
	if _, err := ParseWHODrug(context.Background(), fsys); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not fs.ErrNotExist", err)
	}
}

func codes(ts []Term) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Code
	}
	return out
}
