package consoleweb_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
)

// TestGoLivePagesRefuseWithTheirReasons posts the go-live, pair and
// promotion forms as a console administrator and checks that each refusal
// comes back on the page with its sentence and changes nothing.
func TestGoLivePagesRefuseWithTheirReasons(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	ctx := context.Background()
	cookie, csrf := f.session(t, f.userIDs["console-admin"])
	observer, observerCSRF := f.session(t, f.userIDs["console-observer"])
	post := func(path string, form url.Values) (int, string) {
		form.Set("csrf", csrf)
		rec := f.do("POST", path, cookie, form)
		return rec.Code, rec.Body.String()
	}

	code, body := post("/o/demo-cru/golive/sign", url.Values{"step": {"source-dump"}, "username": {"as-console-admin-none"}, "password": {"wrong"}, "form": {"step"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "The user name or password is not correct; nothing was signed.") || strings.Contains(body, `value="wrong"`) {
		t.Errorf("signing with a wrong password: %d\n%s", code, body)
	}
	code, body = post("/o/demo-cru/golive/sign", url.Values{"step": {"source-dump"}, "username": {"admin"}, "password": {testPassword}, "form": {"step"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "never given in someone else&#39;s name") {
		t.Errorf("signing in another user's name: %d\n%s", code, body)
	}
	code, body = post("/o/demo-cru/golive/complete", url.Values{"username": {"as-console-admin-none"}, "password": {testPassword}, "form": {"golive"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "PROD cannot go live yet: «Final source dump received» is not signed off") {
		t.Errorf("go-live with nothing signed: %d\n%s", code, body)
	}
	code, body = post("/o/demo-cru/golive/sign", url.Values{"step": {"source-dump"}, "username": {"as-console-admin-none"}, "password": {testPassword}, "comment": {"dump received 3 Nov"}, "form": {"step"}})
	if code != http.StatusSeeOther {
		t.Fatalf("signing the first step: %d\n%s", code, body)
	}
	rec := f.do("GET", "/o/demo-cru/golive", observer, nil)
	if page := rec.Body.String(); rec.Code != 200 || !strings.Contains(page, "dump received 3 Nov") || strings.Contains(page, `id="form-step"`) {
		t.Errorf("the checklist as an observer: %d\n%s", rec.Code, page)
	}
	if rec := f.do("POST", "/o/demo-cru/golive/sign", observer, url.Values{"csrf": {observerCSRF}, "step": {"configuration"}}); rec.Code != http.StatusForbidden {
		t.Errorf("an observer signing: %d", rec.Code)
	}
	cl, err := console.GoLiveChecklist(ctx, f.c.DB, "demo-cru")
	if err != nil || cl.Steps[0].Signature == nil || cl.Steps[0].Signature.Username != "as-console-admin-none" || cl.Steps[1].Signature != nil {
		t.Errorf("the checklist after one signature: %+v %v", cl.Steps, err)
	}
	if rec := f.do("GET", "/o/demo-cru", cookie, nil); !strings.Contains(rec.Body.String(), "signed off by Test Console administrator (as-console-admin-none)") {
		t.Errorf("the organisation page does not show the signed step:\n%s", rec.Body.String())
	}

	code, body = post("/o/demo-cru/pair", url.Values{"kind": {"prod"}, "predefined": {"none"}, "reason": {"go-live"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "has not signed it off yet") {
		t.Errorf("PROD before sign-off: %d\n%s", code, body)
	}
	code, body = post("/o/demo-cru/pair", url.Values{"kind": {"val"}, "reason": {"validation"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose the Sandbox or Pre-PROD Main instance") {
		t.Errorf("a VAL without a configuration source: %d\n%s", code, body)
	}
	rec = f.do("GET", "/o/demo-cru/promote?from=north/sandbox/main&to=demo-cru/val/main", cookie, nil)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Choose an instance of demo-cru.") {
		t.Errorf("a promotion across organisations: %d\n%s", rec.Code, rec.Body.String())
	}
	if envs, _ := console.Environments(ctx, f.c.DB, "demo-cru"); len(envs) != 1 {
		t.Errorf("refused requests left %d environments", len(envs))
	}
}
