package volunteer

import (
	"slices"
	"testing"
)

// wantMasked is what every PHI field of validVolunteer looks like masked. The
// test fails when a field is declared without an expectation here, so adding
// PHI to the declaration means deciding how it looks masked.
var wantMasked = map[string][]string{
	FieldGivenName:                {"J*** W***"},
	FieldFamilyName:               {"d*** V***"},
	FieldOtherNames:               {"J***"},
	FieldBirthDate:                {"1984-**-**"},
	FieldPhones:                   {"***78", "***67"},
	FieldEmail:                    {"j***@***"},
	FieldAddressLine1:             {"***"},
	FieldAddressLine2:             {"***"},
	FieldPostalCode:               {"***"},
	FieldCity:                     {"***"},
	FieldNotes:                    {"***"},
	FieldAnswers:                  {"***"},
	FieldMedicalHistory + ".note": {"***"},
	FieldMedications + ".note":    {"***"},
	FieldSubstanceUse + ".note":   {"***"},
}

func TestMaskEveryPHIField(t *testing.T) {
	v := validVolunteer()
	m := Mask(v)
	if !m.Masked {
		t.Errorf("Mask did not set Masked")
	}
	declared := map[string]bool{}
	for _, f := range PHIFields() {
		declared[f.Field] = true
		want, ok := wantMasked[f.Field]
		if !ok {
			t.Errorf("PHI field %s has no masking expectation in this test", f.Field)
			continue
		}
		if got := f.Values(m); !slices.Equal(got, want) {
			t.Errorf("masked %s = %q, want %q", f.Field, got, want)
		}
		// Masking never leaves an original value visible.
		for _, orig := range f.Values(v) {
			for _, masked := range f.Values(m) {
				if masked == orig {
					t.Errorf("masked %s still shows %q", f.Field, orig)
				}
			}
		}
	}
	for f := range wantMasked {
		if !declared[f] {
			t.Errorf("%s is expected masked but not declared PHI", f)
		}
	}
	// What is not PHI stays as it is.
	if m.Number != v.Number || m.Answers[1].Value != "no" || m.MedicalHistory[0].Code != "ASTHMA" ||
		m.Address.Country != "NL" || m.Address.Region != "Noord-Holland" || m.SexAtBirth != v.SexAtBirth ||
		m.Ethnicity != v.Ethnicity || !slices.Equal(m.Races, v.Races) {
		t.Errorf("Mask changed fields that are not PHI: %+v", m)
	}
	// The argument is untouched: its slices are not shared with the result.
	if w := validVolunteer(); v.Phones[0] != w.Phones[0] || v.MedicalHistory[0] != w.MedicalHistory[0] || v.Answers[0] != w.Answers[0] {
		t.Errorf("Mask changed its argument")
	}
}

func TestMaskKinds(t *testing.T) {
	tests := []struct {
		field, in, want string
	}{
		{FieldGivenName, "John", "J***"},
		{FieldFamilyName, "Doe", "D***"},
		{FieldFamilyName, "Łukasiewicz", "Ł***"},
		{FieldFamilyName, "Ögünleye", "Ö***"},
		{FieldFamilyName, "O\u0308zil", "Ö***"}, // decomposed input keeps its accent whole
		{FieldFamilyName, "王", "***"},           // a one-letter name's initial is the name
		{FieldGivenName, "小明", "小***"},
		{FieldFamilyName, "", ""},
		{FieldBirthDate, "1984-05-12", "1984-**-**"},
		{FieldBirthDate, "1984-**-**", "1984-**-**"},
		{FieldPhones, "+31612345678", "***78"},
		{FieldPhones, "+123", "***"},
		{FieldEmail, "john.doe@example.com", "j***@***"},
		{FieldEmail, "émile@example.fr", "é***@***"},
		{FieldCity, "Amsterdam", "***"},
		{FieldNotes, "anything at all", "***"},
	}
	for _, tt := range tests {
		f, ok := LookupPHIField(tt.field)
		if !ok {
			t.Fatalf("%s is not declared PHI", tt.field)
		}
		if got := f.Mask(tt.in); got != tt.want {
			t.Errorf("%s mask of %q = %q, want %q", tt.field, tt.in, got, tt.want)
		}
	}
}

