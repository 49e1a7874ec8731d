package label_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var (
	alice = audit.Actor{ID: 1, Name: "alice"}
	bob   = audit.Actor{ID: 2, Name: "bob"}
)

// pk is the demo PK tube template, a fresh copy each call.
func pk() label.Template { return label.DemoTemplates()[0] }

// trail returns the audit entries of one template, oldest first.
func trail(t *testing.T, db *store.DB, code string) []audit.Entry {
	t.Helper()
	entries, _, err := audit.List(context.Background(), db, audit.Filter{Entity: label.AuditEntity, EntityID: code})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	return entries
}

// find returns the first entry of an action on a field.
func find(entries []audit.Entry, action audit.Action, field string) (audit.Entry, bool) {
	for _, e := range entries {
		if e.Action == action && e.Field == field {
			return e, true
		}
	}
	return audit.Entry{}, false
}

func TestCreateStoresTheCanonicalTemplateAndAuditsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tpl := pk()
		tpl.Code, tpl.Name = "  PK-TUBE-50X25 ", " PK sample tube 50×25 mm "
		created, err := label.Create(ctx, db, alice, tpl)
		if err != nil {
			t.Fatal(err)
		}
		if created.Version != 1 || !created.Active || created.Template.Code != "PK-TUBE-50X25" {
			t.Fatalf("created: %+v", created)
		}
		got, err := label.Get(ctx, db, "PK-TUBE-50X25")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Template, pk()) {
			t.Fatalf("stored template differs from what was created:\n got %+v\nwant %+v", got.Template, pk())
		}
		// The column holds the canonical JSON: fields in print order, the
		// same bytes json.Marshal gives for the template.
		var doc string
		if err := db.QueryRow(ctx, "SELECT template FROM label_template WHERE code = ?", "PK-TUBE-50X25").Scan(&doc); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(pk())
		if doc != string(want) {
			t.Fatalf("stored JSON:\n got %s\nwant %s", doc, want)
		}

		entries := trail(t, db, "PK-TUBE-50X25")
		name, ok := find(entries, audit.Create, "name")
		if !ok || name.New != "PK sample tube 50×25 mm" || name.Actor != "alice" {
			t.Fatalf("create entry for name: %+v in %+v", name, entries)
		}
		barcode, ok := find(entries, audit.Create, `field "sample id"`)
		if !ok || !strings.Contains(barcode.New, "code128") || !strings.Contains(barcode.New, "module 0.17 mm") || barcode.Old != "" {
			t.Fatalf("create entry for the barcode field: %+v", barcode)
		}
		if active, ok := find(entries, audit.Create, "active"); !ok || active.New != "yes" {
			t.Fatalf("create entry for active: %+v", active)
		}
	})
}

func TestCreateRefusesDuplicatesAndInvalidTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := label.Create(ctx, db, alice, pk()); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"PK-TUBE-50X25", "pk-tube-50x25"} {
			dup := pk()
			dup.Code = code
			_, err := label.Create(ctx, db, alice, dup)
			if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["code"], "already exists") {
				t.Fatalf("duplicate code %s: got %v", code, err)
			}
		}

		// A barcode module finer than one printer dot: the error names the
		// field row and input, and nothing is stored or audited.
		bad := pk()
		bad.Code = "PK-FINE"
		bad.Fields[2].ModuleMM = 0.01
		bad.Fields[4].XMM = 40 // "tube" now runs off the label's right edge
		bad.Name = ""
		_, err := label.Create(ctx, db, alice, bad)
		fe, ok := check.AsFieldErrors(err)
		if !ok {
			t.Fatalf("invalid template: got %v, want field errors", err)
		}
		if msg := fe["fields[2].module_mm"]; !strings.Contains(msg, `"sample id"`) || !strings.Contains(msg, "printer dot") {
			t.Errorf("module error: %q", msg)
		}
		if msg := fe["fields[4].width_mm"]; !strings.Contains(msg, `"tube"`) || !strings.Contains(msg, "past the label") {
			t.Errorf("position error: %q (all: %v)", msg, fe)
		}
		if fe["name"] == "" {
			t.Errorf("blank name not reported: %v", fe)
		}
		if _, err := label.Get(ctx, db, "PK-FINE"); !errors.Is(err, check.ErrNotFound) {
			t.Errorf("an invalid template was stored: %v", err)
		}
		if entries := trail(t, db, "PK-FINE"); len(entries) != 0 {
			t.Errorf("an invalid template was audited: %+v", entries)
		}
	})
}

