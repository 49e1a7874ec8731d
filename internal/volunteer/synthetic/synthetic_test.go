package synthetic

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

func generateAll(t testing.TB, seed int64, n int, cfg Config) []volunteer.Volunteer {
	t.Helper()
	vs := make([]volunteer.Volunteer, 0, n)
	if err := Generate(seed, n, cfg, func(v volunteer.Volunteer) error {
		vs = append(vs, v)
		return nil
	}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return vs
}

func digest(vs []volunteer.Volunteer) string {
	h := sha256.New()
	for _, v := range vs {
		fmt.Fprintf(h, "%+v\n", v)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	a := digest(generateAll(t, 42, 2000, cfg))
	b := digest(generateAll(t, 42, 2000, cfg))
	c := digest(generateAll(t, 43, 2000, cfg))
	if a != b {
		t.Errorf("the same seed gave different volunteers")
	}
	if a == c {
		t.Errorf("different seeds gave the same volunteers")
	}
	// A prefix of a longer run is the shorter run.
	long := generateAll(t, 42, 3000, cfg)
	if digest(long[:2000]) != a {
		t.Errorf("the first 2000 of 3000 volunteers differ from a run of 2000")
	}
}

// lists returns the code lists a unit configured as cfg would have.
func lists(cfg Config) volunteer.CodeLists {
	l := volunteer.CodeLists{}
	l.Add(volunteer.ListSite, cfg.Sites...)
	l.Add(volunteer.ListMedicalHistory, cfg.MedicalHistoryCodes...)
	l.Add(volunteer.ListMedications, cfg.MedicationCodes...)
	l.Add(volunteer.ListSubstanceUse, cfg.SubstanceUseCodes...)
	l.Add(volunteer.ListRecruitmentSource, cfg.RecruitmentSources...)
	l.Add(volunteer.ListEthnicity, cfg.Ethnicities...)
	l.Add(volunteer.ListRace, cfg.Races...)
	l.Add(volunteer.ListStudy, cfg.Studies...)
	l.Add(volunteer.ListConsentType, cfg.ConsentTypes...)
	for _, q := range cfg.Questions {
		l.Add(volunteer.ListQuestion, q.Code)
	}
	return l
}

func TestGeneratedVolunteersAreValidAndPlausible(t *testing.T) {
	for _, country := range Countries() {
		t.Run(country, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Country = country
			cfg.NumberPattern = "{site}-{yy}{seq:5}"
			cfg.Today = volunteer.NewDate(2025, 6, 15)
			swapped := map[string]bool{} // duplicates with day and month of birth swapped
			cfg.OnDuplicate = func(_, d volunteer.Volunteer, kind string) { swapped[d.Number] = kind == DupBirthDaySwaps }
			known := lists(cfg)
			pattern, _ := volunteer.ParseNumberPattern(cfg.NumberPattern)
			vs := generateAll(t, 7, 5000, cfg)
			numbers := map[string]bool{}
			statuses := map[volunteer.Status]int{}
			nonASCII, emails, withHistory, withStudies, withRace := 0, 0, 0, 0, 0
			for _, v := range vs {
				if errs := volunteer.ValidateOn(v, cfg.Today); len(errs) > 0 {
					t.Fatalf("%s is not valid: %v", v.Number, errs)
				}
				if errs := volunteer.CheckCodes(v, known); len(errs) > 0 {
					t.Fatalf("%s has unknown codes: %v", v.Number, errs)
				}
				if numbers[v.Number] || !pattern.Matches(v.Number) {
					t.Fatalf("volunteer number %q is repeated or does not match the pattern", v.Number)
				}
				numbers[v.Number] = true
				statuses[v.Status]++
				if v.Status == volunteer.StatusPrivacyRemoved {
					if len(volunteer.PHIValues(v)) != 0 {
						t.Fatalf("privacy-removed %s keeps PHI", v.Number)
					}
					continue
				}
				if age := v.BirthDate.AgeOn(cfg.Today); (age < 18 || age > 65) && !swapped[v.Number] {
					t.Errorf("%s is %d years old", v.Number, age)
				}
				if !isASCII(v.GivenName + v.FamilyName) {
					nonASCII++
				}
				if v.Email != "" {
					emails++
					if !strings.HasSuffix(v.Email, "@example.com") && !strings.HasSuffix(v.Email, "@example.net") && !strings.HasSuffix(v.Email, "@example.org") {
						t.Errorf("email %q is not at a reserved example domain", v.Email)
					}
				}
				for _, p := range v.Phones {
					if country == "GB" && !strings.HasPrefix(p.Number, "+447700900") && !strings.HasPrefix(p.Number, "+442079460") {
						t.Errorf("British phone %s is outside the Ofcom drama ranges", p.Number)
					}
					if country == "US" && p.Number[5:10] != "55501" {
						t.Errorf("American phone %s is outside 555-01xx", p.Number)
					}
				}
				if v.Address.Country != "" && v.Address.Country != country {
					t.Errorf("address in %s for a unit in %s", v.Address.Country, country)
				}
				for _, e := range v.MedicalHistory {
					if e.Start.Year < v.BirthDate.Year {
						t.Errorf("%s has %s from %v, before birth on %v", v.Number, e.Code, e.Start, v.BirthDate)
					}
				}
				if len(v.MedicalHistory) > 0 {
					withHistory++
				}
				if len(v.Participations) > 0 {
					withStudies++
				}
				if len(v.Races) > 0 && v.Ethnicity != "" {
					withRace++
				}
			}
			n := len(vs)
			if a := statuses[volunteer.StatusActive]; a < n*80/100 || a > n*92/100 {
				t.Errorf("%d of %d active, want about 86%%", a, n)
			}
			for _, s := range volunteer.Statuses() {
				if s != volunteer.StatusDeceased && statuses[s] == 0 {
					t.Errorf("no volunteer is %s", s)
				}
			}
			if nonASCII < n/10 {
				t.Errorf("only %d of %d names have accents or other letters", nonASCII, n)
			}
			if emails < n*3/4 || withHistory < n/3 || withStudies < n/4 || withRace < n/2 {
				t.Errorf("%d emails, %d with medical history, %d with studies, %d with race and ethnicity in %d",
					emails, withHistory, withStudies, withRace, n)
			}
		})
	}
}

func isASCII(s string) bool { return utf8.RuneCountInString(s) == len(s) }

func TestGenerateCoversCultures(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DuplicateRate = 0
	seen := map[string]int{}
	family := map[string]string{}
	for _, c := range cultures {
		for _, f := range c.family {
			family[f.latin] = c.id
		}
	}
	native := 0
	for _, v := range generateAll(t, 1, 5000, cfg) {
		f := v.FamilyName
		if c, ok := family[f]; ok {
			seen[c]++
		} else if first := strings.Fields(f); len(first) > 0 {
			if c, ok := family[first[0]]; ok {
				seen[c]++ // Spanish double family names
			} else if strings.HasSuffix(f, "ska") || strings.HasSuffix(f, "cka") || f == "Kaur" {
				seen["feminine"]++
			}
		}
		if v.OtherNames != "" && !isASCII(v.OtherNames) {
			native++
		}
	}
	for _, c := range cultures {
		if seen[c.id] == 0 {
			t.Errorf("no volunteer from the %s culture", c.id)
		}
	}
	if seen["dutch"] < 2000 {
		t.Errorf("%d Dutch family names in a Dutch unit, want about half", seen["dutch"])
	}
	if seen["feminine"] == 0 || native == 0 {
		t.Errorf("%d feminine Polish or Sikh family names, %d names in native script", seen["feminine"], native)
	}
	if got, want := polishFeminine("Wiśniewski"), "Wiśniewska"; got != want {
		t.Errorf("polishFeminine = %q, want %q", got, want)
	}
	if got := polishFeminine("Nowak"); got != "Nowak" {
		t.Errorf("polishFeminine(Nowak) = %q", got)
	}
}

// TestNearDuplicatesAreFound checks the generator and the duplicate rule
// together: every deliberate near duplicate is found, and few others are.
func TestNearDuplicatesAreFound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DuplicateRate = 0.05
	type pair struct{ orig, dup string }
	var dups []pair
	kinds := map[string]int{}
	missed := map[string]int{}
	cfg.OnDuplicate = func(o, d volunteer.Volunteer, kind string) {
		dups = append(dups, pair{o.Number, d.Number})
		kinds[kind]++
		if _, ok := volunteer.MatchReason(o, d); !ok {
			missed[kind]++
			if missed[kind] <= 3 {
				t.Errorf("%s: %s %s %v and %s %s %v not matched", kind, o.GivenName, o.FamilyName, o.BirthDate, d.GivenName, d.FamilyName, d.BirthDate)
			}
		}
	}
	vs := generateAll(t, 11, 20000, cfg)
	if n := len(dups); n < 800 || n > 1200 {
		t.Errorf("%d near duplicates in 20000 at 5%%", n)
	}
	for _, k := range []string{DupAccents, DupCase, DupSwapped, DupTypo, DupPhonetic, DupShorterName, DupMarriedName, DupBirthDaySwaps} {
		if kinds[k] == 0 {
			t.Errorf("no near duplicate of kind %q", k)
		}
	}
	t.Logf("near duplicates by kind: %v", kinds)

	// Records that are the same person form groups (a duplicate may itself be
	// duplicated); a match outside a group is a false alarm.
	group := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := group[x]; ok && p != x {
			r := find(p)
			group[x] = r
			return r
		}
		return x
	}
	for _, p := range dups {
		group[find(p.dup)] = find(p.orig)
	}
	byBirth := map[volunteer.Date][]int{}
	for i, v := range vs {
		byBirth[v.BirthDate] = append(byBirth[v.BirthDate], i)
	}
	keys := make([]volunteer.MatchKey, len(vs))
	for i, v := range vs {
		keys[i] = volunteer.NewMatchKey(v)
	}
	compared, alarms := 0, 0
	for i, v := range vs {
		for _, d := range volunteer.DuplicateBirthDates(v.BirthDate) {
			for _, j := range byBirth[d] {
				if j <= i {
					continue
				}
				compared++
				if reason, ok := keys[i].Match(keys[j]); ok && find(v.Number) != find(vs[j].Number) {
					alarms++
					if alarms <= 5 {
						t.Logf("false alarm: %s %s / %s %s: %s", v.GivenName, v.FamilyName, vs[j].GivenName, vs[j].FamilyName, reason)
					}
				}
			}
		}
	}
	t.Logf("%d pairs compared, %d false alarms", compared, alarms)
	if alarms*1000 > compared*5 {
		t.Errorf("%d false alarms in %d pairs compared, more than 0.5%%", alarms, compared)
	}
}

