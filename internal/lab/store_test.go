package lab_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var (
	alice = audit.Actor{ID: 1, Name: "alice"}
	bob   = audit.Actor{ID: 2, Name: "bob"}
)

func num(v float64) *float64 { return &v }

func potassium() lab.Test {
	return lab.Test{Code: "K", Name: "Potassium", LOINC: "2823-3", Specimen: lab.Serum, ResultType: lab.Numeric,
		Unit: "mmol/l ", DecimalPlaces: 1, Ranges: []lab.ReferenceRange{
			{Sex: lab.AnySex, AgeFrom: 18, Low: num(3.5), High: num(5.1)},
		}}
}

func auditHas(t *testing.T, db *store.DB, entity, id string, match func(audit.Entry) bool) bool {
	t.Helper()
	entries, _, err := audit.List(context.Background(), db, audit.Filter{Entity: entity, EntityID: id})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(entries, match)
}

func TestLabLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l, err := lab.CreateLab(ctx, db, alice, lab.Lab{Code: "CENTRAL", Name: "Central lab", Kind: lab.Central, Address: "Lab street 1"})
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != 1 || !l.Active {
			t.Fatalf("created lab: %+v", l)
		}
		_, err = lab.CreateLab(ctx, db, alice, lab.Lab{Code: "CENTRAL", Name: "Again", Kind: lab.Local})
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["code"], "already exists") {
			t.Fatalf("duplicate lab code: %v", err)
		}
		_, err = lab.CreateLab(ctx, db, alice, lab.Lab{Code: "x y", Kind: "remote"})
		if fe, _ := check.AsFieldErrors(err); fe["code"] == "" || fe["name"] == "" || fe["kind"] == "" {
			t.Fatalf("invalid lab: %v", err)
		}
		upd := l.Lab
		upd.Name = "Central laboratory"
		if err := lab.UpdateLab(ctx, db, alice, "CENTRAL", l.Version, upd, ""); err == nil {
			t.Fatal("update without a reason was accepted")
		}
		if err := lab.UpdateLab(ctx, db, alice, "CENTRAL", l.Version, upd, "official name"); err != nil {
			t.Fatal(err)
		}
		upd.Name = "Bob's lab"
		var conflict *check.Conflict
		if err := lab.UpdateLab(ctx, db, bob, "CENTRAL", l.Version, upd, "mine"); !errors.As(err, &conflict) || conflict.By != "alice" {
			t.Fatalf("stale update: %v", err)
		}
		got, err := lab.GetLab(ctx, db, "CENTRAL")
		if err != nil || got.Name != "Central laboratory" || got.Version != 2 {
			t.Fatalf("after update: %+v %v", got, err)
		}
		if err := lab.SetLabActive(ctx, db, alice, "CENTRAL", got.Version, false, "contract ended"); err != nil {
			t.Fatal(err)
		}
		if active, _ := lab.ListLabs(ctx, db, "", false); len(active) != 0 {
			t.Fatalf("inactive lab listed: %+v", active)
		}
		if all, _ := lab.ListLabs(ctx, db, "central", true); len(all) != 1 || all[0].Active {
			t.Fatalf("search including inactive: %+v", all)
		}
		if !auditHas(t, db, "lab", "CENTRAL", func(e audit.Entry) bool {
			return e.Field == "name" && e.Old == "Central lab" && e.New == "Central laboratory" && e.Reason == "official name"
		}) || !auditHas(t, db, "lab", "CENTRAL", func(e audit.Entry) bool {
			return e.Action == audit.Deactivate && e.Field == "active" && e.Reason == "contract ended"
		}) {
			t.Fatal("audit trail lacks the rename or the deactivation")
		}
	})
}

