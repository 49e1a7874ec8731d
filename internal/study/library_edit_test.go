package study_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
)

// draft returns the reference of a form's current draft.
func draft(t *testing.T, db *store.DB, oid string, number int) study.DraftRef {
	t.Helper()
	v, err := study.GetVersion(context.Background(), db, oid, number)
	if err != nil {
		t.Fatal(err)
	}
	return study.DraftRef{FormOID: oid, Number: number, Version: v.Version}
}

// TestLibraryEditing builds a form piece by piece as the library pages do
// (unit, code list, group, items with range checks), checks the refusals a
// data manager meets, the audit trail with old and new values, and that a
// published version stays as it was while a new draft changes.
func TestLibraryEditing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := study.CreateForm(ctx, db, alice, "F.VS", "Vital signs"); err != nil {
			t.Fatal(err)
		}
		ref := func() study.DraftRef { return draft(t, db, "F.VS", 1) }
		if err := study.SaveUnit(ctx, db, alice, ref(), "", study.UnitSpec{OID: "MU.KG", Name: "kilogram", Symbol: "kg"}, ""); err == nil {
			t.Fatal("a change without a reason was accepted")
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(study.SaveUnit(ctx, db, alice, ref(), "", study.UnitSpec{OID: "MU.KG", Name: "kilogram", Symbol: "kg"}, "units"))
		err := study.SaveCodeList(ctx, db, alice, ref(), "", study.CodeListSpec{OID: "CL.NY", Name: "No/Yes", DataType: odm.Integer,
			Items: []study.CodeSpec{{Value: "0", Decode: "No"}, {Value: "x", Decode: "Yes"}}}, "lists")
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["code_1"], "not a integer") {
			t.Fatalf("a text code in an integer list: %v", err)
		}
		must(study.SaveCodeList(ctx, db, alice, ref(), "", study.CodeListSpec{OID: "CL.NY", Name: "No/Yes", DataType: odm.Integer,
			Items: []study.CodeSpec{{Value: "0", Decode: "No"}, {Value: "1", Decode: "Yes"}, {}}}, "lists"))
		must(study.SaveGroup(ctx, db, alice, ref(), "", study.GroupSpec{OID: "IG.VS", Name: "Vitals", Mandatory: true}, "groups"))
		if err := study.SaveGroup(ctx, db, alice, ref(), "", study.GroupSpec{OID: "IG.VS", Name: "Again"}, "groups"); err == nil {
			t.Fatal("a duplicate group OID was accepted")
		}
		must(study.SaveGroup(ctx, db, alice, ref(), "", study.GroupSpec{OID: "IG.BP", Name: "Blood pressure", Repeating: true}, "groups"))
		three, one := 3, 1
		weight := study.ItemSpec{GroupOID: "IG.VS", OID: "I.WEIGHT", Name: "WEIGHT", DataType: odm.Float, Length: &three, SignificantDigits: &one,
			UnitOID: "MU.KG", Question: "Body weight", Help: "Without shoes", Mandatory: true,
			RangeChecks: []study.RangeSpec{{Comparator: odm.GE, Values: []string{"30"}, SoftHard: odm.Hard, Message: "Too light"},
				{Comparator: odm.LE, Values: []string{"abc"}, SoftHard: odm.Soft}}}
		err = study.SaveItem(ctx, db, alice, ref(), "", "", weight, "items")
		if fe, ok := check.AsFieldErrors(err); !ok || fe["range_1"] == "" {
			t.Fatalf("a range check value that is not a number: %v", err)
		}
		weight.RangeChecks[1].Values = []string{"250"}
		must(study.SaveItem(ctx, db, alice, ref(), "", "", weight, "items"))
		smoker := study.ItemSpec{GroupOID: "IG.VS", OID: "I.SMOKER", Name: "SMOKER", DataType: odm.Text, CodeListOID: "CL.NY", Question: "Smoker?"}
		err = study.SaveItem(ctx, db, alice, ref(), "", "", smoker, "items")
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["code_list"], "integer") {
			t.Fatalf("a text item with an integer code list: %v", err)
		}
		smoker.DataType = odm.Integer
		must(study.SaveItem(ctx, db, alice, ref(), "", "", smoker, "items"))
		must(study.SaveItem(ctx, db, alice, ref(), "", "", study.ItemSpec{GroupOID: "IG.BP", OID: "I.SYS", Name: "SYSBP", DataType: odm.Integer}, "items"))

		// A stale page is a conflict naming who saved first.
		stale := ref()
		must(study.SaveFormDetails(ctx, db, bob, stale, study.FormSpec{Name: "Vital signs (adult)", Description: "Adults only"}, "rename"))
		err = study.SaveFormDetails(ctx, db, alice, stale, study.FormSpec{Name: "Mine"}, "rename")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "bob" {
			t.Fatalf("stale edit: %v", err)
		}
		// Removing a unit or list in use is refused with a sentence.
		if err := study.RemoveUnit(ctx, db, alice, ref(), "MU.KG", "tidy"); err == nil || !strings.Contains(err.Error(), "I.WEIGHT") {
			t.Fatalf("removing a unit in use: %v", err)
		}
		if err := study.RemoveCodeList(ctx, db, alice, ref(), "CL.NY", "tidy"); err == nil {
			t.Fatal("a code list in use was removed")
		}
		// Editing an item: rename, move to another group, change its checks.
		weight.RangeChecks = weight.RangeChecks[:1]
		weight.OID, weight.Question = "I.WT", "Body weight (kg)"
		must(study.SaveItem(ctx, db, alice, ref(), "IG.VS", "I.WEIGHT", weight, "clearer question"))
		must(study.MoveItem(ctx, db, alice, ref(), "IG.VS", "I.SMOKER", -1, "smoking first"))
		must(study.MoveGroup(ctx, db, alice, ref(), "IG.BP", -1, "BP first"))

		v, _ := study.GetVersion(ctx, db, "F.VS", 1)
		d := v.Definition
		groups := study.GroupSpecs(d)
		if len(groups) != 2 || groups[0].OID != "IG.BP" || !groups[0].Repeating || !groups[1].Mandatory {
			t.Fatalf("groups: %+v", groups)
		}
		items := study.ItemSpecs(d, "IG.VS")
		if len(items) != 2 || items[0].OID != "I.SMOKER" || items[1].OID != "I.WT" || items[1].UnitOID != "MU.KG" ||
			items[1].Help != "Without shoes" || len(items[1].RangeChecks) != 1 || items[1].RangeChecks[0].SoftHard != odm.Hard || !items[1].Mandatory {
			t.Fatalf("items: %+v", items)
		}
		if f := study.FormSpecOf(d); f.Name != "Vital signs (adult)" || f.Description != "Adults only" {
			t.Fatalf("form: %+v", f)
		}
		browse, _ := study.Items(ctx, db, "F.VS", 1)
		if len(browse) != 3 || browse[0].ItemOID != "I.SYS" {
			t.Fatalf("item index: %+v", browse)
		}

		// The trail holds old and new values with the reason.
		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "form_version", EntityID: "F.VS v1"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.Field == "item I.WEIGHT question" && e.Old == "Body weight" && e.New == "Body weight (kg)" && e.Reason == "clearer question" && e.Actor == "alice" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no audit entry for the question change among %d entries", len(entries))
		}

		// Publish needs a reason; the published version never changes, and
		// a change goes into a new draft.
		r := ref()
		if err := study.Publish(ctx, db, alice, "F.VS", 1, r.Version, ""); err == nil {
			t.Fatal("publish without a reason")
		}
		must(study.Publish(ctx, db, alice, "F.VS", 1, r.Version, "approved by DM"))
		pub, _ := study.GetVersion(ctx, db, "F.VS", 1)
		if err := study.RemoveItem(ctx, db, alice, study.DraftRef{FormOID: "F.VS", Number: 1, Version: pub.Version}, "IG.BP", "I.SYS", "late"); err == nil ||
			!strings.Contains(err.Error(), "published") {
			t.Fatalf("edit of a published version: %v", err)
		}
		if _, err := study.NewDraft(ctx, db, alice, "F.VS", 1, "drop BP"); err != nil {
			t.Fatal(err)
		}
		must(study.RemoveGroup(ctx, db, alice, draft(t, db, "F.VS", 2), "IG.BP", "drop BP"))
		v2, _ := study.GetVersion(ctx, db, "F.VS", 2)
		pub, _ = study.GetVersion(ctx, db, "F.VS", 1)
		if len(v2.Definition.Items) != 2 || len(pub.Definition.Items) != 3 || v2.Digest == pub.Digest {
			t.Fatalf("new draft %d items, published %d items", len(v2.Definition.Items), len(pub.Definition.Items))
		}

		// A check written as a formal expression (as imported) survives an
		// edit of the item on the page, which does not show it as a row.
		v2, _ = study.GetVersion(ctx, db, "F.VS", 2)
		def := v2.Definition
		for _, it := range def.Items {
			if it.OID == "I.SMOKER" {
				it.RangeChecks = []*odm.RangeCheck{{SoftHard: odm.Soft, FormalExpressions: []*odm.FormalExpression{{Context: "XPath", Value: ". != 9"}}}}
			}
		}
		must(study.SaveDraft(ctx, db, alice, "F.VS", 2, v2.Version, def, "imported check"))
		spec, ok := study.ItemSpecOf(def, "IG.VS", "I.SMOKER")
		if !ok || len(spec.RangeChecks) != 1 || spec.RangeChecks[0].Expression != ". != 9" {
			t.Fatalf("expression check as a spec: %+v", spec)
		}
		spec.RangeChecks = nil // the page posts no row for it
		spec.Question = "Smokes?"
		must(study.SaveItem(ctx, db, alice, draft(t, db, "F.VS", 2), "IG.VS", "I.SMOKER", spec, "shorter question"))
		v2, _ = study.GetVersion(ctx, db, "F.VS", 2)
		spec, _ = study.ItemSpecOf(v2.Definition, "IG.VS", "I.SMOKER")
		if spec.Question != "Smokes?" || len(spec.RangeChecks) != 1 || spec.RangeChecks[0].Expression != ". != 9" {
			t.Fatalf("after editing an item with an expression check: %+v", spec)
		}
		entries, _, _ = audit.List(ctx, db, audit.Filter{Entity: "form_version", EntityID: "F.VS v2"})
		for _, e := range entries {
			if e.Reason == "shorter question" && e.Field == "item I.SMOKER range_checks" {
				t.Errorf("an untouched expression check was recorded as changed: %+v", e)
			}
		}

		// A draft can be discarded with a reason; a published version cannot.
		if _, err := study.DiscardDraft(ctx, db, alice, draft(t, db, "F.VS", 1), "oops"); err == nil || !strings.Contains(err.Error(), "published") {
			t.Fatalf("discarding a published version: %v", err)
		}
		remains, err := study.DiscardDraft(ctx, db, alice, draft(t, db, "F.VS", 2), "abandoned")
		if err != nil || !remains {
			t.Fatalf("discard draft: %v %v", remains, err)
		}
		if versions, _ := study.Versions(ctx, db, "F.VS"); len(versions) != 1 || versions[0].Number != 1 {
			t.Fatalf("versions after discarding: %+v", versions)
		}

		// An empty form cannot be published.
		e, _ := study.CreateForm(ctx, db, alice, "F.EMPTY", "Nothing")
		if err := study.Publish(ctx, db, alice, "F.EMPTY", 1, e.Version, "go"); err == nil || !strings.Contains(err.Error(), "no items") {
			t.Fatalf("publishing an empty form: %v", err)
		}
		// Discarding a form's only version takes the form out of the library.
		if remains, err := study.DiscardDraft(ctx, db, alice, draft(t, db, "F.EMPTY", 1), "not needed"); err != nil || remains {
			t.Fatalf("discard the only draft: %v %v", remains, err)
		}
		if forms, _ := study.Forms(ctx, db); len(forms) != 1 {
			t.Fatalf("library after discarding a new form: %+v", forms)
		}
	})
}
