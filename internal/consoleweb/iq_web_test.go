package consoleweb_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
)

// TestIQPagesIssueAndShowThePrintableDocument runs a PROD pair for real,
// issues its Main's IQ document from the organisation page and reads the
// printable document: refusals come back as sentences, observers read but
// do not issue, and every copy says it is uncontrolled.
func TestIQPagesIssueAndShowThePrintableDocument(t *testing.T) {
	c := consoletest.New(t, store.SQLite, binary)
	f := newFixture(t, c)
	consoletest.Run(t, c)
	ctx := context.Background()
	_, ops, err := c.CreateEnvironment(ctx, audit.System, console.NewEnvironment{Org: "demo-cru", Kind: console.Prod, Reason: "go-live"})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		consoletest.Wait(t, c, op, console.OpDone)
	}
	admin, csrf := f.session(t, f.userIDs["console-admin"])
	observer, observerCSRF := f.session(t, f.userIDs["console-observer"])

	page := f.do("GET", "/o/demo-cru", admin, nil).Body.String()
	if !strings.Contains(page, `id="issue-iq-prod-main"`) || !strings.Contains(page, `id="issue-iq-prod-test"`) ||
		strings.Contains(page, `id="issue-iq-demo-main"`) || !strings.Contains(page, `id="iq-none"`) {
		t.Errorf("the organisation page's IQ forms:\n%s", page)
	}
	if page := f.do("GET", "/o/demo-cru", observer, nil).Body.String(); strings.Contains(page, `id="issue-iq-prod-main"`) {
		t.Error("an observer is offered to issue an IQ document")
	}
	if rec := f.do("POST", "/o/demo-cru/prod/main/iq", observer, url.Values{"csrf": {observerCSRF}}); rec.Code != http.StatusForbidden {
		t.Errorf("an observer issuing an IQ document: %d", rec.Code)
	}
	rec := f.do("POST", "/o/demo-cru/demo/main/iq", admin, url.Values{"csrf": {csrf}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Only VAL and PROD environments get an IQ document.") {
		t.Errorf("an IQ for the Demo: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", "/o/demo-cru/prod/main/iq", admin, url.Values{"csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/o/demo-cru/iq/IQ-DEMO-CRU-0001?notice=issued" {
		t.Fatalf("issuing the IQ of PROD Main: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	doc, err := console.GetIQDocument(ctx, c.DB, "IQ-DEMO-CRU-0001")
	if err != nil {
		t.Fatal(err)
	}
	rec = f.do("GET", "/o/demo-cru/iq/IQ-DEMO-CRU-0001", observer, nil)
	body := rec.Body.String()
	for _, want := range []string{"<h1>Installation Qualification</h1>", `<strong id="iq-number">IQ-DEMO-CRU-0001</strong>`, doc.SHA256,
		"UNCONTROLLED COPY when printed or exported", "@media print", "<td>Audit trail</td>", "<td>Database schema version</td>", "demo-cru/prod/main"} {
		if !strings.Contains(body, want) {
			t.Errorf("the IQ page lacks %q", want)
		}
	}
	if rec.Code != http.StatusOK || strings.Count(body, `class="check-pass"`) != len(doc.Content.Checks) || strings.Contains(body, `class="check-fail"`) {
		t.Errorf("the IQ page: %d, %d checks passed of %d\n%s", rec.Code, strings.Count(body, `class="check-pass"`), len(doc.Content.Checks), body)
	}
	if rec := f.do("GET", "/o/elsewhere/iq/IQ-DEMO-CRU-0001", admin, nil); rec.Code != http.StatusNotFound {
		t.Errorf("another organisation's address of the document: %d", rec.Code)
	}
	if page := f.do("GET", "/o/demo-cru", observer, nil).Body.String(); !strings.Contains(page, `href="/o/demo-cru/iq/IQ-DEMO-CRU-0001"`) {
		t.Error("the organisation page does not list the issued document")
	}
	var out bytes.Buffer
	if err := consoleweb.WriteIQDocument(&out, doc); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.HasPrefix(s, "<!doctype html>") || !strings.Contains(s, "UNCONTROLLED COPY — exported") || !strings.Contains(s, doc.SHA256) ||
		strings.Contains(s, "<nav") {
		t.Errorf("the exported document:\n%s", s)
	}
}
