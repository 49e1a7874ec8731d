package registry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

func TestCreateReadUpdateAndConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		v := person("  Jan  ", "de Vries", day(1984, 5, 12))
		v.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "06 1234 5678"}}
		v.Email = "jan@Example.COM"
		v.MedicalHistory = []volunteer.CodedEntry{{Code: "ASTHMA", Start: volunteer.Date{Year: 2001}, Note: "since childhood"}}
		v.Answers = []volunteer.Answer{{Question: "GP", Value: "Dr. Visser"}, {Question: "DONOR", Value: "no"}}
		v.Consents = []volunteer.Consent{{Type: "database", Version: "2.0", Date: day(2020, 1, 2)}}
		v.Participations = []volunteer.Participation{{Study: "CRU-2019-007", Start: day(2019, 3, 1), End: day(2019, 3, 20), Outcome: volunteer.OutcomeCompleted}}
		v.Races = []string{"WHITE"}
		rec, err := registry.Create(ctx, db, c.alice, v, registry.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Number != "V000001" || rec.Version != 1 {
			t.Fatalf("first volunteer: number %q version %d, want V000001 and 1", rec.Number, rec.Version)
		}
		got, err := registry.Get(ctx, db, "V000001")
		if err != nil {
			t.Fatal(err)
		}
		// Stored tidied: trimmed name, E.164 phone from the address country,
		// lower-case email domain, and the PHI flag of the GP answer from the
		// question's configuration.
		if got.GivenName != "Jan" || got.Phones[0].Number != "+31612345678" || got.Email != "jan@example.com" ||
			len(got.Answers) != 2 || !got.Answers[0].PHI || got.Answers[1].PHI || got.MedicalHistory[0].Note != "since childhood" ||
			got.Participations[0].Study != "CRU-2019-007" || got.Consents[0].Version != "2.0" || got.Races[0] != "WHITE" {
			t.Fatalf("stored volunteer: %+v", got.Volunteer)
		}
		created := c.trail(t, "V000001")
		if len(created) == 0 || created[0].Action != audit.Create {
			t.Fatalf("no create entry: %+v", created)
		}

		// Invalid input names every field.
		bad := person("", "X", day(2990, 1, 1))
		bad.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "12ab"}}
		bad.RecruitmentSource = "TV"
		_, err = registry.Create(ctx, db, c.alice, bad, registry.CreateOptions{})
		fe, ok := check.AsFieldErrors(err)
		if !ok || fe[volunteer.FieldGivenName] == "" || fe[volunteer.FieldBirthDate] == "" || fe["phones[0]"] == "" || fe[volunteer.FieldRecruitmentSource] == "" {
			t.Fatalf("invalid volunteer: %v", err)
		}

		// An update needs a reason and records old and new per field.
		edit := got.Volunteer.Clone()
		edit.FamilyName = "de Vries-Bakker"
		edit.Email = ""
		if err := registry.Update(ctx, db, c.alice, "V000001", got.Version, edit, ""); err == nil {
			t.Fatal("update without a reason was accepted")
		}
		if err := registry.Update(ctx, db, c.alice, "V000001", got.Version, edit, "married"); err != nil {
			t.Fatal(err)
		}
		var sawName, sawEmail bool
		for _, e := range c.trail(t, "V000001") {
			sawName = sawName || e.Action == audit.Update && e.Field == volunteer.FieldFamilyName && e.Old == "de Vries" && e.New == "de Vries-Bakker" && e.Reason == "married"
			sawEmail = sawEmail || e.Action == audit.Update && e.Field == volunteer.FieldEmail && e.Old == "jan@example.com" && e.New == ""
		}
		if !sawName || !sawEmail {
			t.Fatalf("update not audited per field: %+v", c.trail(t, "V000001"))
		}

		// Bob opened version 1 too: his save is refused and names alice.
		edit.GivenName = "Johannes"
		err = registry.Update(ctx, db, c.bob, "V000001", got.Version, edit, "typo")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "alice" {
			t.Fatalf("stale update: %v", err)
		}
		now, _ := registry.Get(ctx, db, "V000001")
		if now.GivenName != "Jan" || now.FamilyName != "de Vries-Bakker" || now.Version != 2 {
			t.Fatalf("after the refused update: %+v", now.Volunteer)
		}

		// The number never changes, whatever the caller sends.
		edit = now.Volunteer.Clone()
		edit.Number = "V999999"
		edit.Notes = "prefers mornings"
		if err := registry.Update(ctx, db, c.alice, "V000001", now.Version, edit, "note"); err != nil {
			t.Fatal(err)
		}
		if again, _ := registry.Get(ctx, db, "V000001"); again.Number != "V000001" || again.Notes != "prefers mornings" {
			t.Fatalf("number changed or note lost: %+v", again.Volunteer)
		}

		// Status changes follow the rules and are audited.
		now, _ = registry.Get(ctx, db, "V000001")
		if err := registry.ChangeStatus(ctx, db, c.alice, "V000001", now.Version, volunteer.StatusDeceased, "reported by family"); err != nil {
			t.Fatal(err)
		}
		now, _ = registry.Get(ctx, db, "V000001")
		err = registry.ChangeStatus(ctx, db, c.alice, "V000001", now.Version, volunteer.StatusActive, "mistake")
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe[volunteer.FieldStatus], "cannot change from deceased") {
			t.Fatalf("deceased to active: %v", err)
		}
		err = registry.ChangeStatus(ctx, db, c.alice, "V000001", now.Version, volunteer.StatusPrivacyRemoved, "asked")
		if fe, _ := check.AsFieldErrors(err); fe[volunteer.FieldStatus] == "" {
			t.Fatalf("privacy removal through a status change: %v", err)
		}
	})
}

