package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserLabelTemplate edits a label template in real headless
// Chromium: start a new template from the demo PK tube label, add and remove
// a field row through htmx, move a field off the label and see the problem
// beside its row, fix it, save with the Enter key, see the preview image
// load, and deactivate the template with a reason.
func TestBrowserLabelTemplate(t *testing.T) {
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
			count := func(what, selector string) int {
				return browsertest.Get(t, b, what, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+selector+"`"+`).length`))
			}

			b.Do(t, "log in",
				chromedp.Navigate(ts.URL+"/labels"),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[contains(., "Label templates")]`),
				chromedp.WaitVisible(id("label-PK-TUBE-50X25")))
			b.Screenshot(t, "labels")

			b.Do(t, "start from the demo PK label",
				chromedp.Click(`//a[.="New label template"]`),
				chromedp.WaitVisible(id("start-from")),
				chromedp.Click(`//p[@id="start-from"]/a[contains(., "PK sample tube")]`),
				chromedp.WaitVisible(id("field-5")),
				chromedp.SendKeys(id("f-code"), "PK-TUBE-COPY"))
			if name := browsertest.Get(t, b, "copied name", chromedp.Value(id("f-name"))); name != "PK sample tube 50×25 mm" {
				t.Fatalf("the demo's name was not copied: %q", name)
			}

			// htmx swaps the rows alone: the code typed above stays.
			b.Do(t, "add a field row", chromedp.Click(id("add-field")), chromedp.WaitVisible(id("field-6")))
			if n := count("rows after add", "#label-fields tbody"); n != 7 {
				t.Fatalf("after adding a row the editor has %d rows, want 7", n)
			}
			b.Do(t, "remove it again", chromedp.Click(chromedp.CSS(`#field-6 button[name="remove"]`)), chromedp.WaitNotPresent(id("field-6")))
			if code := browsertest.Get(t, b, "code kept", chromedp.Value(id("f-code"))); code != "PK-TUBE-COPY" {
				t.Fatalf("adding and removing rows lost the code: %q", code)
			}

			b.Do(t, "move the study field off the label",
				chromedp.SetValue(id("f-fields-0-x_mm"), "40"),
				chromedp.Click(`//button[.="Create label template"]`),
				chromedp.WaitVisible(id("e-fields-0")))
			if text := browsertest.Get(t, b, "row error", chromedp.Text(id("e-fields-0"))); !strings.Contains(text, `Field "study" ends at 63 mm from the left, past the label's 50 mm width`) {
				t.Fatalf("problem beside the row: %q", text)
			}
			invalid := browsertest.Get(t, b, "invalid input", chromedp.Evaluate[string](`document.getElementById("f-fields-0-width_mm").getAttribute("aria-invalid")`))
			if invalid != "true" {
				t.Fatalf("the study field's width is not marked invalid (%q)", invalid)
			}
			if kept := browsertest.Get(t, b, "input kept", chromedp.Value(id("f-fields-0-x_mm"))); kept != "40" {
				t.Fatalf("the form lost the typed position: %q", kept)
			}
			if n := count("row errors", ".row-errors"); n != 1 {
				t.Fatalf("%d rows show problems, want only the study field's", n)
			}
			b.Screenshot(t, "row-error")

			// Enter saves: the form's first submit button is Save, not a
			// row's Remove.
			b.Do(t, "fix and save with Enter",
				chromedp.SetValue(id("f-fields-0-x_mm"), "2"),
				chromedp.SendKeys(id("f-name"), kb.Enter),
				chromedp.WaitVisible(`//h1[contains(., "Label template PK-TUBE-COPY")]`),
				chromedp.WaitVisible(id("preview")))
			if text := browsertest.Get(t, b, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(text, "created") {
				t.Fatalf("notice after create: %q", text)
			}
			browsertest.Get(t, b, "preview loaded", chromedp.Poll[bool](`document.getElementById("preview").complete`))
			// 50 mm at 300 dpi is 591 printer dots.
			if w := browsertest.Get(t, b, "preview width", chromedp.Evaluate[int](`document.getElementById("preview").naturalWidth`)); w != 591 {
				t.Fatalf("the preview image is %d pixels wide, want 591 (it did not load, or is not at the printer's resolution)", w)
			}
			if n := count("rows saved", "#label-fields tbody"); n != 6 {
				t.Fatalf("the saved template has %d field rows, want 6", n)
			}
			b.Screenshot(t, "saved")

			b.Do(t, "deactivate with a reason",
				chromedp.SendKeys(id("deactivate-reason"), "Replaced by the study's own label"),
				chromedp.Click(`//button[.="Deactivate template"]`),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "deactivated")]`))
			if n := count("inactive hidden", "#label-PK-TUBE-COPY"); n != 0 {
				t.Fatal("the deactivated template is still listed among active ones")
			}
			b.Do(t, "find it among inactive templates",
				chromedp.Click(`//input[@name="inactive"]`),
				chromedp.Click(`//button[.="Search"]`),
				chromedp.WaitVisible(id("label-PK-TUBE-COPY")))
			if text := browsertest.Get(t, b, "inactive row", chromedp.Text(id("label-PK-TUBE-COPY"))); !strings.Contains(text, "inactive") {
				t.Fatalf("the deactivated template's row: %q", text)
			}
			b.Screenshot(t, "deactivated")
		})
	}
}
