package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

			// The same file again: the study exists, its design is kept and
			// the page says so before and after.
			b.Do(t, "upload the CDISC sample again",
				chromedp.Navigate(ts.URL+"/odm/import"),
				chromedp.WaitVisible(id("f-file")),
				chromedp.SetUploadFiles(id("f-file"), []string{cdisc}),
				chromedp.Click(id("check-file")),
				chromedp.WaitVisible(id("report-existing")))
			if existing := browsertest.Get(t, b, "existing", chromedp.Text(id("report-existing"))); !strings.Contains(existing, "CES") {
				t.Fatalf("the report does not say the study exists: %q", existing)
			}
			b.Do(t, "apply again", chromedp.Click(id("apply-import")), chromedp.WaitVisible(`//p[@role="status"]`))
			if notice := browsertest.Get(t, b, "notice", chromedp.Text(`//p[@role="status"]`)); !strings.Contains(notice, "0 values added, 0 changed; its design was kept") {
				t.Fatalf("notice after importing into the existing study: %q", notice)
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

// TestBrowserDesignStudy designs a study from scratch in the pages, as a
// data manager would on a tablet: a library form with a measurement unit, a
// code list (one value added through htmx), a repeating item group and two
// items with a range check and the code list (a field error on the way keeps
// the input), published with a reason; a study with an event that collects
// the form, edited on the event page. It downloads the export through the
// page's link, validates it with the official ODM 1.3.2 schema, imports it
// into an empty instance and finds the same design there: the same ODM model
// and, written at the same instant, the same file.
func TestBrowserDesignStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { designStudyInBrowser(t, engine) })
	}
}

