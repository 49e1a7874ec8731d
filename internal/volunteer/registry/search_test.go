package registry_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// searchFixture registers people whose names exercise case, accents,
// hyphens, apostrophes, particles and word order, plus a family of Jansens
// to page through.
func searchFixture(t *testing.T, c *clinic) []registry.Record {
	people := []struct {
		given, family string
		birth         volunteer.Date
		phone         string
	}{
		{"Jan", "de Vries", day(1984, 5, 12), "+31 6 12345678"},
		{"Anna", "Müller", day(1990, 1, 2), "+49 30 1234567"},
		{"José", "García Pérez", day(1975, 11, 30), ""},
		{"Zoë", "O'Brien", day(1990, 7, 4), "+44 20 7946 0958"},
		{"Jean-Pierre", "Dupont", day(1984, 5, 12), ""},
		{"Anna-Lena", "MUELLER", day(1991, 3, 3), "+31 20 5550123"},
		{"Vries", "Jansen", day(1962, 8, 8), ""},
	}
	var out []registry.Record
	for _, p := range people {
		v := person(p.given, p.family, p.birth)
		if p.phone != "" {
			v.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: p.phone}}
		}
		out = append(out, c.create(t, v))
	}
	givens := []string{"Pieter", "Petra", "Sanne", "Sem", "Daan", "Julia", "Lucas", "Emma", "Noah", "Tess", "Finn", "Sophie"}
	for i := range 24 {
		v := person(givens[i%len(givens)], "Jansen", day(1970+i, time.Month(1+i%12), 1+i))
		if i%3 == 0 {
			v.FamilyName = "Janssen"
		}
		out = append(out, c.create(t, v))
	}
	return out
}

// expect returns the numbers of the records the query should find, in the
// query's order, computed from the volunteer package's reference rules.
func expect(recs []registry.Record, q registry.Query) []string {
	var hits []registry.Record
	for _, r := range recs {
		if q.Name != "" && !volunteer.MatchesNameQuery(r.Volunteer, q.Name) {
			continue
		}
		if q.BirthDate != "" && !strings.HasPrefix(r.BirthDate.String(), q.BirthDate) {
			continue
		}
		if q.Number != "" && !strings.HasPrefix(r.Number, q.Number) {
			continue
		}
		hits = append(hits, r)
	}
	key := func(r registry.Record) string {
		switch q.Sort {
		case registry.ByFamilyName:
			return strings.TrimSpace(volunteer.NormalizeName(r.FamilyName) + " " + volunteer.NormalizeName(r.GivenName))
		case registry.ByBirthDate:
			return r.BirthDate.String()
		}
		return ""
	}
	slices.SortFunc(hits, func(a, b registry.Record) int {
		c := cmp.Or(strings.Compare(key(a), key(b)), strings.Compare(a.Number, b.Number))
		if q.Descending {
			return -c
		}
		return c
	})
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Number
	}
	return out
}

func numbers(rows []registry.Summary) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Number
	}
	return out
}

func TestSearchFindsTheSameVolunteersWithEveryPlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		recs := searchFixture(t, c)
		queries := []registry.Query{
			{Name: "müll"}, {Name: "MULLER"}, {Name: "mueller"}, {Name: "vries ja"}, {Name: "JAN DE"}, {Name: "devr"},
			{Name: "garcia jose"}, {Name: "perez"}, {Name: "obrien"}, {Name: "o'brien zoe"}, {Name: "jean pierre"},
			{Name: "jeanpierre"}, {Name: "vries"}, {Name: "jans"}, {Name: "jansen p"}, {Name: "a"}, {Name: "nobody"},
			{Name: "ja", Sort: registry.ByFamilyName}, {Name: "jans", Sort: registry.ByBirthDate, Descending: true},
			{Name: "anna", Sort: registry.ByFamilyName, Descending: true},
			{BirthDate: "1984-05-12"}, {BirthDate: "1990"}, {BirthDate: "1990-07"}, {Name: "jan", BirthDate: "1984"},
			{Number: "V00000"}, {Number: "V000001"}, {Name: "jansen", Number: "V00002"},
			{}, {Sort: registry.ByBirthDate}, {Sort: registry.ByFamilyName, Descending: true},
		}
		for _, plan := range []string{"", "names", "candidates", "ordered"} {
			restore := registry.ForcePlan(plan)
			for _, q := range queries {
				q.Limit = 500
				res, err := registry.Search(ctx, db, q, true)
				if err != nil {
					t.Fatalf("plan %q, %+v: %v", plan, q, err)
				}
				want := expect(recs, q)
				if got := numbers(res.Rows); !slices.Equal(got, want) {
					t.Errorf("plan %q (ran %s), %+v:\n got %v\nwant %v", plan, res.Plan, q, got, want)
				}
				if res.Exact && res.Total != len(want) {
					t.Errorf("plan %q, %+v: total %d, want %d", plan, q, res.Total, len(want))
				}
			}
			restore()
		}
	})
}

