// Package demo fills a new instance with a small, realistic clinic so a
// newcomer sees something at once: an organisation name, three sites, the
// default roles and a few users holding them.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Sites are the demo clinic's sites.
var Sites = []site.Site{
	{Code: "AMS", Name: "Amsterdam Phase I Unit", Address: "Meibergdreef 9, 1105 AZ Amsterdam", TimeZone: "Europe/Amsterdam"},
	{Code: "LDN", Name: "London Clinical Pharmacology Unit", Address: "1 Clinical Way, London SE1 7EH", TimeZone: "Europe/London"},
	{Code: "BOS", Name: "Boston Early Phase Center", Address: "55 Fruit Street, Boston, MA 02114", TimeZone: "America/New_York"},
}

// User is a demo account and the role it holds at a site ("" = everywhere).
type User struct {
	Username, DisplayName, Email, Role, Site string
}

// Users are the demo clinic's staff.
var Users = []User{
	{"m.jansen", "Marieke Jansen", "m.jansen@demo-cru.example", "data-manager", ""},
	{"s.elamrani", "Sara El Amrani", "s.elamrani@demo-cru.example", "crc", "AMS"},
	{"t.okafor", "Tobi Okafor", "t.okafor@demo-cru.example", "crc", "LDN"},
	{"p.novak", "Petra Novák", "p.novak@demo-cru.example", "qa", ""},
	{"r.chen", "Raymond Chen", "r.chen@demo-cru.example", "pharmacist", "BOS"},
}

// Seed adds the demo clinic to an instance that has no sites yet and
// returns the one-time password the demo users share (they must change it
// at first login). An instance that already has sites is left alone.
func Seed(ctx context.Context, db *store.DB) (string, error) {
	existing, err := site.List(ctx, db, true)
	if err != nil || len(existing) > 0 {
		return "", err
	}
	if err := access.SeedRoles(ctx, db); err != nil {
		return "", err
	}
	if err := setting.Save(ctx, db, audit.System, setting.General, "", map[string]string{"org.name": "Demo Clinical Research Unit"}, "demo data"); err != nil {
		return "", fmt.Errorf("seed demo settings: %w", err)
	}
	ids := map[string]int64{"": access.Everywhere}
	for _, s := range Sites {
		created, err := site.Create(ctx, db, audit.System, s)
		if err != nil {
			return "", fmt.Errorf("seed demo site %s: %w", s.Code, err)
		}
		ids[s.Code] = created.ID
	}
	if err := seedConfiguration(ctx, db, time.Now().UTC()); err != nil {
		return "", err
	}
	if err := seedDictionaries(ctx, db); err != nil {
		return "", err
	}
	if err := seedLabs(ctx, db); err != nil {
		return "", err
	}
	for _, t := range label.DemoTemplates() {
		if _, err := label.Create(ctx, db, audit.System, t); err != nil {
			return "", fmt.Errorf("seed demo label template %s: %w", t.Code, err)
		}
	}
	if err := seedVolunteers(ctx, db); err != nil {
		return "", err
	}
	pw := account.GeneratePassword()
	for _, u := range Users {
		_, err := account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
			Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Password: pw, MustChange: true,
			Grants: []access.Grant{{RoleCode: u.Role, SiteID: ids[u.Site]}}})
		if fe, ok := check.AsFieldErrors(err); ok && fe["username"] != "" {
			continue // an administrator already made this account
		}
		if err != nil {
			return "", fmt.Errorf("seed demo user %s: %w", u.Username, err)
		}
	}
	return pw, nil
}
