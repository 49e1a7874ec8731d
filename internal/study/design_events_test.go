package study_test

import (
	"bytes"
	"context"
	"database/sql"
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

// publishedForm makes a library form with one item and publishes it.
func publishedForm(t *testing.T, db *store.DB, oid, itemOID string, dt odm.DataType) {
	t.Helper()
	ctx := context.Background()
	if _, err := study.CreateForm(ctx, db, alice, oid, "Form "+oid); err != nil {
		t.Fatal(err)
	}
	if err := study.SaveGroup(ctx, db, alice, draft(t, db, oid, 1), "", study.GroupSpec{OID: "IG." + oid, Name: "Group"}, "build"); err != nil {
		t.Fatal(err)
	}
	if err := study.SaveItem(ctx, db, alice, draft(t, db, oid, 1), "", "", study.ItemSpec{GroupOID: "IG." + oid, OID: itemOID, Name: "X", DataType: dt}, "build"); err != nil {
		t.Fatal(err)
	}
	if err := study.Publish(ctx, db, alice, oid, 1, draft(t, db, oid, 1).Version, "approved"); err != nil {
		t.Fatal(err)
	}
}

// TestStudyDesignEditing edits a study's schedule as the design page does:
// UpdateEvent and EditEvent (every field, order), moving and removing
// events, forms at events and form versions, with conflicts, refusals and
// the audit trail; the result still exports as valid ODM and imports into
// an empty instance as the same design.
func TestStudyDesignEditing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		s, err := study.Create(ctx, db, alice, study.Study{Code: "CRU-2026-009", Title: "MAD of Z", Phase: "I"})
		must(err)
		for _, e := range []study.Event{{OID: "SE.SCR", Name: "Screening"}, {OID: "SE.D1", Name: "Day 1"}, {OID: "SE.D2", Name: "Day 2"}} {
			must(study.AddEvent(ctx, db, alice, s.Code, e, "schedule"))
		}
		publishedForm(t, db, "F.VS", "I.PULSE", odm.Integer)
		publishedForm(t, db, "F.ECG", "I.QTC", odm.Integer)
		for _, ev := range []string{"SE.SCR", "SE.D1", "SE.D2"} {
			must(study.AssignForm(ctx, db, alice, s.Code, ev, "F.VS", 1, true, "vitals"))
		}
		must(study.AssignForm(ctx, db, alice, s.Code, "SE.D1", "F.ECG", 1, false, "ECG"))
		if uses, err := study.UsesOf(ctx, db, "F.VS"); err != nil || len(uses) != 1 || uses[0].StudyCode != s.Code || uses[0].Version != 1 || uses[0].Status != study.Design {
			t.Fatalf("uses of F.VS: %+v %v", uses, err)
		}

		// UpdateEvent: epoch (also the ODM Category), arm and nominal time.
		day := 1440
		if err := study.UpdateEvent(ctx, db, alice, s.Code, "SE.D2", "Treatment", "Cohort A", &day, ""); err == nil {
			t.Fatal("UpdateEvent without a reason")
		}
		if err := study.UpdateEvent(ctx, db, alice, s.Code, "SE.NONE", "x", "", nil, "r"); !errors.Is(err, check.ErrNotFound) {
			t.Fatalf("UpdateEvent of a missing event: %v", err)
		}
		must(study.UpdateEvent(ctx, db, alice, s.Code, "SE.D2", "Treatment", "Cohort A", &day, "protocol v2"))
		e, err := study.GetEvent(ctx, db, s.Code, "SE.D2")
		must(err)
		if e.Epoch != "Treatment" || e.Arm != "Cohort A" || *e.NominalOffsetMinutes != 1440 {
			t.Fatalf("after UpdateEvent: %+v", e)
		}
		st, _, err := study.ODMStudy(ctx, db, s.Code)
		must(err)
		if cat := st.MetaDataVersions[0].StudyEventDefs[2].Category; cat != "Treatment" {
			t.Fatalf("the epoch did not reach the ODM Category: %q", cat)
		}

		// EditEvent checks the version the user opened.
		cur, _ := study.Get(ctx, db, s.Code)
		e.Name, e.Type, e.Repeating, e.Order = "Day 2 (PK)", odm.Scheduled, true, 1
		hour := 60
		e.WindowBeforeMinutes = &hour
		must(study.EditEvent(ctx, db, bob, s.Code, cur.Version, e, "PK day first"))
		err = study.EditEvent(ctx, db, alice, s.Code, cur.Version, e, "mine")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "bob" {
			t.Fatalf("stale event edit: %v", err)
		}
		events, _ := study.Events(ctx, db, s.Code)
		if len(events) != 3 || events[0].OID != "SE.D2" || events[0].Name != "Day 2 (PK)" || !events[0].Repeating || events[1].OID != "SE.SCR" {
			t.Fatalf("after EditEvent: %+v", events)
		}
		cur, _ = study.Get(ctx, db, s.Code)
		must(study.MoveEvent(ctx, db, alice, s.Code, cur.Version, "SE.D2", 1, "back"))
		events, _ = study.Events(ctx, db, s.Code)
		if events[1].OID != "SE.D2" || events[1].Order != 2 || events[2].OID != "SE.D1" {
			t.Fatalf("after MoveEvent: %+v", events)
		}
		bad := e
		negative := -5
		bad.Name, bad.Type, bad.WindowAfterMinutes = "", "Sometimes", &negative
		cur, _ = study.Get(ctx, db, s.Code)
		if fe, ok := check.AsFieldErrors(study.EditEvent(ctx, db, alice, s.Code, cur.Version, bad, "x")); !ok || fe["event_name"] == "" || fe["event_type"] == "" || fe["window_after"] == "" {
			t.Fatalf("invalid event: %v", fe)
		}

		// Forms: stop collecting one; a form at no event leaves the study.
		cur, _ = study.Get(ctx, db, s.Code)
		must(study.UnassignForm(ctx, db, alice, s.Code, cur.Version, "SE.D1", "F.ECG", "no ECG"))
		forms, _ := study.StudyForms(ctx, db, s.Code)
		if len(forms) != 1 || forms[0].FormOID != "F.VS" {
			t.Fatalf("forms after unassign: %+v", forms)
		}
		// A newer published version replaces the old one at every event.
		_, err = study.NewDraft(ctx, db, alice, "F.VS", 1, "range")
		must(err)
		must(study.SaveItem(ctx, db, alice, draft(t, db, "F.VS", 2), "IG.F.VS", "I.PULSE", study.ItemSpec{GroupOID: "IG.F.VS", OID: "I.PULSE", Name: "X",
			DataType: odm.Integer, RangeChecks: []study.RangeSpec{{Comparator: odm.LE, Values: []string{"200"}, SoftHard: odm.Soft}}}, "range"))
		cur, _ = study.Get(ctx, db, s.Code)
		if err := study.ChangeFormVersion(ctx, db, alice, s.Code, cur.Version, "F.VS", 2, "use v2"); err == nil || !strings.Contains(err.Error(), "draft") {
			t.Fatalf("a draft version was chosen: %v", err)
		}
		must(study.Publish(ctx, db, alice, "F.VS", 2, draft(t, db, "F.VS", 2).Version, "approved"))
		pv, err := study.PublishedVersions(ctx, db)
		if err != nil || len(pv["F.VS"]) != 2 || pv["F.VS"][0] != 2 || pv["F.VS"][1] != 1 || len(pv["F.ECG"]) != 1 {
			t.Fatalf("published versions: %v %v", pv, err)
		}
		must(study.ChangeFormVersion(ctx, db, alice, s.Code, cur.Version, "F.VS", 2, "use v2"))
		events, _ = study.Events(ctx, db, s.Code)
		if events[0].Forms[0].FormVersion != 2 {
			t.Fatalf("form version: %+v", events[0].Forms)
		}
		// A form defining an OID differently from one the study uses is refused.
		publishedForm(t, db, "F.OTHER", "I.PULSE", odm.Float)
		if err := study.AssignForm(ctx, db, alice, s.Code, "SE.D1", "F.OTHER", 1, false, "clash"); err == nil || !strings.Contains(err.Error(), "item I.PULSE") {
			t.Fatalf("a clashing form was assigned: %v", err)
		}
		// Removing an event.
		cur, _ = study.Get(ctx, db, s.Code)
		must(study.RemoveEvent(ctx, db, alice, s.Code, cur.Version, "SE.SCR", "no screening here"))
		events, _ = study.Events(ctx, db, s.Code)
		if len(events) != 2 || events[0].OID != "SE.D2" || events[0].Order != 1 {
			t.Fatalf("after RemoveEvent: %+v", events)
		}

		// The trail has old and new values with reasons.
		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "study_event", EntityID: s.Code + "/SE.D2"})
		must(err)
		seen := map[string]bool{}
		for _, en := range entries {
			seen[en.Field+"|"+en.Old+"|"+en.New+"|"+en.Reason] = true
		}
		for _, want := range []string{"epoch||Treatment|protocol v2", "arm||Cohort A|protocol v2", "name|Day 2|Day 2 (PK)|PK day first", "order|3|1|PK day first",
			"window_before_minutes||60|PK day first"} {
			if !seen[want] {
				t.Errorf("no audit entry %s", want)
			}
		}

		// The edited design exports valid and comes back the same.
		var buf bytes.Buffer
		_, err = study.Export(ctx, db, s.Code, &buf, study.ExportOptions{})
		must(err)
		file := filepath.Join(t.TempDir(), "edited.xml")
		must(os.WriteFile(file, buf.Bytes(), 0o600))
		validate(t, file)
		// Arm and nominal time travel as aliases, which the schema allows.
		if !strings.Contains(buf.String(), `<Alias Context="cohort.arm" Name="Cohort A"`) ||
			!strings.Contains(buf.String(), `<Alias Context="cohort.nominal_offset_minutes" Name="1440"`) {
			t.Errorf("the export does not carry arm and nominal time as aliases")
		}
		st, _, err = study.ODMStudy(ctx, db, s.Code)
		must(err)
		if sc := study.ScheduleFromAliases(st.MetaDataVersions[0].StudyEventDefs[0]); sc.Arm != "Cohort A" || sc.NominalOffsetMinutes == nil ||
			*sc.NominalOffsetMinutes != 1440 || sc.WindowBeforeMinutes == nil || *sc.WindowBeforeMinutes != 60 || sc.WindowAfterMinutes != nil {
			t.Errorf("schedule from aliases: %+v", sc)
		}
		db2 := storetest.Open(t, db.Engine)
		rep, err := study.Import(ctx, db2, alice, bytes.NewReader(buf.Bytes()), study.ImportOptions{})
		if err != nil || !rep.Applied {
			t.Fatalf("import: %v %+v", err, rep)
		}
		if a, b := designJSON(t, db, s.Code), designJSON(t, db2, s.Code); a != b {
			t.Fatalf("edited design differs after round trip:\n%s", firstDiff(a, b))
		}
		e1, _ := study.Events(ctx, db, s.Code)
		e2, _ := study.Events(ctx, db2, s.Code)
		if len(e1) != len(e2) || e2[0].Arm != "Cohort A" || e2[0].NominalOffsetMinutes == nil || *e2[0].NominalOffsetMinutes != 1440 ||
			e2[0].WindowBeforeMinutes == nil || *e2[0].WindowBeforeMinutes != 60 {
			t.Fatalf("arm and nominal time did not come back with the import: %+v", e2)
		}
		// The columns themselves, not only the aliases Events falls back to.
		var arm string
		var offset, before sql.NullInt64
		must(db2.QueryRow(ctx, `SELECT arm, nominal_offset_minutes, window_before_minutes FROM study_event WHERE oid = ?`, e2[0].OID).Scan(&arm, &offset, &before))
		if arm != "Cohort A" || offset.Int64 != 1440 || before.Int64 != 60 {
			t.Fatalf("imported event's schedule columns: arm %q, offset %v, window before %v", arm, offset, before)
		}

		// Status: illegal moves are refused with a sentence; once active the
		// design is frozen.
		cur, _ = study.Get(ctx, db, s.Code)
		err = study.SetStatus(ctx, db, alice, s.Code, cur.Version, study.Archived, "skip ahead")
		if fe, ok := check.AsFieldErrors(err); !ok || fe["status"] != "A study in status design cannot move to archived." {
			t.Fatalf("design → archived: %v", err)
		}
		must(study.SetStatus(ctx, db, alice, s.Code, cur.Version, study.Active, "first volunteer dosed"))
		cur, _ = study.Get(ctx, db, s.Code)
		if err := study.RemoveEvent(ctx, db, alice, s.Code, cur.Version, "SE.D1", "late"); err == nil || !strings.Contains(err.Error(), "only a study in design") {
			t.Fatalf("an active study's event was removed: %v", err)
		}
	})
}

func TestNominalTimeAsDays(t *testing.T) {
	for _, c := range []struct {
		minutes, day int
		hours        string
	}{{0, 1, "0"}, {30, 1, "0.5"}, {1439, 1, "23.983333333333334"}, {1440, 2, "24"}, {-1, -1, "-0.016666666666666666"},
		{-1440, -1, "-24"}, {-1441, -2, "-24.016666666666666"}, {-90, -1, "-1.5"}} {
		m := c.minutes
		if d := study.StudyDay(m); d != c.day {
			t.Errorf("StudyDay(%d) = %d, want %d", m, d, c.day)
		}
		if h := study.OffsetText(&m); h != c.hours {
			t.Errorf("OffsetText(%d) = %s, want %s", m, h, c.hours)
		}
	}
	if study.OffsetText(nil) != "" {
		t.Error("no offset should read as empty")
	}
}
