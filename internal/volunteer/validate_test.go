package volunteer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var testToday = NewDate(2025, time.June, 15)

// validVolunteer returns a record that passes every rule, for tests to break
// one rule at a time.
func validVolunteer() Volunteer {
	return Volunteer{
		Number:        "V000123",
		GivenName:     "Jan Willem",
		FamilyName:    "de Vries",
		OtherNames:    "Jansen",
		BirthDate:     NewDate(1984, time.May, 12),
		SexAtBirth:    SexMale,
		Gender:        GenderMan,
		Ethnicity:     "NOT_HISPANIC",
		Races:         []string{"WHITE", "ASIAN"},
		Phones:        []Phone{{Kind: PhoneMobile, Number: "+31612345678"}, {Kind: PhoneHome, Number: "+31201234567"}},
		Email:         "jw.devries@example.com",
		Address:       Address{Line1: "Kerkstraat 12", Line2: "2e verdieping", PostalCode: "1017 GC", City: "Amsterdam", Region: "Noord-Holland", Country: "NL"},
		PreferredSite: "AMS",
		Status:        StatusActive,
		Notes:         "Prefers morning visits.",
		Answers: []Answer{
			{Question: "GP_NAME", Value: "Dr. Bakker, Huisartsenpraktijk Centrum", PHI: true},
			{Question: "SMOKER", Value: "no"},
		},
		RecruitmentSource: "RADIO",
		MedicalHistory:    []CodedEntry{{Code: "ASTHMA", Start: Date{Year: 1995}, Note: "Diagnosed at the VUmc"}},
		Medications:       []CodedEntry{{Code: "SALBUTAMOL", Start: NewDate(2020, time.January, 1), Note: "as needed"}},
		SubstanceUse:      []CodedEntry{{Code: "ALCOHOL", Start: Date{Year: 2002}, Note: "weekends"}},
		Consents:          []Consent{{Type: "database", Version: "3.1", Date: NewDate(2019, time.March, 4)}},
		Participations: []Participation{
			{Study: "CRU-2019-04", Start: NewDate(2019, time.April, 1), End: NewDate(2019, time.May, 2), Outcome: OutcomeCompleted},
		},
		NextEligible: NewDate(2019, time.August, 1),
	}
}

