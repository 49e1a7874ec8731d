package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserSiteLifecycle walks the foundation's happy path and one error
// path in real headless Chromium against a real server on a loopback port:
// log in, create a site with an invalid value, see the field error, fix it,
// archive it with a reason, find both entries in the audit viewer, log out.
func TestBrowserSiteLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixture(t, storetest.Open(t, engine))
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			b := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }

			b.Do(t, "open login page", chromedp.Navigate(ts.URL+"/sites"), chromedp.WaitVisible(id("username")))
			b.Screenshot(t, "login")
			b.Do(t, "log in",
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[contains(., "Sites")]`))
			if loc := browsertest.Get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/sites") {
				t.Fatalf("after login the browser is at %s, want the page it asked for (/sites)", loc)
			}
			b.Screenshot(t, "sites")

			b.Do(t, "new site with a bad time zone",
				chromedp.Click(`//a[.="New site"]`),
				chromedp.WaitVisible(id("f-code")),
				chromedp.SendKeys(id("f-code"), "UTR"),
				chromedp.SendKeys(id("f-name"), "Utrecht research ward"),
				chromedp.SetValue(id("f-time_zone"), "Europe/Utrecht"),
				chromedp.Click(`//button[.="Create site"]`),
				chromedp.WaitVisible(id("e-time_zone")))
			if text := browsertest.Get(t, b, "field error", chromedp.Text(id("e-time_zone"))); !strings.Contains(text, "is not a time zone") {
				t.Fatalf("field error beside time zone: %q", text)
			}
			if kept := browsertest.Get(t, b, "input kept", chromedp.Value(id("f-name"))); kept != "Utrecht research ward" {
				t.Fatalf("the form lost the user's input: name is %q", kept)
			}
			b.Screenshot(t, "field-error")

			b.Do(t, "fix and create",
				chromedp.SetValue(id("f-time_zone"), "Europe/Amsterdam"),
				chromedp.Click(`//button[.="Create site"]`),
				chromedp.WaitVisible(id("site-UTR")))
			if text := browsertest.Get(t, b, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(text, "created") {
				t.Fatalf("notice after create: %q", text)
			}

			b.Do(t, "archive with a reason",
				chromedp.Click(`//a[.="UTR"]`),
				chromedp.WaitVisible(id("archive-reason")),
				chromedp.SendKeys(id("archive-reason"), "Ward closed for renovation"),
				chromedp.Click(`//button[.="Archive site"]`),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "archived")]`))
			if rows := browsertest.Get(t, b, "archived site hidden", chromedp.Evaluate[int](`document.querySelectorAll("#site-UTR").length`)); rows != 0 {
				t.Fatal("the archived site is still listed among active sites")
			}
			b.Screenshot(t, "archived")

			b.Do(t, "audit viewer",
				chromedp.Click(`//nav//a[.="Audit trail"]`),
				chromedp.WaitVisible(id("a-id")),
				chromedp.SendKeys(id("a-id"), "UTR"),
				chromedp.Click(`//button[.="Filter"]`),
				chromedp.WaitVisible(`//td[.="Ward closed for renovation"]`))
			// Read the rows in one script: htmx may still swap the table (a change
			// and a submit both filter), and a node read in two steps can vanish.
			text := browsertest.Get(t, b, "audit rows", chromedp.Evaluate[string](`document.getElementById("audit-rows").innerText`))
			for _, want := range []string{"create", "archive", "Ward closed for renovation", "Utrecht research ward", "admin"} {
				if !strings.Contains(text, want) {
					t.Errorf("audit viewer lacks %q:\n%s", want, text)
				}
			}
			b.Screenshot(t, "audit")

			// A clinic tablet in portrait: the pages fit 768 px without sideways scrolling.
			for _, path := range []string{"/sites", "/users", "/audit", "/settings/system"} {
				b.Do(t, "tablet "+path, chromedp.EmulateViewport(768, 1024), chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(`h1`))
				if w := browsertest.Get(t, b, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 768 {
					b.Screenshot(t, "tablet-overflow")
					t.Errorf("%s is %d px wide at a 768 px tablet width", path, w)
				}
			}
			b.Screenshot(t, "tablet")
			b.Do(t, "desktop again", chromedp.EmulateReset())

			b.Do(t, "log out",
				chromedp.Click(`//button[.="Log out"]`),
				chromedp.WaitVisible(id("username")),
				chromedp.Navigate(ts.URL+"/audit"),
				chromedp.WaitVisible(id("username")))
			b.Screenshot(t, "logged-out")
		})
	}
}
