package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

func TestPrivacyRemovalIsIrreversibleAndKeepsStudyHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		v := person("Femke", "de Boer", day(1986, 9, 21))
		v.OtherNames = "Femke Visser"
		v.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+31 6 87654321"}}
		v.Email = "femke@example.org"
		v.Address = volunteer.Address{Line1: "Keizersgracht 1", PostalCode: "1015 AA", City: "Amsterdam", Country: "NL"}
		v.Notes = "Call after five."
		v.Answers = []volunteer.Answer{{Question: "GP", Value: "Dr. Kaya"}, {Question: "DONOR", Value: "yes"}}
		v.MedicalHistory = []volunteer.CodedEntry{{Code: "MIGRAINE", Start: volunteer.Date{Year: 2010}, Note: "with aura"}}
		v.Participations = []volunteer.Participation{{Study: "CRU-2018-014", Start: day(2018, 4, 1), End: day(2018, 4, 20), Outcome: volunteer.OutcomeCompleted}}
		rec := c.create(t, v)
		secrets := []string{"Femke", "Boer", "Visser", "87654321", "femke@example.org", "Keizersgracht", "1015 AA", "Call after five", "Dr. Kaya", "with aura", "1986-09-21"}

		// Without the password or a reason nothing happens.
		err := registry.RemovePersonalData(ctx, db, c.alice, rec.Number, rec.Version, "wrong password", "")
		fe, _ := check.AsFieldErrors(err)
		if fe["password"] == "" || fe["reason"] == "" {
			t.Fatalf("removal with a wrong password and no reason: %v", err)
		}
		if got, _ := registry.Get(ctx, db, rec.Number); got.GivenName != "Femke" {
			t.Fatal("a refused removal changed the record")
		}
		// Bob cannot confirm with alice's password: the password is the
		// acting user's own.
		if err := registry.RemovePersonalData(ctx, db, audit.Actor{ID: c.bob.ID, Name: "bob"}, rec.Number, rec.Version, "nope", "request"); err == nil {
			t.Fatal("removal with bob's wrong password")
		}

		if err := registry.RemovePersonalData(ctx, db, c.alice, rec.Number, rec.Version, password, "erasure request 2026-03-01 ref 17"); err != nil {
			t.Fatal(err)
		}
		got, err := registry.Get(ctx, db, rec.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != volunteer.StatusPrivacyRemoved || got.BirthDate.String() != "1986-**-**" || got.Number != rec.Number ||
			len(got.Participations) != 1 || got.Participations[0].Study != "CRU-2018-014" || len(got.Phones) != 0 ||
			len(got.MedicalHistory) != 1 || got.MedicalHistory[0].Note != "" || len(got.Answers) != 1 || got.Answers[0].Question != "DONOR" {
			t.Fatalf("after removal: %+v", got.Volunteer)
		}
		for _, pv := range volunteer.PHIValues(got.Volunteer) {
			if pv.Field != volunteer.FieldBirthDate {
				t.Errorf("PHI left after removal: %+v", pv)
			}
		}
		// No longer found by name or phone; still by number.
		for _, q := range []registry.Query{{Name: "femke"}, {Name: "boer"}, {Phone: "87654321"}} {
			if res, _ := registry.Search(ctx, db, q, true); len(res.Rows) != 0 {
				t.Errorf("%+v still finds the removed volunteer", q)
			}
		}
		if res, _ := registry.Search(ctx, db, registry.Query{Number: rec.Number}, true); len(res.Rows) != 1 {
			t.Error("the removed volunteer is not found by number")
		}
		// Nothing stored about the volunteer holds the PHI any more.
		for _, table := range []string{"volunteer", "volunteer_name_token", "volunteer_phone", "volunteer_coded_entry", "volunteer_answer"} {
			rows, err := db.Raw().QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				rows.Scan(ptrs...)
				for _, v := range vals {
					s := strings.ToLower(toString(v))
					for _, secret := range secrets {
						if strings.Contains(s, strings.ToLower(secret)) {
							t.Errorf("table %s still holds %q", table, secret)
						}
					}
				}
			}
			rows.Close()
		}
		// The removal entry holds no erased value, only masked ones.
		var removal []audit.Entry
		for _, e := range c.trail(t, rec.Number) {
			if e.Action == registry.PrivacyRemove {
				removal = append(removal, e)
			}
		}
		if len(removal) == 0 || removal[0].Reason != "erasure request 2026-03-01 ref 17" {
			t.Fatalf("removal not audited: %+v", removal)
		}
		for _, e := range removal {
			for _, secret := range secrets {
				if strings.Contains(e.Old+e.New, secret) {
					t.Errorf("the removal entry for %s holds %q: old %q new %q", e.Field, secret, e.Old, e.New)
				}
			}
		}
		// Earlier entries are hidden even from readers who may see PHI.
		entries := c.trail(t, rec.Number)
		if err := registry.MaskTrail(ctx, db, entries, true); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			for _, secret := range secrets {
				if strings.Contains(e.Old+e.New, secret) {
					t.Errorf("the trail shows %q of a removed volunteer: %+v", secret, e)
				}
			}
		}
		// It is final.
		err = registry.Update(ctx, db, c.alice, rec.Number, got.Version, person("Femke", "de Boer", day(1986, 9, 21)), "restore")
		if err == nil || !strings.Contains(err.Error(), "removed for privacy") {
			t.Fatalf("update after removal: %v", err)
		}
		if err := registry.RemovePersonalData(ctx, db, c.alice, rec.Number, got.Version, password, "again"); err == nil {
			t.Fatal("a second removal was accepted")
		}
	})
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}
