package study_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
)

var bob = audit.Actor{ID: 2, Name: "bob"}

func TestStudyLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := study.Create(ctx, db, alice, study.Study{Code: "CRU-2026-001", Title: "First in human of X", Phase: "I", Sponsor: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != study.Design || s.OID != "CRU-2026-001" {
			t.Fatalf("new study: %+v", s)
		}
		_, err = study.Create(ctx, db, alice, study.Study{Code: "CRU-2026-001", Title: "Again"})
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["code"], "already exists") {
			t.Fatalf("duplicate code: %v", err)
		}
		_, err = study.Create(ctx, db, alice, study.Study{Code: "bad code", Phase: "V"})
		fe, _ := check.AsFieldErrors(err)
		if fe["code"] == "" || fe["title"] == "" || fe["phase"] == "" {
			t.Fatalf("invalid study: %v", err)
		}

		if err := study.Update(ctx, db, alice, s.Code, s.Version, study.Study{Title: "FIH of X", Phase: "Ia", Sponsor: "Acme"}, ""); err == nil {
			t.Fatal("update without a reason was accepted")
		}
		if err := study.Update(ctx, db, alice, s.Code, s.Version, study.Study{Title: "FIH of X", Phase: "Ia", Sponsor: "Acme"}, "protocol v2"); err != nil {
			t.Fatal(err)
		}
		err = study.Update(ctx, db, bob, s.Code, s.Version, study.Study{Title: "Bob's", Phase: "I"}, "mine")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "alice" {
			t.Fatalf("stale edit: %v", err)
		}

		// Status moves only along the allowed transitions.
		got, _ := study.Get(ctx, db, s.Code)
		if err := study.SetStatus(ctx, db, alice, s.Code, got.Version, study.Locked, "skip"); err == nil {
			t.Fatal("design → locked was allowed")
		}
		for _, to := range []study.Status{study.Active, study.Locked, study.Archived} {
			got, _ = study.Get(ctx, db, s.Code)
			if err := study.SetStatus(ctx, db, alice, s.Code, got.Version, to, "next step"); err != nil {
				t.Fatalf("to %s: %v", to, err)
			}
		}
		got, _ = study.Get(ctx, db, s.Code)
		if got.Status != study.Archived || got.Title != "FIH of X" {
			t.Fatalf("after transitions: %+v", got)
		}
		if err := study.SetStatus(ctx, db, alice, s.Code, got.Version, study.Active, "revive"); err == nil {
			t.Fatal("archived → active was allowed")
		}

		// The migration records historical studies directly as archived.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := study.CreateArchived(ctx, tx, alice, study.Study{Code: "OLD-1999-7", Title: "Historical study"}, "migration run 3")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		old, err := study.Get(ctx, db, "OLD-1999-7")
		if err != nil || old.Status != study.Archived {
			t.Fatalf("archived study: %+v %v", old, err)
		}

		// Every change is in the audit trail, with its reason.
		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "study"})
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]bool{}
		for _, e := range entries {
			reasons[e.Reason] = true
		}
		for _, r := range []string{"protocol v2", "next step", "migration run 3"} {
			if !reasons[r] {
				t.Errorf("no audit entry with reason %q", r)
			}
		}
	})
}

func TestLibraryVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v1, err := study.CreateForm(ctx, db, alice, "F.VITALS", "Vital signs")
		if err != nil {
			t.Fatal(err)
		}
		if v1.Number != 1 || v1.Status != study.Draft {
			t.Fatalf("new form: %+v", v1)
		}
		if _, err := study.CreateForm(ctx, db, alice, "F.VITALS", "Again"); err == nil {
			t.Fatal("a second form with the same OID was accepted")
		}
		def := v1.Definition
		def.Form.ItemGroupRefs = []*odm.ItemGroupRef{{ItemGroupOID: "IG.VS", Mandatory: odm.Yes}}
		def.ItemGroups = []*odm.ItemGroupDef{{OID: "IG.VS", Name: "Vitals", Repeating: odm.No,
			ItemRefs: []*odm.ItemRef{{ItemOID: "I.SYSBP", Mandatory: odm.Yes}}}}
		n := 3
		def.Items = []*odm.ItemDef{{OID: "I.SYSBP", Name: "Systolic BP", DataType: odm.Integer, Length: &n}}
		if err := study.SaveDraft(ctx, db, alice, "F.VITALS", 1, v1.Version, def, "add blood pressure"); err != nil {
			t.Fatal(err)
		}
		// A stale draft save is a conflict.
		if err := study.SaveDraft(ctx, db, bob, "F.VITALS", 1, v1.Version, def, "mine"); !errors.As(err, new(*check.Conflict)) {
			t.Fatalf("stale draft save: %v", err)
		}
		items, err := study.Items(ctx, db, "F.VITALS", 1)
		if err != nil || len(items) != 1 || items[0].ItemOID != "I.SYSBP" || items[0].DataType != "integer" {
			t.Fatalf("items: %+v %v", items, err)
		}
		cur, _ := study.GetVersion(ctx, db, "F.VITALS", 1)
		if err := study.Publish(ctx, db, alice, "F.VITALS", 1, cur.Version, "approved"); err != nil {
			t.Fatal(err)
		}
		// Published versions never change.
		cur, _ = study.GetVersion(ctx, db, "F.VITALS", 1)
		if err := study.SaveDraft(ctx, db, alice, "F.VITALS", 1, cur.Version, def, "late change"); err == nil ||
			!strings.Contains(err.Error(), "published") {
			t.Fatalf("edit of a published version: %v", err)
		}
		// A change makes a new draft, copied from the published version.
		v2, err := study.NewDraft(ctx, db, alice, "F.VITALS", 1, "add pulse")
		if err != nil {
			t.Fatal(err)
		}
		if v2.Number != 2 || v2.Status != study.Draft || len(v2.Definition.Items) != 1 || v2.Digest != cur.Digest {
			t.Fatalf("new draft: %+v", v2)
		}
		if _, err := study.NewDraft(ctx, db, alice, "F.VITALS", 1, "another"); err == nil {
			t.Fatal("a second draft was allowed")
		}
		forms, _ := study.Forms(ctx, db)
		if len(forms) != 1 || forms[0].Latest != 2 || forms[0].Published != 1 {
			t.Fatalf("library: %+v", forms)
		}
		versions, _ := study.Versions(ctx, db, "F.VITALS")
		if len(versions) != 2 || versions[0].Number != 2 || versions[1].PublishedBy != "alice" {
			t.Fatalf("versions: %+v", versions)
		}
	})
}

