package dictionary_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestPromotableVersionsAndImportVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v270 := importDir(t, db, "testdata/meddra/27.0") // active: the first
		v271 := importDir(t, db, "testdata/meddra/27.1")
		importDir(t, db, "testdata/whodrug/GLOBALB3Mar26")
		if err := dictionary.Activate(ctx, db, alice, v271.ID, v271.Version, "new release"); err != nil {
			t.Fatal(err)
		}
		v270, _ = dictionary.GetVersion(ctx, db, v270.ID)
		if err := dictionary.Retire(ctx, db, alice, v270.ID, v270.Version, "superseded"); err != nil {
			t.Fatal(err)
		}

		// Retired versions stay behind; content comes whole, in canonical order.
		out, err := dictionary.PromotableVersions(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range out {
			names = append(names, string(p.Kind)+" "+p.Release+" "+map[bool]string{true: "active", false: "inactive"}[p.Active])
		}
		if strings.Join(names, ", ") != "meddra 27.1 active, whodrug GLOBALB3Mar26-SYNTHETIC active" {
			t.Fatalf("promotable versions: %v", names)
		}
		parsed := parse(t, "testdata/meddra/27.1")
		if len(out[0].Terms) != len(parsed.Terms) || len(out[0].Links) != len(parsed.Links) {
			t.Fatalf("27.1 has %d terms and %d links, parsed %d and %d", len(out[0].Terms), len(out[0].Links), len(parsed.Terms), len(parsed.Links))
		}
		terms, links := slices.Clone(parsed.Terms), slices.Clone(parsed.Links)
		dictionary.SortContent(terms, links)
		if !slices.Equal(out[0].Terms, terms) || !slices.Equal(out[0].Links, links) {
			t.Fatal("the stored content is not the parsed content in canonical order")
		}
		if out[0].Terms[0].Level != dictionary.SOC || out[0].Terms[len(terms)-1].Level != dictionary.LLT {
			t.Fatal("terms are not from the top of the hierarchy down")
		}

		// Into another instance: stored whole, searchable, and activated.
		target := storetest.Open(t, db.Engine)
		imp := func(v *dictionary.Version, active bool) error {
			return target.InTx(ctx, func(tx *store.Tx) error { return dictionary.ImportVersion(ctx, tx, alice, v, active, "bundle 1") })
		}
		trail := func(id string) []audit.Entry {
			entries, _, err := audit.List(ctx, target, audit.Filter{Entity: "dictionary_version", EntityID: id})
			if err != nil {
				t.Fatal(err)
			}
			return entries
		}
		if err := imp(parse(t, "testdata/meddra/27.0"), true); err != nil {
			t.Fatal(err)
		}
		if err := imp(out[0].Version, true); err != nil {
			t.Fatal(err)
		}
		active, err := dictionary.ActiveVersion(ctx, target, dictionary.MedDRA)
		if err != nil || active.Release != "27.1" || active.Terms != len(terms) || active.Source != "bundle 1" {
			t.Fatalf("active MedDRA: %+v, %v", active, err)
		}
		if e := trail("MedDRA 27.0"); len(e) == 0 || e[0].Field != "active" || e[0].New != "no" || e[0].Reason != "bundle 1" {
			t.Fatalf("the version that stepped down: %+v", e)
		}
		hits, err := dictionary.NewReader(target, active.ID).Search(ctx, out[0].Terms[len(terms)-1].Name[:4], 5)
		if err != nil || len(hits) == 0 {
			t.Fatalf("search in the imported version: %v, %v", hits, err)
		}

		// The same content again changes nothing; other content, a
		// deactivation or a retired version is refused.
		n := len(trail("MedDRA 27.1"))
		if err := imp(parse(t, "testdata/meddra/27.1"), true); err != nil || len(trail("MedDRA 27.1")) != n {
			t.Fatalf("same release again: %v, %d audit entries", err, len(trail("MedDRA 27.1"))-n)
		}
		other := parse(t, "testdata/meddra/27.0")
		other.Release = "27.1"
		if err := imp(other, true); err == nil || !strings.Contains(err.Error(), "This instance already has MedDRA 27.1 with other content: its terms differ") {
			t.Fatalf("other content: %v", err)
		}
		if err := imp(parse(t, "testdata/meddra/27.1"), false); err == nil || !strings.Contains(err.Error(), "never deactivates a version") {
			t.Fatalf("deactivation: %v", err)
		}
		old, _ := dictionary.GetVersion(ctx, target, versionID(t, target, "27.0"))
		if err := dictionary.Retire(ctx, target, alice, old.ID, old.Version, "superseded"); err != nil {
			t.Fatal(err)
		}
		if err := imp(parse(t, "testdata/meddra/27.0"), false); err == nil || !strings.Contains(err.Error(), "retired in this instance") {
			t.Fatalf("retired here: %v", err)
		}
	})
}

func versionID(t *testing.T, db *store.DB, release string) int64 {
	t.Helper()
	vs, err := dictionary.Versions(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Release == release {
			return v.ID
		}
	}
	t.Fatalf("no version %s", release)
	return 0
}
