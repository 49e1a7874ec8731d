package bundle

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// listCategory stands in for a category that comes from the migration
// program rather than from promotion (configure-lists): it keeps its
// records in memory.
type listCategory struct{ records *[]Record }

func (listCategory) Name() string     { return "configure-lists" }
func (listCategory) Promotable() bool { return false }

func (c listCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	return slices.Clone(*c.records), nil
}

func (c listCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, r := range records {
		i := slices.IndexFunc(*c.records, func(have Record) bool { return have.Key == r.Key })
		if i < 0 {
			*c.records = append(*c.records, r)
		} else {
			(*c.records)[i] = r
		}
	}
	return nil
}

func TestNonPromotableCategoriesOnlyWhenAskedFor(t *testing.T) {
	var lists []Record
	saved := categories
	categories = append(slices.Clone(categories), listCategory{records: &lists})
	defer func() { categories = saved }()

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lists = nil
		r, err := NewRecord("medical-history", map[string]any{"items": []string{"Asthma", "Diabetes"}})
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, r)

		if p := Promotable(); slices.Contains(p, "configure-lists") || len(p) != len(saved) {
			t.Fatalf("promotable categories: %v", p)
		}
		def, _, err := Export(ctx, db, ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(def.Manifest.Categories, "configure-lists") {
			t.Fatal("a default export holds a category that is not promoted")
		}
		asked, data, err := Export(ctx, db, ExportOptions{Categories: []string{"configure-lists", "roles"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(asked.Manifest.Categories, ",") != "roles,configure-lists" {
			t.Fatalf("asked-for categories: %v", asked.Manifest.Categories)
		}

		// The list changes here; importing the bundle puts it back, and the
		// preview says what changes in the list's terms.
		lists[0].Fields["items"] = []any{"Asthma"}
		b, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Import(ctx, db, audit.System, b, ImportOptions{Reason: "migration run 3"})
		if err != nil {
			t.Fatal(err)
		}
		c := plan.Categories[1]
		if c.Category != "configure-lists" || len(c.Changed) != 1 || strings.Join(c.Changed[0].Fields[0].Added, ",") != "Diabetes" {
			t.Fatalf("configure-lists plan: %+v", c)
		}
		if got := lists[0].Display("items"); got != "Asthma, Diabetes" {
			t.Fatalf("after import the list holds %q", got)
		}
	})
}