// TestDesignedStudyRoundTrip: a study designed through the domain API (the
// pages' calls) exports as schema-valid ODM and imports into an empty
// instance as the same design.
func TestDesignedStudyRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := study.Create(ctx, db, alice, study.Study{Code: "CRU-2026-002", Title: "SAD of Y", Phase: "I", ProtocolNumber: "Y-101"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := study.CreateForm(ctx, db, alice, "F.VS", "Vital signs")
		if err != nil {
			t.Fatal(err)
		}
		def := v.Definition
		def.Form.ItemGroupRefs = []*odm.ItemGroupRef{{ItemGroupOID: "IG.VS", Mandatory: odm.Yes}}
		def.ItemGroups = []*odm.ItemGroupDef{{OID: "IG.VS", Name: "Vitals", Repeating: odm.Yes,
			ItemRefs: []*odm.ItemRef{{ItemOID: "I.PULSE", Mandatory: odm.Yes}}}}
		n := 3
		def.Items = []*odm.ItemDef{{OID: "I.PULSE", Name: "Pulse", DataType: odm.Integer, Length: &n,
			Question: &odm.Translations{Texts: []odm.TranslatedText{{Lang: "en", Value: "Pulse (beats/min)"}}}}}
		if err := study.SaveDraft(ctx, db, alice, "F.VS", 1, v.Version, def, "items"); err != nil {
			t.Fatal(err)
		}
		cur, _ := study.GetVersion(ctx, db, "F.VS", 1)
		if err := study.AssignForm(ctx, db, alice, s.Code, "SE.D1", "F.VS", 1, true, "x"); err == nil {
			t.Fatal("a form was assigned to an event that does not exist")
		}
		for i, e := range []study.Event{{OID: "SE.SCR", Name: "Screening", Epoch: "Screening"}, {OID: "SE.D1", Name: "Day 1", Epoch: "Treatment", Arm: "Cohort 1"}} {
			off := i * 1440
			e.NominalOffsetMinutes = &off
			if err := study.AddEvent(ctx, db, alice, s.Code, e, "schedule"); err != nil {
				t.Fatal(err)
			}
		}
		if err := study.AddEvent(ctx, db, alice, s.Code, study.Event{OID: "SE.D1", Name: "Again"}, "dup"); err == nil {
			t.Fatal("a duplicate event OID was accepted")
		}
		if err := study.AssignForm(ctx, db, alice, s.Code, "SE.D1", "F.VS", 1, true, "vitals"); err == nil || !strings.Contains(err.Error(), "draft") {
			t.Fatalf("a draft form was assigned: %v", err)
		}
		if err := study.Publish(ctx, db, alice, "F.VS", 1, cur.Version, "approved"); err != nil {
			t.Fatal(err)
		}
		for _, ev := range []string{"SE.SCR", "SE.D1"} {
			if err := study.AssignForm(ctx, db, alice, s.Code, ev, "F.VS", 1, true, "vitals"); err != nil {
				t.Fatal(err)
			}
		}
		events, _ := study.Events(ctx, db, s.Code)
		if len(events) != 2 || len(events[1].Forms) != 1 || events[1].Arm != "Cohort 1" || *events[1].NominalOffsetMinutes != 1440 {
			t.Fatalf("events: %+v", events)
		}

		var buf bytes.Buffer
		if _, err := study.Export(ctx, db, s.Code, &buf, study.ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "designed.xml")
		os.WriteFile(file, buf.Bytes(), 0o600)
		validate(t, file)
		db2 := storetest.Open(t, db.Engine)
		rep, err := study.Import(ctx, db2, alice, bytes.NewReader(buf.Bytes()), study.ImportOptions{})
		if err != nil || !rep.Applied || rep.Studies[0] != s.Code {
			t.Fatalf("import of the designed study: %v %+v", err, rep)
		}
		if a, b := designJSON(t, db, s.Code), designJSON(t, db2, s.Code); a != b {
			t.Fatalf("designed study differs after round trip:\n%s", firstDiff(a, b))
		}
		// Once active, the design is frozen.
		got, _ := study.Get(ctx, db, s.Code)
		if err := study.SetStatus(ctx, db, alice, s.Code, got.Version, study.Active, "go"); err != nil {
			t.Fatal(err)
		}
		if err := study.AddEvent(ctx, db, alice, s.Code, study.Event{OID: "SE.D2", Name: "Day 2"}, "late"); err == nil {
			t.Fatal("an active study's design changed")
		}
	})
}
