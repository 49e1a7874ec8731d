package configlist_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 1, Name: "alice"}
var bob = audit.Actor{ID: 2, Name: "bob"}

func mustCreate(t *testing.T, db *store.DB, kind, code, label string) configlist.Entry {
	t.Helper()
	e, err := configlist.Create(context.Background(), db, alice, configlist.Entry{List: kind, Code: code, Label: label})
	if err != nil {
		t.Fatalf("create %s/%s: %v", kind, code, err)
	}
	return e
}

func codes(t *testing.T, db *store.DB, kind string, includeInactive bool) []string {
	t.Helper()
	entries, err := configlist.Entries(context.Background(), db, kind, includeInactive)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Code)
	}
	return out
}

func TestValidationNamesEachField(t *testing.T) {
	cases := []struct {
		name  string
		entry configlist.Entry
		want  []string
	}{
		{"missing label and code", configlist.Entry{List: configlist.MedicalHistory}, []string{"code", "label"}},
		{"bad code", configlist.Entry{List: configlist.Race, Code: "has space", Label: "x"}, []string{"code"}},
		{"unknown list", configlist.Entry{List: "colours", Code: "RED", Label: "Red"}, []string{"list"}},
		{"long label", configlist.Entry{List: configlist.Race, Code: "X", Label: strings.Repeat("x", 201)}, []string{"label"}},
		{"question without answer type", configlist.Entry{List: configlist.Question, Code: "Q1", Label: "Q?"}, []string{"answer_type"}},
		{"choice with one option", configlist.Entry{List: configlist.Question, Code: "Q1", Label: "Q?",
			AnswerType: configlist.AnswerChoice, Options: []string{"Only"}}, []string{"options"}},
		{"choice with a repeated option", configlist.Entry{List: configlist.Question, Code: "Q1", Label: "Q?",
			AnswerType: configlist.AnswerChoice, Options: []string{"Yes", "yes"}}, []string{"options"}},
		{"options on a text question", configlist.Entry{List: configlist.Question, Code: "Q1", Label: "Q?",
			AnswerType: configlist.AnswerText, Options: []string{"a", "b"}}, []string{"options"}},
		{"unknown answer type", configlist.Entry{List: configlist.Question, Code: "Q1", Label: "Q?", AnswerType: "number"}, []string{"answer_type"}},
	}
	for _, c := range cases {
		fe, ok := check.AsFieldErrors(c.entry.Validate())
		if !ok {
			t.Errorf("%s: no field errors", c.name)
			continue
		}
		for _, f := range c.want {
			if fe[f] == "" {
				t.Errorf("%s: no error for %s in %v", c.name, f, fe)
			}
		}
		if len(fe) != len(c.want) {
			t.Errorf("%s: errors %v, want only %v", c.name, fe, c.want)
		}
	}
	ok := configlist.Entry{List: configlist.Question, Code: "GP", Label: "Name of your GP", AnswerType: configlist.AnswerText}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid question: %v", err)
	}
}

func TestEntryLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		asthma := mustCreate(t, db, configlist.MedicalHistory, "ASTHMA", "Asthma")
		if asthma.Version != 1 || !asthma.Active || asthma.SortOrder != 1 {
			t.Fatalf("created entry: %+v", asthma)
		}
		// A code is unique within its list, ignoring case, and nothing else is stored.
		_, err := configlist.Create(ctx, db, alice, configlist.Entry{List: configlist.MedicalHistory, Code: "asthma", Label: "Other"})
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["code"], "already has an entry with code asthma") {
			t.Fatalf("duplicate code: got %v", err)
		}
		if got := codes(t, db, configlist.MedicalHistory, true); !slices.Equal(got, []string{"ASTHMA"}) {
			t.Fatalf("after refused duplicate: %v", got)
		}
		// The same code in another list is another entry.
		mustCreate(t, db, configlist.Medications, "ASTHMA", "Asthma inhaler")
		// Entries of plain lists cannot carry question fields.
		e, err := configlist.Create(ctx, db, alice, configlist.Entry{List: configlist.Race, Code: "WHITE", Label: "White",
			AnswerType: configlist.AnswerChoice, Options: []string{"a", "b"}, PHI: true})
		if err != nil || e.AnswerType != "" || e.Options != nil || e.PHI {
			t.Fatalf("plain entry kept question fields: %+v %v", e, err)
		}

		// An edit needs a reason; the code cannot change.
		err = configlist.Update(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 1, configlist.Entry{Code: "X", Label: "Asthma (bronchial)"}, "")
		if fe, _ := check.AsFieldErrors(err); fe["reason"] == "" {
			t.Fatalf("update without reason: %v", err)
		}
		err = configlist.Update(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 1, configlist.Entry{Code: "X", Label: "Asthma (bronchial)"}, "clearer wording")
		if err != nil {
			t.Fatal(err)
		}
		got, err := configlist.Get(ctx, db, configlist.MedicalHistory, "ASTHMA")
		if err != nil || got.Label != "Asthma (bronchial)" || got.Version != 2 {
			t.Fatalf("after update: %+v %v", got, err)
		}
		// An edit with a field error changes nothing.
		err = configlist.Update(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 2, configlist.Entry{Label: " "}, "oops")
		if fe, _ := check.AsFieldErrors(err); fe["label"] == "" {
			t.Fatalf("blank label: %v", err)
		}
		// Bob opened version 1: his save is refused and names alice.
		err = configlist.Update(ctx, db, bob, configlist.MedicalHistory, "ASTHMA", 1, configlist.Entry{Label: "Bob's"}, "mine")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "alice" {
			t.Fatalf("concurrent edit: got %v", err)
		}

		// Deactivated, never deleted: hidden from pickers, still labelled.
		if err := configlist.Deactivate(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 2, "merged into RESP"); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, db, configlist.MedicalHistory, false); len(got) != 0 {
			t.Fatalf("deactivated entry offered: %v", got)
		}
		if got := codes(t, db, configlist.MedicalHistory, true); !slices.Equal(got, []string{"ASTHMA"}) {
			t.Fatalf("deactivated entry gone: %v", got)
		}
		if label, err := configlist.Label(ctx, db, configlist.MedicalHistory, "ASTHMA"); err != nil || label != "Asthma (bronchial)" {
			t.Fatalf("label of deactivated entry: %q %v", label, err)
		}
		if _, err := configlist.Label(ctx, db, configlist.MedicalHistory, "NOPE"); !errors.Is(err, check.ErrNotFound) {
			t.Fatalf("label of unknown code: %v", err)
		}
		err = configlist.Deactivate(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 3, "again")
		if err == nil || !strings.Contains(err.Error(), "already deactivated") {
			t.Fatalf("deactivate twice: %v", err)
		}
		labels, err := configlist.Labels(ctx, db, configlist.MedicalHistory)
		if err != nil || labels["ASTHMA"] != "Asthma (bronchial)" {
			t.Fatalf("labels: %v %v", labels, err)
		}

		active, err := configlist.LoadLookup(ctx, db, false)
		if err != nil {
			t.Fatal(err)
		}
		all, err := configlist.LoadLookup(ctx, db, true)
		if err != nil {
			t.Fatal(err)
		}
		var importer interface{ Has(list, code string) bool } = all
		if active.Has(configlist.MedicalHistory, "ASTHMA") || !importer.Has(configlist.MedicalHistory, "ASTHMA") ||
			!active.Has(configlist.Medications, "ASTHMA") || active.Has(configlist.Race, "ASTHMA") {
			t.Fatal("lookup answers wrongly about active and deactivated codes")
		}

		if err := configlist.Reactivate(ctx, db, alice, configlist.MedicalHistory, "ASTHMA", 3, "still used at screening"); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, db, configlist.MedicalHistory, false); !slices.Equal(got, []string{"ASTHMA"}) {
			t.Fatalf("reactivated entry: %v", got)
		}

		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "config_list_entry", EntityID: "medical_history/ASTHMA"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, e := range entries {
			switch {
			case e.Action == audit.Create && e.Field == "label" && e.New == "Asthma":
				want["create"] = true
			case e.Action == audit.Update && e.Field == "label" && e.Old == "Asthma" && e.Reason == "clearer wording":
				want["update"] = true
			case e.Action == audit.Deactivate && e.Field == "active" && e.Old == "yes" && e.New == "no" && e.Reason == "merged into RESP":
				want["deactivate"] = true
			case e.Action == audit.Reactivate && e.New == "yes" && e.Reason == "still used at screening":
				want["reactivate"] = true
			}
		}
		if len(want) != 4 {
			t.Fatalf("audit trail has only %v of create, update, deactivate, reactivate: %+v", want, entries)
		}
	})
}

