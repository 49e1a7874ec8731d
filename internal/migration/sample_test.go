package migration_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// sampleToday fixes "today" so the sample's figures never drift.
var sampleToday = volunteer.NewDate(2025, time.July, 1)

// TestSampleMigration runs the shipped specification over the shipped
// legacy source on both engines and checks the report's figures against
// what is stored.
func TestSampleMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		spec, err := sample.Spec()
		if err != nil {
			t.Fatal(err)
		}
		var progressed int
		rep, err := migration.Run(ctx, db, spec, sample.Source(), migration.Options{Run: "test 1", Today: sampleToday,
			Progress: func(migration.Progress) { progressed++ }})
		if err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			b, _ := json.MarshalIndent(summary(rep), "", " ")
			t.Logf("%s", b)
		}
		if progressed == 0 {
			t.Error("the run reported no progress")
		}
		pat := rep.Table("PATIENT")
		if pat == nil || pat.Read < 10000 {
			t.Fatalf("PATIENT report %+v: want ≥ 10,000 rows read", pat)
		}
		if pat.Read != pat.Migrated+pat.Merged+pat.Rejected {
			t.Errorf("PATIENT: read %d ≠ migrated %d + merged %d + rejected %d", pat.Read, pat.Migrated, pat.Merged, pat.Rejected)
		}
		for _, reason := range []string{"required", "bad_date", "date_range", "unmapped_code"} {
			if pat.ByReason[reason] == 0 {
				t.Errorf("PATIENT: no row rejected for %q; by reason %v", reason, pat.ByReason)
			}
		}
		if pat.Merged == 0 || rep.Duplicates < pat.Merged {
			t.Errorf("duplicates %d, merged %d: want merged duplicates", rep.Duplicates, pat.Merged)
		}
		for _, tr := range rep.Tables {
			for _, rj := range tr.Rejections {
				if rj.Row <= 0 || rj.Reason == "" || rj.Message == "" {
					t.Fatalf("%s: rejection without row or reason: %+v", tr.Table, rj)
				}
			}
		}
		// The report never repeats a PHI value: a rejected birth date is
		// found through its row and key, not shown.
		dateLike := regexp.MustCompile(`[0-9]{1,4}[/.-][0-9]{1,2}[/.-][0-9]{2,4}|[0-9]{8}`)
		for _, rj := range pat.Rejections {
			if rj.Field == "birth_date" && dateLike.MatchString(rj.Message) {
				t.Errorf("row %d: the report repeats a birth date: %s", rj.Row, rj.Message)
			}
		}
		email := pat.Field("email")
		if email.Cleared == 0 || email.Filled == 0 || email.Distinct == 0 {
			t.Errorf("email statistics %+v: want cleared, filled and distinct values", email)
		}
		if f := pat.Field("status"); f.Transformed == 0 || f.Defaulted != 0 && f.Filled == 0 {
			t.Errorf("status statistics %+v", f)
		}
		for table, reason := range map[string]string{"STUDY": "pattern", "PAT_MEDHIST": "unknown_code", "STUDY_SUBJECT": "unknown_study"} {
			if tr := rep.Table(table); tr == nil || tr.ByReason[reason] == 0 {
				t.Errorf("%s: want rows rejected for %s, got %+v", table, reason, tr)
			}
		}
		if tr := rep.Table("PAT_MEDHIST"); tr.ByReason["volunteer_rejected"]+tr.ByReason["unknown_volunteer"] == 0 {
			t.Errorf("PAT_MEDHIST: want rows of rejected or unknown volunteers rejected: %v", tr.ByReason)
		}

		// What the report says is what is stored.
		count := func(q string, args ...any) int {
			var n int
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count("SELECT COUNT(*) FROM volunteer"); n != pat.Migrated || n != rep.Volunteers {
			t.Errorf("%d volunteers stored, report says %d migrated / %d", n, pat.Migrated, rep.Volunteers)
		}
		if n := count("SELECT COUNT(*) FROM study WHERE status = 'archived'"); n != rep.Studies || n == 0 {
			t.Errorf("%d archived studies stored, report says %d", n, rep.Studies)
		}
		if n := count("SELECT COUNT(*) FROM study_participation"); n != rep.Participations || n == 0 {
			t.Errorf("%d participation rows, report says %d", n, rep.Participations)
		}
		if n := count("SELECT COUNT(*) FROM volunteer_participation"); n != rep.Participations {
			t.Errorf("%d volunteer participations, report says %d", n, rep.Participations)
		}
		if n := count("SELECT COUNT(*) FROM config_list_entry WHERE list = 'medical_history'"); n != 16 {
			t.Errorf("%d medical history entries, want 16", n)
		}
		// Every migrated volunteer is valid by the volunteer database's rules.
		rows, err := db.Query(ctx, "SELECT number FROM volunteer ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var numbers []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			numbers = append(numbers, n)
		}
		rows.Close()
		lists, err := registry.LoadLists(ctx, db, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range numbers {
			rec, err := registry.Get(ctx, db, n)
			if err != nil {
				t.Fatal(err)
			}
			if errs := volunteer.ValidateOn(rec.Volunteer, sampleToday); len(errs) > 0 {
				t.Fatalf("migrated volunteer %s is invalid: %v", n, errs)
			}
			if errs := volunteer.CheckCodes(rec.Volunteer, lists); len(errs) > 0 {
				t.Fatalf("migrated volunteer %s has unknown codes: %v", n, errs)
			}
		}
		// Audited as the migration, with the run named.
		if n := count("SELECT COUNT(*) FROM audit_entry WHERE actor = ? AND reason = ?", "migration", "migration run: test 1"); n < pat.Migrated {
			t.Errorf("%d audit entries by the migration naming the run, want at least %d", n, pat.Migrated)
		}
		_ = audit.Import
		if !strings.Contains(pat.Rejections[0].Message, ":") {
			t.Errorf("rejection message %q does not name the column", pat.Rejections[0].Message)
		}
	})
}

func summary(r *migration.Report) any {
	type t struct {
		Table                            string
		Read, Migrated, Merged, Rejected int
		ByReason                         map[string]int
		First                            []migration.Rejection
	}
	var out []t
	for _, tr := range r.Tables {
		out = append(out, t{tr.Table, tr.Read, tr.Migrated, tr.Merged, tr.Rejected, tr.ByReason, tr.Rejections[:min(4, len(tr.Rejections))]})
	}
	return out
}
