package volunteer

import (
	"slices"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		// Case, spaces, hyphens, apostrophes.
		{"  Jean-Pierre  O’Brien ", "jean pierre obrien"},
		{"JEAN PIERRE OBRIEN", "jean pierre obrien"},
		{"O'Brien", "obrien"},
		{"D´Angelo", "dangelo"},
		{"Ma`mun", "mamun"},
		{"Smith–Jones", "smith jones"}, // en dash
		{"St. John", "st john"},
		{"de Vries, Jan", "de vries jan"},
		// Latin accents.
		{"Müller", "muller"},
		{"François Lefèvre", "francois lefevre"},
		{"José Núñez Ibáñez", "jose nunez ibanez"},
		{"Łukasz Żółć-Wiśniewski", "lukasz zolc wisniewski"},
		{"Dąbrowska", "dabrowska"},
		{"Ğül Şahin Öztürk Çelik", "gul sahin ozturk celik"},
		{"İbrahim Yılmaz", "ibrahim yilmaz"},
		{"Nguyễn Văn Anh", "nguyen van anh"},
		{"Ògúnlẹ̀yẹ̀", "ogunleye"},
		{"Chloë Noël", "chloe noel"},
		{"Dvořák", "dvorak"},
		// Letters Unicode does not decompose.
		{"Straße", "strasse"},
		{"STRAẞE", "strasse"},
		{"Ærøskøbing", "aeroskobing"},
		{"Œuvray", "oeuvray"},
		{"Þórunn Guðmundsdóttir", "thorunn gudmundsdottir"},
		{"Đorđević", "dordevic"},
		{"Ħamrun", "hamrun"},
		// Compatibility forms.
		{"ＪＯＨＮ", "john"},
		{"ﬁnn", "finn"},
		{"Ĳsbrand", "ijsbrand"},
		// Greek and Cyrillic: accents go, letters stay.
		{"Ὀδυσσεύς", "οδυσσευσ"},
		{"ΣΙΣΥΦΟΣ", "σισυφοσ"},
		{"Ёлкин", "елкин"},
		{"Андрей Иванов", "андреи иванов"},
		// Arabic: harakat, tatweel and letter variants fold.
		{"أحمد", "احمد"},
		{"مُحَمَّد", "محمد"},
		{"مـحـمـد", "محمد"},
		{"فاطمة", "فاطمه"},
		{"مصطفى", "مصطفي"},
		// Hebrew: niqqud and final forms fold.
		{"שָׁלוֹם", "שלומ"},
		// Marks that are part of the letter stay.
		{"अमित कुमार", "अमित कुमार"},
		{"ｶﾞｯｷｰ", "ガッキー"},
		{"ガッキー", "ガッキー"},
		{"김민준", "김민준"},
		{"王小明", "王小明"},
		{"สมชาย", "สมชาย"},
		// Nothing but punctuation.
		{" - ' ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeNameIsIdempotent(t *testing.T) {
	for _, s := range []string{"Jean-Pierre O’Brien", "Ærøskøbing", "Ὀδυσσεύς", "أحمد", "ｶﾞｯｷｰ", "अमित", "김민준"} {
		once := NormalizeName(s)
		if twice := NormalizeName(once); twice != once {
			t.Errorf("NormalizeName(NormalizeName(%q)) = %q, want %q", s, twice, once)
		}
	}
}

func TestSearchKeyIsOrderInsensitive(t *testing.T) {
	groups := [][]string{
		{"Jan de Vries", "de Vries, Jan", "VRIES Jan De", "Jan De-Vries"},
		{"Müller Anna", "Anna Müller", "ANNA MULLER"},
		{"Wang Xiaoming", "Xiaoming WANG"},
	}
	for _, g := range groups {
		want := SearchKey(g[0])
		for _, s := range g[1:] {
			if got := SearchKey(s); got != want {
				t.Errorf("SearchKey(%q) = %q, want %q (as %q)", s, got, want, g[0])
			}
		}
	}
	if SearchKey("Jan de Vries") == SearchKey("Jan Vries") {
		t.Errorf("different words share a search key")
	}
}

func TestNameTokens(t *testing.T) {
	v := Volunteer{GivenName: "Jean-Pierre", FamilyName: "de Vries", OtherNames: "Дюпон"}
	want := []string{"de", "devries", "дюпон", "jean", "jeanpierre", "pierre", "vries"}
	slices.Sort(want)
	if got := NameTokens(v); !slices.Equal(got, want) {
		t.Errorf("NameTokens = %q, want %q", got, want)
	}
	if got := NameTokens(Volunteer{GivenName: "Anna", FamilyName: "Anna"}); !slices.Equal(got, []string{"anna"}) {
		t.Errorf("NameTokens with a repeated word = %q", got)
	}
	if got := SearchTokens("  vries DE de "); !slices.Equal(got, []string{"de", "vries"}) {
		t.Errorf("SearchTokens = %q", got)
	}
}

func TestMatchesNameQuery(t *testing.T) {
	jan := Volunteer{GivenName: "Jan Willem", FamilyName: "de Vries"}
	anna := Volunteer{GivenName: "Anna", FamilyName: "Müller-Lüdenscheidt", OtherNames: "Anna Schmidt"}
	ayse := Volunteer{GivenName: "Ayşe", FamilyName: "Yılmaz"}
	tests := []struct {
		v     Volunteer
		query string
		want  bool
	}{
		{jan, "jan", true},
		{jan, "vries ja", true},
		{jan, "JAN DE", true},
		{jan, "devr", true},
		{jan, "de vr", true},
		{jan, "wil vri", true},
		{jan, "jan smit", false},
		{jan, "ries", false}, // prefix, not substring
		{jan, "", false},
		{jan, " - ", false},
		{anna, "mull", true},
		{anna, "Müll", true},
		{anna, "MULLER anna", true},
		{anna, "lude", true},
		{anna, "schmidt", true}, // former name
		{anna, "mueller", false},
		{ayse, "ayse yil", true},
		{ayse, "AYŞE YILMAZ", true},
		{ayse, "ayse yilmaz", true},
	}
	for _, tt := range tests {
		if got := MatchesNameQuery(tt.v, tt.query); got != tt.want {
			t.Errorf("MatchesNameQuery(%s %s, %q) = %v, want %v", tt.v.GivenName, tt.v.FamilyName, tt.query, got, tt.want)
		}
	}
}
