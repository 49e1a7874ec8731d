package consoleweb_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
)

// TestUpgradePagesShowHistoryAndCheckTheRequest renders an instance's
// upgrade page and the upgrade VAL page, and posts upgrade requests the
// console must refuse: no build, a slot in the past, an instance that is
// not running — each answered with the sentence, nothing queued.
func TestUpgradePagesShowHistoryAndCheckTheRequest(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	cookie, csrf := f.session(t, f.userIDs["console-admin"])
	const base = "/o/demo-cru/demo/main/upgrades"

	if err := f.c.SetBackupsKept(context.Background(), audit.Actor{Name: "ops-lead"}, "4", "a longer way back"); err != nil {
		t.Fatal(err)
	}
	rec := f.do("GET", base, cookie, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Never upgraded") || !strings.Contains(rec.Body.String(), "runs test (build 42)") ||
		!strings.Contains(rec.Body.String(), "The backups of the last 4 successful upgrades are kept") {
		t.Fatalf("the upgrade page: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", base, cookie, url.Values{"csrf": {csrf}, "reason": {"release"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Choose the build to upgrade to.") {
		t.Errorf("an upgrade without a build: %d\n%s", rec.Code, rec.Body.String())
	}
	past := time.Now().Add(-48 * time.Hour).Format("2006-01-02T15:04")
	rec = f.do("POST", base, cookie, url.Values{"csrf": {csrf}, "build": {"test+42"}, "at": {past}, "tz": {"Europe/Amsterdam"}, "reason": {"release"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "The agreed slot is in the past") {
		t.Errorf("an upgrade at a past slot: %d\n%s", rec.Code, rec.Body.String())
	}
	// The demo instance of this console is only requested (no runtime):
	// an upgrade is refused with the rule, and nothing is queued.
	_, err := f.c.RequestUpgrade(context.Background(), audit.System, "demo-cru/demo/main", console.Build{Version: "26.9", Number: "1"}, time.Time{}, "release")
	if !console.IsRefusal(err) {
		t.Fatalf("upgrading to an unregistered build: %v", err)
	}
	rec = f.do("POST", base, cookie, url.Values{"csrf": {csrf}, "build": {"26.9+1"}, "reason": {"release"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "cannot be upgraded to 26.9 (build 1)") {
		t.Errorf("an upgrade to an unregistered build: %d\n%s", rec.Code, rec.Body.String())
	}
	if hist, err := console.UpgradesOf(context.Background(), f.c.DB, "demo-cru/demo/main"); err != nil || len(hist) != 0 {
		t.Errorf("refused requests left history: %v %+v", err, hist)
	}

	rec = f.do("GET", "/o/demo-cru/upgrade-vals", cookie, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "demo-cru has no PROD environment yet") {
		t.Errorf("the upgrade VAL page: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", "/o/demo-cru/upgrade-vals", cookie, url.Values{"csrf": {csrf}, "build": {"26.9+1"}, "reason": {"validate"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "has no PROD environment to preview") {
		t.Errorf("an upgrade VAL without PROD: %d\n%s", rec.Code, rec.Body.String())
	}
}
