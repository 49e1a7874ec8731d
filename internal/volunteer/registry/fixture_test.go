package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

const password = "Registry test pass 1"

// clinic is a small instance: two sites, a few Configure list entries and
// two users, alice (who may do everything) and bob.
type clinic struct {
	db         *store.DB
	alice, bob audit.Actor
}

func newClinic(t *testing.T, db *store.DB) *clinic {
	t.Helper()
	ctx := context.Background()
	for _, s := range []site.Site{{Code: "AMS", Name: "Amsterdam", TimeZone: "Europe/Amsterdam"}, {Code: "LDN", Name: "London", TimeZone: "Europe/London"}} {
		if _, err := site.Create(ctx, db, audit.System, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []configlist.Entry{
		{List: configlist.MedicalHistory, Code: "ASTHMA", Label: "Asthma"},
		{List: configlist.MedicalHistory, Code: "MIGRAINE", Label: "Migraine"},
		{List: configlist.Medications, Code: "IBUPROFEN", Label: "Ibuprofen"},
		{List: configlist.SubstanceUse, Code: "TOBACCO", Label: "Tobacco"},
		{List: configlist.RecruitmentSource, Code: "WEBSITE", Label: "Website"},
		{List: configlist.Ethnicity, Code: "NOT-HISPANIC", Label: "Not Hispanic or Latino"},
		{List: configlist.Race, Code: "WHITE", Label: "White"},
		{List: configlist.Race, Code: "ASIAN", Label: "Asian"},
		{List: configlist.Question, Code: "GP", Label: "Your GP", AnswerType: configlist.AnswerText, PHI: true},
		{List: configlist.Question, Code: "DONOR", Label: "Blood donor?", AnswerType: configlist.AnswerYesNo},
	} {
		if _, err := configlist.Create(ctx, db, audit.System, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := access.SeedRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := &clinic{db: db}
	for i, name := range []string{"alice", "bob"} {
		u, err := account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
			Username: name, DisplayName: name, Password: password, Grants: []access.Grant{{RoleCode: "administrator"}}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.alice = u.Actor()
		} else {
			c.bob = u.Actor()
		}
	}
	return c
}

// person returns a valid volunteer with the given names and birth date.
func person(given, family string, birth volunteer.Date) volunteer.Volunteer {
	return volunteer.Volunteer{
		GivenName: given, FamilyName: family, BirthDate: birth, SexAtBirth: volunteer.SexFemale,
		PreferredSite: "AMS", Address: volunteer.Address{Country: "NL"},
	}
}

func day(y int, m time.Month, d int) volunteer.Date { return volunteer.NewDate(y, m, d) }

// create registers v, failing the test on any error.
func (c *clinic) create(t *testing.T, v volunteer.Volunteer) registry.Record {
	t.Helper()
	rec, err := registry.Create(context.Background(), c.db, c.alice, v, registry.CreateOptions{DuplicateReason: "test data"})
	if err != nil {
		t.Fatalf("create %s %s: %v", v.GivenName, v.FamilyName, err)
	}
	return rec
}

// trail returns the audit entries of one volunteer, oldest first.
func (c *clinic) trail(t *testing.T, number string) []audit.Entry {
	t.Helper()
	es, _, err := audit.List(context.Background(), c.db, audit.Filter{Entity: registry.Entity, EntityID: number, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}
