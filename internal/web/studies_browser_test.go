package web_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

const odmSamples = "../odm/testdata/samples/"

// TestBrowserODMImportAndExport imports the CDISC sample through the import
// page (check, report, apply), finds the study and its design grid, then
// downloads the export and validates it with the official ODM schema. A
// REDCap file with warnings is refused until the warnings are confirmed.
func TestBrowserODMImportAndExport(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	cdisc, _ := filepath.Abs(filepath.Join(odmSamples, "cdisc_MetaData_Dave_1_3_2_extra_languages.xml"))
	redcap, _ := filepath.Abs(filepath.Join(odmSamples, "redcap_repeating-instruments_project.xml"))
	if _, err := os.Stat(cdisc); err != nil {
		storetest.SkipOrFail(t, "sample: %v", err)
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixture(t, storetest.Open(t, engine))
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			b := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }

			b.Do(t, "log in",
				chromedp.Navigate(ts.URL+"/studies"), chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//h1[contains(., "Studies")]`))
			b.Do(t, "upload the CDISC sample",
				chromedp.Click(id("import-odm")),
				chromedp.WaitVisible(id("f-file")),
				chromedp.SetUploadFiles(id("f-file"), []string{cdisc}),
				chromedp.Click(id("check-file")),
				chromedp.WaitVisible(id("report-summary")))
			summary := browsertest.Get(t, b, "report", chromedp.Text(id("report-summary")))
			if !strings.Contains(summary, "0 errors") || !strings.Contains(summary, "CES") {
				t.Fatalf("report: %q", summary)
			}
			b.Screenshot(t, "report")
			b.Do(t, "apply", chromedp.Click(id("apply-import")), chromedp.WaitVisible(id("design-grid")))
			title := browsertest.Get(t, b, "study title", chromedp.Text(id("study-title")))
			if !strings.Contains(title, "CES") || !strings.Contains(title, "design") {
				t.Fatalf("study page title: %q", title)
			}
			grid := browsertest.Get(t, b, "design grid", chromedp.Text(id("design-grid")))
			if strings.Count(grid, "●") < 5 {
				t.Fatalf("design grid shows too few forms at events:\n%s", grid)
			}
			b.Screenshot(t, "study")

			// Download the export as the browser would and validate it.
			xml := browsertest.Get(t, b, "download export", chromedp.Evaluate[string](
				`fetch(document.getElementById("export-odm").href).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`,
				chromedp.EvalAwaitPromise))
			file := filepath.Join(t.TempDir(), "export.xml")
			if err := os.WriteFile(file, []byte(xml), 0o600); err != nil {
				t.Fatal(err)
			}
			xmllint, err := exec.LookPath("xmllint")
			if err != nil {
				storetest.SkipOrFail(t, "xmllint is not installed: %v", err)
			}
			xsd, _ := filepath.Abs("../odm/testdata/odm1-3-2/ODM1-3-2.xsd")
			if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, file).CombinedOutput(); err != nil {
				t.Fatalf("downloaded export does not validate: %v\n%s", err, out)
			}
			if !strings.Contains(xml, `<Study OID="CES"`) || strings.Count(xml, "<FormDef ") != 7 {
				t.Fatal("downloaded export is not the imported design")
			}

			// Warnings must be confirmed.
			b.Do(t, "upload REDCap file",
				chromedp.Navigate(ts.URL+"/odm/import"),
				chromedp.WaitVisible(id("f-file")),
				chromedp.SetUploadFiles(id("f-file"), []string{redcap}),
				chromedp.Click(id("check-file")),
				chromedp.WaitVisible(id("diagnostics")),
				chromedp.Click(id("apply-import")),
				chromedp.WaitVisible(`//p[@role="alert"][contains(., "warnings")]`))
			b.Screenshot(t, "warnings")
			b.Do(t, "confirm and import",
				chromedp.Click(id("f-confirm_warnings")),
				chromedp.Click(id("apply-import")),
				chromedp.WaitVisible(id("study-title")))
			if title := browsertest.Get(t, b, "REDCap study", chromedp.Text(id("study-title"))); !strings.Contains(title, "PROJECT.REDCAPRREPEATINGINSTRUMENTS") {
				t.Fatalf("REDCap study page: %q", title)
			}
		})
	}
}

