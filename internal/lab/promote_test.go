package lab_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestImportLabsTestsAndPanels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		in := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		if err := in(func(tx *store.Tx) error {
			return lab.ImportLab(ctx, tx, alice, lab.Lab{Code: "CENTRAL", Name: "Central lab", Kind: lab.Central}, true, "bundle 1")
		}); err != nil {
			t.Fatal(err)
		}
		// An inactive test, and an inactive panel that lists it, as a source
		// instance may have them.
		old := lab.Test{Code: "ESR", Name: "Erythrocyte sedimentation rate", Specimen: lab.WholeBlood, ResultType: lab.Numeric, Unit: "mm/h"}
		err := in(func(tx *store.Tx) error {
			if err := lab.ImportTest(ctx, tx, alice, potassium(), true, "bundle 1"); err != nil {
				return err
			}
			if err := lab.ImportTest(ctx, tx, alice, old, false, "bundle 1"); err != nil {
				return err
			}
			return lab.ImportPanel(ctx, tx, alice, lab.Panel{Code: "OLD", Name: "Old panel", Tests: []string{"K", "ESR"}}, false, "bundle 1")
		})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := lab.GetPanel(ctx, db, "OLD")
		k, _ := lab.GetTest(ctx, db, "K")
		if p.Active || strings.Join(p.Tests, ",") != "K,ESR" || k.Unit != "mmol/l" || *k.Ranges[0].High != 5.1 || !k.Active {
			t.Fatalf("imported: panel %+v, test %+v", p, k)
		}
		if !auditHas(t, db, "lab_test", "ESR", func(e audit.Entry) bool {
			return e.Action == audit.Create && e.Field == "active" && e.New == "no" && e.Reason == "bundle 1"
		}) {
			t.Fatal("the inactive test's creation is not audited as inactive")
		}
		// An active panel lists active tests only.
		err = in(func(tx *store.Tx) error {
			return lab.ImportPanel(ctx, tx, alice, lab.Panel{Code: "NEW", Name: "New panel", Tests: []string{"K", "ESR"}}, true, "bundle 1")
		})
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["tests[1]"], `No active lab test has code "ESR"`) {
			t.Fatalf("active panel with an inactive test: %v", err)
		}
		// A range change is saved and audited; a non-UCUM unit or an
		// overlapping range is a field error; the active flag never changes.
		k2 := potassium()
		k2.Ranges[0].High = num(5.3)
		if err := in(func(tx *store.Tx) error { return lab.ImportTest(ctx, tx, alice, k2, true, "bundle 2") }); err != nil {
			t.Fatal(err)
		}
		if !auditHas(t, db, "lab_test", "K", func(e audit.Entry) bool {
			return e.Field == "ranges" && strings.Contains(e.New, "5.3") && e.Reason == "bundle 2"
		}) {
			t.Fatal("the range change is not audited")
		}
		k2.Unit = "mmol/litre"
		fe, ok := check.AsFieldErrors(in(func(tx *store.Tx) error { return lab.ImportTest(ctx, tx, alice, k2, true, "bundle 3") }))
		if !ok || fe["unit"] == "" {
			t.Fatalf("non-UCUM unit: %v", fe)
		}
		k2.Unit = "mmol/L"
		k2.Ranges = append(k2.Ranges, lab.ReferenceRange{Sex: lab.Female, AgeFrom: 40, Low: num(3), High: num(5)})
		fe, ok = check.AsFieldErrors(in(func(tx *store.Tx) error { return lab.ImportTest(ctx, tx, alice, k2, true, "bundle 3") }))
		if !ok || !strings.Contains(fe["ranges[1]"], "overlaps") {
			t.Fatalf("overlapping ranges: %v", fe)
		}
		err = in(func(tx *store.Tx) error { return lab.ImportTest(ctx, tx, alice, potassium(), false, "bundle 3") })
		if err == nil || !strings.Contains(err.Error(), "never deactivates") {
			t.Fatalf("deactivation by import: %v", err)
		}
	})
}
