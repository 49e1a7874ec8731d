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

// TestBrowserLabTestAndPanel walks the lab pages in real headless
// Chromium: create a lab test whose unit is not UCUM and see the error
// beside the unit; fix it (with the trailing space people paste), add a
// second reference range that overlaps the first and see the error beside
// that row; fix the ages and save; then add the test to the chemistry panel,
// move it up and save the panel with a reason.
func TestBrowserLabTestAndPanel(t *testing.T) {
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
			text := func(what, elem string) string { return browsertest.Get(t, b, what, chromedp.Text(id(elem))) }

			b.Do(t, "log in and open the lab tests",
				chromedp.Navigate(ts.URL+"/config"),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//a[.="Labs, lab tests and panels"]`),
				chromedp.Click(`//a[.="Labs, lab tests and panels"]`),
				chromedp.WaitVisible(id("lab-CENTRAL")),
				chromedp.Click(`//a[.="Lab tests"]`),
				chromedp.WaitVisible(id("test-HB")))
			b.Screenshot(t, "lab-tests")

			b.Do(t, "new test with a unit that is not UCUM",
				chromedp.Click(`//a[.="New lab test"]`),
				chromedp.WaitVisible(id("f-code")),
				chromedp.SendKeys(id("f-code"), "K-POC"),
				chromedp.SendKeys(id("f-name"), "Potassium (point of care)"),
				chromedp.SendKeys(id("f-loinc"), "2823-3"),
				chromedp.SetValue(id("f-specimen"), "whole_blood"),
				chromedp.SendKeys(id("f-unit"), "mmol//L"),
				chromedp.SetValue(id("f-range-0-age_from"), "18"),
				chromedp.SetValue(id("f-range-0-low"), "3.5"),
				chromedp.SetValue(id("f-range-0-high"), "5.1"),
				chromedp.Click(id("save-test")),
				chromedp.WaitVisible(id("e-unit")))
			if msg := text("unit error", "e-unit"); !strings.Contains(msg, `Unit "mmol//L" is not valid UCUM`) {
				t.Fatalf("error beside the unit: %q", msg)
			}
			if kept := browsertest.Get(t, b, "range kept", chromedp.Value(id("f-range-0-high"))); kept != "5.1" {
				t.Fatalf("the range row lost what was typed: high is %q", kept)
			}
			b.Screenshot(t, "unit-error")

			b.Do(t, "fix the unit and add an overlapping range",
				chromedp.SetValue(id("f-unit"), "mmol/l "),
				chromedp.Click(id("add-range")),
				chromedp.WaitVisible(id("f-range-1-sex")),
				chromedp.SetValue(id("f-range-1-sex"), "male"),
				chromedp.SetValue(id("f-range-1-age_from"), "40"),
				chromedp.SetValue(id("f-range-1-age_to"), "60"),
				chromedp.SetValue(id("f-range-1-low"), "3,6"),
				chromedp.SetValue(id("f-range-1-high"), "5.0"),
				chromedp.Click(id("save-test")),
				chromedp.WaitVisible(id("e-range-1")))
			if msg := text("range error", "e-range-1"); !strings.Contains(msg, "Range 2 (male, ages 40 to under 60) overlaps range 1 (any sex, ages 18 and over)") {
				t.Fatalf("error beside the second range: %q", msg)
			}
			if n := browsertest.Get(t, b, "unit fixed", chromedp.Evaluate[int](`document.querySelectorAll("#e-unit").length`)); n != 0 {
				t.Fatal("the unit is still marked wrong after it was fixed")
			}
			b.Screenshot(t, "overlap-error")

			b.Do(t, "fix the ages and save",
				chromedp.SetValue(id("f-range-0-age_to"), "40"),
				chromedp.Click(id("save-test")),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "created")]`))
			if unit := browsertest.Get(t, b, "stored unit", chromedp.Value(id("f-unit"))); unit != "mmol/l" {
				t.Fatalf("stored unit %q, want mmol/l without the space", unit)
			}
			if low := browsertest.Get(t, b, "stored low", chromedp.Value(id("f-range-1-low"))); low != "3.6" {
				t.Fatalf("stored low limit of range 2 %q, want 3.6", low)
			}
			b.Screenshot(t, "created")

			b.Do(t, "add the test to the chemistry panel",
				chromedp.Navigate(ts.URL+"/config/lab-panels"),
				chromedp.WaitVisible(id("panel-CHEM")),
				chromedp.Click(`//a[.="CHEM"]`),
				chromedp.WaitVisible(id("f-add_test")),
				chromedp.SetValue(id("f-add_test"), "K-POC"),
				chromedp.Click(id("add-test")),
				chromedp.WaitVisible(`//table[@id="panel-tests"]//td[.="K-POC"]`),
				chromedp.Click(`//button[@aria-label="Move K-POC up"]`),
				chromedp.WaitVisible(`//button[@aria-label="Move K-POC down"]`))
			order := text("panel order", "panel-tests")
			if strings.Index(order, "K-POC") > strings.Index(order, "CA\t") {
				t.Fatalf("K-POC was not moved above CA:\n%s", order)
			}
			b.Do(t, "save the panel",
				chromedp.SendKeys(id("f-reason"), "Point-of-care potassium for dosing days"),
				chromedp.Click(id("save-panel")),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "saved")]`),
				chromedp.Navigate(ts.URL+"/config/lab-panels"),
				chromedp.WaitVisible(id("panel-CHEM")))
			if row := text("panel row", "panel-CHEM"); !strings.Contains(row, "CRP, K-POC, CA") {
				t.Fatalf("the chemistry panel after saving: %q", row)
			}
			b.Screenshot(t, "panel")
		})
	}
}
