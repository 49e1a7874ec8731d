package registry

import (
	"context"
	"regexp"

	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// codeFormat is what a study or consent type code looks like. Studies
// (including archived historical ones) and consent types are configured
// elsewhere; until they are, their codes are checked for shape only.
var codeFormat = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// Lists answers volunteer.ListLookup for this instance: the Configure lists,
// the sites, and the shape of study and consent type codes.
type Lists struct {
	config configlist.Lookup
	sites  map[string]bool
	// PHIQuestions names the custom questions whose answers are PHI.
	PHIQuestions map[string]bool
}

// LoadLists reads the lists codes are checked against. With
// includeInactive, deactivated list entries and archived sites count too,
// as a migration of historical volunteers needs; a new registration must
// not use them.
func LoadLists(ctx context.Context, q store.Querier, includeInactive bool) (*Lists, error) {
	cfg, err := configlist.LoadLookup(ctx, q, includeInactive)
	if err != nil {
		return nil, err
	}
	sites, err := site.List(ctx, q, includeInactive)
	if err != nil {
		return nil, err
	}
	l := &Lists{config: cfg, sites: map[string]bool{}, PHIQuestions: map[string]bool{}}
	for _, s := range sites {
		l.sites[s.Code] = true
	}
	questions, err := configlist.Entries(ctx, q, configlist.Question, true)
	if err != nil {
		return nil, err
	}
	for _, e := range questions {
		if e.PHI {
			l.PHIQuestions[e.Code] = true
		}
	}
	return l, nil
}

// Has reports whether code is in the named list.
func (l *Lists) Has(list, code string) bool {
	switch list {
	case volunteer.ListSite:
		return l.sites[code]
	case volunteer.ListStudy, volunteer.ListConsentType:
		return codeFormat.MatchString(code)
	}
	return l.config.Has(list, code)
}

// markPHIAnswers sets each answer's PHI flag from the question's
// configuration, whatever the caller said.
func (l *Lists) markPHIAnswers(v *volunteer.Volunteer) {
	for i := range v.Answers {
		v.Answers[i].PHI = l.PHIQuestions[v.Answers[i].Question]
	}
}

// keepExisting accepts the codes a record already holds, so a volunteer
// whose preferred site was archived or whose history names a deactivated
// condition can still be edited; new codes must be in the lists.
type keepExisting struct {
	lists volunteer.ListLookup
	old   map[string]map[string]bool
}

func acceptExisting(lists volunteer.ListLookup, old volunteer.Volunteer) volunteer.ListLookup {
	k := keepExisting{lists: lists, old: map[string]map[string]bool{}}
	add := func(list string, codes ...string) {
		if k.old[list] == nil {
			k.old[list] = map[string]bool{}
		}
		for _, c := range codes {
			k.old[list][c] = true
		}
	}
	add(volunteer.ListSite, old.PreferredSite)
	add(volunteer.ListEthnicity, old.Ethnicity)
	add(volunteer.ListRace, old.Races...)
	add(volunteer.ListRecruitmentSource, old.RecruitmentSource)
	for _, e := range old.MedicalHistory {
		add(volunteer.ListMedicalHistory, e.Code)
	}
	for _, e := range old.Medications {
		add(volunteer.ListMedications, e.Code)
	}
	for _, e := range old.SubstanceUse {
		add(volunteer.ListSubstanceUse, e.Code)
	}
	for _, a := range old.Answers {
		add(volunteer.ListQuestion, a.Question)
	}
	return k
}

// Has reports whether code is in the list or already in the record.
func (k keepExisting) Has(list, code string) bool {
	return k.old[list][code] || k.lists.Has(list, code)
}

// callingCodes maps ISO country codes to international calling codes, for
// completing phone numbers typed without one. A country not listed means
// the number must be typed with its + and country code.
var callingCodes = map[string]string{
	"NL": "31", "BE": "32", "FR": "33", "ES": "34", "IT": "39", "CH": "41", "AT": "43", "GB": "44", "DK": "45",
	"SE": "46", "NO": "47", "PL": "48", "DE": "49", "PT": "351", "LU": "352", "IE": "353", "FI": "358",
	"CZ": "420", "SK": "421", "HU": "36", "GR": "30", "RO": "40", "TR": "90", "US": "1", "CA": "1",
	"AU": "61", "NZ": "64", "SG": "65", "JP": "81", "CN": "86", "IN": "91", "ZA": "27", "NG": "234",
	"MA": "212", "BR": "55", "MX": "52",
}

// CallingCode returns the calling code of a country ("31" for "NL"), or ""
// when it is not known.
func CallingCode(country string) string { return callingCodes[country] }
