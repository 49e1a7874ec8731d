package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// The volunteer form posts plain fields under the volunteer package's field
// names ("given_name", "address.city") and list rows as repeated inputs
// ("phone.number", "medical_history.code", …), one value per row, so it
// works without JavaScript. Blank rows are dropped; the form shown again
// after a problem is built from the rows kept, so the row indexes in the
// problems ("phones[1]") match the rows on screen.

// singleFields are the form's one-value inputs.
var singleFields = []string{
	volunteer.FieldGivenName, volunteer.FieldFamilyName, volunteer.FieldOtherNames, volunteer.FieldBirthDate,
	volunteer.FieldSexAtBirth, volunteer.FieldGender, volunteer.FieldEthnicity, volunteer.FieldEmail,
	volunteer.FieldAddressLine1, volunteer.FieldAddressLine2, volunteer.FieldPostalCode, volunteer.FieldCity,
	volunteer.FieldRegion, volunteer.FieldCountry, volunteer.FieldPreferredSite, volunteer.FieldStatus,
	volunteer.FieldRecruitmentSource, volunteer.FieldNotes, volunteer.FieldNextEligible,
}

// codedLists are the coded history lists, by field name.
var codedLists = []string{volunteer.FieldMedicalHistory, volunteer.FieldMedications, volunteer.FieldSubstanceUse}

type phoneRow struct{ Kind, Number string }
type codedRow struct{ Code, Start, End, Note string }
type consentRow struct{ Type, Version, Date, Withdrawn string }
type participationRow struct{ Study, Start, End, Outcome string }

// volunteerForm is the create and edit form as typed.
type volunteerForm struct {
	Fields         map[string]string
	Races          map[string]bool
	Phones         []phoneRow
	Coded          map[string][]codedRow
	Consents       []consentRow
	Participations []participationRow
	Answers        map[string]string
}

// Get returns a single field's value.
func (f volunteerForm) Get(field string) string { return f.Fields[field] }

// HasRace reports whether a race is ticked.
func (f volunteerForm) HasRace(code string) bool { return f.Races[code] }

// Answer returns the answer typed for a question.
func (f volunteerForm) Answer(code string) string { return f.Answers[code] }