func TestOrdering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range []string{"A", "B", "C", "D"} {
			mustCreate(t, db, configlist.RecruitmentSource, c, "Source "+c)
		}
		if got := codes(t, db, configlist.RecruitmentSource, true); !slices.Equal(got, []string{"A", "B", "C", "D"}) {
			t.Fatalf("creation order: %v", got)
		}
		if err := configlist.Move(ctx, db, alice, configlist.RecruitmentSource, "C", 1, configlist.Up, ""); err == nil {
			t.Fatal("a move without a reason was accepted")
		}
		if err := configlist.Move(ctx, db, alice, configlist.RecruitmentSource, "C", 1, configlist.Up, "most used first"); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, db, configlist.RecruitmentSource, true); !slices.Equal(got, []string{"A", "C", "B", "D"}) {
			t.Fatalf("after moving C up: %v", got)
		}
		// A stale version is a conflict, not a second move.
		var conflict *check.Conflict
		if err := configlist.Move(ctx, db, bob, configlist.RecruitmentSource, "C", 1, configlist.Up, "me too"); !errors.As(err, &conflict) {
			t.Fatalf("stale move: %v", err)
		}
		err := configlist.Move(ctx, db, alice, configlist.RecruitmentSource, "A", 1, configlist.Up, "top")
		if err == nil || !strings.Contains(err.Error(), "already first") {
			t.Fatalf("moving the first entry up: %v", err)
		}
		// Moving past a deactivated entry: active entries move among themselves.
		b, _ := configlist.Get(ctx, db, configlist.RecruitmentSource, "B")
		if err := configlist.Deactivate(ctx, db, alice, configlist.RecruitmentSource, "B", b.Version, "no longer used"); err != nil {
			t.Fatal(err)
		}
		d, _ := configlist.Get(ctx, db, configlist.RecruitmentSource, "D")
		if err := configlist.Move(ctx, db, alice, configlist.RecruitmentSource, "D", d.Version, configlist.Up, "second most used"); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, db, configlist.RecruitmentSource, false); !slices.Equal(got, []string{"A", "D", "C"}) {
			t.Fatalf("after moving D up past deactivated B: %v", got)
		}
		if got := codes(t, db, configlist.RecruitmentSource, true); !slices.Equal(got, []string{"A", "D", "B", "C"}) {
			t.Fatalf("deactivated B did not keep its place: %v", got)
		}

		// An explicit order must name every entry once.
		err = configlist.SetOrder(ctx, db, alice, configlist.RecruitmentSource, []string{"D", "C", "A"}, "alphabetical, reversed")
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["order"], "leaves out B") {
			t.Fatalf("incomplete order: %v", err)
		}
		err = configlist.SetOrder(ctx, db, alice, configlist.RecruitmentSource, []string{"D", "C", "C", "A", "B"}, "twice")
		if fe, _ := check.AsFieldErrors(err); fe["order"] == "" {
			t.Fatalf("repeated code: %v", err)
		}
		if err := configlist.SetOrder(ctx, db, alice, configlist.RecruitmentSource, []string{"D", "C", "B", "A"}, "reversed"); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, db, configlist.RecruitmentSource, true); !slices.Equal(got, []string{"D", "C", "B", "A"}) {
			t.Fatalf("explicit order: %v", got)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "config_list_entry", EntityID: "recruitment_source/A"})
		var moves int
		for _, e := range entries {
			if e.Field == "sort_order" && e.Action == audit.Update && e.Reason != "" {
				moves++
			}
		}
		if moves != 1 { // A only moved when the explicit order put it last
			t.Fatalf("A's reorders in the audit trail: %d, want 1: %+v", moves, entries)
		}

		found, err := configlist.Search(ctx, db, configlist.RecruitmentSource, "source c", true)
		if err != nil || len(found) != 1 || found[0].Code != "C" {
			t.Fatalf("search by label: %+v %v", found, err)
		}
		if found, _ := configlist.Search(ctx, db, configlist.RecruitmentSource, "%", true); len(found) != 0 {
			t.Fatalf("a %% in the search text matched %d entries, want it taken literally", len(found))
		}
		if _, err := configlist.Entries(ctx, db, "colours", true); !errors.Is(err, check.ErrNotFound) {
			t.Fatalf("unknown list: %v", err)
		}
	})
}

func TestQuestions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, err := configlist.Create(ctx, db, alice, configlist.Entry{List: configlist.Question, Code: "CONTACT", Label: "How may we contact you?",
			AnswerType: configlist.AnswerChoice, Options: []string{" E-mail ", "", "Phone", "SMS"}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := configlist.Get(ctx, db, configlist.Question, "CONTACT")
		if !slices.Equal(got.Options, []string{"E-mail", "Phone", "SMS"}) || got.AnswerType != configlist.AnswerChoice {
			t.Fatalf("stored question: %+v", got)
		}
		err = configlist.Update(ctx, db, alice, configlist.Question, "CONTACT", q.Version, configlist.Entry{Label: "Name of your GP",
			AnswerType: configlist.AnswerText, PHI: true}, "asked the wrong question")
		if err != nil {
			t.Fatal(err)
		}
		got, _ = configlist.Get(ctx, db, configlist.Question, "CONTACT")
		if got.Options != nil || !got.PHI || got.AnswerType != configlist.AnswerText {
			t.Fatalf("changed question: %+v", got)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "config_list_entry", EntityID: "question/CONTACT"})
		var sawOptions bool
		for _, e := range entries {
			sawOptions = sawOptions || (e.Field == "options" && e.Old == "E-mail | Phone | SMS" && e.New == "" && e.Reason == "asked the wrong question")
		}
		if !sawOptions {
			t.Fatalf("options change not audited: %+v", entries)
		}
	})
}
