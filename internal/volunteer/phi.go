package volunteer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PHIKind says what kind of value a PHI field holds, which decides how it is
// masked, how the lifecycle scrambles it for validation copies, and what the
// leak scan looks for.
type PHIKind string

// PHI kinds.
const (
	PHIName     PHIKind = "name"
	PHIDate     PHIKind = "date"
	PHIPhone    PHIKind = "phone"
	PHIEmail    PHIKind = "email"
	PHIAddress  PHIKind = "address"
	PHIFreeText PHIKind = "free text"
)

// PHIField declares one field of the volunteer record as protected health
// information. The table returned by PHIFields is the only place that says
// which fields are PHI: masking, erasure on privacy removal, the lifecycle's
// obfuscation and PHI-leak scan, and the CSV export all read it, so a field
// added here is protected everywhere at once.
//
// The volunteer number is deliberately not PHI: it is the pseudonym studies
// use, it must survive into validation copies so migrated records can be
// checked, and it reveals nothing without the PHI behind it. Sex, gender,
// region and country are too coarse to identify anyone on their own.
type PHIField struct {
	// Field is the field name (FieldGivenName, …); list fields such as
	// FieldPhones cover every element.
	Field string
	// Kind is what kind of value the field holds.
	Kind PHIKind

	mask func(string) string
	get  func(*Volunteer) []string
	// set replaces the values get returned, in the same order.
	set func(*Volunteer, []string) error
}

// Mask returns value as a user without permission to see PHI sees it.
func (f PHIField) Mask(value string) string {
	if value == "" {
		return ""
	}
	return f.mask(value)
}

