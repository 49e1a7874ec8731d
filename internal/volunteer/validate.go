package volunteer

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what a record may hold. The oldest verified human lived to 122; a
// birth date that makes someone older than MaxAge is a typing mistake.
const (
	MaxAge        = 120
	maxNameRunes  = 100
	maxTextRunes  = 10000
	maxShortRunes = 200
)

// Validate checks a record against the rules of the volunteer database, judging
// dates against today in the server's time zone. See ValidateOn.
func Validate(v Volunteer) FieldErrors { return ValidateOn(v, Today()) }

// ValidateOn checks a record against the rules of the volunteer database and
// returns, for each field with a problem, a sentence saying what is wrong.
// Dates are judged against today, passed in so the rules are a pure function.
//
// Phones must be in international form; call Tidy first to normalise what
// people typed. Codes are not looked up here (see CheckCodes) because that
// needs the unit's lists.
func ValidateOn(v Volunteer, today Date) FieldErrors {
	var errs FieldErrors
	if v.Masked {
		addProblem(&errs, "record", "The record is masked for display and cannot be saved.")
	}
	removed := v.Status == StatusPrivacyRemoved
	if removed {
		for _, pv := range PHIValues(v) {
			addProblem(&errs, pv.Field, "The volunteer's personal data was removed for privacy, so the "+FieldLabel(pv.Field)+" must be empty.")
		}
	} else {
		checkName(&errs, FieldGivenName, v.GivenName, true)
		checkName(&errs, FieldFamilyName, v.FamilyName, true)
		checkName(&errs, FieldOtherNames, v.OtherNames, false)
		checkBirthDate(&errs, v.BirthDate, today)
		for i, p := range v.Phones {
			f := ElementField(FieldPhones, i)
			if _, err := NormalizePhone(p.Number, ""); err != nil {
				addProblem(&errs, f, err.Error())
			}
		}
		if v.Email != "" {
			if err := CheckEmail(v.Email); err != nil {
				addProblem(&errs, FieldEmail, err.Error())
			}
		}
		checkText(&errs, FieldAddressLine1, v.Address.Line1, maxShortRunes)
		checkText(&errs, FieldAddressLine2, v.Address.Line2, maxShortRunes)
		checkText(&errs, FieldPostalCode, v.Address.PostalCode, 20)
		checkText(&errs, FieldCity, v.Address.City, maxShortRunes)
		checkText(&errs, FieldNotes, v.Notes, maxTextRunes)
	}
	for i, r := range v.Races {
		if strings.TrimSpace(r) == "" || slices.Contains(v.Races[:i], r) {
			addProblem(&errs, ElementField(FieldRaces, i), "The race list has an empty or repeated entry.")
		}
	}
	for i, p := range v.Phones {
		switch p.Kind {
		case PhoneMobile, PhoneHome, PhoneWork, PhoneOther:
		default:
			addProblem(&errs, ElementField(FieldPhones, i), "The phone kind \""+string(p.Kind)+"\" is not known; use \"mobile\", \"home\", \"work\" or \"other\".")
		}
	}
	checkText(&errs, FieldRegion, v.Address.Region, maxShortRunes)
	if c := v.Address.Country; c != "" && !isCountryCode(c) {
		addProblem(&errs, FieldCountry, "The country \""+c+"\" is not a two-letter ISO 3166 code such as NL or GB.")
	}
	if !v.SexAtBirth.Valid() {
		addProblem(&errs, FieldSexAtBirth, (&valueError{what: "sex at birth", value: string(v.SexAtBirth), want: `"female", "male" or "intersex"`}).Error())
	}
	if !v.Gender.Valid() {
		addProblem(&errs, FieldGender, (&valueError{what: "gender", value: string(v.Gender), want: joinQuoted(Genders())}).Error())
	}
	switch {
	case v.Status == "":
		addProblem(&errs, FieldStatus, "The status is missing.")
	case !v.Status.Valid():
		addProblem(&errs, FieldStatus, (&valueError{what: "status", value: string(v.Status), want: joinQuoted(Statuses())}).Error())
	}
	checkDate(&errs, FieldNextEligible, "next eligible date", v.NextEligible)

	for i, a := range v.Answers {
		f := ElementField(FieldAnswers, i)
		switch {
		case strings.TrimSpace(a.Question) == "":
			addProblem(&errs, f, "The answer does not say which question it answers.")
		case slices.ContainsFunc(v.Answers[:i], func(b Answer) bool { return b.Question == a.Question }):
			addProblem(&errs, f, "The question "+a.Question+" is answered more than once.")
		case utf8.RuneCountInString(a.Value) > maxTextRunes:
			addProblem(&errs, f, "The answer to question "+a.Question+" is longer than "+strconv.Itoa(maxTextRunes)+" characters.")
		}
	}
	checkCoded(&errs, FieldMedicalHistory, v.MedicalHistory, today)
	checkCoded(&errs, FieldMedications, v.Medications, today)
	checkCoded(&errs, FieldSubstanceUse, v.SubstanceUse, today)
	for i, c := range v.Consents {
		f := ElementField(FieldConsents, i)
		switch {
		case strings.TrimSpace(c.Type) == "":
			addProblem(&errs, f, "The consent has no type.")
		case strings.TrimSpace(c.Version) == "":
			addProblem(&errs, f, "The "+c.Type+" consent has no version.")
		case c.Date.IsZero():
			addProblem(&errs, f, "The "+c.Type+" consent has no date.")
		case !c.Date.Valid() || !c.Withdrawn.Valid():
			addProblem(&errs, f, "The "+c.Type+" consent has a date that is not in the calendar.")
		case c.Date.After(today):
			addProblem(&errs, f, "The "+c.Type+" consent is dated "+c.Date.String()+", which is in the future.")
		case !c.Withdrawn.IsZero() && c.Withdrawn.Before(c.Date):
			addProblem(&errs, f, "The "+c.Type+" consent was withdrawn on "+c.Withdrawn.String()+", before it was given on "+c.Date.String()+".")
		}
	}
	for i, p := range v.Participations {
		f := ElementField(FieldParticipations, i)
		switch {
		case strings.TrimSpace(p.Study) == "":
			addProblem(&errs, f, "The study participation has no study code.")
		case !p.Outcome.Valid():
			addProblem(&errs, f, (&valueError{what: "outcome of study " + p.Study, value: string(p.Outcome), want: joinQuoted(Outcomes())}).Error())
		case !p.Start.Valid() || !p.End.Valid():
			addProblem(&errs, f, "The participation in study "+p.Study+" has a date that is not in the calendar.")
		case !p.End.IsZero() && p.End.Before(p.Start):
			addProblem(&errs, f, "The participation in study "+p.Study+" ends on "+p.End.String()+", before it starts on "+p.Start.String()+".")
		case p.Start.After(today):
			addProblem(&errs, f, "The participation in study "+p.Study+" starts on "+p.Start.String()+", which is in the future.")
		}
	}
	return errs
}