func TestPHIKinds(t *testing.T) {
	want := map[string]PHIKind{
		FieldGivenName: PHIName, FieldFamilyName: PHIName, FieldOtherNames: PHIName, FieldBirthDate: PHIDate,
		FieldPhones: PHIPhone, FieldEmail: PHIEmail, FieldAddressLine1: PHIAddress, FieldPostalCode: PHIAddress,
		FieldCity: PHIAddress, FieldNotes: PHIFreeText, FieldAnswers: PHIFreeText,
	}
	for field, kind := range want {
		f, ok := LookupPHIField(field)
		if !ok || f.Kind != kind {
			t.Errorf("LookupPHIField(%s) = %v, %v; want kind %s", field, f.Kind, ok, kind)
		}
	}
	if f, ok := LookupPHIField("phones[1]"); !ok || f.Field != FieldPhones {
		t.Errorf("an element of a PHI list is not PHI")
	}
	for _, notPHI := range []string{FieldNumber, FieldStatus, FieldSexAtBirth, FieldCountry, FieldRegion, FieldMedicalHistory} {
		if _, ok := LookupPHIField(notPHI); ok {
			t.Errorf("%s is declared PHI", notPHI)
		}
	}
	fs := PHIFields()
	fs[0].Field = "changed"
	if PHIFields()[0].Field == "changed" {
		t.Errorf("PHIFields returns the declaration itself, so callers can change it")
	}
}

func TestPHIValuesAndErase(t *testing.T) {
	v := validVolunteer()
	vals := PHIValues(v)
	var joined []string
	for _, pv := range vals {
		joined = append(joined, pv.Field+"="+pv.Value)
	}
	for _, want := range []string{
		"given_name=Jan Willem", "family_name=de Vries", "other_names=Jansen", "birth_date=1984-05-12",
		"phones=+31612345678", "phones=+31201234567", "email=jw.devries@example.com", "address.line1=Kerkstraat 12",
		"address.line2=2e verdieping", "address.postal_code=1017 GC", "address.city=Amsterdam",
		"notes=Prefers morning visits.", "answers=Dr. Bakker, Huisartsenpraktijk Centrum",
		"medical_history.note=Diagnosed at the VUmc", "medications.note=as needed", "substance_use.note=weekends",
	} {
		if !slices.Contains(joined, want) {
			t.Errorf("PHIValues lacks %s; got %v", want, joined)
		}
	}
	if len(vals) != 16 {
		t.Errorf("PHIValues found %d values, want 16: %v", len(vals), joined)
	}
	if slices.Contains(joined, "answers=no") {
		t.Errorf("the answer to a question not configured as PHI was listed as PHI")
	}
	e := ErasePHI(v)
	if got := PHIValues(e); len(got) != 0 {
		t.Errorf("ErasePHI left %v", got)
	}
	if e.Number != v.Number || len(e.Phones) != 0 || e.Participations[0] != v.Participations[0] || e.Answers[1].Value != "no" {
		t.Errorf("ErasePHI removed more than PHI: %+v", e)
	}
	if len(PHIValues(v)) != 16 {
		t.Errorf("ErasePHI changed its argument")
	}
}

func TestRewriteForObfuscation(t *testing.T) {
	// The lifecycle scrambles PHI through Rewrite; a date field must take a new
	// date and refuse text that is not one.
	v := validVolunteer().Clone()
	f, _ := LookupPHIField(FieldBirthDate)
	if err := f.Rewrite(&v, func(string) string { return "1990-01-02" }); err != nil || v.BirthDate.String() != "1990-01-02" {
		t.Errorf("Rewrite birth date = %v, %v", v.BirthDate, err)
	}
	if err := f.Rewrite(&v, func(string) string { return "soon" }); err == nil {
		t.Errorf("Rewrite accepted a birth date that is not a date")
	}
	p, _ := LookupPHIField(FieldPhones)
	n := 0
	if err := p.Rewrite(&v, func(s string) string { n++; return "+3100000000" + s[len(s)-1:] }); err != nil {
		t.Fatal(err)
	}
	if n != 2 || v.Phones[0].Number != "+31000000008" || v.Phones[1].Number != "+31000000007" {
		t.Errorf("Rewrite phones: %d calls, %v", n, v.Phones)
	}
}