// Values returns the field's values in v as strings (dates as Date.String),
// leaving out empty ones.
func (f PHIField) Values(v Volunteer) []string {
	vs := f.get(&v)
	out := vs[:0:0]
	for _, s := range vs {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Rewrite replaces every value of the field in *v by fn(value), as strings:
// fn gets "" for an empty value and may return "" to erase. A date field parses
// what fn returns (ParseDate, so "1984-**-**" is the year alone). Rewrite
// changes list elements in place, so clone a record that shares its slices
// first (Mask and ErasePHI do).
func (f PHIField) Rewrite(v *Volunteer, fn func(string) string) error {
	vs := f.get(v)
	for i, s := range vs {
		vs[i] = fn(s)
	}
	return f.set(v, vs)
}

// phiFields is the declaration. Keep it in the order pages show the fields.
var phiFields = []PHIField{
	stringField(FieldGivenName, PHIName, maskName, func(v *Volunteer) *string { return &v.GivenName }),
	stringField(FieldFamilyName, PHIName, maskName, func(v *Volunteer) *string { return &v.FamilyName }),
	stringField(FieldOtherNames, PHIName, maskName, func(v *Volunteer) *string { return &v.OtherNames }),
	{
		Field: FieldBirthDate, Kind: PHIDate, mask: maskDate,
		get: func(v *Volunteer) []string { return []string{v.BirthDate.String()} },
		set: func(v *Volunteer, vs []string) error {
			if vs[0] == "" {
				v.BirthDate = Date{}
				return nil
			}
			d, err := ParseDate(vs[0])
			if err != nil {
				return err
			}
			v.BirthDate = d
			return nil
		},
	},
	{
		Field: FieldPhones, Kind: PHIPhone, mask: maskPhone,
		get: func(v *Volunteer) []string {
			vs := make([]string, len(v.Phones))
			for i, p := range v.Phones {
				vs[i] = p.Number
			}
			return vs
		},
		set: func(v *Volunteer, vs []string) error {
			for i := range v.Phones {
				v.Phones[i].Number = vs[i]
			}
			return nil
		},
	},
	stringField(FieldEmail, PHIEmail, maskEmail, func(v *Volunteer) *string { return &v.Email }),
	stringField(FieldAddressLine1, PHIAddress, maskAll, func(v *Volunteer) *string { return &v.Address.Line1 }),
	stringField(FieldAddressLine2, PHIAddress, maskAll, func(v *Volunteer) *string { return &v.Address.Line2 }),
	stringField(FieldPostalCode, PHIAddress, maskAll, func(v *Volunteer) *string { return &v.Address.PostalCode }),
	stringField(FieldCity, PHIAddress, maskAll, func(v *Volunteer) *string { return &v.Address.City }),
	stringField(FieldNotes, PHIFreeText, maskAll, func(v *Volunteer) *string { return &v.Notes }),
	{
		// Only answers to questions configured as collecting PHI.
		Field: FieldAnswers, Kind: PHIFreeText, mask: maskAll,
		get: func(v *Volunteer) []string {
			var vs []string
			for _, a := range v.Answers {
				if a.PHI {
					vs = append(vs, a.Value)
				}
			}
			return vs
		},
		set: func(v *Volunteer, vs []string) error {
			j := 0
			for i := range v.Answers {
				if v.Answers[i].PHI {
					v.Answers[i].Value = vs[j]
					j++
				}
			}
			return nil
		},
	},
	noteField(FieldMedicalHistory, func(v *Volunteer) []CodedEntry { return v.MedicalHistory }),
	noteField(FieldMedications, func(v *Volunteer) []CodedEntry { return v.Medications }),
	noteField(FieldSubstanceUse, func(v *Volunteer) []CodedEntry { return v.SubstanceUse }),
}

func stringField(field string, kind PHIKind, mask func(string) string, at func(*Volunteer) *string) PHIField {
	return PHIField{
		Field: field, Kind: kind, mask: mask,
		get: func(v *Volunteer) []string { return []string{*at(v)} },
		set: func(v *Volunteer, vs []string) error { *at(v) = vs[0]; return nil },
	}
}

// noteField declares the free-text notes on coded entries ("appendix removed at
// St Mary's, 2003") as PHI; the codes and dates are not.
func noteField(field string, list func(*Volunteer) []CodedEntry) PHIField {
	return PHIField{
		Field: field + ".note", Kind: PHIFreeText, mask: maskAll,
		get: func(v *Volunteer) []string {
			es := list(v)
			vs := make([]string, len(es))
			for i, e := range es {
				vs[i] = e.Note
			}
			return vs
		},
		set: func(v *Volunteer, vs []string) error {
			es := list(v)
			for i := range es {
				es[i].Note = vs[i]
			}
			return nil
		},
	}
}

// PHIFields returns the PHI declaration (see PHIField).
func PHIFields() []PHIField { return append([]PHIField(nil), phiFields...) }

// LookupPHIField returns the declaration of a field name, or ok false when the
// field is not PHI. An element name such as "phones[1]" finds its list.
func LookupPHIField(field string) (f PHIField, ok bool) {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	for _, f := range phiFields {
		if f.Field == field {
			return f, true
		}
	}
	return PHIField{}, false
}

// PHIValue is one PHI value found in a record.
type PHIValue struct {
	Field string
	Kind  PHIKind
	Value string
}

// PHIValues lists every non-empty PHI value of v, in declaration order. The
// lifecycle's leak scan looks for these values in places PHI must not be.
func PHIValues(v Volunteer) []PHIValue {
	var out []PHIValue
	for _, f := range phiFields {
		for _, s := range f.Values(v) {
			out = append(out, PHIValue{Field: f.Field, Kind: f.Kind, Value: s})
		}
	}
	return out
}

// Mask returns v as a user without permission to see PHI sees it: names as
// initials ("J*** D***"), the birth date as its year ("1984-**-**"), phones as
// their last two digits, email as its first letter ("j***@***"), address lines
// and free text as "***". The result has Masked set so storage refuses it.
func Mask(v Volunteer) Volunteer {
	v = v.Clone()
	for _, f := range phiFields {
		// Masks only produce values their field accepts, so Rewrite cannot fail.
		_ = f.Rewrite(&v, f.Mask)
	}
	v.Masked = true
	return v
}

// ErasePHI returns v without any PHI value, as privacy removal leaves it.
// Phones go altogether, since a phone without its number says nothing.
func ErasePHI(v Volunteer) Volunteer {
	v = v.Clone()
	for _, f := range phiFields {
		_ = f.Rewrite(&v, func(string) string { return "" })
	}
	v.Phones = nil
	return v
}

// maskName keeps the first letter of each word: initials help staff on the
// phone confirm they have the right person without showing the name. A
// one-letter word (a Chinese family name in Han script) is hidden entirely,
// because its initial is the whole name.
func maskName(s string) string {
	words := strings.Fields(norm.NFC.String(s))
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		if n == len(w) || !unicode.IsLetter(r) {
			words[i] = "***"
			continue
		}
		words[i] = string(r) + "***"
	}
	return strings.Join(words, " ")
}

// maskDate keeps the year, enough to see an age band for recruitment.
func maskDate(s string) string {
	d, err := ParseDate(s)
	if err != nil || d.IsZero() {
		return "***"
	}
	return Date{Year: d.Year}.String()
}

// maskPhone keeps the last two digits, enough for a volunteer on the phone to
// say which of their numbers is on file.
func maskPhone(s string) string {
	digits := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits < 6 {
		return "***"
	}
	last := make([]byte, 0, 2)
	for i := len(s) - 1; i >= 0 && len(last) < 2; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			last = append([]byte{s[i]}, last...)
		}
	}
	return "***" + string(last)
}

// maskEmail keeps the first letter of the address and nothing of the domain,
// which for a small employer would identify the volunteer.
func maskEmail(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == '@' || r == utf8.RuneError {
		return "***@***"
	}
	return string(r) + "***@***"
}

func maskAll(string) string { return "***" }
