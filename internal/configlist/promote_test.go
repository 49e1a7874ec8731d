package configlist_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestImportCreatesAndUpdatesButNeverDeactivates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		imp := func(e configlist.Entry) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return configlist.Import(ctx, tx, alice, e, "bundle 1") })
		}
		trail := func(id string) []audit.Entry {
			entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "config_list_entry", EntityID: id})
			if err != nil {
				t.Fatal(err)
			}
			return entries
		}
		// A deactivated entry is created deactivated, at its place.
		if err := imp(configlist.Entry{List: configlist.RecruitmentSource, Code: "RADIO", Label: "Radio", SortOrder: 7}); err != nil {
			t.Fatal(err)
		}
		e, _ := configlist.Get(ctx, db, configlist.RecruitmentSource, "RADIO")
		if e.Active || e.SortOrder != 7 || e.Label != "Radio" {
			t.Fatalf("imported entry: %+v", e)
		}
		if got := trail("recruitment_source/RADIO"); len(got) == 0 || got[0].Action != audit.Create || got[0].Reason != "bundle 1" {
			t.Fatalf("creation audit: %+v", got)
		}
		// A change is saved and audited; the same entry again writes nothing.
		q := configlist.Entry{List: configlist.Question, Code: "DONOR", Label: "Blood donor?", AnswerType: configlist.AnswerYesNo, Active: true, SortOrder: 1}
		if err := imp(q); err != nil {
			t.Fatal(err)
		}
		q.AnswerType, q.Options = configlist.AnswerChoice, []string{"Never", "In the last 3 months", "Earlier"}
		if err := imp(q); err != nil {
			t.Fatal(err)
		}
		n := len(trail("question/DONOR"))
		if err := imp(q); err != nil || len(trail("question/DONOR")) != n {
			t.Fatalf("re-import of an unchanged entry: %v, %d audit entries after %d", err, len(trail("question/DONOR")), n)
		}
		if got, _ := configlist.Get(ctx, db, configlist.Question, "DONOR"); got.AnswerType != configlist.AnswerChoice || len(got.Options) != 3 {
			t.Fatalf("updated question: %+v", got)
		}
		// Never deactivates, never reactivates; invalid entries are field errors.
		q.Active = false
		if err := imp(q); err == nil || !strings.Contains(err.Error(), "never deactivates") {
			t.Fatalf("deactivation by import: %v", err)
		}
		if err := imp(configlist.Entry{List: configlist.RecruitmentSource, Code: "RADIO", Label: "Radio", Active: true}); err == nil ||
			!strings.Contains(err.Error(), "never reactivates") {
			t.Fatalf("reactivation by import: %v", err)
		}
		if err := imp(configlist.Entry{List: configlist.Question, Code: "BAD", Label: "Bad", AnswerType: "telepathy"}); err == nil ||
			!strings.Contains(err.Error(), "answer_type") {
			t.Fatalf("invalid question: %v", err)
		}
	})
}
