package bundle

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// The volunteer Configure lists come from the migration program rather
// than from promotion: they are in a bundle only when asked for.
func TestNonPromotableCategoriesOnlyWhenAskedFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		by := audit.Actor{ID: 1, Name: "admin"}
		for _, e := range []configlist.Entry{
			{List: configlist.MedicalHistory, Code: "ASTHMA", Label: "Asthma"},
			{List: configlist.MedicalHistory, Code: "DIABETES", Label: "Diabetes"},
		} {
			if _, err := configlist.Create(ctx, db, by, e); err != nil {
				t.Fatal(err)
			}
		}

		if p := Promotable(); slices.Contains(p, "configure-lists") || len(p) != len(categories)-1 {
			t.Fatalf("promotable categories: %v", p)
		}
		def, _, err := Export(ctx, db, ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(def.Manifest.Categories, "configure-lists") {
			t.Fatal("a default export holds a category that is not promoted")
		}
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		asked, data, err := Export(ctx, db, ExportOptions{Categories: []string{"configure-lists", "roles"}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(asked.Manifest.Categories, ",") != "roles,configure-lists" {
			t.Fatalf("asked-for categories: %v", asked.Manifest.Categories)
		}
		lists, _ := asked.Section("configure-lists")
		if len(lists.Records) != 2 || lists.Records[0].Key != "medical_history/ASTHMA" || lists.Records[1].Display("label") != "Diabetes" {
			t.Fatalf("configure-lists records: %+v", lists.Records)
		}

		// The list changes here; importing the bundle puts it back, and the
		// preview says what changes in the list's terms.
		e, _ := configlist.Get(ctx, db, configlist.MedicalHistory, "DIABETES")
		e.Label = "Diabetes mellitus"
		if err := configlist.Update(ctx, db, by, e.List, e.Code, e.Version, e, "clearer"); err != nil {
			t.Fatal(err)
		}
		b, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Import(ctx, db, audit.System, b, ImportOptions{Reason: "migration run 3"})
		if err != nil {
			t.Fatal(err)
		}
		c := plan.Categories[1]
		if c.Category != "configure-lists" || len(c.Changed) != 1 || c.Changed[0].Key != "medical_history/DIABETES" ||
			c.Changed[0].Fields[0].Field != "label" || c.Changed[0].Fields[0].Old != "Diabetes mellitus" || c.Changed[0].Fields[0].New != "Diabetes" {
			t.Fatalf("configure-lists plan: %+v", c)
		}
		if got, _ := configlist.Label(ctx, db, configlist.MedicalHistory, "DIABETES"); got != "Diabetes" {
			t.Fatalf("after import the entry reads %q", got)
		}
		_, again, err := Export(ctx, db, ExportOptions{Categories: []string{"configure-lists", "roles"}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(data) {
			t.Fatal("after the import the instance does not export the bundle it imported")
		}
	})
}