func TestSearchByPhoneMatchesTheLastDigitsHoweverTyped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		recs := searchFixture(t, c)
		jan := recs[0].Number
		for _, typed := range []string{"+31612345678", "06-12345678", "0031 6 1234 5678", "12345678", "5678", "(0)6 1234 5678"} {
			for _, plan := range []string{"", "candidates", "ordered"} {
				restore := registry.ForcePlan(plan)
				res, err := registry.Search(ctx, db, registry.Query{Phone: typed}, true)
				restore()
				if err != nil || len(res.Rows) != 1 || res.Rows[0].Number != jan {
					t.Errorf("phone %q, plan %q: %v %v, want %s", typed, plan, numbers(res.Rows), err, jan)
				}
			}
		}
		res, err := registry.Search(ctx, db, registry.Query{Phone: "5550123", Name: "anna"}, true)
		if err != nil || len(res.Rows) != 1 || res.Rows[0].GivenName != "Anna-Lena" {
			t.Fatalf("phone and name: %+v %v", res.Rows, err)
		}
		_, err = registry.Search(ctx, db, registry.Query{Phone: "12"}, true)
		if fe, ok := check.AsFieldErrors(err); !ok || fe["phone"] == "" {
			t.Fatalf("a two-digit phone search: %v", err)
		}
	})
}

func TestSearchPagesAndCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		recs := searchFixture(t, c)
		for _, sort := range registry.Sorts() {
			q := registry.Query{Name: "jans", Sort: sort, Limit: 10}
			want := expect(recs, q)
			var got []string
			for page := 0; ; page++ {
				q.Offset = page * 10
				res, err := registry.Search(ctx, db, q, true)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, numbers(res.Rows)...)
				if res.Exact && res.Total != len(want) {
					t.Fatalf("sort %s page %d: total %d, want %d", sort, page, res.Total, len(want))
				}
				if !res.More {
					break
				}
				if page > 5 {
					t.Fatal("paging never ends")
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("sort %s, pages of 10:\n got %v\nwant %v", sort, got, want)
			}
		}
		// Bad queries say which field is wrong.
		_, err := registry.Search(ctx, db, registry.Query{BirthDate: "12/05/1984", Name: "'-'", Sort: "age"}, true)
		fe, _ := check.AsFieldErrors(err)
		if fe["birth_date"] == "" || fe["name"] == "" || fe["sort"] == "" {
			t.Fatalf("bad query: %v", err)
		}
	})
}

// TestSearchKeepsUpWithChanges checks that the search index follows
// updates: a renamed volunteer is found by the new name only.
func TestSearchKeepsUpWithChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		rec := c.create(t, person("Femke", "Bakker", day(1988, 8, 8)))
		edit := rec.Volunteer.Clone()
		edit.FamilyName = "Visser"
		if err := registry.Update(ctx, db, c.alice, rec.Number, rec.Version, edit, "married"); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]int{"bakker": 0, "visser femke": 1, "femke": 1} {
			for _, plan := range []string{"names", "ordered"} {
				restore := registry.ForcePlan(plan)
				res, err := registry.Search(ctx, db, registry.Query{Name: name}, true)
				restore()
				if err != nil || len(res.Rows) != want {
					t.Errorf("%s after the rename (plan %s): %d found, want %d (%v)", name, plan, len(res.Rows), want, err)
				}
			}
		}
		var count int
		if err := db.QueryRow(ctx, "SELECT volunteers FROM volunteer_token_count WHERE token = ?", "bakker").Scan(&count); err != nil || count != 0 {
			t.Fatalf("token count of the old name: %d %v", count, err)
		}
	})
}