func TestGenerateErrors(t *testing.T) {
	each := func(volunteer.Volunteer) error { return nil }
	tests := []struct {
		change func(*Config)
		n      int
		want   string
	}{
		{func(c *Config) { c.Country = "XX" }, 1, `the country "XX" is not one of`},
		{func(c *Config) { c.NumberPattern = "V" }, 1, "has no {seq:N} placeholder"},
		{func(c *Config) { c.DuplicateRate = 0.9 }, 1, "not between 0 and 0.5"},
		{func(c *Config) { c.Today = volunteer.Date{Year: 2025} }, 1, "not a complete date"},
		{func(c *Config) {}, -1, "negative"},
		{func(c *Config) { c.NumberPattern = "V{seq:1}"; c.Sites = []string{"A"} }, 20, "does not fit the 1 digits"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.change(&cfg)
		err := Generate(1, tt.n, cfg, each)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate error = %v, want %q", err, tt.want)
		}
	}
	stop := errors.New("enough")
	n := 0
	err := Generate(1, 100, DefaultConfig(), func(volunteer.Volunteer) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("after each failed: %d volunteers, %v", n, err)
	}
}

func TestMutations(t *testing.T) {
	if got := stripAccents("Łukasz Wiśniewski-Groß"); got != "Lukasz Wisniewski-Gross" {
		t.Errorf("stripAccents = %q", got)
	}
	r := rng{src: newPCG(3)}
	for range 200 {
		s := "Wilkinson"
		if !typo(&r, &s) {
			t.Fatal("no typo in a long name")
		}
		if s == "Wilkinson" || s[0] != 'W' {
			t.Errorf("typo(Wilkinson) = %q", s)
		}
	}
	short := "Anna"
	if typo(&r, &short) || short != "Anna" {
		t.Errorf("typo in a four-letter name: %q", short)
	}
	s := "Stephens"
	if !respell(&r, &s) || s != "Stefens" {
		t.Errorf("respell(Stephens) = %q", s)
	}
	s = "Ba"
	if respell(&r, &s) {
		t.Errorf("respell changed %q", s)
	}
}
