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

// TestBrowserConfiguration walks the configuration pages in real headless
// Chromium: add a medical-history condition without a label, see the field
// error with the code kept, fix it, deactivate it with a reason and see it
// leave the list; then register a device whose calibration date has passed
// and see it flagged as out of calibration in the list and on its page.
func TestBrowserConfiguration(t *testing.T) {
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

			b.Do(t, "log in",
				chromedp.Navigate(ts.URL+"/"),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//nav//a[.="Configuration"]`))

			b.Do(t, "open the medical history list",
				chromedp.Click(`//nav//a[.="Configuration"]`),
				chromedp.WaitVisible(`//a[.="Volunteer Configure lists"]`),
				chromedp.Click(`//a[.="Volunteer Configure lists"]`),
				chromedp.WaitVisible(`//a[.="Medical history conditions"]`),
				chromedp.Click(`//a[.="Medical history conditions"]`),
				chromedp.WaitVisible(id("entry-ASTHMA")))
			b.Screenshot(t, "medical-history")

			b.Do(t, "new condition without a label",
				chromedp.Click(`//a[.="New condition"]`),
				chromedp.WaitVisible(id("f-code")),
				chromedp.SendKeys(id("f-code"), "SARCOID"),
				chromedp.Click(`//button[.="Add condition"]`),
				chromedp.WaitVisible(id("e-label")))
			if text := browsertest.Get(t, b, "field error", chromedp.Text(id("e-label"))); !strings.Contains(text, "required") {
				t.Fatalf("field error beside the label: %q", text)
			}
			if kept := browsertest.Get(t, b, "code kept", chromedp.Value(id("f-code"))); kept != "SARCOID" {
				t.Fatalf("the form lost the user's code: %q", kept)
			}
			b.Screenshot(t, "label-missing")

			b.Do(t, "fix and add",
				chromedp.SendKeys(id("f-label"), "Sarcoidosis"),
				chromedp.Click(`//button[.="Add condition"]`),
				chromedp.WaitVisible(id("entry-SARCOID")))
			if text := browsertest.Get(t, b, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(text, "SARCOID was added") {
				t.Fatalf("notice after adding: %q", text)
			}

			b.Do(t, "deactivate with a reason",
				chromedp.Click(`//a[.="SARCOID"]`),
				chromedp.WaitVisible(id("active-reason")),
				chromedp.SendKeys(id("active-reason"), "Recorded under RESPIRATORY instead"),
				chromedp.Click(`//button[.="Deactivate condition"]`),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "deactivated")]`))
			if rows := browsertest.Get(t, b, "deactivated entry hidden", chromedp.Evaluate[int](`document.querySelectorAll("#entry-SARCOID").length`)); rows != 0 {
				t.Fatal("the deactivated condition is still listed among active ones")
			}
			b.Do(t, "show deactivated entries",
				chromedp.SetValue(id("l-inactive"), "1"),
				chromedp.Click(`//button[.="Search"]`),
				chromedp.WaitVisible(id("entry-SARCOID")))
			if text := browsertest.Get(t, b, "deactivated row", chromedp.Text(id("entry-SARCOID"))); !strings.Contains(text, "deactivated") || !strings.Contains(text, "Sarcoidosis") {
				t.Fatalf("deactivated row: %q", text)
			}
			b.Screenshot(t, "deactivated")

			b.Do(t, "register a device whose calibration has lapsed",
				chromedp.Navigate(ts.URL+"/config/devices"),
				chromedp.WaitVisible(`//a[.="New device"]`),
				chromedp.Click(`//a[.="New device"]`),
				chromedp.WaitVisible(id("f-asset_tag")),
				chromedp.SendKeys(id("f-asset_tag"), "ECG-0999"),
				chromedp.SendKeys(id("f-serial_number"), "MAC-9990001"),
				chromedp.SendKeys(id("f-manufacturer"), "GE Healthcare"),
				chromedp.SetValue(id("f-type"), "ECG"),
				chromedp.SetValue(id("f-site"), "AMS"),
				chromedp.SetValue(id("f-calibration_due"), "2025-01-15"),
				chromedp.Click(`//button[.="Register device"]`),
				chromedp.WaitVisible(id("device-ECG-0999")))
			if text := browsertest.Get(t, b, "device row", chromedp.Text(id("device-ECG-0999"))); !strings.Contains(text, "ECG-0999 is out of calibration since 2025-01-15.") {
				t.Fatalf("the device list does not flag the lapsed calibration: %q", text)
			}
			b.Screenshot(t, "device-flagged")
			b.Do(t, "open the device",
				chromedp.Click(`//a[.="ECG-0999"]`),
				chromedp.WaitVisible(id("usability")))
			if text := browsertest.Get(t, b, "device page", chromedp.Text(id("usability"))); !strings.Contains(text, "Cannot be used: ECG-0999 is out of calibration since 2025-01-15.") {
				t.Fatalf("the device page does not say why it cannot be used: %q", text)
			}
			b.Screenshot(t, "device-page")
		})
	}
}
