package label_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestImportTemplate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		imp := func(s label.Stored) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return label.Import(ctx, tx, alice, s, "bundle 1") })
		}
		// An inactive template is created inactive, exactly as given.
		tmpl := pk()
		if err := imp(label.Stored{Template: tmpl}); err != nil {
			t.Fatal(err)
		}
		got, err := label.Get(ctx, db, tmpl.Code)
		if err != nil || got.Active || got.Template.Fields[2].ModuleMM != 0.17 || len(got.Template.Fields) != len(tmpl.Fields) {
			t.Fatalf("imported template: %+v, %v", got, err)
		}
		if e := trail(t, db, tmpl.Code); len(e) == 0 || e[0].Action != audit.Create || e[0].Reason != "bundle 1" {
			t.Fatalf("creation audit: %+v", e)
		}
		// Changed: one audit entry per changed attribute; unchanged: none.
		tmpl.Name = "PK tube (VAL)"
		tmpl.Fields[0].FontHeightMM = 2.5
		n := len(trail(t, db, tmpl.Code))
		if err := imp(label.Stored{Template: tmpl}); err != nil {
			t.Fatal(err)
		}
		if e := trail(t, db, tmpl.Code); len(e) != n+2 || e[n].Field != "name" || e[n].New != "PK tube (VAL)" || e[n+1].Field != `field "study"` {
			t.Fatalf("update audit: %+v", e[n:])
		}
		if err := imp(label.Stored{Template: tmpl}); err != nil || len(trail(t, db, tmpl.Code)) != n+2 {
			t.Fatalf("unchanged import: %v", err)
		}
		// Never reactivates; invalid templates are field errors.
		if err := imp(label.Stored{Template: tmpl, Active: true}); err == nil || !strings.Contains(err.Error(), "never reactivates") {
			t.Fatalf("reactivation by import: %v", err)
		}
		bad := pk()
		bad.Code, bad.DPI = "BAD", 150
		fe, ok := check.AsFieldErrors(imp(label.Stored{Template: bad, Active: true}))
		if !ok || fe["dpi"] == "" {
			t.Fatalf("invalid template: %v", fe)
		}
	})
}
