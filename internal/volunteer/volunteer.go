package volunteer

import (
	"slices"
	"strings"
)

// Volunteer is one person in the unit's volunteer database.
//
// Child lists are slices so a record is one value the storage layer can read and
// write as a whole; use Clone before changing a copy, because slices share their
// elements.
type Volunteer struct {
	// ID is the storage key; zero until the volunteer is stored.
	ID int64
	// Number is the volunteer number people use (see NumberPattern); empty until
	// one is assigned.
	Number string

	GivenName  string
	FamilyName string
	// OtherNames holds middle names, former (maiden) names, aliases and names in
	// another script, all of which people search by.
	OtherNames string

	BirthDate  Date
	SexAtBirth Sex
	Gender     Gender
	// Ethnicity is a code from the ethnicity list and Races codes from the
	// race list; a volunteer may report several races (as CDISC allows).
	Ethnicity string
	Races     []string

	Phones  []Phone
	Email   string
	Address Address

	// PreferredSite is the code of the site the volunteer prefers to visit.
	PreferredSite string
	Status        Status
	// RecruitmentSource is a code from the recruitment source list.
	RecruitmentSource string
	// Notes is free text and therefore PHI.
	Notes string

	Answers        []Answer
	MedicalHistory []CodedEntry
	Medications    []CodedEntry
	SubstanceUse   []CodedEntry
	Consents       []Consent
	Participations []Participation

	// NextEligible is the first day the volunteer may be dosed again, after the
	// washout of their last study.
	NextEligible Date

	// Masked is set by Mask. A masked record has lost information, so storage
	// must refuse to write one back.
	Masked bool
}

// Clone returns a deep copy of v whose slices can be changed without changing v.
func (v Volunteer) Clone() Volunteer {
	v.Races = slices.Clone(v.Races)
	v.Phones = slices.Clone(v.Phones)
	v.Answers = slices.Clone(v.Answers)
	v.MedicalHistory = slices.Clone(v.MedicalHistory)
	v.Medications = slices.Clone(v.Medications)
	v.SubstanceUse = slices.Clone(v.SubstanceUse)
	v.Consents = slices.Clone(v.Consents)
	v.Participations = slices.Clone(v.Participations)
	return v
}

// Available reports whether the volunteer may be invited to a study starting
// on day: active, not in a study, and past the washout of the last one. When
// not, why says so in a sentence.
func (v Volunteer) Available(day Date) (ok bool, why string) {
	if v.Status != StatusActive {
		return false, "The volunteer's status is " + string(v.Status) + "."
	}
	for _, p := range v.Participations {
		if p.Outcome == OutcomeOngoing {
			return false, "The volunteer is taking part in study " + p.Study + "."
		}
	}
	if !v.NextEligible.IsZero() && v.NextEligible.After(day) {
		return false, "The volunteer is in washout until " + v.NextEligible.String() + "."
	}
	return true, ""
}

// Phone is one telephone number, stored in E.164 form ("+31612345678"; see
// NormalizePhone).
type Phone struct {
	Kind   PhoneKind
	Number string
}

// PhoneKind says which of a volunteer's phones a number is.
type PhoneKind string

// Phone kinds.
const (
	PhoneMobile PhoneKind = "mobile"
	PhoneHome   PhoneKind = "home"
	PhoneWork   PhoneKind = "work"
	PhoneOther  PhoneKind = "other"
)

// Address is a postal address. Region and Country are coarse enough not to
// identify anyone and are not PHI; the rest is.
type Address struct {
	Line1      string
	Line2      string
	PostalCode string
	City       string
	Region     string
	// Country is an ISO 3166-1 alpha-2 code such as "NL".
	Country string
}

// IsZero reports whether no part of the address is recorded.
func (a Address) IsZero() bool { return a == Address{} }

// Answer is the answer to one of the unit's custom registration questions.
type Answer struct {
	// Question is the code of the question.
	Question string
	Value    string
	// PHI is copied from the question's configuration: true when the question
	// collects identifying free text (for example "name of your GP"), so the
	// answer is masked and scrambled like the other PHI.
	PHI bool
}

// CodedEntry is one item of medical history, medication or substance use: a code
// from the matching administrable list, with the dates it applied.
type CodedEntry struct {
	Code  string
	Start Date
	// End is zero while the condition, medication or use is current.
	End Date
	// Note is free text and therefore PHI.
	Note string
}

// Consent records one consent the volunteer signed.
type Consent struct {
	// Type is a code from the consent type list, such as "database".
	Type    string
	Version string
	Date    Date
	// Withdrawn is the date the volunteer withdrew this consent; zero if never.
	Withdrawn Date
}

// Participation is one study the volunteer took part in or was screened for.
type Participation struct {
	// Study is the study code, which may name an archived historical study that
	// exists only to hold migrated participation.
	Study   string
	Start   Date
	End     Date
	Outcome Outcome
}

// Outcome is how a volunteer's participation in a study ended.
type Outcome string

// Participation outcomes.
const (
	OutcomeOngoing      Outcome = "ongoing"
	OutcomeCompleted    Outcome = "completed"
	OutcomeScreenFailed Outcome = "screen-failed"
	OutcomeReserve      Outcome = "reserve"
	OutcomeWithdrawn    Outcome = "withdrawn"
)

// Outcomes lists every participation outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOngoing, OutcomeCompleted, OutcomeScreenFailed, OutcomeReserve, OutcomeWithdrawn}
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes(), o) }

// Status is where a volunteer stands with the unit.
type Status string