// withBlank returns n and how many rows to show: the filled rows and at
// least one blank one, at least min in all.
func withBlank(n, min int) []int {
	idx := make([]int, max(n+1, min))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// PhoneRows are the indexes of the phone rows to show.
func (f volunteerForm) PhoneRows() []int { return withBlank(len(f.Phones), 2) }

// Phone returns phone row i, blank past the end.
func (f volunteerForm) Phone(i int) phoneRow {
	if i < len(f.Phones) {
		return f.Phones[i]
	}
	return phoneRow{Kind: string(volunteer.PhoneMobile)}
}

// CodedRows are the indexes of a coded list's rows to show.
func (f volunteerForm) CodedRows(list string) []int { return withBlank(len(f.Coded[list]), 1) }

// CodedRow returns row i of a coded list, blank past the end.
func (f volunteerForm) CodedRow(list string, i int) codedRow {
	if rows := f.Coded[list]; i < len(rows) {
		return rows[i]
	}
	return codedRow{}
}

// ConsentRows are the indexes of the consent rows to show.
func (f volunteerForm) ConsentRows() []int { return withBlank(len(f.Consents), 1) }

// Consent returns consent row i, blank past the end.
func (f volunteerForm) Consent(i int) consentRow {
	if i < len(f.Consents) {
		return f.Consents[i]
	}
	return consentRow{}
}

// ParticipationRows are the indexes of the participation rows to show.
func (f volunteerForm) ParticipationRows() []int { return withBlank(len(f.Participations), 1) }

// Participation returns participation row i, blank past the end.
func (f volunteerForm) Participation(i int) participationRow {
	if i < len(f.Participations) {
		return f.Participations[i]
	}
	return participationRow{}
}

func trimmed(form url.Values, name string) []string {
	vs := form[name]
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

func at(vs []string, i int) string {
	if i < len(vs) {
		return vs[i]
	}
	return ""
}

func allBlank(vs ...string) bool {
	for _, v := range vs {
		if v != "" {
			return false
		}
	}
	return true
}

// readVolunteerForm reads the posted form, dropping blank rows.
func readVolunteerForm(form url.Values) volunteerForm {
	f := volunteerForm{Fields: map[string]string{}, Races: map[string]bool{}, Coded: map[string][]codedRow{}, Answers: map[string]string{}}
	for _, name := range singleFields {
		f.Fields[name] = form.Get(name)
	}
	for _, r := range form["races"] {
		f.Races[r] = true
	}
	kinds, numbers := trimmed(form, "phone.kind"), trimmed(form, "phone.number")
	for i := range numbers {
		if numbers[i] != "" {
			f.Phones = append(f.Phones, phoneRow{Kind: at(kinds, i), Number: numbers[i]})
		}
	}
	for _, list := range codedLists {
		codes, starts, ends, notes := trimmed(form, list+".code"), trimmed(form, list+".start"), trimmed(form, list+".end"), trimmed(form, list+".note")
		for i := range max(len(codes), len(notes)) {
			row := codedRow{Code: at(codes, i), Start: at(starts, i), End: at(ends, i), Note: at(notes, i)}
			if !allBlank(row.Code, row.Start, row.End, row.Note) {
				f.Coded[list] = append(f.Coded[list], row)
			}
		}
	}
	types, versions, dates, withdrawn := trimmed(form, "consent.type"), trimmed(form, "consent.version"), trimmed(form, "consent.date"), trimmed(form, "consent.withdrawn")
	for i := range types {
		row := consentRow{Type: types[i], Version: at(versions, i), Date: at(dates, i), Withdrawn: at(withdrawn, i)}
		if !allBlank(row.Type, row.Version, row.Date, row.Withdrawn) {
			f.Consents = append(f.Consents, row)
		}
	}
	studies, starts, ends, outcomes := trimmed(form, "participation.study"), trimmed(form, "participation.start"), trimmed(form, "participation.end"), trimmed(form, "participation.outcome")
	for i := range studies {
		row := participationRow{Study: studies[i], Start: at(starts, i), End: at(ends, i), Outcome: at(outcomes, i)}
		if !allBlank(row.Study, row.Start, row.End) {
			f.Participations = append(f.Participations, row)
		}
	}
	for k, vs := range form {
		if code, ok := strings.CutPrefix(k, "answer."); ok && len(vs) > 0 {
			f.Answers[code] = strings.TrimSpace(vs[0])
		}
	}
	return f
}

// volunteerFormOf fills the form from a stored volunteer.
func volunteerFormOf(v volunteer.Volunteer) volunteerForm {
	f := volunteerForm{Fields: map[string]string{
		volunteer.FieldGivenName: v.GivenName, volunteer.FieldFamilyName: v.FamilyName, volunteer.FieldOtherNames: v.OtherNames,
		volunteer.FieldBirthDate: v.BirthDate.String(), volunteer.FieldSexAtBirth: string(v.SexAtBirth), volunteer.FieldGender: string(v.Gender),
		volunteer.FieldEthnicity: v.Ethnicity, volunteer.FieldEmail: v.Email, volunteer.FieldAddressLine1: v.Address.Line1,
		volunteer.FieldAddressLine2: v.Address.Line2, volunteer.FieldPostalCode: v.Address.PostalCode, volunteer.FieldCity: v.Address.City,
		volunteer.FieldRegion: v.Address.Region, volunteer.FieldCountry: v.Address.Country, volunteer.FieldPreferredSite: v.PreferredSite,
		volunteer.FieldStatus: string(v.Status), volunteer.FieldRecruitmentSource: v.RecruitmentSource, volunteer.FieldNotes: v.Notes,
		volunteer.FieldNextEligible: v.NextEligible.String(),
	}, Races: map[string]bool{}, Coded: map[string][]codedRow{}, Answers: map[string]string{}}
	for _, r := range v.Races {
		f.Races[r] = true
	}
	for _, p := range v.Phones {
		f.Phones = append(f.Phones, phoneRow{Kind: string(p.Kind), Number: p.Number})
	}
	for list, es := range map[string][]volunteer.CodedEntry{volunteer.FieldMedicalHistory: v.MedicalHistory,
		volunteer.FieldMedications: v.Medications, volunteer.FieldSubstanceUse: v.SubstanceUse} {
		for _, e := range es {
			f.Coded[list] = append(f.Coded[list], codedRow{Code: e.Code, Start: e.Start.String(), End: e.End.String(), Note: e.Note})
		}
	}
	for _, c := range v.Consents {
		f.Consents = append(f.Consents, consentRow{Type: c.Type, Version: c.Version, Date: c.Date.String(), Withdrawn: c.Withdrawn.String()})
	}
	for _, p := range v.Participations {
		f.Participations = append(f.Participations, participationRow{Study: p.Study, Start: p.Start.String(), End: p.End.String(), Outcome: string(p.Outcome)})
	}
	for _, a := range v.Answers {
		f.Answers[a.Question] = a.Value
	}
	return f
}

// volunteer turns the form into a volunteer; dates that cannot be read are
// problems of their fields. questions gives the order of answers, so the
// index of an answer's problem can be turned back into its question.
func (f volunteerForm) volunteer(questions []configlist.Entry) (volunteer.Volunteer, check.FieldErrors) {
	fe := check.FieldErrors{}
	date := func(field, s string) volunteer.Date {
		if s == "" {
			return volunteer.Date{}
		}
		d, err := volunteer.ParseDate(s)
		if err != nil {
			fe.Add(field, "Use a date like 1984-05-12 (%s).", err)
		}
		return d
	}
	v := volunteer.Volunteer{
		GivenName: f.Fields[volunteer.FieldGivenName], FamilyName: f.Fields[volunteer.FieldFamilyName], OtherNames: f.Fields[volunteer.FieldOtherNames],
		BirthDate:  date(volunteer.FieldBirthDate, strings.TrimSpace(f.Fields[volunteer.FieldBirthDate])),
		SexAtBirth: volunteer.Sex(f.Fields[volunteer.FieldSexAtBirth]), Gender: volunteer.Gender(f.Fields[volunteer.FieldGender]),
		Ethnicity: f.Fields[volunteer.FieldEthnicity], Email: f.Fields[volunteer.FieldEmail],
		Address: volunteer.Address{Line1: f.Fields[volunteer.FieldAddressLine1], Line2: f.Fields[volunteer.FieldAddressLine2],
			PostalCode: f.Fields[volunteer.FieldPostalCode], City: f.Fields[volunteer.FieldCity], Region: f.Fields[volunteer.FieldRegion],
			Country: f.Fields[volunteer.FieldCountry]},
		PreferredSite: f.Fields[volunteer.FieldPreferredSite], Status: volunteer.Status(f.Fields[volunteer.FieldStatus]),
		RecruitmentSource: f.Fields[volunteer.FieldRecruitmentSource], Notes: f.Fields[volunteer.FieldNotes],
		NextEligible: date(volunteer.FieldNextEligible, strings.TrimSpace(f.Fields[volunteer.FieldNextEligible])),
	}
	for r := range f.Races {
		v.Races = append(v.Races, r)
	}
	slices.Sort(v.Races)
	for _, p := range f.Phones {
		v.Phones = append(v.Phones, volunteer.Phone{Kind: volunteer.PhoneKind(p.Kind), Number: p.Number})
	}
	for _, list := range codedLists {
		var es []volunteer.CodedEntry
		for i, row := range f.Coded[list] {
			key := volunteer.ElementField(list, i)
			es = append(es, volunteer.CodedEntry{Code: row.Code, Start: date(key, row.Start), End: date(key, row.End), Note: row.Note})
		}
		switch list {
		case volunteer.FieldMedicalHistory:
			v.MedicalHistory = es
		case volunteer.FieldMedications:
			v.Medications = es
		default:
			v.SubstanceUse = es
		}
	}
	for i, c := range f.Consents {
		key := volunteer.ElementField(volunteer.FieldConsents, i)
		v.Consents = append(v.Consents, volunteer.Consent{Type: c.Type, Version: c.Version, Date: date(key, c.Date), Withdrawn: date(key, c.Withdrawn)})
	}
	for i, p := range f.Participations {
		key := volunteer.ElementField(volunteer.FieldParticipations, i)
		v.Participations = append(v.Participations, volunteer.Participation{Study: p.Study, Start: date(key, p.Start), End: date(key, p.End),
			Outcome: volunteer.Outcome(p.Outcome)})
	}
	for _, q := range questions {
		if a := f.Answers[q.Code]; a != "" {
			v.Answers = append(v.Answers, volunteer.Answer{Question: q.Code, Value: a})
		}
	}
	if len(fe) == 0 {
		return v, nil
	}
	return v, fe
}

var answerKey = regexp.MustCompile(`^answers\[(\d+)\]$`)

// answerErrors moves the problems of answers, which the rules name by
// their index among the given answers, onto their questions' inputs.
func answerErrors(fe check.FieldErrors, v volunteer.Volunteer) check.FieldErrors {
	for k, msg := range fe {
		if m := answerKey.FindStringSubmatch(k); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(v.Answers) {
				delete(fe, k)
				fe.Add("answer."+v.Answers[i].Question, "%s", msg)
			}
		}
	}
	return fe
}

// volunteerFormData is what the create and edit pages show.
type volunteerFormData struct {
	// Number is empty on the registration form.
	Number     string
	Version    int
	Form       volunteerForm
	Sites      []site.Site
	Lists      map[string][]configlist.Entry
	Questions  []configlist.Entry
	Candidates []registry.Candidate
	Statuses   []volunteer.Status
	Genders    []volunteer.Gender
	Outcomes   []volunteer.Outcome
	PhoneKinds []volunteer.PhoneKind
}

// Entries returns a Configure list's active entries plus any inactive one
// the form holds, so an old record still shows its values.
func (d volunteerFormData) Entries(kind string) []configlist.Entry { return d.Lists[kind] }

func (s *Server) volunteerFormData(r *http.Request, number string, version int, f volunteerForm) (volunteerFormData, error) {
	ctx := r.Context()
	d := volunteerFormData{Number: number, Version: version, Form: f, Lists: map[string][]configlist.Entry{},
		Statuses: volunteer.Statuses(), Genders: volunteer.Genders(), Outcomes: volunteer.Outcomes(),
		PhoneKinds: []volunteer.PhoneKind{volunteer.PhoneMobile, volunteer.PhoneHome, volunteer.PhoneWork, volunteer.PhoneOther}}
	sites, err := site.List(ctx, s.DB, true)
	if err != nil {
		return d, err
	}
	for _, st := range sites {
		if !st.Archived || st.Code == f.Get(volunteer.FieldPreferredSite) {
			d.Sites = append(d.Sites, st)
		}
	}
	for _, k := range configlist.Kinds {
		es, err := configlist.Entries(ctx, s.DB, k.Code, true)
		if err != nil {
			return d, err
		}
		var keep []configlist.Entry
		for _, e := range es {
			if e.Active || f.holds(k.Code, e.Code) {
				keep = append(keep, e)
			}
		}
		if k.Code == configlist.Question {
			d.Questions = keep
		} else {
			d.Lists[k.Code] = keep
		}
	}
	return d, nil
}

// holds reports whether the form uses a code of a list.
func (f volunteerForm) holds(kind, code string) bool {
	switch kind {
	case configlist.Race:
		return f.Races[code]
	case configlist.Ethnicity:
		return f.Fields[volunteer.FieldEthnicity] == code
	case configlist.RecruitmentSource:
		return f.Fields[volunteer.FieldRecruitmentSource] == code
	case configlist.Question:
		return f.Answers[code] != ""
	}
	for _, row := range f.Coded[kind] {
		if row.Code == code {
			return true
		}
	}
	return false
}

// needPHI refuses the form to users who may edit but not see personal
// data: a masked record cannot be edited.
func (s *Server) needPHI(w http.ResponseWriter, r *http.Request) bool {
	if canSeePHI(r) {
		return true
	}
	s.forbidden(w, r, access.VolunteerPHI)
	return false
}

func (s *Server) volunteerNew(w http.ResponseWriter, r *http.Request) {
	if !s.needPHI(w, r) {
		return
	}
	f := volunteerFormOf(volunteer.Volunteer{Status: volunteer.StatusActive})
	d, err := s.volunteerFormData(r, "", 0, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "volunteer_form.html", s.newPage(r, "Register a volunteer", d))
}

func (s *Server) volunteerCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) || !s.needPHI(w, r) {
		return
	}
	f := readVolunteerForm(r.PostForm)
	d, err := s.volunteerFormData(r, "", 0, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Register a volunteer", d)
	v, fe := f.volunteer(d.Questions)
	if fe != nil {
		s.formProblem(w, r, "volunteer_form.html", p, fe)
		return
	}
	rec, err := registry.Create(r.Context(), s.DB, visitOf(r).user.Actor(), v, registry.CreateOptions{DuplicateReason: r.PostFormValue("duplicate_reason")})
	var dup *registry.DuplicatesError
	switch {
	case errors.As(err, &dup):
		d.Candidates = dup.Candidates
		p.Data = d
		p.Problem = "This volunteer may already be registered. Check the records below; to register a new volunteer anyway, say why."
		s.render(w, r, http.StatusConflict, "volunteer_form.html", p)
		return
	case err != nil:
		if fe, ok := check.AsFieldErrors(err); ok {
			err = answerErrors(fe, v)
		}
		s.formProblem(w, r, "volunteer_form.html", p, err)
		return
	}
	redirect(w, r, "/volunteers/"+url.PathEscape(rec.Number)+"?notice=created")
}