// TestBrowserDesignStudy designs a study in the pages (study, library form,
// publish, event, form at event), downloads its export, validates it with
// the official schema and imports it into an empty instance, where the
// design is the same.
func TestBrowserDesignStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	b := browsertest.New(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	b.Do(t, "log in",
		chromedp.Navigate(ts.URL+"/studies/new"), chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin"),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(id("f-code")))
	b.Do(t, "create study",
		chromedp.SendKeys(id("f-code"), "CRU-UI-1"),
		chromedp.SendKeys(id("f-title"), "Designed in the browser"),
		chromedp.SendKeys(id("f-phase"), "I"),
		chromedp.Click(`//button[.="Create study"]`),
		chromedp.WaitVisible(id("study-title")))
	b.Do(t, "create library form",
		chromedp.Navigate(ts.URL+"/library"),
		chromedp.WaitVisible(id("f-oid")),
		chromedp.SendKeys(id("f-oid"), "F.UI"),
		chromedp.SendKeys(id("f-name"), "Browser form"),
		chromedp.Click(`//button[.="Create form"]`),
		chromedp.WaitVisible(`//button[contains(., "Publish version 1")]`),
		chromedp.SendKeys(id("f-reason"), "ready"),
		chromedp.Click(`//button[contains(., "Publish version 1")]`),
		chromedp.WaitVisible(`//button[contains(., "New draft from version 1")]`))
	b.Do(t, "add event",
		chromedp.Navigate(ts.URL+"/studies/CRU-UI-1"),
		chromedp.WaitVisible(id("f-event_oid")),
		chromedp.SendKeys(id("f-event_oid"), "SE.DAY1"),
		chromedp.SendKeys(id("f-event_name"), "Day 1"),
		chromedp.SendKeys(id("f-epoch"), "Treatment"),
		chromedp.SendKeys(id("f-offset_hours"), "24"),
		chromedp.SendKeys(id("event-reason"), "schedule"),
		chromedp.Click(`//button[.="Add event"]`),
		chromedp.WaitVisible(id("assign-form")))
	b.Do(t, "collect the form at the event",
		chromedp.SendKeys(id("assign-reason"), "vitals at day 1"),
		chromedp.Click(`//button[.="Add form to event"]`),
		chromedp.WaitVisible(id("design-grid")))
	if grid := browsertest.Get(t, b, "grid", chromedp.Text(id("design-grid"))); !strings.Contains(grid, "●") || !strings.Contains(grid, "Browser form") {
		t.Fatalf("design grid:\n%s", grid)
	}
	b.Screenshot(t, "designed")
	xml := browsertest.Get(t, b, "download export", chromedp.Evaluate[string](
		`fetch(document.getElementById("export-odm").href).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`,
		chromedp.EvalAwaitPromise))
	file := filepath.Join(t.TempDir(), "designed.xml")
	if err := os.WriteFile(file, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		storetest.SkipOrFail(t, "xmllint is not installed: %v", err)
	}
	xsd, _ := filepath.Abs("../odm/testdata/odm1-3-2/ODM1-3-2.xsd")
	if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, file).CombinedOutput(); err != nil {
		t.Fatalf("export of the designed study does not validate: %v\n%s", err, out)
	}
	ctx := context.Background()
	db2 := storetest.Open(t, store.SQLite)
	rep, err := study.Import(ctx, db2, audit.System, strings.NewReader(xml), study.ImportOptions{})
	if err != nil || !rep.Applied {
		t.Fatalf("import into an empty instance: %v %+v", err, rep)
	}
	a, _, err1 := study.ODMStudy(ctx, db, "CRU-UI-1")
	c, _, err2 := study.ODMStudy(ctx, db2, "CRU-UI-1")
	ja, _ := json.Marshal(a)
	jc, _ := json.Marshal(c)
	if err1 != nil || err2 != nil || string(ja) != string(jc) {
		t.Fatalf("design differs in the other instance (%v, %v):\n%s\n%s", err1, err2, ja, jc)
	}
}