func TestValidateAcceptsValidRecords(t *testing.T) {
	v := validVolunteer()
	if errs := ValidateOn(v, testToday); len(errs) != 0 {
		t.Fatalf("valid record rejected: %v", errs)
	}
	// Born today is in the past of no one, but not in the future either.
	v.BirthDate = testToday
	if errs := ValidateOn(v, testToday); len(errs) != 0 {
		t.Errorf("birth date of today rejected: %v", errs)
	}
	// Exactly MaxAge years old is still accepted.
	v.BirthDate = NewDate(testToday.Year-MaxAge, testToday.Month, testToday.Day)
	if errs := ValidateOn(v, testToday); len(errs) != 0 {
		t.Errorf("age %d rejected: %v", MaxAge, errs)
	}
	// A privacy-removed record keeps no PHI and needs no names.
	r := ErasePHI(validVolunteer())
	r.Status = StatusPrivacyRemoved
	if errs := ValidateOn(r, testToday); len(errs) != 0 {
		t.Errorf("privacy-removed record rejected: %v", errs)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Volunteer)
		field  string
		want   string // part of the sentence
	}{
		{"given name missing", func(v *Volunteer) { v.GivenName = "  " }, FieldGivenName, "The given name is missing."},
		{"family name missing", func(v *Volunteer) { v.FamilyName = "" }, FieldFamilyName, "The family name is missing."},
		{"family name without letters", func(v *Volunteer) { v.FamilyName = "1234" }, FieldFamilyName, `"1234" has no letters`},
		{"name with tab", func(v *Volunteer) { v.GivenName = "Jan\tWillem" }, FieldGivenName, "control character"},
		{"name too long", func(v *Volunteer) { v.OtherNames = strings.Repeat("a", 101) }, FieldOtherNames, "longer than 100"},
		{"birth date missing", func(v *Volunteer) { v.BirthDate = Date{} }, FieldBirthDate, "The date of birth is missing."},
		{"birth date in future", func(v *Volunteer) { v.BirthDate = testToday.AddDays(1) }, FieldBirthDate, "2025-06-16 is in the future"},
		{"birth date too old", func(v *Volunteer) { v.BirthDate = NewDate(1900, time.January, 1) }, FieldBirthDate, "125 years old; the oldest accepted age is 120"},
		{"birth date just too old", func(v *Volunteer) { v.BirthDate = NewDate(1904, time.June, 14) }, FieldBirthDate, "121 years old"},
		{"birth date partial", func(v *Volunteer) { v.BirthDate = Date{Year: 1984} }, FieldBirthDate, "is incomplete"},
		{"birth date impossible", func(v *Volunteer) { v.BirthDate = NewDate(1984, time.February, 30) }, FieldBirthDate, "not a day in the calendar"},
		{"email without @", func(v *Volunteer) { v.Email = "jan.example.com" }, FieldEmail, "has no @"},
		{"email without domain dot", func(v *Volunteer) { v.Email = "jan@localhost" }, FieldEmail, "has no dot"},
		{"phone with letters", func(v *Volunteer) { v.Phones[1].Number = "+31 20 CALL ME" }, "phones[1]", "contains letters"},
		{"phone national", func(v *Volunteer) { v.Phones[0].Number = "06 1234 5678" }, "phones[0]", "no country code"},
		{"phone kind unknown", func(v *Volunteer) { v.Phones[0].Kind = "pager" }, "phones[0]", `"pager" is not known`},
		{"country not ISO", func(v *Volunteer) { v.Address.Country = "Netherlands" }, FieldCountry, "two-letter ISO 3166"},
		{"sex unknown", func(v *Volunteer) { v.SexAtBirth = "m" }, FieldSexAtBirth, `"m" is not known`},
		{"gender unknown", func(v *Volunteer) { v.Gender = "robot" }, FieldGender, `"robot" is not known`},
		{"race repeated", func(v *Volunteer) { v.Races = []string{"WHITE", "WHITE"} }, "races[1]", "empty or repeated"},
		{"status missing", func(v *Volunteer) { v.Status = "" }, FieldStatus, "The status is missing."},
		{"status unknown", func(v *Volunteer) { v.Status = "asleep" }, FieldStatus, `"asleep" is not known`},
		{"answer without question", func(v *Volunteer) { v.Answers[1].Question = "" }, "answers[1]", "does not say which question"},
		{"question answered twice", func(v *Volunteer) { v.Answers[1].Question = "GP_NAME" }, "answers[1]", "answered more than once"},
		{"coded entry without code", func(v *Volunteer) { v.MedicalHistory[0].Code = "" }, "medical_history[0]", "has no code"},
		{"coded entry in future", func(v *Volunteer) { v.Medications[0].Start = NewDate(2026, time.January, 1) }, "medications[0]", "in the future"},
		{"coded entry ends before start", func(v *Volunteer) { v.SubstanceUse[0].End = Date{Year: 2001} }, "substance_use[0]", "before it starts"},
		{"consent without version", func(v *Volunteer) { v.Consents[0].Version = "" }, "consents[0]", "has no version"},
		{"consent in future", func(v *Volunteer) { v.Consents[0].Date = NewDate(2030, time.January, 1) }, "consents[0]", "in the future"},
		{"consent withdrawn before given", func(v *Volunteer) { v.Consents[0].Withdrawn = NewDate(2018, time.January, 1) }, "consents[0]", "before it was given"},
		{"participation without study", func(v *Volunteer) { v.Participations[0].Study = "" }, "participations[0]", "no study code"},
		{"participation bad outcome", func(v *Volunteer) { v.Participations[0].Outcome = "fine" }, "participations[0]", `"fine" is not known`},
		{"participation ends before start", func(v *Volunteer) { v.Participations[0].End = NewDate(2019, time.March, 1) }, "participations[0]", "before it starts"},
		{"next eligible impossible", func(v *Volunteer) { v.NextEligible = NewDate(2025, time.June, 31) }, FieldNextEligible, "not a day in the calendar"},
		{"masked record", func(v *Volunteer) { *v = Mask(*v) }, "record", "masked for display"},
		{"privacy-removed with PHI", func(v *Volunteer) { v.Status = StatusPrivacyRemoved }, FieldEmail, "removed for privacy, so the email address must be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validVolunteer()
			tt.change(&v)
			errs := ValidateOn(v, testToday)
			got, ok := errs[tt.field]
			if !ok {
				t.Fatalf("no problem reported for %s; got %v", tt.field, errs)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("problem for %s = %q, want it to contain %q", tt.field, got, tt.want)
			}
			if !strings.HasPrefix(got, "The ") || !strings.HasSuffix(got, ".") {
				t.Errorf("problem %q is not a sentence", got)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	var none FieldErrors
	if none.Err() != nil {
		t.Errorf("empty FieldErrors.Err() = %v, want nil", none.Err())
	}
	errs := FieldErrors{"email": "The email address is wrong.", "birth_date": "The date of birth is missing."}
	if got := errs.Error(); got != "birth_date: The date of birth is missing.; email: The email address is wrong." {
		t.Errorf("Error() = %q", got)
	}
	// Pages find any domain's field errors through this interface.
	var shown interface{ Fields() map[string]string } = errs
	if len(shown.Fields()) != 2 {
		t.Errorf("Fields() = %v", shown.Fields())
	}
	if errs.Err() == nil {
		t.Errorf("non-empty FieldErrors.Err() is nil")
	}
	if got := FieldLabel("phones[2]"); got != "phone number" {
		t.Errorf("FieldLabel(phones[2]) = %q", got)
	}
	if got := ElementField(FieldConsents, 3); got != "consents[3]" {
		t.Errorf("ElementField = %q", got)
	}
}

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{}
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			allowed[[2]Status{from, to}] = from == to
		}
	}
	for _, p := range [][2]Status{
		{StatusActive, StatusInactive}, {StatusActive, StatusDoNotContact}, {StatusActive, StatusDeceased}, {StatusActive, StatusPrivacyRemoved},
		{StatusInactive, StatusActive}, {StatusInactive, StatusDoNotContact}, {StatusInactive, StatusDeceased}, {StatusInactive, StatusPrivacyRemoved},
		{StatusDoNotContact, StatusActive}, {StatusDoNotContact, StatusInactive}, {StatusDoNotContact, StatusDeceased}, {StatusDoNotContact, StatusPrivacyRemoved},
		{StatusDeceased, StatusPrivacyRemoved},
	} {
		allowed[p] = true
	}
	for p, want := range allowed {
		err := CheckStatusChange(p[0], p[1])
		if (err == nil) != want {
			t.Errorf("CheckStatusChange(%s, %s) = %v, want allowed %v", p[0], p[1], err, want)
		}
	}
	err := CheckStatusChange(StatusPrivacyRemoved, StatusActive)
	if err == nil || !strings.Contains(err.Error(), "privacy removal is final") {
		t.Errorf("leaving privacy-removed: %v", err)
	}
	if err := CheckStatusChange("", StatusDeceased); err != nil {
		t.Errorf("a new record may start deceased (migration): %v", err)
	}
	if err := CheckStatusChange(StatusActive, "gone"); err == nil {
		t.Errorf("change to an unknown status accepted")
	}
}