// ValidateUpdate checks a changed record (see ValidateOn) and the change itself:
// the status may only move as CheckStatusChange allows, and a volunteer number,
// once assigned, never changes because studies refer to it.
func ValidateUpdate(old, v Volunteer, today Date) FieldErrors {
	errs := ValidateOn(v, today)
	if err := CheckStatusChange(old.Status, v.Status); err != nil {
		delete(errs, FieldStatus) // the change is the problem to report
		addProblem(&errs, FieldStatus, err.Error())
	}
	if old.Number != "" && v.Number != old.Number {
		addProblem(&errs, FieldNumber, "The volunteer number "+old.Number+" cannot change once assigned.")
	}
	return errs
}

func checkName(errs *FieldErrors, field, s string, required bool) {
	label := FieldLabel(field)
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			addProblem(errs, field, "The "+label+" is missing.")
		}
	case utf8.RuneCountInString(s) > maxNameRunes:
		addProblem(errs, field, "The "+label+" is longer than "+strconv.Itoa(maxNameRunes)+" characters.")
	case strings.ContainsFunc(s, unicode.IsControl):
		addProblem(errs, field, "The "+label+" contains a control character such as a tab or line break.")
	case !strings.ContainsFunc(s, unicode.IsLetter):
		addProblem(errs, field, "The "+label+" \""+s+"\" has no letters.")
	}
}

func checkText(errs *FieldErrors, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		addProblem(errs, field, "The "+FieldLabel(field)+" is longer than "+strconv.Itoa(max)+" characters.")
	}
}

