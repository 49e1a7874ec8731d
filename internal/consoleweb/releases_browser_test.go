package consoleweb_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserReleaseCatalogNotesAndHotfixOffer walks the release pages in
// real headless Chromium: the catalog with both builds and the instances
// on them, the hotfix's notes page, and the hotfix offered on the Demo
// instance's page, declined with a reason.
func TestBrowserReleaseCatalogNotesAndHotfixOffer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			f := releaseFixture(t, e)
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			b := browsertest.New(t)
			x := func(id string) string { return `//*[@id="` + id + `"]` }

			b.Do(t, "log in", chromedp.Navigate(ts.URL+"/releases"), chromedp.WaitVisible(`#username`),
				chromedp.SendKeys(`#username`, "admin"), chromedp.SendKeys(`#password`, testPassword), chromedp.Submit(`#password`),
				chromedp.WaitVisible(`#catalog`))
			row := browsertest.Get(t, b, "hotfix row", chromedp.Text(x("build-26.1.1+8")))
			if !strings.Contains(row, "hotfix of 26.1") || !strings.Contains(row, "2026-11-25T10:00:00Z") || !strings.Contains(row, "0123456789ab") {
				t.Fatalf("the catalog's hotfix row: %q", row)
			}
			row = browsertest.Get(t, b, "release row", chromedp.Text(x("build-26.1+7")))
			if !strings.Contains(row, "demo-cru/demo/main") {
				t.Fatalf("the catalog does not show the instances on 26.1: %q", row)
			}
			footer := browsertest.Get(t, b, "footer", chromedp.Text(`footer`))
			if !strings.Contains(footer, "cohort console test · build 42") {
				t.Fatalf("footer: %q", footer)
			}
			b.Screenshot(t, "catalog")

			b.Do(t, "open the hotfix's notes", chromedp.Click(`//a[.="26.1.1"]`), chromedp.WaitVisible(`#notes`))
			notes := browsertest.Get(t, b, "notes", chromedp.Text(`#notes`))
			for _, want := range []string{"Fixes", "Site time zones are kept", "<script>alert(1)</script> stays text", "Known issues", "the guide"} {
				if !strings.Contains(notes, want) {
					t.Fatalf("the notes page lacks %q:\n%s", want, notes)
				}
			}
			strong := browsertest.Get(t, b, "bold", chromedp.Text(`#notes strong`))
			link := browsertest.Get(t, b, "link", chromedp.AttributeValue(`//*[@id="notes"]//a[.="the guide"]`, "href"))
			if strong != "time zones" || link.Value != "https://cohort.example/guide" {
				t.Fatalf("bold %q, link %q", strong, link.Value)
			}
			facts := browsertest.Get(t, b, "facts", chromedp.Text(`#build-facts`))
			if !strings.Contains(facts, "demo-cru/demo/main") || !strings.Contains(facts, "Offered to") {
				t.Fatalf("the hotfix's facts do not say whom it is offered to:\n%s", facts)
			}
			b.Screenshot(t, "notes")

			b.Do(t, "see the offer on the instance page", chromedp.Navigate(ts.URL+"/o/demo-cru/demo/main"),
				chromedp.WaitVisible(x("offer-26.1.1+8")))
			b.Do(t, "decline it without a reason",
				chromedp.Click(`//*[@id="offer-26.1.1+8"]//summary[.="Decline"]`),
				chromedp.Click(`//*[@id="offer-26.1.1+8"]//button[.="Decline"]`))
			b.Do(t, "decline it with a reason",
				chromedp.SendKeys(x("decline-reason-26.1.1+8"), "Not affected; revisit at 26.2"),
				chromedp.Click(`//*[@id="offer-26.1.1+8"]//button[.="Decline"]`),
				chromedp.WaitVisible(`#decisions`))
			decided := browsertest.Get(t, b, "decision", chromedp.Text(`#decisions`))
			if !strings.Contains(decided, "declined") || !strings.Contains(decided, "Not affected; revisit at 26.2") {
				t.Fatalf("the decision is not shown: %q", decided)
			}
			b.Screenshot(t, "declined")
			d, err := release.Decisions(context.Background(), f.c.DB, "demo-cru/demo/main")
			if err != nil || len(d) != 1 || d[0].Accepted || d[0].Reason != "Not affected; revisit at 26.2" {
				t.Fatalf("recorded decisions: %+v %v", d, err)
			}
		})
	}
}