func TestNumbersFollowThePatternAndNeverRepeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		vals, _ := setting.Load(ctx, db)
		if err := setting.Save(ctx, db, c.alice, setting.General, vals.Fingerprint(setting.General),
			map[string]string{registry.PatternSetting: "{site}-{yy}{seq:4}"}, "per-site numbers"); err != nil {
			t.Fatal(err)
		}
		yy := volunteer.Today().String()[2:4]
		a := person("Anna", "Smit", day(1990, 1, 1))
		b := person("Bert", "Smit", day(1991, 1, 1))
		l := person("Lara", "Smit", day(1992, 1, 1))
		l.PreferredSite = "LDN"
		got := []string{c.create(t, a).Number, c.create(t, b).Number, c.create(t, l).Number}
		want := []string{"AMS-" + yy + "0001", "AMS-" + yy + "0002", "LDN-" + yy + "0001"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("numbers %v, want %v", got, want)
		}
		// A pattern that needs a site: no site is the site field's problem.
		n := person("No", "Site", day(1993, 1, 1))
		n.PreferredSite = ""
		_, err := registry.Create(ctx, db, c.alice, n, registry.CreateOptions{})
		if fe, _ := check.AsFieldErrors(err); fe[volunteer.FieldPreferredSite] == "" {
			t.Fatalf("pattern without a site: %v", err)
		}
		// An imported number moves its counter past it.
		csv := "given_name,family_name,birth_date,preferred_site,number\nImported,Person,1980-02-03,AMS,AMS-" + yy + "0050\n"
		res, err := registry.Import(ctx, db, c.alice, strings.NewReader(csv), registry.ImportOptions{
			Mapping: identity("given_name", "family_name", "birth_date", "preferred_site", "number")})
		if err != nil || res.Imported != 1 {
			t.Fatalf("import with a number: %+v %v", res, err)
		}
		if next := c.create(t, person("After", "Import", day(1981, 1, 1))); next.Number != "AMS-"+yy+"0051" {
			t.Fatalf("number after an imported AMS-%s0050: %s", yy, next.Number)
		}
	})
}

func identity(fields ...string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		m[f] = f
	}
	return m
}

func TestDuplicateDetectionNeedsAReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		orig := c.create(t, person("Jan", "de Vries", day(1984, 5, 12)))
		c.create(t, person("Jan", "de Vries", day(1985, 5, 12))) // another person: other birth date

		for _, again := range []volunteer.Volunteer{
			person("JAN", "DE VRIES", day(1984, 5, 12)), // same name, other case
			person("Vries", "Jan de", day(1984, 5, 12)), // words split differently
			person("Jan", "de Fries", day(1984, 5, 12)), // sounds alike / one letter
			person("Jan", "de Vries", day(1984, 12, 5)), // day and month swapped
		} {
			_, err := registry.Create(ctx, db, c.alice, again, registry.CreateOptions{})
			var dup *registry.DuplicatesError
			if !errors.As(err, &dup) || len(dup.Candidates) != 1 || dup.Candidates[0].Number != orig.Number {
				t.Fatalf("%s %s %s: got %v, want the candidate %s", again.GivenName, again.FamilyName, again.BirthDate, err, orig.Number)
			}
		}
		// With a reason it is registered, and the reason and candidates are audited.
		rec, err := registry.Create(ctx, db, c.alice, person("JAN", "DE VRIES", day(1984, 5, 12)),
			registry.CreateOptions{DuplicateReason: "twin brother, checked ID"})
		if err != nil {
			t.Fatal(err)
		}
		var sawReason bool
		for _, e := range c.trail(t, rec.Number) {
			sawReason = sawReason || e.Field == "possible_duplicates" && strings.Contains(e.New, orig.Number) && e.Reason == "twin brother, checked ID"
		}
		if !sawReason {
			t.Fatalf("duplicate reason not audited: %+v", c.trail(t, rec.Number))
		}
		// Unrelated people are not candidates.
		if cands, _ := registry.FindDuplicates(ctx, db, person("Piet", "Jansen", day(1984, 5, 12)), 0); len(cands) != 0 {
			t.Fatalf("unrelated candidates: %+v", cands)
		}
	})
}

func TestOpenRecordsEveryViewOfPHIAndMasksOtherwise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		v := person("Zoë", "O'Brien", day(1990, 7, 4))
		v.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+31612345678"}}
		v.Email = "zoe@example.com"
		rec := c.create(t, v)
		views := func() int {
			n := 0
			for _, e := range c.trail(t, rec.Number) {
				if e.Action == audit.View {
					n++
				}
			}
			return n
		}
		masked, err := registry.Open(ctx, db, c.bob, rec.Number, false)
		if err != nil {
			t.Fatal(err)
		}
		if !masked.Masked || masked.GivenName != "Z***" || masked.FamilyName != "O***" || masked.BirthDate.String() != "1990-**-**" ||
			masked.Phones[0].Number != "***78" || masked.Email != "z***@***" {
			t.Fatalf("masked record: %+v", masked.Volunteer)
		}
		if views() != 0 {
			t.Fatal("a masked view was recorded as a view of PHI")
		}
		full, err := registry.Open(ctx, db, c.alice, rec.Number, true)
		if err != nil || full.GivenName != "Zoë" {
			t.Fatalf("unmasked open: %+v %v", full.Volunteer, err)
		}
		if views() != 1 {
			t.Fatalf("the view of PHI was not recorded once: %d", views())
		}
		// A masked record cannot be saved back.
		if err := registry.Update(ctx, db, c.bob, rec.Number, rec.Version, masked.Volunteer, "oops"); err == nil {
			t.Fatal("a masked record was saved")
		}
		// Search results are masked the same way.
		res, err := registry.Search(ctx, db, registry.Query{Name: "obrien"}, false)
		if err != nil || len(res.Rows) != 1 || res.Rows[0].GivenName != "Z***" || !res.Rows[0].Masked {
			t.Fatalf("masked search: %+v %v", res, err)
		}
		// The audit trail hides PHI from readers without view_phi.
		entries := c.trail(t, rec.Number)
		if err := registry.MaskTrail(ctx, db, entries, false); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Old+e.New, "Zoë") || strings.Contains(e.Old+e.New, "612345678") || strings.Contains(e.Old+e.New, "1990-07-04") {
				t.Fatalf("masked trail shows PHI: %+v", e)
			}
		}
	})
}

func TestConcurrentEditsAreRefusedNotOverwritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		rec := c.create(t, person("Eva", "Smit", day(1970, 2, 2)))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				edit := rec.Volunteer.Clone()
				edit.Notes = "edit " + string(rune('A'+i))
				errs[i] = registry.Update(ctx, db, c.alice, rec.Number, rec.Version, edit, "concurrent")
			}()
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			var conflict *check.Conflict
			switch {
			case err == nil:
				ok++
			case errors.As(err, &conflict):
				conflicts++
			default:
				t.Fatalf("concurrent update: %v", err)
			}
		}
		if ok != 1 || conflicts != 3 {
			t.Fatalf("%d saves and %d conflicts, want 1 and 3", ok, conflicts)
		}
		got, _ := registry.Get(ctx, db, rec.Number)
		if got.Version != 2 || !strings.HasPrefix(got.Notes, "edit ") {
			t.Fatalf("after concurrent edits: version %d notes %q", got.Version, got.Notes)
		}
	})
}