func checkBirthDate(errs *FieldErrors, d Date, today Date) {
	switch {
	case d.IsZero():
		addProblem(errs, FieldBirthDate, "The date of birth is missing.")
	case !d.Valid():
		addProblem(errs, FieldBirthDate, "The date of birth is not a day in the calendar.")
	case !d.IsComplete():
		addProblem(errs, FieldBirthDate, "The date of birth "+d.String()+" is incomplete; eligibility needs the exact day.")
	case d.After(today):
		addProblem(errs, FieldBirthDate, "The date of birth "+d.String()+" is in the future.")
	case d.AgeOn(today) > MaxAge:
		addProblem(errs, FieldBirthDate, "The date of birth "+d.String()+" makes the volunteer "+strconv.Itoa(d.AgeOn(today))+
			" years old; the oldest accepted age is "+strconv.Itoa(MaxAge)+".")
	}
}

func checkDate(errs *FieldErrors, field, label string, d Date) {
	if !d.Valid() {
		addProblem(errs, field, "The "+label+" is not a day in the calendar.")
	}
}

func checkCoded(errs *FieldErrors, field string, es []CodedEntry, today Date) {
	label := FieldLabel(field)
	for i, e := range es {
		f := ElementField(field, i)
		switch {
		case strings.TrimSpace(e.Code) == "":
			addProblem(errs, f, "The "+label+" entry has no code.")
		case !e.Start.Valid() || !e.End.Valid():
			addProblem(errs, f, "The "+label+" entry "+e.Code+" has a date that is not in the calendar.")
		case e.Start.After(today):
			addProblem(errs, f, "The "+label+" entry "+e.Code+" starts on "+e.Start.String()+", which is in the future.")
		case !e.End.IsZero() && e.End.Before(e.Start):
			addProblem(errs, f, "The "+label+" entry "+e.Code+" ends on "+e.End.String()+", before it starts on "+e.Start.String()+".")
		case utf8.RuneCountInString(e.Note) > maxTextRunes:
			addProblem(errs, f, "The note on "+label+" entry "+e.Code+" is longer than "+strconv.Itoa(maxTextRunes)+" characters.")
		}
	}
}

func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// Names of the lists codes are looked up in (see ListLookup). The medical
// history, medication, substance use, recruitment source, ethnicity, race and
// question lists are the volunteer "Configure" lists the migration brings
// (package configlist, whose Lookup uses the same names); sites, studies
// (including archived historical ones) and consent types come from the
// instance's configuration.
const (
	ListSite              = "site"
	ListEthnicity         = "ethnicity"
	ListRace              = "race"
	ListRecruitmentSource = "recruitment_source"
	ListMedicalHistory    = "medical_history"
	ListMedications       = "medications"
	ListSubstanceUse      = "substance_use"
	ListConsentType       = "consent_type"
	ListStudy             = "study"
	ListQuestion          = "question"
)

// ListLookup answers whether code is in the named list. The storage layer
// implements it over its tables; CodeLists is an in-memory one.
type ListLookup interface {
	Has(list, code string) bool
}

// CodeLists is an in-memory ListLookup: list name → set of codes. Loading the
// lists once into a CodeLists keeps a large import from querying the database
// for every cell.
type CodeLists map[string]map[string]struct{}

// Add puts codes into the named list.
func (c CodeLists) Add(list string, codes ...string) {
	set := c[list]
	if set == nil {
		set = make(map[string]struct{}, len(codes))
		c[list] = set
	}
	for _, code := range codes {
		set[code] = struct{}{}
	}
}

// Has reports whether code is in the named list.
func (c CodeLists) Has(list, code string) bool {
	_, ok := c[list][code]
	return ok
}