func designStudyInBrowser(t *testing.T, engine store.Engine) {
	db := storetest.Open(t, engine)
	f := newFixture(t, db)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	b := browsertest.New(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	// xid finds an element whose id holds dots (OIDs), which CSS ids cannot.
	xid := func(s string) string { return `//*[@id="` + s + `"]` }
	b.Do(t, "log in",
		chromedp.EmulateViewport(768, 1024),
		chromedp.Navigate(ts.URL+"/library"), chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin"),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(id("f-oid")))
	b.Do(t, "create library form",
		chromedp.SendKeys(id("f-oid"), "F.UI"),
		chromedp.SendKeys(id("f-name"), "Browser form"),
		chromedp.Click(`//button[.="Create form"]`),
		chromedp.WaitVisible(id("add-unit")))
	b.Do(t, "add a measurement unit",
		chromedp.Click(id("add-unit")),
		chromedp.WaitVisible(id("unit-form")),
		chromedp.SendKeys(id("f-oid"), "MU.KG"),
		chromedp.SendKeys(id("f-name"), "kilogram"),
		chromedp.SendKeys(id("f-symbol"), "kg"),
		chromedp.SendKeys(id("f-reason"), "units for vitals"),
		chromedp.Click(`//button[.="Save unit"]`),
		chromedp.WaitVisible(xid("unit-MU.KG")))
	b.Do(t, "add a code list, one value through htmx",
		chromedp.Click(id("add-codelist")),
		chromedp.WaitVisible(id("codelist-form")),
		chromedp.SendKeys(id("f-oid"), "CL.NY"),
		chromedp.SendKeys(id("f-name"), "No/Yes"),
		chromedp.SetValue(id("f-data_type"), "integer"),
		chromedp.SendKeys(id("code-value-0"), "0"),
		chromedp.SendKeys(id("code-decode-0"), "No"),
		chromedp.SendKeys(id("code-value-1"), "1"),
		chromedp.SendKeys(id("code-decode-1"), "Yes"),
		chromedp.Click(id("add-code")),
		chromedp.WaitVisible(`(//tbody[@id="code-rows"]//input[@name="code_value"])[4]`),
		chromedp.SendKeys(`(//tbody[@id="code-rows"]//input[@name="code_value"])[4]`, "9"),
		chromedp.SendKeys(`(//tbody[@id="code-rows"]//input[@name="code_decode"])[4]`, "Unknown"),
		chromedp.SendKeys(id("f-reason"), "smoking answers"),
		chromedp.Click(`//button[.="Save code list"]`),
		chromedp.WaitVisible(xid("codelist-CL.NY")))
	if list := browsertest.Get(t, b, "code list", chromedp.Text(xid("codelist-CL.NY"))); !strings.Contains(list, "9 = Unknown") {
		t.Fatalf("code list row: %q", list)
	}
	b.Do(t, "add a repeating item group",
		chromedp.Click(id("add-group")),
		chromedp.WaitVisible(id("group-form")),
		chromedp.SendKeys(id("f-oid"), "IG.VS"),
		chromedp.SendKeys(id("f-name"), "Vital signs"),
		chromedp.Click(id("f-repeating")),
		chromedp.SendKeys(id("f-reason"), "vitals table"),
		chromedp.Click(`//button[.="Save item group"]`),
		chromedp.WaitVisible(xid("add-item-IG.VS")))
	b.Do(t, "add an item, first without its name",
		chromedp.Click(xid("add-item-IG.VS")),
		chromedp.WaitVisible(id("item-form")),
		chromedp.SendKeys(id("f-oid"), "I.WEIGHT"),
		chromedp.SendKeys(id("f-question"), "Body weight"),
		chromedp.SendKeys(id("f-help"), "Without shoes, after voiding"),
		chromedp.SetValue(id("f-data_type"), "float"),
		chromedp.SendKeys(id("f-length"), "5"),
		chromedp.SendKeys(id("f-significant_digits"), "1"),
		chromedp.SetValue(id("f-unit"), "MU.KG"),
		chromedp.SetValue(id("range-comparator-0"), "GE"),
		chromedp.SendKeys(id("range-values-0"), "30"),
		chromedp.SendKeys(id("f-reason"), "weight"),
		chromedp.Click(`//button[.="Save item"]`),
		chromedp.WaitVisible(id("e-name")))
	if kept := browsertest.Get(t, b, "kept input", chromedp.Value(id("f-question"))); kept != "Body weight" {
		t.Fatalf("the question was not kept after a field error: %q", kept)
	}
	b.Screenshot(t, "item-field-error")
	b.Do(t, "save the item",
		chromedp.SendKeys(id("f-name"), "WEIGHT"),
		chromedp.Click(`//button[.="Save item"]`),
		chromedp.WaitVisible(xid("item-I.WEIGHT")))
	b.Do(t, "edit the item: add an upper limit",
		chromedp.Click(`//tr[@id="item-I.WEIGHT"]//a[.="Edit"]`),
		chromedp.WaitVisible(id("item-form")))
	if unit := browsertest.Get(t, b, "stored unit", chromedp.Value(id("f-unit"))); unit != "MU.KG" {
		t.Fatalf("the item page does not show the stored unit: %q", unit)
	}
	if v := browsertest.Get(t, b, "stored check", chromedp.Value(id("range-values-0"))); v != "30" {
		t.Fatalf("the item page does not show the stored range check: %q", v)
	}
	b.Screenshot(t, "item-edit")
	b.Do(t, "save the upper limit",
		chromedp.SetValue(id("range-comparator-1"), "LE"),
		chromedp.SendKeys(id("range-values-1"), "250"),
		chromedp.SendKeys(id("f-reason"), "upper limit"),
		chromedp.Click(`//button[.="Save item"]`),
		chromedp.WaitVisible(`//tr[@id="item-I.WEIGHT"][contains(., "LE 250")]`))
	b.Do(t, "add an item with the code list",
		chromedp.Click(xid("add-item-IG.VS")),
		chromedp.WaitVisible(id("item-form")),
		chromedp.SendKeys(id("f-oid"), "I.SMOKER"),
		chromedp.SendKeys(id("f-name"), "SMOKER"),
		chromedp.SendKeys(id("f-question"), "Does the volunteer smoke?"),
		chromedp.SetValue(id("f-data_type"), "integer"),
		chromedp.SetValue(id("f-code_list"), "CL.NY"),
		chromedp.SendKeys(id("f-reason"), "smoking"),
		chromedp.Click(`//button[.="Save item"]`),
		chromedp.WaitVisible(xid("item-I.SMOKER")))
	b.Screenshot(t, "draft-form")
	b.Do(t, "publish with a reason",
		chromedp.SendKeys(id("f-reason"), "approved by data management"),
		chromedp.Click(`//button[contains(., "Publish version 1")]`),
		chromedp.WaitVisible(`//button[contains(., "New draft from version 1")]`))
	if status := browsertest.Get(t, b, "form status", chromedp.Text(id("form-status"))); !strings.Contains(status, "published") {
		t.Fatalf("form status after publishing: %q", status)
	}
	b.Do(t, "create study",
		chromedp.Navigate(ts.URL+"/studies/new"),
		chromedp.WaitVisible(id("f-code")),
		chromedp.SendKeys(id("f-code"), "CRU-UI-1"),
		chromedp.SendKeys(id("f-title"), "Designed in the browser"),
		chromedp.SendKeys(id("f-phase"), "I"),
		chromedp.SendKeys(id("f-protocol_number"), "UI-101"),
		chromedp.Click(`//button[.="Create study"]`),
		chromedp.WaitVisible(id("study-title")))
	b.Do(t, "add event",
		chromedp.WaitVisible(id("f-event_oid")),
		chromedp.SendKeys(id("f-event_oid"), "SE.DAY1"),
		chromedp.SendKeys(id("f-event_name"), "Day 1"),
		chromedp.SendKeys(id("f-epoch"), "Treatment"),
		chromedp.SendKeys(id("f-offset_hours"), "24"),
		chromedp.SendKeys(id("event-reason"), "schedule"),
		chromedp.Click(`//button[.="Add event"]`),
		chromedp.WaitVisible(id("assign-form")))
	b.Do(t, "collect the form at the event",
		chromedp.SetValue(id("f-form"), "F.UI v1"),
		chromedp.SendKeys(id("assign-reason"), "vitals at day 1"),
		chromedp.Click(`//button[.="Add form to event"]`),
		chromedp.WaitVisible(`//table[@id="design-grid"]//td[contains(., "●")]`))
	b.Do(t, "edit the event",
		chromedp.Click(`//table[@id="events"]//a[.="Day 1"]`),
		chromedp.WaitVisible(id("event-edit-form")),
		chromedp.SetValue(id("f-epoch"), "Dosing"),
		chromedp.SetValue(id("f-arm"), "Cohort 1"),
		chromedp.SendKeys(id("f-window_before"), "60"),
		chromedp.SendKeys(id("f-window_after"), "120"),
		chromedp.SendKeys(id("f-reason"), "protocol amendment 1"),
		chromedp.Click(`//button[.="Save event"]`),
		// The study page had a schedule before too: wait for the new one.
		chromedp.WaitVisible(`//tr[@id="event-SE.DAY1"][contains(., "Dosing")]`))
	row := browsertest.Get(t, b, "schedule", chromedp.Text(xid("event-SE.DAY1")))
	if !strings.Contains(row, "Dosing") || !strings.Contains(row, "Cohort 1") || !strings.Contains(row, "Day 2, 24 h (−60 / +120 min)") || !strings.Contains(row, "F.UI v1") {
		t.Fatalf("schedule row: %q", row)
	}
	if grid := browsertest.Get(t, b, "grid", chromedp.Text(id("design-grid"))); !strings.Contains(grid, "●") || !strings.Contains(grid, "Browser form") {
		t.Fatalf("design grid:\n%s", grid)
	}
	b.Screenshot(t, "designed")
	xml := browsertest.Get(t, b, "download export", chromedp.Evaluate[string](
		`fetch(document.getElementById("export-odm").href).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`,
		chromedp.EvalAwaitPromise))
	for _, want := range []string{`<ItemGroupDef OID="IG.VS" Name="Vital signs" Repeating="Yes"`, `<CodeListRef CodeListOID="CL.NY"`,
		`<MeasurementUnitRef MeasurementUnitOID="MU.KG"`, `Comparator="GE"`, `<CheckValue>30</CheckValue>`, `CodedValue="9"`,
		`Category="Dosing"`, `<StudyEventRef StudyEventOID="SE.DAY1"`, `Without shoes, after voiding`,
		`<Alias Context="cohort.arm" Name="Cohort 1"`, `<Alias Context="cohort.nominal_offset_minutes" Name="1440"`,
		`<Alias Context="cohort.window_after_minutes" Name="120"`} {
		if !strings.Contains(xml, want) {
			t.Errorf("the export lacks %s", want)
		}
	}
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
	db2 := storetest.Open(t, engine) // an empty instance: migrated, nothing else
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
	b.Do(t, "the form page names the study using it",
		chromedp.Navigate(ts.URL+"/library/F.UI"),
		chromedp.WaitVisible(`//p[@id="form-uses"]//a[.="CRU-UI-1"]`))
	// The rows cohort browses (arm, nominal time, order) are the same too.
	e1, err1 := study.Events(ctx, db, "CRU-UI-1")
	e2, err2 := study.Events(ctx, db2, "CRU-UI-1")
	j1, _ := json.Marshal(e1)
	j2, _ := json.Marshal(e2)
	if err1 != nil || err2 != nil || string(j1) != string(j2) || !strings.Contains(string(j1), `"Arm":"Cohort 1"`) {
		t.Fatalf("events differ in the other instance (%v, %v):\n%s\n%s", err1, err2, j1, j2)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var x1, x2 bytes.Buffer
	if _, err := study.Export(ctx, db, "CRU-UI-1", &x1, study.ExportOptions{Now: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := study.Export(ctx, db2, "CRU-UI-1", &x2, study.ExportOptions{Now: at}); err != nil {
		t.Fatal(err)
	}
	if x1.String() != x2.String() {
		t.Fatalf("the two instances export different files:\n%s\n%s", x1.String(), x2.String())
	}
}
