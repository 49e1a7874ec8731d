package registry

import (
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Summary is what a list of volunteers shows of each.
type Summary struct {
	ID            int64
	Number        string
	GivenName     string
	FamilyName    string
	OtherNames    string
	BirthDate     volunteer.Date
	SexAtBirth    volunteer.Sex
	Status        volunteer.Status
	PreferredSite string
	// Masked is set when the PHI fields are masked.
	Masked bool
}

const summaryColumns = "v.id, v.number, v.given_name, v.family_name, v.other_names, v.birth_date, v.sex_at_birth, v.status, v.preferred_site"

func scanSummary(r scanner) (Summary, error) {
	var s Summary
	var birth, sex, status string
	if err := r.Scan(&s.ID, &s.Number, &s.GivenName, &s.FamilyName, &s.OtherNames, &birth, &sex, &status, &s.PreferredSite); err != nil {
		return s, err
	}
	s.SexAtBirth, s.Status = volunteer.Sex(sex), volunteer.Status(status)
	var err error
	s.BirthDate, err = storedDate(birth)
	return s, err
}

// volunteer returns the summary as a (partial) volunteer record, so the
// volunteer package's rules (masking, matching) apply to it.
func (s Summary) volunteer() volunteer.Volunteer {
	return volunteer.Volunteer{ID: s.ID, Number: s.Number, GivenName: s.GivenName, FamilyName: s.FamilyName,
		OtherNames: s.OtherNames, BirthDate: s.BirthDate, SexAtBirth: s.SexAtBirth, Status: s.Status, PreferredSite: s.PreferredSite}
}

// Mask returns the summary as a user without volunteer.view_phi sees it,
// masked by the PHI declaration (volunteer.Mask).
func (s Summary) Mask() Summary {
	m := volunteer.Mask(s.volunteer())
	s.GivenName, s.FamilyName, s.OtherNames, s.BirthDate = m.GivenName, m.FamilyName, m.OtherNames, m.BirthDate
	s.Masked = true
	return s
}

// Name is the volunteer's name as lists show it: "Jan de Vries".
func (s Summary) Name() string {
	switch {
	case s.GivenName == "":
		return s.FamilyName
	case s.FamilyName == "":
		return s.GivenName
	}
	return s.GivenName + " " + s.FamilyName
}