// Volunteer statuses.
const (
	StatusActive       Status = "active"
	StatusInactive     Status = "inactive"
	StatusDoNotContact Status = "do-not-contact"
	StatusDeceased     Status = "deceased"
	// StatusPrivacyRemoved means the volunteer exercised their right to erasure:
	// the record keeps only what the unit must keep (number, study history) and
	// no PHI. It is final.
	StatusPrivacyRemoved Status = "privacy-removed"
)

// Statuses lists every status in the order pages show them.
func Statuses() []Status {
	return []Status{StatusActive, StatusInactive, StatusDoNotContact, StatusDeceased, StatusPrivacyRemoved}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// ParseStatus reads a status leniently, as people write it in spreadsheets:
// case, spaces and underscores do not matter ("Do not contact",
// "DO_NOT_CONTACT").
func ParseStatus(s string) (Status, error) {
	k := dashes.Replace(strings.ToLower(strings.TrimSpace(s)))
	st := Status(k)
	if !st.Valid() {
		return "", &valueError{what: "status", value: s, want: joinQuoted(Statuses())}
	}
	return st, nil
}

var dashes = strings.NewReplacer(" ", "-", "_", "-")

// statusTransitions lists, for each status, the statuses it may change to.
// Privacy removal is final because the PHI is gone and cannot come back.
// Deceased may only move on to privacy removal: a volunteer recorded as deceased
// in error is corrected through the audit trail's correction of an entry, not
// by a status change that would make them recruitable again.
var statusTransitions = map[Status][]Status{
	StatusActive:         {StatusInactive, StatusDoNotContact, StatusDeceased, StatusPrivacyRemoved},
	StatusInactive:       {StatusActive, StatusDoNotContact, StatusDeceased, StatusPrivacyRemoved},
	StatusDoNotContact:   {StatusActive, StatusInactive, StatusDeceased, StatusPrivacyRemoved},
	StatusDeceased:       {StatusPrivacyRemoved},
	StatusPrivacyRemoved: {},
}

// CheckStatusChange returns an error, as a sentence, when a volunteer may not
// move from status from to status to. An empty from is a new record, which may
// start in any status (migration brings deceased and privacy-removed records).
func CheckStatusChange(from, to Status) error {
	if !to.Valid() {
		return &valueError{what: "status", value: string(to), want: joinQuoted(Statuses())}
	}
	if from == "" || from == to {
		return nil
	}
	if !from.Valid() {
		return &valueError{what: "current status", value: string(from), want: joinQuoted(Statuses())}
	}
	if slices.Contains(statusTransitions[from], to) {
		return nil
	}
	if from == StatusPrivacyRemoved {
		return &sentenceError{"The status cannot change from privacy-removed to " + string(to) + ": privacy removal is final."}
	}
	return &sentenceError{"The status cannot change from " + string(from) + " to " + string(to) + "; from " +
		string(from) + " it can only change to " + joinQuoted(statusTransitions[from]) + "."}
}

// Sex is the sex recorded at birth. Empty means not recorded.
type Sex string

// Sexes at birth.
const (
	SexFemale   Sex = "female"
	SexMale     Sex = "male"
	SexIntersex Sex = "intersex"
)

// Valid reports whether s is a known sex or not recorded.
func (s Sex) Valid() bool { return s == "" || s == SexFemale || s == SexMale || s == SexIntersex }

// ParseSex reads a sex leniently: "F", "female", "M", "male", "X", "intersex",
// in any case; empty means not recorded.
func ParseSex(s string) (Sex, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "f", "female", "woman":
		return SexFemale, nil
	case "m", "male", "man":
		return SexMale, nil
	case "x", "i", "intersex":
		return SexIntersex, nil
	}
	return "", &valueError{what: "sex at birth", value: s, want: `"female" (F), "male" (M) or "intersex" (X)`}
}

// Gender is the gender the volunteer identifies with. Empty means not recorded.
type Gender string

// Genders.
const (
	GenderWoman       Gender = "woman"
	GenderMan         Gender = "man"
	GenderNonBinary   Gender = "non-binary"
	GenderOther       Gender = "other"
	GenderUndisclosed Gender = "undisclosed"
)

// Genders lists every gender in the order pages show them.
func Genders() []Gender {
	return []Gender{GenderWoman, GenderMan, GenderNonBinary, GenderOther, GenderUndisclosed}
}

// Valid reports whether g is a known gender or not recorded.
func (g Gender) Valid() bool { return g == "" || slices.Contains(Genders(), g) }

// ParseGender reads a gender leniently (case, spaces and underscores do not
// matter; "W" and "M" are accepted); empty means not recorded.
func ParseGender(s string) (Gender, error) {
	k := dashes.Replace(strings.ToLower(strings.TrimSpace(s)))
	switch k {
	case "w", "f", "female":
		return GenderWoman, nil
	case "m", "male":
		return GenderMan, nil
	case "nonbinary", "x":
		return GenderNonBinary, nil
	}
	g := Gender(k)
	if !g.Valid() {
		return "", &valueError{what: "gender", value: s, want: joinQuoted(Genders())}
	}
	return g, nil
}

// valueError says a value is not one of the allowed ones.
type valueError struct{ what, value, want string }

// Error says which value is not known and what to use instead.
func (e *valueError) Error() string {
	return "The " + e.what + " \"" + e.value + "\" is not known; use " + e.want + "."
}

// sentenceError is an error whose message is already a sentence for people.
type sentenceError struct{ msg string }

// Error returns the sentence.
func (e *sentenceError) Error() string { return e.msg }

func joinQuoted[T ~string](vs []T) string {
	var b strings.Builder
	for i, v := range vs {
		switch {
		case i > 0 && i == len(vs)-1:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(`"` + string(v) + `"`)
	}
	if len(vs) == 0 {
		return "nothing"
	}
	return b.String()
}
