package obfuscation

import (
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// TestPhoneRuns pins which digit runs the scan treats as phone numbers.
func TestPhoneRuns(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"mobile +31 6 1234 5678; home +31201234567", []string{"612345678", "201234567"}},
		{"+31612345678 +447700900123", []string{"612345678", "700900123"}},
		{"call 06-1234 5678 after five", []string{"0612345678"[1:]}},
		{"hash a3f1234567890b and V0001234567", nil},
		{"2026-11-25T14:36:24.000000Z", nil},
		{"123456", nil},
	} {
		var got []string
		eachPhoneKey(c.text, func(k string) { got = append(got, k) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: phone keys %q, want %q", c.text, got, c.want)
		}
	}
}

// TestNameWords pins which words of a name the scan looks for.
func TestNameWords(t *testing.T) {
	for name, want := range map[string][]string{
		"van der Berg": {"berg"},
		"Das":          {"das"},
		"Li":           nil,
		"José-María":   {"jose", "maria"},
		"O'Brien":      {"obrien"},
	} {
		if got := nameTokens(name); !slices.Equal(got, want) {
			t.Errorf("%q: words %q, want %q", name, got, want)
		}
	}
}

// TestPseudonymShapes checks the format rules value by value, and that a
// pseudonym is never an original.
func TestPseudonymShapes(t *testing.T) {
	orig := newNeedles()
	orig.addNames(names{given: []string{"astrid"}, family: []string{"holloway"}})
	p := newPseudonymizer([]byte("0123456789abcdef0123456789abcdef"), orig)
	if got := p.Name(roleFamily, "", "van der Meer"); !strings.HasPrefix(got, "van der ") || strings.HasSuffix(got, "Meer") {
		t.Errorf("van der Meer became %q; want the particles kept and the name replaced", got)
	}
	for range 50 {
		// Whatever the original, the lists' Astrid and Holloway are taken.
		for _, s := range []string{"Anna", "Eva", "Maria", "Sophie"} {
			if g := p.Name(roleGiven, volunteer.SexFemale, s); volunteer.NormalizeName(g) == "astrid" {
				t.Fatalf("%s became the original name Astrid", s)
			}
		}
	}
	if got := p.Name(roleGiven, volunteer.SexFemale, "ANNA"); got != strings.ToUpper(got) {
		t.Errorf("ANNA became %q; want capitals kept", got)
	}
	if got := p.BirthDate("1984-02-29"); !strings.HasPrefix(got, "1984-") || got == "1984-02-29" {
		t.Errorf("1984-02-29 became %q", got)
	}
	if got := p.BirthDate("1984-**-**"); got != "1984-**-**" {
		t.Errorf("a year alone became %q", got)
	}
	if got := p.PostalCode("1016 GV"); len(got) != 7 || got[4] != ' ' || got[5] < 'A' || got[5] > 'Z' || got[0] == '0' {
		t.Errorf("1016 GV became %q", got)
	}
	if got := p.Phone("+1 (415) 555-0100"); len(got) != len("+1 (415) 555-0100") || !strings.HasPrefix(got, "+1 (") || got[7] != ')' {
		t.Errorf("+1 (415) 555-0100 became %q", got)
	}
	if got := p.Email("Someone@Example.COM"); volunteer.CheckEmail(got) != nil || got != p.Email("Someone@Example.COM") {
		t.Errorf("the email became %q", got)
	}
}
