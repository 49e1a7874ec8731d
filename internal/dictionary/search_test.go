package dictionary

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Headache", "headache"},
		{"  HEADACHE \t", "headache"},
		{"Dizziness   postural", "dizziness postural"},
		{"Dizziness\u00a0postural", "dizziness postural"}, // no-break space from a pasted document
		{"Tab\tand\nnew line", "tab and new line"},
		{"Céphalée", "cephalee"},
		{"CÉPHALÉE", "cephalee"},
		{"Œdème  Aigu", "oedeme aigu"},
		{"Hyperkaliämie", "hyperkaliamie"},
		{"Straße", "strasse"},
		{"Æther", "aether"},
		{"Søvnløshed", "sovnloshed"},
		{"Ángel Ñandú", "angel nandu"},
		{"İnsomnia", "insomnia"},
		{"ﬁbrosis", "fibrosis"},            // ligature
		{"mm²", "mm2"},                     // superscript
		{"ＡＬＴ increased", "alt increased"}, // full-width
		{"94000390", "94000390"},
		{"N02BE", "n02be"},
		{"", ""},
		{" \t ", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSearchMedDRA(t *testing.T) {
	v := mustMedDRA(t, os.DirFS(meddra271))
	for _, tc := range []struct {
		query string
		limit int
		want  []string // "LEVEL name" in result order
	}{
		// Prefix of names; ties in name go the broader level first.
		{"head", 0, []string{
			"LLT Head discomfort", "LLT Head pain", "PT Headache", "LLT Headache",
			"LLT Headache worsening", "HLGT Headaches", "HLT Headaches NEC",
		}},
		// Exact matches come first.
		{"Headaches", 0, []string{"HLGT Headaches", "HLT Headaches NEC"}},
		{"headache", 0, []string{"PT Headache", "LLT Headache", "LLT Headache worsening", "HLGT Headaches", "HLT Headaches NEC"}},
		// Non-current LLTs come last.
		{"rash", 0, []string{
			"PT Rash", "LLT Rash", "PT Rash erythematous", "LLT Rash erythematous",
			"PT Rash maculo-papular", "LLT Rash maculo-papular", "HLT Rashes, eruptions and exanthems NEC", "LLT Rash NOS",
		}},
		// Case, accents and spacing do not matter.
		{"  DÍZZINESS   Pos", 0, []string{"PT Dizziness postural", "LLT Dizziness postural"}},
		// Codes match by prefix too.
		{"94000390", 0, []string{"PT Headache", "LLT Headache"}},
		{"9100005", 0, []string{"SOC Nervous system disorders"}},
		// Limit cuts the ranked list.
		{"head", 3, []string{"LLT Head discomfort", "LLT Head pain", "PT Headache"}},
		{"zzz", 0, nil},
		{"   ", 5, nil},
	} {
		var got []string
		for _, term := range Search(v, tc.query, tc.limit) {
			got = append(got, fmt.Sprintf("%s %s", term.Level, term.Name))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q, %d) =\n  %s\nwant\n  %s", tc.query, tc.limit, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
		}
	}
}

func TestSearchWHODrug(t *testing.T) {
	v := mustWHODrug(t, os.DirFS(whodrugDir))
	got := codes(Search(v, "paracetamol", 0))
	if want := []string{"90000101001", "90001501001"}; !slices.Equal(got, want) {
		t.Errorf("Search(paracetamol) = %q, want %q", got, want)
	}
	got = codes(Search(v, "n02b", 0))
	// The exact code first, then by name: anilides, salicylic acid…
	if want := []string{"N02B", "N02BE", "N02BA"}; !slices.Equal(got, want) {
		t.Errorf("Search(n02b) = %q, want %q", got, want)
	}
	got = codes(Search(v, "900002", 0))
	if len(got) != 5 {
		t.Errorf("Search by drug record number 900002 = %q, want the record's 5 names", got)
	}
}

func TestSearchFindsAccentedTerms(t *testing.T) {
	v, err := NewVersion(MedDRA, "27.1", "French", []Term{
		{Level: SOC, Code: "91000050", Name: "Affections du système nerveux", Current: true},
		{Level: HLGT, Code: "92000090", Name: "Céphalées", Current: true},
		{Level: HLT, Code: "93000160", Name: "Céphalées NCA", Current: true},
		{Level: PT, Code: "94000390", Name: "Céphalée", Current: true, PrimarySOC: "91000050"},
		{Level: LLT, Code: "94000390", Name: "Céphalée", Current: true},
		{Level: LLT, Code: "95000630", Name: "Œdème cérébral", Current: true},
	}, []Link{
		{TermRef{SOC, "91000050"}, TermRef{HLGT, "92000090"}},
		{TermRef{HLGT, "92000090"}, TermRef{HLT, "93000160"}},
		{TermRef{HLT, "93000160"}, TermRef{PT, "94000390"}},
		{TermRef{PT, "94000390"}, TermRef{LLT, "94000390"}},
		{TermRef{PT, "94000390"}, TermRef{LLT, "95000630"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(Search(v, "CEPHALEE", 0)); !slices.Equal(got, []string{"Céphalée", "Céphalée", "Céphalées", "Céphalées NCA"}) {
		t.Errorf("Search(CEPHALEE) = %q", got)
	}
	if got := names(Search(v, "oedeme", 0)); !slices.Equal(got, []string{"Œdème cérébral"}) {
		t.Errorf("Search(oedeme) = %q", got)
	}
}