func (s *Server) volunteerEdit(w http.ResponseWriter, r *http.Request) {
	if !s.needPHI(w, r) {
		return
	}
	rec, err := registry.Open(r.Context(), s.DB, visitOf(r).user.Actor(), r.PathValue("number"), true)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Volunteer", nil), err)
		return
	}
	if rec.Status == volunteer.StatusPrivacyRemoved {
		p := s.newPage(r, "Volunteer "+rec.Number, nil)
		p.Problem = fmt.Sprintf("The personal data of volunteer %s was removed for privacy; the record can no longer be changed.", rec.Number)
		s.render(w, r, http.StatusUnprocessableEntity, "message.html", p)
		return
	}
	d, err := s.volunteerFormData(r, rec.Number, rec.Version, volunteerFormOf(rec.Volunteer))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "volunteer_form.html", s.newPage(r, "Edit volunteer "+rec.Number, d))
}

func (s *Server) volunteerUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) || !s.needPHI(w, r) {
		return
	}
	number := r.PathValue("number")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	f := readVolunteerForm(r.PostForm)
	d, err := s.volunteerFormData(r, number, version, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Edit volunteer "+number, d)
	v, fe := f.volunteer(d.Questions)
	if fe != nil {
		s.formProblem(w, r, "volunteer_form.html", p, fe)
		return
	}
	err = registry.Update(r.Context(), s.DB, visitOf(r).user.Actor(), number, version, v, r.PostFormValue("reason"))
	if err != nil {
		if fe, ok := check.AsFieldErrors(err); ok {
			err = answerErrors(fe, v)
		}
		s.formProblem(w, r, "volunteer_form.html", p, err)
		return
	}
	redirect(w, r, "/volunteers/"+url.PathEscape(number)+"?notice=saved")
}