func TestValidateUpdate(t *testing.T) {
	old := validVolunteer()
	old.Status = StatusPrivacyRemoved
	v := validVolunteer()
	v.Number = "V999999"
	errs := ValidateUpdate(old, v, testToday)
	if !strings.Contains(errs[FieldStatus], "privacy removal is final") {
		t.Errorf("status problem = %q", errs[FieldStatus])
	}
	if !strings.Contains(errs[FieldNumber], "cannot change once assigned") {
		t.Errorf("number problem = %q", errs[FieldNumber])
	}
	old.Status = StatusActive
	old.Number = ""
	if errs := ValidateUpdate(old, v, testToday); len(errs) != 0 {
		t.Errorf("assigning a first number and keeping the status: %v", errs)
	}
}

func TestParseEnums(t *testing.T) {
	statuses := map[string]Status{"Active": StatusActive, "DO NOT CONTACT": StatusDoNotContact, "do_not_contact": StatusDoNotContact, " privacy-removed ": StatusPrivacyRemoved}
	for in, want := range statuses {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseStatus("retired"); err == nil || !strings.Contains(err.Error(), `"retired" is not known`) {
		t.Errorf("ParseStatus(retired) error = %v", err)
	}
	sexes := map[string]Sex{"F": SexFemale, "male": SexMale, "X": SexIntersex, "": ""}
	for in, want := range sexes {
		if got, err := ParseSex(in); err != nil || got != want {
			t.Errorf("ParseSex(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSex("Q"); err == nil {
		t.Errorf("ParseSex(Q) accepted")
	}
	genders := map[string]Gender{"W": GenderWoman, "Non binary": GenderNonBinary, "undisclosed": GenderUndisclosed, "": ""}
	for in, want := range genders {
		if got, err := ParseGender(in); err != nil || got != want {
			t.Errorf("ParseGender(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseGender("robot"); err == nil {
		t.Errorf("ParseGender(robot) accepted")
	}
	if OutcomeCompleted.Valid() != true || Outcome("done").Valid() {
		t.Errorf("Outcome.Valid is wrong")
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, cc, want string
		wantErr      string
	}{
		{in: "+31 6 1234 5678", want: "+31612345678"},
		{in: "+31 (0)6-1234 5678", want: "+31612345678"},
		{in: "0031 6 12345678", want: "+31612345678"},
		{in: "06-12345678", cc: "31", want: "+31612345678"},
		{in: "06-12345678", cc: "+31", want: "+31612345678"},
		{in: "+44 (0)20 7946 0018", want: "+442079460018"},
		{in: "020 7946 0018", cc: "44", want: "+442079460018"},
		{in: "(212) 555-0123", cc: "1", want: "+12125550123"},
		{in: "1 212 555 0123", cc: "1", want: "+12125550123"},
		{in: "612 345 678", cc: "34", want: "+34612345678"},
		{in: "+49 30/1234567", want: "+49301234567"},
		{in: "+33.6.12.34.56.78", want: "+33612345678"},
		{in: "＋３１６１２３４５６７８", want: "+316123456789"[:12]},
		{in: "06-12345678", wantErr: "no country code"},
		{in: "+31 6 1234 5678 ext 12", wantErr: "contains letters"},
		{in: "+31 6 1234#5678", wantErr: `contains "#"`},
		{in: "31+612345678", wantErr: `contains "+"`},
		{in: "+0 612345678", wantErr: "never start with 0"},
		{in: "+31 123", wantErr: "too short"},
		{in: "+31 6 1234 5678 9012 345", wantErr: "more than the 15 digits"},
		{in: "  ", wantErr: "is empty"},
		{in: "( )", wantErr: "no digits"},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in, tt.cc)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want error containing %q", tt.in, tt.cc, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.in, tt.cc, got, err, tt.want)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	good := []string{"jan@example.com", "jan.de.vries+cohort@example.co.uk", "o'brien@example.ie", "zoë@exämple.de", "x@a.io", "用户@例子.广告"}
	for _, s := range good {
		if err := CheckEmail(s); err != nil {
			t.Errorf("CheckEmail(%q) = %v", s, err)
		}
	}
	bad := map[string]string{
		"":                     "is empty",
		"jan":                  "has no @",
		"jan@@example.com":     "more than one @",
		"@example.com":         "nothing before the @",
		"jan@":                 "nothing after the @",
		"jan @example.com":     "contains a space",
		".jan@example.com":     "dot at its start or end",
		"jan..vries@example.c": "two dots in a row",
		"jan@example":          "has no dot",
		"jan@-example.com":     "not a valid domain name",
		"jan@example..com":     "not a valid domain name",
		"jan@example.c":        "top-level domain",
		"jan@example.123":      "top-level domain",
		"jan(x)@example.com":   `contains "("`,
		"jan@exa_mple.com":     `domain contains "_"`,
	}
	for s, want := range bad {
		err := CheckEmail(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckEmail(%q) = %v, want error containing %q", s, err, want)
		}
	}
}

func TestTidy(t *testing.T) {
	v := validVolunteer()
	v.GivenName = "  Jan   Wille\u0301m "
	v.Email = " JW.deVries@EXAMPLE.COM "
	v.Address.Country = " nl"
	v.Races = []string{" WHITE", "", "ASIAN", "WHITE"}
	v.Phones = []Phone{{Kind: PhoneMobile, Number: "06 1234 5678"}, {Kind: PhoneHome, Number: " "}, {Kind: PhoneWork, Number: "call reception"}}
	got := Tidy(v, "31")
	if got.GivenName != "Jan Willém" {
		t.Errorf("GivenName = %q", got.GivenName)
	}
	if got.Email != "JW.deVries@example.com" {
		t.Errorf("Email = %q (the local part may be case-sensitive, the domain is not)", got.Email)
	}
	if got.Address.Country != "NL" {
		t.Errorf("Country = %q", got.Address.Country)
	}
	if !slices.Equal(got.Races, []string{"WHITE", "ASIAN"}) {
		t.Errorf("Races = %q", got.Races)
	}
	want := []Phone{{Kind: PhoneMobile, Number: "+31612345678"}, {Kind: PhoneWork, Number: "call reception"}}
	if len(got.Phones) != len(want) || got.Phones[0] != want[0] || got.Phones[1] != want[1] {
		t.Errorf("Phones = %v, want %v", got.Phones, want)
	}
	if v.Phones[0].Number != "06 1234 5678" || len(v.Phones) != 3 {
		t.Errorf("Tidy changed its argument's phones: %v", v.Phones)
	}
}

func TestCheckCodes(t *testing.T) {
	lists := CodeLists{}
	lists.Add(ListSite, "AMS")
	lists.Add(ListEthnicity, "NOT_HISPANIC")
	lists.Add(ListRace, "WHITE", "ASIAN")
	lists.Add(ListRecruitmentSource, "RADIO")
	lists.Add(ListMedicalHistory, "ASTHMA")
	lists.Add(ListMedications, "SALBUTAMOL")
	lists.Add(ListSubstanceUse, "ALCOHOL")
	lists.Add(ListQuestion, "GP_NAME", "SMOKER")
	lists.Add(ListConsentType, "database")
	lists.Add(ListStudy, "CRU-2019-04")
	v := validVolunteer()
	if errs := CheckCodes(v, lists); len(errs) != 0 {
		t.Fatalf("known codes rejected: %v", errs)
	}
	v.PreferredSite = "LDN"
	v.Ethnicity = "MARTIAN"
	v.Races = []string{"WHITE", "BLUE"}
	v.RecruitmentSource = "TV"
	v.MedicalHistory = append(v.MedicalHistory, CodedEntry{Code: "GOUT"})
	v.Medications[0].Code = "ASPIRIN"
	v.SubstanceUse[0].Code = "CANNABIS"
	v.Answers[0].Question = "PET"
	v.Consents[0].Type = "genetics"
	v.Participations[0].Study = "OLD-1999"
	errs := CheckCodes(v, lists)
	want := map[string]string{
		FieldPreferredSite:     "site LDN",
		FieldEthnicity:         "ethnicity MARTIAN is not in the ethnicity list",
		"races[1]":             "race BLUE is not in the race list",
		FieldRecruitmentSource: "recruitment source TV",
		"medical_history[1]":   "GOUT is not in the medical history list",
		"medications[0]":       "ASPIRIN is not in the medication list",
		"substance_use[0]":     "CANNABIS is not in the substance use list",
		"answers[0]":           "question PET",
		"consents[0]":          "consent type genetics",
		"participations[0]":    "study OLD-1999 is not known, not even as an archived study",
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(errs), len(want), errs)
	}
	for f, w := range want {
		if !strings.Contains(errs[f], w) {
			t.Errorf("problem for %s = %q, want it to contain %q", f, errs[f], w)
		}
	}
}

func TestAvailable(t *testing.T) {
	day := NewDate(2025, time.June, 15)
	v := validVolunteer()
	if ok, why := v.Available(day); !ok {
		t.Errorf("available volunteer reported unavailable: %s", why)
	}
	v.NextEligible = NewDate(2025, time.July, 1)
	if ok, why := v.Available(day); ok || !strings.Contains(why, "washout until 2025-07-01") {
		t.Errorf("in washout: %v %q", ok, why)
	}
	v = validVolunteer()
	v.Participations = append(v.Participations, Participation{Study: "CRU-2025-01", Start: day, Outcome: OutcomeOngoing})
	if ok, why := v.Available(day); ok || !strings.Contains(why, "CRU-2025-01") {
		t.Errorf("in a study: %v %q", ok, why)
	}
	v = validVolunteer()
	v.Status = StatusDoNotContact
	if ok, why := v.Available(day); ok || !strings.Contains(why, "do-not-contact") {
		t.Errorf("do not contact: %v %q", ok, why)
	}
}

func TestCloneIsDeep(t *testing.T) {
	v := validVolunteer()
	c := v.Clone()
	c.Phones[0].Number = "+44"
	c.Races[0] = "x"
	c.Answers[0].Value = "x"
	c.MedicalHistory[0].Note = "x"
	c.Medications[0].Note = "x"
	c.SubstanceUse[0].Note = "x"
	c.Consents[0].Version = "x"
	c.Participations[0].Study = "x"
	w := validVolunteer()
	if v.Phones[0] != w.Phones[0] || v.Races[0] != w.Races[0] || v.Answers[0] != w.Answers[0] || v.MedicalHistory[0] != w.MedicalHistory[0] ||
		v.Medications[0] != w.Medications[0] || v.SubstanceUse[0] != w.SubstanceUse[0] || v.Consents[0] != w.Consents[0] ||
		v.Participations[0] != w.Participations[0] {
		t.Errorf("changing a clone changed the original")
	}
}

func TestCleanLine(t *testing.T) {
	tests := map[string]string{
		"Jan de Vries":           "Jan de Vries",
		" Jan de Vries":          "Jan de Vries",
		"Jan de Vries ":          "Jan de Vries",
		"Jan  de Vries":          "Jan de Vries",
		"Jan\tde\nVries":         "Jan de Vries",
		"Jan\u00a0de\u3000Vries": "Jan de Vries",
		"Zoe\u0308":              "Zoë",
		"":                       "",
		"   ":                    "",
	}
	for in, want := range tests {
		if got := cleanLine(in); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", in, got, want)
		}
	}
}
