package consoleweb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// TestBrowserMigrationRunReportAndSignOff walks the migration program in
// real Chromium against a real console with real instances: from the
// demo customer's page to its migration runs, start a run with the shipped
// sample, follow it until the report shows (rejected rows by reason, field
// statistics), try to sign off without a reason, then sign it off with an
// electronic signature, which records the milestone.
func TestBrowserMigrationRunReportAndSignOff(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { migrationWalk(t, e) })
	}
}

func migrationWalk(t *testing.T, e store.Engine) {
	c, ts, _ := demoConsole(t, e)
	b := browsertest.New(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	b.Do(t, "log in to the console", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin"), chromedp.SendKeys(id("password"), testPassword),
		chromedp.Submit(id("password")), chromedp.WaitVisible(id("org-demo-cru")))
	b.Do(t, "open the migration runs",
		chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("migration-link")),
		chromedp.Click(id("migration-link")), chromedp.WaitVisible(id("start-form")))
	if text := browsertest.Get(t, b, "no runs", chromedp.Text(id("runs"))); !strings.Contains(text, "No runs yet") {
		t.Fatalf("runs table before the first run: %q", text)
	}
	sources := filepath.Join(c.Places.DataDir, "migration-sources")
	os.MkdirAll(filepath.Join(sources, "legacy"), 0o750)
	os.WriteFile(filepath.Join(sources, "spec.json"), []byte("{\n  \"name\": \"x\",\n  \"studies\": {\"table\": \"S\", \"fields\": [{\"field\": \"code\", \"column\": \"C\", \"transforms\": [\"uper\"]}]}\n}\n"), 0o644)
	b.Do(t, "a file outside the migration sources is refused",
		chromedp.Click(id("kind-path")),
		chromedp.SendKeys(id("f-spec"), "/etc/passwd"),
		chromedp.SendKeys(id("f-source"), ".."),
		chromedp.Click(id("start-run-button")),
		chromedp.WaitVisible(id("spec-error")))
	if msg := browsertest.Get(t, b, "outside", chromedp.Text(id("spec-error"))); !strings.Contains(msg, "The page reads only files under") {
		t.Errorf("a path outside the migration sources: %q", msg)
	}
	b.Do(t, "a specification with a mistake is refused with its line",
		chromedp.Click(id("kind-path")),
		chromedp.Clear(id("f-spec")), chromedp.SendKeys(id("f-spec"), "spec.json"),
		chromedp.Clear(id("f-source")), chromedp.SendKeys(id("f-source"), "legacy"),
		chromedp.Click(id("start-run-button")),
		chromedp.WaitVisible(`//pre[@id="spec-error"][contains(., "uper")]`))
	if msg := browsertest.Get(t, b, "spec error", chromedp.Text(id("spec-error"))); !strings.Contains(msg, `line 3 (studies.fields[0].transforms[0]): "uper" is not a transform`) {
		t.Errorf("the specification's problem is shown as %q", msg)
	}
	b.Do(t, "start a run with the shipped sample",
		chromedp.Click(id("kind-sample")),
		chromedp.SendKeys(id("run-reason"), "first iteration on the ClinBase export"),
		chromedp.Click(id("start-run-button")),
		chromedp.WaitVisible(id("run-state")))
	b.Screenshot(t, "migration-run-started")
	b.Do(t, "wait for the report", chromedp.WaitVisible(id("run-summary")))
	if state := browsertest.Get(t, b, "run state", chromedp.Text(id("run-state"))); state != "done" {
		t.Fatalf("the run is %q", state)
	}
	summary := browsertest.Get(t, b, "summary", chromedp.Text(id("run-summary")))
	if !strings.Contains(summary, "volunteers") || !strings.Contains(summary, "rows rejected") {
		t.Errorf("summary: %q", summary)
	}
	patients := browsertest.Get(t, b, "PATIENT row", chromedp.Text(id("table-PATIENT")))
	for _, want := range []string{"PATIENT", "volunteer", "bad_date", "required", "unmapped_code"} {
		if !strings.Contains(patients, want) {
			t.Errorf("the PATIENT row %q does not show %q", patients, want)
		}
	}
	fields := browsertest.Get(t, b, "PATIENT fields", chromedp.Text(`#report-PATIENT table.fields`))
	if !strings.Contains(fields, "birth_date") || !strings.Contains(fields, "email") {
		t.Errorf("field statistics: %q", fields)
	}
	b.Screenshot(t, "migration-report")

	b.Do(t, "sign off without a reason",
		chromedp.SendKeys(id("s-username"), "admin"), chromedp.SendKeys(id("s-password"), testPassword),
		chromedp.Click(id("signoff-button")), chromedp.WaitVisible(`#signoff-form .error`))
	if msg := browsertest.Get(t, b, "reason error", chromedp.Text(`#signoff-form .error`)); !strings.Contains(msg, "Say why") {
		t.Errorf("the sign-off without a reason says %q", msg)
	}
	b.Do(t, "sign off with a reason",
		chromedp.SetValue(id("s-username"), "admin"), chromedp.SendKeys(id("s-password"), testPassword),
		chromedp.SendKeys(id("signoff-reason"), "customer QC of iteration 1 passed"),
		chromedp.Click(id("signoff-button")), chromedp.WaitVisible(id("signed-off")))
	if who := browsertest.Get(t, b, "signed off", chromedp.Text(id("signed-off"))); !strings.Contains(who, "admin") || !strings.Contains(who, "customer QC") {
		t.Errorf("signed off: %q", who)
	}
	b.Screenshot(t, "migration-signed-off")
	facts, err := console.FactsOf(context.Background(), c.DB, "demo-cru")
	if err != nil {
		t.Fatal(err)
	}
	if !facts.Has(console.MigrationSignedOff) {
		t.Error("the sign-off in the browser did not record the milestone")
	}
	sigs, err := console.Signatures(context.Background(), c.DB, "demo-cru")
	if err != nil {
		t.Fatal(err)
	}
	if sig, ok := sigs["migration-run/1"]; !ok || sig.Meaning != console.MigrationSignOffMeaning || sig.Username != "admin" {
		t.Errorf("the sign-off is not kept as an electronic signature: %+v (all: %v)", sig, sigs)
	}
}
