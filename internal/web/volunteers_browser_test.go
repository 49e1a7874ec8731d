package web_test

import (
	"context"
	"encoding/csv"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserVolunteers walks the volunteer database in Chromium on both
// engines: live search and open a demo volunteer; register the same person
// again, see the candidate and register anyway with a reason; import a CSV
// file with one bad row in valid-rows mode and download the rejected row;
// then, as a QA user without volunteer.view_phi, see only masked values.
func TestBrowserVolunteers(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			db := storetest.Open(t, engine)
			f := newFixture(t, db)
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			b := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }

			// A demo volunteer to look for: an active one that is not on the
			// first page of the unfiltered list, so finding it proves the live
			// search ran.
			res, err := registry.Search(context.Background(), db, registry.Query{Status: volunteer.StatusActive, Number: "V00015", Limit: 1}, true)
			if err != nil || len(res.Rows) != 1 {
				t.Fatalf("no active demo volunteer: %v", err)
			}
			demo := res.Rows[0]

			b.Do(t, "log in",
				chromedp.Navigate(ts.URL+"/volunteers"), chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[contains(., "Volunteers")]`))
			// Typing searches as you type (htmx), family name first.
			query := strings.ToUpper(demo.FamilyName) + " " + string([]rune(demo.GivenName)[:2])
			b.Do(t, "live search",
				chromedp.SendKeys(id("s-name"), query),
				chromedp.WaitVisible(id("v-"+demo.Number)))
			if loc := browsertest.Get(t, b, "location", chromedp.Location()); !strings.Contains(loc, "name=") {
				t.Errorf("the live search did not update the address: %s", loc)
			}
			b.Screenshot(t, "search")
			b.Do(t, "open", chromedp.Click(`//a[.="`+demo.Number+`"]`), chromedp.WaitVisible(id("identity")))
			if name := browsertest.Get(t, b, "given name", chromedp.Text(id("given-name"))); name != demo.GivenName {
				t.Fatalf("volunteer page shows given name %q, want %q", name, demo.GivenName)
			}
			if note := browsertest.Get(t, b, "view note", chromedp.Text(id("view-note"))); !strings.Contains(note, "recorded in the audit trail") {
				t.Fatalf("view note: %q", note)
			}

			b.Do(t, "register the same person",
				chromedp.Navigate(ts.URL+"/volunteers/new"),
				chromedp.WaitVisible(id("f-given_name")),
				chromedp.SendKeys(id("f-given_name"), demo.GivenName),
				chromedp.SendKeys(id("f-family_name"), demo.FamilyName),
				chromedp.SetValue(id("f-birth_date"), demo.BirthDate.String()),
				chromedp.SetValue(id("f-preferred_site"), "AMS"),
				chromedp.Click(`//button[.="Register volunteer"]`),
				chromedp.WaitVisible(id("duplicates")))
			cands := browsertest.Get(t, b, "candidates", chromedp.Text(id("duplicates")))
			if !strings.Contains(cands, demo.Number) || !strings.Contains(cands, "same name and date of birth") {
				t.Fatalf("candidates: %q", cands)
			}
			if kept := browsertest.Get(t, b, "input kept", chromedp.Value(id("f-family_name"))); kept != demo.FamilyName {
				t.Fatalf("the form lost the family name: %q", kept)
			}
			b.Screenshot(t, "duplicates")
			b.Do(t, "register anyway",
				chromedp.SendKeys(id("f-duplicate_reason"), "Different person: checked passport"),
				chromedp.Click(id("register-anyway")),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "registered as")]`))
			created := browsertest.Get(t, b, "new volunteer", chromedp.Text(`//h1`))
			if strings.Contains(created, demo.Number) {
				t.Fatalf("register anyway landed on the old record: %q", created)
			}
			b.Screenshot(t, "registered")

			// Import: one good row, one with an unknown site.
			file := filepath.Join(t.TempDir(), "new-volunteers.csv")
			content := "given_name,family_name,birth_date,preferred_site\nIlse,Brouwer,1993-02-03,AMS\nOtto,Dekker,1994-05-06,MARS\n"
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			b.Do(t, "upload",
				chromedp.Navigate(ts.URL+"/volunteers/import"),
				chromedp.WaitVisible(id("f-file")),
				chromedp.SetUploadFiles(id("f-file"), []string{file}),
				chromedp.Click(`//button[.="Upload"]`),
				chromedp.WaitVisible(id("mapping")))
			if mapped := browsertest.Get(t, b, "guessed mapping", chromedp.Value(id("map-3"))); mapped != "preferred_site" {
				t.Fatalf("the site column was mapped to %q", mapped)
			}
			b.Do(t, "import valid rows",
				chromedp.Click(id("mode-valid-rows")),
				chromedp.Click(id("import-button")),
				chromedp.WaitVisible(id("report-summary")))
			summary := browsertest.Get(t, b, "report", chromedp.Text(id("report-summary")))
			if !strings.Contains(summary, "1 valid, 1 with problems") || !strings.Contains(summary, "1 imported") {
				t.Fatalf("import report: %q", summary)
			}
			problems := browsertest.Get(t, b, "problems", chromedp.Text(id("problems")))
			if !strings.Contains(problems, "3") || !strings.Contains(problems, "preferred_site") || !strings.Contains(problems, "MARS") {
				t.Fatalf("problems do not name row and column: %q", problems)
			}
			b.Screenshot(t, "import")
			rejected := browsertest.Get(t, b, "download rejected rows", chromedp.Evaluate[string](
				`fetch(document.getElementById("rejects-link").href).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`,
				chromedp.EvalAwaitPromise))
			rows, err := csv.NewReader(strings.NewReader(rejected)).ReadAll()
			if err != nil || len(rows) != 2 || rows[1][0] != "Otto" || !strings.Contains(rows[1][4], "MARS") {
				t.Fatalf("rejected rows: %v %v", rows, err)
			}

			// A QA user sees the same volunteer masked.
			b.Do(t, "log in as QA",
				chromedp.Click(`//button[.="Log out"]`),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "as-qa"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitNotPresent(id("username")),
				chromedp.Navigate(ts.URL+"/volunteers?number="+demo.Number),
				chromedp.WaitVisible(id("v-"+demo.Number)))
			row := browsertest.Get(t, b, "masked row", chromedp.Text(id("v-"+demo.Number)))
			if strings.Contains(row, demo.FamilyName) || !strings.Contains(row, "***") || !strings.Contains(row, "-**-**") {
				t.Fatalf("QA sees the search row %q", row)
			}
			b.Do(t, "open masked", chromedp.Click(`//a[.="`+demo.Number+`"]`), chromedp.WaitVisible(id("masked-note")))
			given := browsertest.Get(t, b, "masked name", chromedp.Text(id("given-name")))
			birth := browsertest.Get(t, b, "masked birth date", chromedp.Text(id("birth-date")))
			if given == demo.GivenName || !strings.HasSuffix(given, "***") || birth != demo.BirthDate.String()[:4]+"-**-**" {
				t.Fatalf("QA sees given name %q and birth date %q", given, birth)
			}
			if n := browsertest.Get(t, b, "no edit", chromedp.Evaluate[int](`document.querySelectorAll('a[href$="/edit"]').length`)); n != 0 {
				t.Fatal("QA is offered to edit")
			}
			b.Screenshot(t, "masked")
		})
	}
}
