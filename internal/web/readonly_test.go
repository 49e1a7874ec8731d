package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestAReadOnlyInstanceRefusesEveryChange posts every state-changing route
// of a read-only instance (the Migration instance) as the administrator
// with a valid token: each is refused with the read-only sentence and
// nothing changes, while pages still show, with the banner, and signing
// out still works.
func TestAReadOnlyInstanceRefusesEveryChange(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	f.srv.ReadOnly = true
	cookie, csrf := f.session(t, f.userIDs["administrator"])
	var before int
	db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry").Scan(&before)
	refused := 0
	for _, route := range f.srv.Routes() {
		if route.Method != "POST" || route.Path == "/login" || route.Path == "/logout" || route.Path == "/account/password" {
			continue
		}
		rec := f.do("POST", f.concrete(route.Path), cookie, url.Values{"code": {"NEW"}, "name": {"x"}, "time_zone": {"UTC"}, "reason": {"r"}, "csrf": {csrf}})
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "This instance is read-only") {
			t.Errorf("POST %s on a read-only instance: %d", route.Path, rec.Code)
		}
		refused++
	}
	if refused < 20 {
		t.Fatalf("only %d state-changing routes checked", refused)
	}
	var after int
	db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry").Scan(&after)
	if after != before {
		t.Errorf("the audit trail grew from %d to %d entries on a read-only instance", before, after)
	}
	page := f.do("GET", "/sites", cookie, nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `id="read-only-banner"`) {
		t.Errorf("GET /sites on a read-only instance: %d, banner shown: %v", page.Code, strings.Contains(page.Body.String(), "read-only-banner"))
	}
	if rec := f.do("POST", "/logout", cookie, url.Values{"csrf": {csrf}}); rec.Code == http.StatusForbidden {
		t.Error("signing out of a read-only instance was refused")
	}
}
