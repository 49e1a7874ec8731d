package web_test

import (
	"archive/zip"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// zipRelease packs a dictionary release folder into a zip file the way the
// MSSO ships MedDRA (the .asc files in a MedAscii folder) and returns its path.
func zipRelease(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := zip.NewWriter(f)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		zf, err := w.Create("MedAscii/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		zf.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserDictionaries walks the dictionary pages in real headless
// Chromium: upload a file that is not a zip and see the error beside the
// file field; upload the demo MedDRA 27.1 again and be told it is already
// there (the demo imported it); upload MedDRA 27.0 as a zip, search it as
// you type for "head" and find Headache without a page load, open it and
// follow its breadcrumbs to its SOC; then make 27.0 the active version with
// a reason.
func TestBrowserDictionaries(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	demo271 := zipRelease(t, "../dictionary/demodata/meddra/27.1", "meddra_27_1_demo.zip")
	meddra270 := zipRelease(t, "../dictionary/testdata/meddra/27.0", "meddra_27_0.zip")
	notZip := filepath.Join(t.TempDir(), "llt.zip")
	os.WriteFile(notZip, []byte("10000001$Headache$"), 0o644)
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixture(t, storetest.Open(t, engine))
			ts := httptest.NewServer(f.srv)
			defer ts.Close()
			b := browsertest.New(t)
			id := func(s string) chromedp.ID { return chromedp.ID(s) }

			b.Do(t, "log in and open the dictionaries",
				chromedp.Navigate(ts.URL+"/config"),
				chromedp.WaitVisible(id("username")),
				chromedp.SendKeys(id("username"), "admin"),
				chromedp.SendKeys(id("password"), testPassword),
				chromedp.Submit(id("password")),
				chromedp.WaitVisible(`//a[.="Medical dictionaries"]`),
				chromedp.Click(`//a[.="Medical dictionaries"]`),
				chromedp.WaitVisible(id("f-archive")))
			if text := browsertest.Get(t, b, "versions", chromedp.Text(id("versions-meddra"))); !strings.Contains(text, "MedDRA 27.1") || !strings.Contains(text, "active") {
				t.Fatalf("the demo MedDRA 27.1 is not listed as active: %q", text)
			}
			b.Screenshot(t, "dictionaries")

			b.Do(t, "upload a file that is not a zip",
				chromedp.SetUploadFiles(id("f-archive"), []string{notZip}),
				chromedp.Click(`//button[.="Import"]`),
				chromedp.WaitVisible(id("e-archive")))
			if text := browsertest.Get(t, b, "archive error", chromedp.Text(id("e-archive"))); !strings.Contains(text, "The file llt.zip is not a readable zip archive") {
				t.Fatalf("error beside the file field: %q", text)
			}

			b.Do(t, "upload the demo MedDRA 27.1 again",
				chromedp.SetUploadFiles(id("f-archive"), []string{demo271}),
				chromedp.Click(`//button[.="Import"]`),
				chromedp.WaitVisible(id("e-release")))
			if text := browsertest.Get(t, b, "release error", chromedp.Text(id("e-release"))); !strings.Contains(text, "MedDRA 27.1 is already imported") {
				t.Fatalf("error beside the release: %q", text)
			}
			b.Screenshot(t, "already-imported")

			b.Do(t, "upload MedDRA 27.0",
				chromedp.SetUploadFiles(id("f-archive"), []string{meddra270}),
				chromedp.Click(`//button[.="Import"]`),
				chromedp.WaitVisible(`//h1[contains(., "MedDRA 27.0")]`))
			if text := browsertest.Get(t, b, "notice", chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(text, "not active yet") {
				t.Fatalf("notice after the import: %q", text)
			}

			b.Do(t, "search as you type",
				chromedp.SendKeys(id("q"), "x"),
				chromedp.Submit(id("q")),
				chromedp.WaitVisible(id("result-rows")),
				chromedp.Evaluate[chromedp.Void](`window.stillThisPage = true; document.getElementById("q").value = ""`),
				chromedp.SendKeys(id("q"), "HÉAD"),
				chromedp.WaitVisible(`//tbody[@id="result-rows"]//a[.="Headache"]`))
			if same := browsertest.Get(t, b, "no page load", chromedp.Evaluate[bool](`window.stillThisPage === true`)); !same {
				t.Fatal("the results came with a page load, not from the live search")
			}
			rows := browsertest.Get(t, b, "results", chromedp.Text(id("result-rows")))
			for _, want := range []string{"Head discomfort", "Headache", "Headaches NEC"} {
				if !strings.Contains(rows, want) {
					t.Errorf("search for HÉAD lacks %q:\n%s", want, rows)
				}
			}
			if strings.Contains(rows, "Headache worsening") {
				t.Errorf("27.0 has no Headache worsening, yet the search found it:\n%s", rows)
			}
			b.Screenshot(t, "search")

			b.Do(t, "open Headache and go up to its SOC",
				chromedp.Click(`//tbody[@id="result-rows"]//tr[td[2]="PT"]//a[.="Headache"]`),
				chromedp.WaitVisible(id("breadcrumbs")),
				chromedp.WaitVisible(id("children")))
			crumbs := browsertest.Get(t, b, "breadcrumbs", chromedp.Text(id("breadcrumbs")))
			if crumbs != "Nervous system disorders › Headaches › Headaches NEC › Headache" {
				t.Fatalf("breadcrumbs of PT Headache: %q", crumbs)
			}
			b.Screenshot(t, "term")
			b.Do(t, "follow the breadcrumb to the SOC",
				chromedp.Click(`//nav[@id="breadcrumbs"]//a[.="Nervous system disorders"]`),
				chromedp.WaitVisible(`//h1[contains(., "Nervous system disorders")]`))
			if level := browsertest.Get(t, b, "level", chromedp.Text(id("term-level"))); level != "SOC" {
				t.Fatalf("the breadcrumb led to a %s", level)
			}
			if children := browsertest.Get(t, b, "children", chromedp.Text(id("children"))); !strings.Contains(children, "Headaches") {
				t.Fatalf("the SOC does not list the HLGT Headaches: %q", children)
			}
			b.Screenshot(t, "soc")

			b.Do(t, "activate 27.0 without and with a reason",
				chromedp.Click(`//a[.="MedDRA 27.0"]`),
				chromedp.WaitVisible(id("activate-reason")),
				chromedp.Click(`//button[.="Activate MedDRA 27.0"]`),
				chromedp.WaitVisible(`//h1[contains(., "MedDRA 27.0")]`))
			// The browser refuses the empty required reason itself; fill it.
			b.Do(t, "activate with a reason",
				chromedp.SendKeys(id("activate-reason"), "Study ABC-101 codes with 27.0"),
				chromedp.Click(`//button[.="Activate MedDRA 27.0"]`),
				chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(., "is now the active")]`))
			b.Do(t, "back to the list", chromedp.Click(`//a[.="Medical dictionaries"]`), chromedp.WaitVisible(id("versions-meddra")))
			text := browsertest.Get(t, b, "versions after the switch", chromedp.Text(id("versions-meddra")))
			if !strings.Contains(text, "MedDRA 27.0") || strings.Count(text, "active") != 2 { // "active" and "inactive"
				t.Fatalf("versions after activating 27.0: %q", text)
			}
			b.Screenshot(t, "activated")
		})
	}
}