func TestLabTestStorage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		created, err := lab.CreateTest(ctx, db, alice, potassium())
		if err != nil {
			t.Fatal(err)
		}
		if created.Unit != "mmol/l" {
			t.Fatalf("unit not trimmed: %q", created.Unit)
		}
		got, err := lab.GetTest(ctx, db, "K")
		if err != nil || got.Unit != "mmol/l" || len(got.Ranges) != 1 || *got.Ranges[0].Low != 3.5 || *got.Ranges[0].High != 5.1 || got.Ranges[0].AgeTo != 0 {
			t.Fatalf("stored test: %+v %v", got, err)
		}

		// A non-UCUM unit and an overlapping range are field errors beside
		// the unit and beside the range row, and nothing is saved.
		bad := potassium()
		bad.Unit = "mmol//L"
		bad.Ranges = append(bad.Ranges, lab.ReferenceRange{Sex: lab.Male, AgeFrom: 40, AgeTo: 60, Low: num(3.6), High: num(5.0)})
		err = lab.UpdateTest(ctx, db, alice, "K", got.Version, bad, "tighter male range")
		fe, ok := check.AsFieldErrors(err)
		if !ok || !strings.Contains(fe["unit"], "not valid UCUM") || !strings.Contains(fe["ranges[1]"], "overlaps range 1") {
			t.Fatalf("invalid update: %v", err)
		}
		if again, _ := lab.GetTest(ctx, db, "K"); again.Version != got.Version || len(again.Ranges) != 1 {
			t.Fatalf("a refused update changed the test: %+v", again)
		}

		// Sex-specific ranges side by side, one-sided ones and coded tests.
		fixed := potassium()
		fixed.Ranges = []lab.ReferenceRange{
			{Sex: lab.Male, AgeFrom: 18, AgeTo: 65, Low: num(3.6), High: num(5.0)},
			{Sex: lab.Female, AgeFrom: 18, AgeTo: 65, Low: num(3.5), High: num(5.1)},
			{Sex: lab.AnySex, AgeFrom: 65, High: num(5.3)},
		}
		if err := lab.UpdateTest(ctx, db, alice, "K", got.Version, fixed, "sex-specific ranges"); err != nil {
			t.Fatal(err)
		}
		got, _ = lab.GetTest(ctx, db, "K")
		if len(got.Ranges) != 3 || got.Ranges[2].Low != nil || *got.Ranges[2].High != 5.3 || got.Ranges[1].Sex != lab.Female {
			t.Fatalf("ranges after update: %+v", got.Ranges)
		}
		if r, ok := lab.Range(got.Test, lab.Female, 30); !ok || *r.Low != 3.5 {
			t.Fatalf("Range for a 30-year-old woman: %+v %v", r, ok)
		}
		if !auditHas(t, db, "lab_test", "K", func(e audit.Entry) bool {
			return e.Field == "ranges" && e.Reason == "sex-specific ranges" && strings.Contains(e.New, "female, ages 18 to under 65: 3.5–5.1")
		}) {
			t.Fatal("audit trail lacks the ranges change")
		}
		// Bob saves over the version he opened before alice's change.
		var conflict *check.Conflict
		if err := lab.UpdateTest(ctx, db, bob, "K", 1, potassium(), "revert"); !errors.As(err, &conflict) {
			t.Fatalf("stale update: %v", err)
		}

		prot, err := lab.CreateTest(ctx, db, alice, lab.Test{Code: "U-PROT", Name: "Urine protein", Specimen: lab.Urine,
			ResultType: lab.Coded, Choices: []string{"Negative", " Trace", "1+", "2+", "3+"}})
		if err != nil {
			t.Fatal(err)
		}
		if stored, _ := lab.GetTest(ctx, db, "U-PROT"); !slices.Equal(stored.Choices, []string{"Negative", "Trace", "1+", "2+", "3+"}) || stored.Version != prot.Version {
			t.Fatalf("choices: %+v", stored.Choices)
		}
		if list, _ := lab.ListTests(ctx, db, "2823", false); len(list) != 1 || list[0].Code != "K" || len(list[0].Ranges) != 3 {
			t.Fatalf("search by LOINC: %+v", list)
		}
	})
}

func TestPanelStorage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, test := range []lab.Test{
			potassium(),
			{Code: "NA", Name: "Sodium", LOINC: "2951-2", Specimen: lab.Serum, ResultType: lab.Numeric, Unit: "mmol/L"},
			{Code: "CL", Name: "Chloride", LOINC: "2075-0", Specimen: lab.Serum, ResultType: lab.Numeric, Unit: "mmol/L"},
		} {
			if _, err := lab.CreateTest(ctx, db, alice, test); err != nil {
				t.Fatal(err)
			}
		}
		_, err := lab.CreatePanel(ctx, db, alice, lab.Panel{Code: "LYTES", Name: "Electrolytes", Tests: []string{"NA", "K", "NA", "GLU"}})
		fe, _ := check.AsFieldErrors(err)
		if !strings.Contains(fe["tests[2]"], "listed twice") || !strings.Contains(fe["tests[3]"], `No active lab test has code "GLU"`) {
			t.Fatalf("invalid panel: %v", err)
		}
		p, err := lab.CreatePanel(ctx, db, alice, lab.Panel{Code: "LYTES", Name: "Electrolytes", Tests: []string{"NA", "K"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := lab.UpdatePanel(ctx, db, alice, "LYTES", p.Version, lab.Panel{Name: "Electrolytes", Tests: []string{"K", "NA", "CL"}}, "chloride added, potassium first"); err != nil {
			t.Fatal(err)
		}
		got, _ := lab.GetPanel(ctx, db, "LYTES")
		if !slices.Equal(got.Tests, []string{"K", "NA", "CL"}) || got.Version != 2 {
			t.Fatalf("panel after update: %+v", got)
		}
		// A test in an active panel cannot be deactivated.
		k, _ := lab.GetTest(ctx, db, "K")
		err = lab.SetTestActive(ctx, db, alice, "K", k.Version, false, "obsolete")
		if err == nil || !strings.Contains(err.Error(), "LYTES") {
			t.Fatalf("deactivating a test in a panel: %v", err)
		}
		if err := lab.SetPanelActive(ctx, db, alice, "LYTES", got.Version, false, "replaced"); err != nil {
			t.Fatal(err)
		}
		if err := lab.SetTestActive(ctx, db, alice, "K", k.Version, false, "obsolete"); err != nil {
			t.Fatal(err)
		}
		// …and the panel cannot come back while it lists the inactive test.
		got, _ = lab.GetPanel(ctx, db, "LYTES")
		if err := lab.SetPanelActive(ctx, db, alice, "LYTES", got.Version, true, "needed again"); err == nil || !strings.Contains(err.Error(), "no longer active") {
			t.Fatalf("reactivating a panel with an inactive test: %v", err)
		}
		if !auditHas(t, db, "lab_panel", "LYTES", func(e audit.Entry) bool {
			return e.Field == "tests" && e.Old == "NA, K" && e.New == "K, NA, CL" && e.Reason == "chloride added, potassium first"
		}) {
			t.Fatal("audit trail lacks the panel's new order")
		}
	})
}