func TestUpdateNeedsAReasonRefusesStaleVersionsAndAuditsEachChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		created, err := label.Create(ctx, db, alice, pk())
		if err != nil {
			t.Fatal(err)
		}
		edited := pk()
		edited.Name = "PK tube, 50×25"
		edited.Fields[4].XMM = 34
		edited.Fields = append(edited.Fields[:5], edited.Fields[6:]...) // drop "storage"

		err = label.Update(ctx, db, alice, "PK-TUBE-50X25", created.Version, edited, " ")
		if fe, _ := check.AsFieldErrors(err); fe["reason"] == "" {
			t.Fatalf("update without a reason: %v", err)
		}
		// An invalid edit reports the template's problems and the missing
		// reason together.
		invalid := edited
		invalid.DPI = 250
		err = label.Update(ctx, db, alice, "PK-TUBE-50X25", created.Version, invalid, "")
		if fe, _ := check.AsFieldErrors(err); fe["dpi"] == "" || fe["reason"] == "" {
			t.Fatalf("invalid update: %v", err)
		}

		// The code in the template cannot move the record to another code.
		edited.Code = "OTHER"
		if err := label.Update(ctx, db, alice, "PK-TUBE-50X25", created.Version, edited, "tube number moved right"); err != nil {
			t.Fatal(err)
		}
		// Bob opened version 1 too: his save is refused and names alice.
		err = label.Update(ctx, db, bob, "PK-TUBE-50X25", created.Version, pk(), "mine")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "alice" || !strings.Contains(err.Error(), "changed by alice") {
			t.Fatalf("stale save: got %v", err)
		}
		got, _ := label.Get(ctx, db, "PK-TUBE-50X25")
		if got.Version != 2 || got.Template.Name != "PK tube, 50×25" || len(got.Template.Fields) != 5 || got.Template.Code != "PK-TUBE-50X25" {
			t.Fatalf("after the edit: %+v", got)
		}

		entries := trail(t, db, "PK-TUBE-50X25")
		name, _ := find(entries, audit.Update, "name")
		tube, _ := find(entries, audit.Update, `field "tube"`)
		storage, _ := find(entries, audit.Update, `field "storage"`)
		if name.Old != "PK sample tube 50×25 mm" || name.New != "PK tube, 50×25" || name.Reason != "tube number moved right" {
			t.Errorf("name entry: %+v", name)
		}
		if !strings.Contains(tube.Old, "at 33, 17 mm") || !strings.Contains(tube.New, "at 34, 17 mm") {
			t.Errorf("tube entry: %+v", tube)
		}
		if !strings.Contains(storage.Old, "Store at -20 °C") || storage.New != "" {
			t.Errorf("removed field entry: %+v", storage)
		}
		if _, ok := find(entries, audit.Update, `field "subject"`); ok {
			t.Error("an unchanged field was audited as changed")
		}
		if _, ok := find(entries, audit.Update, "code"); ok {
			t.Error("the code was audited as changed")
		}

		// Saving the same template again changes and audits nothing.
		before := len(entries)
		got.Template.Code = "PK-TUBE-50X25"
		if err := label.Update(ctx, db, alice, "PK-TUBE-50X25", got.Version, got.Template, "no change"); err != nil {
			t.Fatal(err)
		}
		if again, _ := label.Get(ctx, db, "PK-TUBE-50X25"); again.Version != got.Version || len(trail(t, db, "PK-TUBE-50X25")) != before {
			t.Errorf("an unchanged save bumped the version to %d or was audited", again.Version)
		}
	})
}

func TestDeactivateKeepsTheTemplate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, tpl := range label.DemoTemplates() {
			if _, err := label.Create(ctx, db, alice, tpl); err != nil {
				t.Fatal(err)
			}
		}
		if err := label.Deactivate(ctx, db, alice, "PK-TUBE-50X25", 1, ""); err == nil {
			t.Fatal("deactivated without a reason")
		}
		if err := label.Deactivate(ctx, db, alice, "PK-TUBE-50X25", 1, "study closed"); err != nil {
			t.Fatal(err)
		}
		if err := label.Deactivate(ctx, db, alice, "PK-TUBE-50X25", 2, "again"); err == nil || !strings.Contains(err.Error(), "already inactive") {
			t.Fatalf("second deactivation: %v", err)
		}
		if err := label.Update(ctx, db, alice, "PK-TUBE-50X25", 2, pk(), "edit while inactive"); err == nil || !strings.Contains(err.Error(), "reactivate it") {
			t.Fatalf("edit of an inactive template: %v", err)
		}
		active, _ := label.List(ctx, db, label.Filter{})
		all, _ := label.List(ctx, db, label.Filter{IncludeInactive: true})
		if len(active) != 1 || active[0].Template.Code != "CRF-VOL-100X50" {
			t.Fatalf("active templates: %+v", active)
		}
		if len(all) != 2 || all[1].Template.Code != "PK-TUBE-50X25" || all[1].Active || len(all[1].Template.Fields) != 6 {
			t.Fatalf("all templates: %+v", all)
		}
		e, ok := find(trail(t, db, "PK-TUBE-50X25"), audit.Deactivate, "active")
		if !ok || e.Old != "yes" || e.New != "no" || e.Reason != "study closed" {
			t.Fatalf("deactivation entry: %+v", e)
		}
		if err := label.Reactivate(ctx, db, bob, "PK-TUBE-50X25", 2, "study reopened"); err != nil {
			t.Fatal(err)
		}
		if got, _ := label.Get(ctx, db, "PK-TUBE-50X25"); !got.Active || got.Version != 3 || got.UpdatedBy != "bob" {
			t.Fatalf("after reactivation: %+v", got)
		}
		if res, err := audit.Verify(ctx, db); err != nil || !res.OK() {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}

func TestListSearchesCodeAndName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, tpl := range label.DemoTemplates() {
			if _, err := label.Create(ctx, db, alice, tpl); err != nil {
				t.Fatal(err)
			}
		}
		for search, want := range map[string][]string{
			"":          {"CRF-VOL-100X50", "PK-TUBE-50X25"},
			"tube":      {"PK-TUBE-50X25"},
			"Volunteer": {"CRF-VOL-100X50"},
			"50x":       {"PK-TUBE-50X25"},
			"%":         nil,
			"_":         nil,
		} {
			list, err := label.List(ctx, db, label.Filter{Search: search})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range list {
				got = append(got, s.Template.Code)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("search %q: got %v, want %v", search, got, want)
			}
		}
	})
}
