package consoleweb_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserConsoleWalk walks a newcomer's first minutes in real headless
// Chromium against a real console running real instances: log in to the
// console, find the demo customer's running Demo instance, open it through
// the proxy (its page, stylesheet and login work under its prefix), create
// a Sandbox pair cloned from the Demo, watch it being made, and open its
// Test instance, which every page marks as Test.
func TestBrowserConsoleWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			_, ts, instancePassword := demoConsole(t, engine)
			b := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }

			b.Do(t, "open the console", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(id("username")))
			b.Do(t, "log in to the console",
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(id("org-demo-cru")))
			row := browsertest.Get(t, b, "demo customer", chromedp.Text(id("org-demo-cru")))
			if !strings.Contains(row, "Demo Clinical Research Unit") || !strings.Contains(row, "Demo") || !strings.Contains(row, "running") {
				t.Fatalf("the organisations page does not show the demo customer's running Demo: %q", row)
			}
			b.Screenshot(t, "organisations")

			b.Do(t, "open the demo customer",
				chromedp.Click(`//a[.="Demo Clinical Research Unit"]`),
				chromedp.WaitVisible(id("timeline")),
				chromedp.WaitVisible(id("open-demo-main")))
			if state := browsertest.Get(t, b, "demo state", chromedp.Text(`#inst-demo-main .state`)); state != "running" {
				t.Fatalf("the Demo instance is %q", state)
			}
			b.Screenshot(t, "organisation")

			b.Do(t, "open the Demo instance through the proxy",
				chromedp.Click(id("open-demo-main")),
				chromedp.WaitVisible(id("username")))
			if loc := browsertest.Get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/i/demo-cru/demo/main/login") {
				t.Fatalf("the Demo instance opened at %s", loc)
			}
			// The instance's stylesheet came through the proxy: its header
			// has the instance's brand colour.
			if bg := browsertest.Get(t, b, "styled", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`)); bg != "rgb(31, 95, 139)" {
				t.Fatalf("the instance's stylesheet did not load through the proxy: header background %q", bg)
			}
			b.Do(t, "log in to the Demo instance",
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), instancePassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[contains(., "Change your password")]`))
			if loc := browsertest.Get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/i/demo-cru/demo/main/account/password") {
				t.Fatalf("after logging in to the instance the browser is at %s", loc)
			}
			b.Screenshot(t, "demo-instance")

			b.Do(t, "ask for a Sandbox cloned from the Demo",
				chromedp.Navigate(ts.URL+"/o/demo-cru"),
				chromedp.WaitVisible(`//a[.="New environment"]`),
				chromedp.Click(`//a[.="New environment"]`),
				chromedp.WaitVisible(id("f-kind")),
				chromedp.SetValue(id("f-kind"), "sandbox"),
				chromedp.SetValue(id("f-from"), "demo-cru/demo/main"),
				chromedp.SendKeys(id("f-reason"), "the customer wants to try their own configuration"),
				chromedp.Click(`//button[.="Create environment"]`),
				chromedp.WaitVisible(id("env-sandbox")))
			b.Screenshot(t, "sandbox-requested")
			b.Do(t, "watch the Sandbox pair being made",
				chromedp.WaitVisible(id("open-sandbox-main")),
				chromedp.WaitVisible(id("open-sandbox-test")))
			test := browsertest.Get(t, b, "test row", chromedp.Text(id("inst-sandbox-test")))
			if !strings.Contains(test, "Test") || !strings.Contains(test, "running") {
				t.Fatalf("the Sandbox Test instance row: %q", test)
			}
			b.Screenshot(t, "sandbox-running")

			b.Do(t, "the Sandbox Test instance's page",
				chromedp.Click(`//section[@id="env-sandbox"]//a[.="Test"]`),
				chromedp.WaitVisible(id("test-mark")),
				chromedp.WaitVisible(id("open-link")))
			facts := browsertest.Get(t, b, "instance facts", chromedp.Text(id("status")))
			for _, want := range []string{"running", "up", "/i/demo-cru/sandbox/test/", "clone of demo-cru/demo/main", "test (build 42)"} {
				if !strings.Contains(facts, want) {
					t.Errorf("the instance page lacks %q:\n%s", want, facts)
				}
			}
			if log := browsertest.Get(t, b, "log tail", chromedp.Text(id("log"))); !strings.Contains(log, `"msg":"serving"`) {
				t.Errorf("the instance page's log tail does not show the instance serving:\n%s", log)
			}
			b.Screenshot(t, "sandbox-test-page")

			b.Do(t, "open the Sandbox Test instance",
				chromedp.Click(id("open-link")),
				chromedp.WaitVisible(`.test-banner`))
			if banner := browsertest.Get(t, b, "test banner", chromedp.Text(`.test-banner`)); !strings.Contains(banner, "TEST INSTANCE") {
				t.Fatalf("the Test instance is not marked: %q", banner)
			}
			if loc := browsertest.Get(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/i/demo-cru/sandbox/test/") {
				t.Fatalf("the Test instance opened at %s", loc)
			}
			if title := browsertest.Get(t, b, "title", chromedp.Title()); !strings.Contains(title, "Demo Clinical Research Unit") || !strings.HasSuffix(title, "TEST") {
				t.Fatalf("the cloned Test instance's title %q lacks the Demo's name or the TEST mark", title)
			}
			b.Screenshot(t, "sandbox-test")
		})
	}
}
