package volunteer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func person(given, family string, born Date) Volunteer {
	return Volunteer{GivenName: given, FamilyName: family, BirthDate: born, Status: StatusActive}
}

func TestMatchReason(t *testing.T) {
	d := NewDate(1984, time.May, 12)
	swappedD := NewDate(1984, time.December, 5)
	other := NewDate(1984, time.May, 13)
	tests := []struct {
		name   string
		a, b   Volunteer
		reason string // "" means no match
	}{
		{"identical", person("Jan", "de Vries", d), person("Jan", "de Vries", d), "same name and date of birth"},
		{"case and accents", person("José", "Núñez", d), person("JOSE", "NUNEZ", d), "same name and date of birth"},
		{"particle joined", person("Jan", "de Vries", d), person("Jan", "Devries", d), "same name and date of birth"},
		{"hyphen or space", person("Jean-Pierre", "Dupont", d), person("Jean Pierre", "Dupont", d), "same name and date of birth"},
		{"apostrophe", person("Sean", "O'Brien", d), person("Sean", "OBrien", d), "same name and date of birth"},
		{"Turkish dotless i", person("İbrahim", "Yılmaz", d), person("Ibrahim", "Yilmaz", d), "same name and date of birth"},
		{"given and family swapped", person("Wang", "Wei", d), person("Wei", "Wang", d), "given and family names swapped"},
		{"words split differently", person("Jan Willem", "Berg", d), person("Jan", "Willem Berg", d), "same names in a different order"},
		{"second family name missing", person("María", "García López", d), person("Maria", "Garcia", d), "one name is part of the other"},
		{"middle name missing", person("Anna Maria", "Jansen", d), person("Anna", "Jansen", d), "one name is part of the other"},
		{"married name", Volunteer{GivenName: "Anna", FamilyName: "Jansen", OtherNames: "de Boer", BirthDate: d}, person("Anna", "de Boer", d), "former or other names"},
		{"sounds alike", person("Catherine", "Meyer", d), person("Kathryn", "Maier", d), "names sound alike"},
		{"sounds alike, swapped", person("Mohammed", "Hassan", d), person("Hasan", "Muhammad", d), "names sound alike"},
		{"Polish feminine surname", person("Anna", "Kowalski", d), person("Anna", "Kowalska", d), "names sound alike"},
		{"Cyrillic and Latin", person("Андрей", "Иванов", d), person("Andrei", "Ivanov", d), "names sound alike"},
		{"one typo", person("Margaret", "Thompson", d), person("Margaret", "Thomspon", d), "names differ by 1 letter"},
		{"typo in each name", person("Gerrit", "Mulder", d), person("Gerrot", "Mulser", d), "names differ by 2 letters"},
		{"typos that sound alike", person("Alexandra", "Wilkinson", d), person("Alexnadra", "Wilkinsen", d), "names sound alike"},
		{"same sound, other spelling", person("Li", "Wu", d), person("Lee", "Wu", d), "names sound alike"},
		{"day and month swapped", person("Jan", "de Vries", d), person("Jan", "de Vries", swappedD), "day and month of birth swapped"},
		{"day and month swapped, names swapped", person("Wang", "Wei", d), person("Wei", "Wang", swappedD), "day and month of birth swapped"},
		// Not matches.
		{"different birth date", person("Jan", "de Vries", d), person("Jan", "de Vries", other), ""},
		{"similar names, dates swapped", person("Catherine", "Meyer", d), person("Kathryn", "Maier", swappedD), ""},
		{"different people same birthday", person("Jan", "de Vries", d), person("Pieter", "Bakker", d), ""},
		{"same given name only", person("Anna", "Jansen", d), person("Anna", "Bakker", d), ""},
		{"three letters apart", person("Alexandra", "Wilkinson", d), person("Alexandra", "Wilkerton", d), ""},
		{"partial birth date", person("Jan", "de Vries", Date{Year: 1984}), person("Jan", "de Vries", Date{Year: 1984}), ""},
		{"no birth date", person("Jan", "de Vries", Date{}), person("Jan", "de Vries", Date{}), ""},
		{"privacy removed", ErasePHI(person("Jan", "de Vries", d)), ErasePHI(person("Piet", "Smit", d)), ""},
		{"Han names differ", person("小明", "王", d), person("小红", "王", d), ""},
		{"Han names same", person("小明", "王", d), person("小明", "王", d), "same name and date of birth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchReason(tt.a, tt.b)
			if tt.reason == "" {
				if ok {
					t.Errorf("MatchReason = %q, want no match", got)
				}
				return
			}
			if !ok || !strings.Contains(got, tt.reason) {
				t.Errorf("MatchReason = %q, %v; want %q", got, ok, tt.reason)
			}
			// The rule is symmetric.
			back, okBack := MatchReason(tt.b, tt.a)
			if okBack != ok || back != got {
				t.Errorf("MatchReason(b, a) = %q, %v; MatchReason(a, b) = %q", back, okBack, got)
			}
		})
	}
}

func TestDuplicateBirthDates(t *testing.T) {
	tests := []struct {
		d    Date
		want []Date
	}{
		{NewDate(1984, time.May, 13), []Date{NewDate(1984, time.May, 13)}},
		{NewDate(1984, time.May, 12), []Date{NewDate(1984, time.May, 12), NewDate(1984, time.December, 5)}},
		{NewDate(1984, time.May, 5), []Date{NewDate(1984, time.May, 5)}},
		{NewDate(1984, time.May, 3), []Date{NewDate(1984, time.May, 3), NewDate(1984, time.March, 5)}},
		{Date{Year: 1984}, []Date{{Year: 1984}}},
	}
	for _, tt := range tests {
		if got := DuplicateBirthDates(tt.d); !slices.Equal(got, tt.want) {
			t.Errorf("DuplicateBirthDates(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestTypoAllowance(t *testing.T) {
	tests := []struct {
		g1, g2, f1, f2 string
		want           int
		ok             bool
	}{
		{"li", "lu", "wu", "wu", 0, false}, // three letters or fewer: no typos allowed
		{"anna", "anne", "smit", "smit", 1, true},
		{"anna", "anne", "smit", "smyt", 2, true},
		{"anna", "anan", "smit", "smit", 1, true},  // a transposition is one mistake
		{"anna", "ahne", "smit", "smit", 0, false}, // two mistakes in a short name
		{"margaret", "margerat", "smit", "smit", 2, true},
		{"margaret", "margerat", "smit", "smyt", 0, false}, // three in all
	}
	for _, tt := range tests {
		got, ok := typoDistance(tt.g1, tt.g2, tt.f1, tt.f2)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("typoDistance(%s/%s, %s/%s) = %d, %v; want %d, %v", tt.g1, tt.g2, tt.f1, tt.f2, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOSADistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"thompson", "thomspon", 1}, {"kitten", "sitting", 3},
		{"ca", "abc", 3}, {"müller", "muller", 1}, {"王小明", "王小红", 1}, {"abcd", "acbd", 1},
	}
	for _, tt := range tests {
		if got := osaDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("osaDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
