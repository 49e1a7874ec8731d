package demo_test

import (
	"context"
	"testing"

	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestDemoLabsAndDictionaries checks that a demo instance can code and
// order labs at once: active MedDRA and WHODrug versions that find
// Headache and paracetamol, a local and a central lab, and a few dozen
// lab tests with LOINC codes in three panels, the numeric ones with ranges
// for both sexes.
func TestDemoLabsAndDictionaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := demo.Seed(ctx, db); err != nil {
			t.Fatal(err)
		}
		for kind, query := range map[dictionary.Kind]string{dictionary.MedDRA: "headache", dictionary.WHODrug: "paracetamol"} {
			v, err := dictionary.ActiveVersion(ctx, db, kind)
			if err != nil {
				t.Fatal(err)
			}
			found, err := dictionary.NewReader(db, v.ID).Search(ctx, query, 5)
			if err != nil || len(found) == 0 {
				t.Errorf("active %s finds nothing for %q (%v)", v.Label(), query, err)
			}
		}
		labs, _ := lab.ListLabs(ctx, db, "", false)
		kinds := map[lab.Kind]int{}
		for _, l := range labs {
			kinds[l.Kind]++
		}
		if kinds[lab.Local] != 1 || kinds[lab.Central] != 1 {
			t.Errorf("demo labs by kind: %v", kinds)
		}
		tests, _ := lab.ListTests(ctx, db, "", false)
		if len(tests) < 30 {
			t.Errorf("%d demo lab tests, want a few dozen", len(tests))
		}
		for _, test := range tests {
			if test.LOINC == "" || lab.ValidateLOINC(test.LOINC) != nil {
				t.Errorf("demo test %s has LOINC %q", test.Code, test.LOINC)
			}
			if test.ResultType != lab.Numeric {
				continue
			}
			_, male := lab.Range(test.Test, lab.Male, 30)
			_, female := lab.Range(test.Test, lab.Female, 70)
			if !male || !female {
				t.Errorf("demo test %s has no range for a man of 30 or a woman of 70: %+v", test.Code, test.Ranges)
			}
		}
		panels, _ := lab.ListPanels(ctx, db, "", false)
		inPanel := map[string]bool{}
		for _, p := range panels {
			for _, c := range p.Tests {
				inPanel[c] = true
			}
		}
		if len(panels) != 3 || len(inPanel) != len(tests) {
			t.Errorf("%d demo panels holding %d of %d tests", len(panels), len(inPanel), len(tests))
		}
	})
}