// CheckCodes looks up every code in the record in the unit's lists and returns
// a sentence for each field whose code is not there.
func CheckCodes(v Volunteer, lists ListLookup) FieldErrors {
	var errs FieldErrors
	if v.PreferredSite != "" && !lists.Has(ListSite, v.PreferredSite) {
		addProblem(&errs, FieldPreferredSite, "The site "+v.PreferredSite+" is not one of the unit's sites.")
	}
	if v.Ethnicity != "" && !lists.Has(ListEthnicity, v.Ethnicity) {
		addProblem(&errs, FieldEthnicity, "The ethnicity "+v.Ethnicity+" is not in the ethnicity list.")
	}
	for i, r := range v.Races {
		if !lists.Has(ListRace, r) {
			addProblem(&errs, ElementField(FieldRaces, i), "The race "+r+" is not in the race list.")
		}
	}
	if v.RecruitmentSource != "" && !lists.Has(ListRecruitmentSource, v.RecruitmentSource) {
		addProblem(&errs, FieldRecruitmentSource, "The recruitment source "+v.RecruitmentSource+" is not in the recruitment source list.")
	}
	coded := func(field, list string, es []CodedEntry) {
		for i, e := range es {
			if e.Code != "" && !lists.Has(list, e.Code) {
				addProblem(&errs, ElementField(field, i), "The code "+e.Code+" is not in the "+FieldLabel(field)+" list.")
			}
		}
	}
	coded(FieldMedicalHistory, ListMedicalHistory, v.MedicalHistory)
	coded(FieldMedications, ListMedications, v.Medications)
	coded(FieldSubstanceUse, ListSubstanceUse, v.SubstanceUse)
	for i, a := range v.Answers {
		if a.Question != "" && !lists.Has(ListQuestion, a.Question) {
			addProblem(&errs, ElementField(FieldAnswers, i), "The question "+a.Question+" is not one of the unit's questions.")
		}
	}
	for i, c := range v.Consents {
		if c.Type != "" && !lists.Has(ListConsentType, c.Type) {
			addProblem(&errs, ElementField(FieldConsents, i), "The consent type "+c.Type+" is not in the consent type list.")
		}
	}
	for i, p := range v.Participations {
		if p.Study != "" && !lists.Has(ListStudy, p.Study) {
			addProblem(&errs, ElementField(FieldParticipations, i), "The study "+p.Study+" is not known, not even as an archived study.")
		}
	}
	return errs
}

// Tidy returns a copy of v with what people typed put into stored form: text
// in Unicode NFC with runs of spaces collapsed, the email's domain in lower
// case, the country code in upper case and phones in E.164 form, completing
// national numbers with defaultCallingCode (see NormalizePhone). A phone that
// cannot be normalised is left as typed for Validate to report.
func Tidy(v Volunteer, defaultCallingCode string) Volunteer {
	v = v.Clone()
	v.Number = strings.TrimSpace(v.Number)
	v.GivenName = cleanLine(v.GivenName)
	v.FamilyName = cleanLine(v.FamilyName)
	v.OtherNames = cleanLine(v.OtherNames)
	v.Email = strings.TrimSpace(v.Email)
	if at := strings.LastIndexByte(v.Email, '@'); at >= 0 {
		v.Email = v.Email[:at+1] + strings.ToLower(v.Email[at+1:])
	}
	v.Address.Line1 = cleanLine(v.Address.Line1)
	v.Address.Line2 = cleanLine(v.Address.Line2)
	v.Address.PostalCode = cleanLine(v.Address.PostalCode)
	v.Address.City = cleanLine(v.Address.City)
	v.Address.Region = cleanLine(v.Address.Region)
	v.Address.Country = strings.ToUpper(strings.TrimSpace(v.Address.Country))
	v.PreferredSite = strings.TrimSpace(v.PreferredSite)
	v.RecruitmentSource = strings.TrimSpace(v.RecruitmentSource)
	v.Ethnicity = strings.TrimSpace(v.Ethnicity)
	races := v.Races[:0]
	for _, r := range v.Races {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(races, r) {
			races = append(races, r)
		}
	}
	v.Races = races
	v.Notes = strings.TrimSpace(norm.NFC.String(v.Notes))
	phones := v.Phones[:0]
	for _, p := range v.Phones {
		if strings.TrimSpace(p.Number) == "" {
			continue
		}
		if n, err := NormalizePhone(p.Number, defaultCallingCode); err == nil {
			p.Number = n
		}
		phones = append(phones, p)
	}
	v.Phones = phones
	return v
}

// cleanLine puts one line of text into NFC and collapses whitespace runs, so
// "Jan  de Vries " and "Jan de Vries" are stored alike.
func cleanLine(s string) string {
	if !isASCII(s) {
		s = norm.NFC.String(s)
	}
	tidy := true
	for i := 0; i < len(s) && tidy; i++ {
		switch c := s[i]; {
		case c == ' ':
			tidy = i > 0 && i < len(s)-1 && s[i+1] != ' '
		case c < ' ' || c == 0x7f:
			tidy = false
		}
	}
	if tidy && !strings.ContainsFunc(s, func(r rune) bool { return r > 0x7f && unicode.IsSpace(r) }) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
