package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserBundlePreviewThenApply imports a Sandbox's configuration bundle
// into the demo instance in real headless Chromium: upload the file, read
// the per-category preview, try to apply without a reason, apply with one,
// and find the import — named by its bundle — in the audit viewer. A second
// upload of the same file has nothing left to import.
func TestBrowserBundlePreviewThenApply(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			data, path := sourceBundle(t, engine)
			b, err := bundle.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			db := storetest.Open(t, engine)
			f := newFixture(t, db)
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			br := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }
			text := func(what string, sel chromedp.ID) string { return browsertest.Get(t, br, what, chromedp.Text(sel)) }

			br.Do(t, "log in on the way to the bundle page",
				chromedp.Navigate(ts.URL+"/config/bundle"),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[.="Configuration bundle"]`))
			br.Screenshot(t, "bundle-page")

			br.Do(t, "upload and preview",
				chromedp.SetUploadFiles(id("f-bundle"), []string{path}),
				chromedp.Click(`//button[.="Preview import"]`),
				chromedp.WaitVisible(id("apply-form")))
			br.Screenshot(t, "preview")
			manifest := text("manifest", id("bundle-manifest"))
			for _, want := range []string{b.ID(), "Leiden CRU (Sandbox Main)", "roles, sites, general-settings, system-settings"} {
				if !strings.Contains(manifest, want) {
					t.Errorf("the preview's manifest lacks %q:\n%s", want, manifest)
				}
			}
			roles := text("roles plan", id("plan-roles"))
			if !strings.Contains(roles, "lab-tech\tadded") || !strings.Contains(roles, "Lab technician") {
				t.Errorf("roles plan:\n%s", roles)
			}
			sites := text("sites plan", id("plan-sites"))
			for _, want := range []string{"AMS\tchanged", "Amsterdam Phase I Unit → Amsterdam Phase I Unit (Zuid)", "UTR\tadded",
				"BOS\tnot in bundle, left as is", "LDN\tnot in bundle, left as is"} {
				if !strings.Contains(sites, want) {
					t.Errorf("sites plan lacks %q:\n%s", want, sites)
				}
			}
			if general := text("general settings plan", id("plan-general-settings")); !strings.Contains(general, "Demo Clinical Research Unit → Leiden CRU") {
				t.Errorf("general settings plan:\n%s", general)
			}
			if _, err := access.GetRole(ctx, db, "lab-tech"); err == nil {
				t.Fatal("the preview imported a role")
			}

			br.Do(t, "apply without a reason",
				chromedp.Click(`//button[.="Apply import"]`),
				chromedp.WaitVisible(`//p[@class="problem"]`))
			if problem := text("problem", chromedp.ID("apply-form")); !strings.Contains(problem, "Say why you are importing") {
				t.Errorf("apply without a reason: %q", problem)
			}
			br.Screenshot(t, "reason-missing")

			br.Do(t, "apply with a reason",
				chromedp.SendKeys(id("f-reason"), "Promote Sandbox configuration to VAL"),
				chromedp.Click(`//button[.="Apply import"]`),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "was imported")]`))
			if notice := browsertest.Get(t, br, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(notice, b.ID()) || !strings.Contains(notice, "4 records added or changed") {
				t.Errorf("notice after apply: %q", notice)
			}
			br.Screenshot(t, "applied")
			if s, _ := site.Get(ctx, db, "AMS"); s.Name != "Amsterdam Phase I Unit (Zuid)" {
				t.Errorf("AMS after import: %+v", s)
			}
			if s, err := site.Get(ctx, db, "LDN"); err != nil || s.Archived {
				t.Error("a site not in the bundle was archived")
			}

			br.Do(t, "the import in the audit viewer",
				chromedp.Navigate(ts.URL+"/audit?entity=role&entity_id=lab-tech"),
				chromedp.WaitVisible(`//td[.="create"]`))
			trail := text("audit rows", id("audit-rows"))
			for _, want := range []string{"Promote Sandbox configuration to VAL [configuration bundle " + b.ID() + " from Leiden CRU (Sandbox Main)", "admin"} {
				if !strings.Contains(trail, want) {
					t.Errorf("audit viewer lacks %q:\n%s", want, trail)
				}
			}
			br.Screenshot(t, "audit")
			if _, n, _ := audit.List(ctx, db, audit.Filter{Entity: "config_bundle", EntityID: b.ID()}); n == 0 {
				t.Error("the import itself is not in the audit trail")
			}

			br.Do(t, "the same bundle again",
				chromedp.Navigate(ts.URL+"/config/bundle"),
				chromedp.WaitVisible(id("f-bundle")),
				chromedp.SetUploadFiles(id("f-bundle"), []string{path}),
				chromedp.Click(`//button[.="Preview import"]`),
				chromedp.WaitVisible(id("nothing-to-import")))
			if n := browsertest.Get(t, br, "apply form", chromedp.Evaluate[int](`document.querySelectorAll("#apply-form").length`)); n != 0 {
				t.Error("a bundle already imported still offers to apply")
			}
			br.Screenshot(t, "nothing-left")
		})
	}
}
