package bundle_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// everything names every category, configure-lists included.
func everything() []string {
	var out []string
	for _, c := range bundle.Categories() {
		out = append(out, c.Name())
	}
	return out
}

// seedDemo fills db with the demo clinic: sites, roles, settings,
// Configure lists, devices, labs, label templates and dictionaries.
func seedDemo(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := demo.Seed(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

// TestDemoConfigurationRoundTrip moves the whole demo configuration, every
// category, into an empty instance and back out: the two exports are the
// same bytes, and importing the bundle again changes nothing.
func TestDemoConfigurationRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		opts := bundle.ExportOptions{Categories: everything(), Instance: "Demo", At: at}

		start := time.Now()
		b, first := export(t, db, opts)
		exportTook := time.Since(start)
		if got := strings.Join(b.Manifest.Categories, ","); got != strings.Join(everything(), ",") {
			t.Fatalf("categories %s", got)
		}
		counts := map[string]int{}
		for _, s := range b.Content {
			counts[s.Category] = len(s.Records)
		}
		// The demo has something in every category: 2 dictionaries, device
		// types and devices (the retired one stays behind), 2 labs with
		// tests and 3 panels, 2 label templates, the Configure lists.
		if counts["medical-dictionaries"] != 2 || counts["devices"] < 10 || counts["labs"] < 30 || counts["barcode-labels"] != 2 ||
			counts["configure-lists"] < 60 || counts["sites"] != 3 || counts["roles"] < 5 {
			t.Fatalf("demo bundle holds %v", counts)
		}

		target := storetest.Open(t, db.Engine)
		start = time.Now()
		plan, err := bundle.Import(ctx, target, admin, decode(t, first), bundle.ImportOptions{Reason: "Promote the demo configuration"})
		importTook := time.Since(start)
		must(t, err)
		for _, c := range plan.Categories {
			if c.Category != "general-settings" && c.Category != "system-settings" && len(c.Added) != counts[c.Category] {
				t.Errorf("%s: %s, want all %d added", c.Category, c.Summary(), counts[c.Category])
			}
		}
		_, second := export(t, target, opts)
		if !bytes.Equal(first, second) {
			t.Fatalf("demo export → import → export is not byte-identical:\n%s", firstDifference(first, second))
		}
		t.Logf("%s: demo bundle of %d bytes (%v records): export %v, import into an empty instance %v",
			db.Engine, len(first), counts, exportTook.Round(time.Millisecond), importTook.Round(time.Millisecond))

		// The same bundle again: every record unchanged, nothing recorded.
		before := auditCount(t, target)
		again, err := bundle.Import(ctx, target, admin, decode(t, first), bundle.ImportOptions{Reason: "again"})
		must(t, err)
		if again.Changes() != 0 || auditCount(t, target) != before {
			t.Fatalf("a second import changed %d records and wrote %d audit entries", again.Changes(), auditCount(t, target)-before)
		}
		for _, c := range again.Categories {
			if c.Category != "general-settings" && c.Category != "system-settings" && c.Unchanged != counts[c.Category] {
				t.Errorf("%s on the second import: %s", c.Category, c.Summary())
			}
		}

		// What the target now holds works as the source's does: the active
		// dictionaries search, the panels list their tests, devices sit at
		// their sites, the label templates render.
		for _, kind := range dictionary.Kinds() {
			v, err := dictionary.ActiveVersion(ctx, target, kind)
			must(t, err)
			src, _ := dictionary.ActiveVersion(ctx, db, kind)
			if v.Release != src.Release || v.Terms != src.Terms || v.Links != src.Links {
				t.Errorf("active %s: %+v, source %+v", kind, v, src)
			}
		}
		hits, err := dictionary.NewReader(target, mustActive(t, target, dictionary.MedDRA).ID).Search(ctx, "head", 5)
		if err != nil || len(hits) == 0 {
			t.Fatalf("search in the imported MedDRA: %v %v", hits, err)
		}
		panels, _ := lab.ListPanels(ctx, target, "", false)
		if len(panels) != 3 || len(panels[0].Tests) == 0 {
			t.Errorf("imported panels: %+v", panels)
		}
		devices, _ := device.List(ctx, target, device.Filter{SiteCode: "LDN"})
		if len(devices) == 0 {
			t.Error("no devices at LDN after the import")
		}
		tmpl, err := label.Get(ctx, target, "PK-TUBE-50X25")
		must(t, err)
		if _, err := label.RenderZPL(tmpl.Template, label.ExampleData()); err != nil {
			t.Errorf("the imported label template does not render: %v", err)
		}
	})
}

func mustActive(t *testing.T, db *store.DB, kind dictionary.Kind) dictionary.StoredVersion {
	t.Helper()
	v, err := dictionary.ActiveVersion(context.Background(), db, kind)
	must(t, err)
	return v
}

// firstDifference shows where two bundles part, for a failure message.
func firstDifference(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			from := max(0, i-8)
			return "first difference at line " + strconv.Itoa(i+1) + ":\n--- first\n" + strings.Join(la[from:min(len(la), i+3)], "\n") +
				"\n--- second\n" + strings.Join(lb[from:min(len(lb), i+3)], "\n")
		}
	}
	return "one bundle is longer than the other"
}
