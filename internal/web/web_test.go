package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web"
)

const testPassword = "Route test pass 1"

// fixture is a seeded instance with one account per default role.
type fixture struct {
	db      *store.DB
	srv     *web.Server
	userIDs map[string]int64 // role code → user id
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if _, _, err := account.Bootstrap(ctx, db, testPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, userIDs: map[string]int64{}}
	for _, r := range access.DefaultRoles() {
		u, err := account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
			Username: "as-" + r.Code, DisplayName: "Test " + r.Name, Password: testPassword, Grants: []access.Grant{{RoleCode: r.Code}}})
		if err != nil {
			t.Fatal(err)
		}
		f.userIDs[r.Code] = u.ID
	}
	srv, err := web.New(web.Options{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Build: web.Build{Version: "26.1", Number: "7", Revision: "0123456789ab", Time: "2026-11-25T10:00:00Z", SchemaVersion: 11}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// session signs a user in directly and returns the cookie and CSRF token.
func (f *fixture) session(t *testing.T, userID int64) (*http.Cookie, string) {
	t.Helper()
	tok, s, err := account.StartSession(context.Background(), f.db, userID, "")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: "cohort_session", Value: tok}, s.CSRFToken
}

func (f *fixture) do(method, path string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// concrete fills a route's path parameters with records that exist.
func (f *fixture) concrete(path string) string {
	r := strings.NewReplacer("{code}", "AMS", "{id}", strconv.FormatInt(f.userIDs["qa"], 10), "{scope}", "general", "{$}", "", "{event}", "SE.DAY1")
	if strings.HasPrefix(path, "/roles/") {
		r = strings.NewReplacer("{code}", "pharmacist")
	}
	if strings.HasPrefix(path, "/labels/") {
		r = strings.NewReplacer("{code}", "PK-TUBE-50X25")
	}
	for prefix, code := range map[string]string{"/config/labs/": "CENTRAL", "/config/lab-tests/": "HB", "/config/lab-panels/": "HAEM"} {
		if strings.HasPrefix(path, prefix) {
			r = strings.NewReplacer("{code}", code)
		}
	}
	if strings.HasPrefix(path, "/config/dictionaries/") {
		r = strings.NewReplacer("{id}", "1", "{code}", "94000390")
	}
	if strings.HasPrefix(path, "/volunteers/") {
		r = strings.NewReplacer("{number}", "V000001") // the first demo volunteer
	}
	return r.Replace(path)
}

func redirectsToLogin(rec *httptest.ResponseRecorder) bool {
	return rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login")
}

// TestEveryRouteAgainstEveryRole asks every registered route, as every
// seeded role and as a signed-out visitor, and checks the answer against the
// permission the route declares. A new route is covered automatically.
func TestEveryRouteAgainstEveryRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		roles := map[string]access.Set{}
		for _, r := range access.DefaultRoles() {
			roles[r.Code] = r.Permissions
		}
		if len(f.srv.Routes()) < 25 {
			t.Fatalf("only %d routes registered", len(f.srv.Routes()))
		}
		for _, route := range f.srv.Routes() {
			path := f.concrete(route.Path)
			// Signed out.
			rec := f.do(route.Method, path, nil, url.Values{})
			if route.Need.Public {
				if rec.Code == http.StatusForbidden && route.Method == "GET" || redirectsToLogin(rec) {
					t.Errorf("%s %s signed out: public route answered %d", route.Method, path, rec.Code)
				}
			} else if !redirectsToLogin(rec) {
				t.Errorf("%s %s signed out: got %d, want a redirect to the login page", route.Method, path, rec.Code)
			}
			if route.Need.Public {
				continue
			}
			for code, perms := range roles {
				cookie, csrf := f.session(t, f.userIDs[code])
				rec := f.do(route.Method, path, cookie, url.Values{"csrf": {csrf}})
				allowed := route.Need.Permission == "" || perms.Has(route.Need.Permission)
				// Logging out is the one allowed action that ends at the login page;
				// it must also have ended the session.
				if route.Path == "/logout" && redirectsToLogin(rec) {
					if again := f.do("GET", "/", cookie, nil); !redirectsToLogin(again) {
						t.Errorf("POST /logout as %s left the session alive", code)
					}
					continue
				}
				switch {
				case allowed && (rec.Code == http.StatusForbidden || redirectsToLogin(rec) || rec.Code >= 500):
					t.Errorf("%s %s as %s: got %d, want it allowed (%s)", route.Method, path, code, rec.Code, route.Need.Permission)
				case !allowed && rec.Code != http.StatusForbidden:
					t.Errorf("%s %s as %s: got %d, want 403 (needs %s)", route.Method, path, code, rec.Code, route.Need.Permission)
				}
			}
		}
	})
}

func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cookie, _ := f.session(t, f.userIDs["administrator"])
		for _, route := range f.srv.Routes() {
			if route.Method != "POST" {
				continue
			}
			rec := f.do("POST", f.concrete(route.Path), cookie, url.Values{"code": {"NEW"}, "name": {"x"}, "time_zone": {"UTC"}, "reason": {"r"}, "csrf": {"forged"}})
			if rec.Code != http.StatusForbidden {
				t.Errorf("POST %s with a forged token: got %d, want 403", route.Path, rec.Code)
			}
		}
		_, total, _ := audit.List(context.Background(), db, audit.Filter{Entity: "site", EntityID: "NEW"})
		if total != 0 {
			t.Fatal("a forged request created a site")
		}
	})
}

func TestLoginFlowAndLimits(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)

	// An unknown session goes to the login page and comes back after it.
	rec := f.do("GET", "/audit?entity=site", &http.Cookie{Name: "cohort_session", Value: "stale"}, nil)
	if !redirectsToLogin(rec) || !strings.Contains(rec.Header().Get("Location"), "next=%2Faudit%3Fentity%3Dsite") {
		t.Fatalf("stale session: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	page := f.do("GET", "/login", nil, nil)
	var pre *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == "cohort_login_csrf" {
			pre = c
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login CSRF cookie: %+v", pre)
	}
	form := url.Values{"username": {"admin"}, "password": {testPassword}, "next": {"/audit?entity=site"}, "csrf": {pre.Value}}
	rec = f.do("POST", "/login", pre, form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/audit?entity=site" {
		t.Fatalf("login: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "cohort_session" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie: %+v", sess)
	}
	// An open redirect is refused.
	form.Set("next", "//evil.example/")
	rec = f.do("POST", "/login", pre, form)
	if rec.Header().Get("Location") != "/" {
		t.Fatalf("open redirect: %s", rec.Header().Get("Location"))
	}
	// A wrong password says so without saying which part was wrong.
	form.Set("password", "nope")
	rec = f.do("POST", "/login", pre, form)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "user name or password is not correct") {
		t.Fatalf("wrong password: %d", rec.Code)
	}
	// A body over the limit is 413 and changes nothing.
	cookie, csrf := f.session(t, f.userIDs["administrator"])
	big := url.Values{"csrf": {csrf}, "code": {"BIG"}, "name": {strings.Repeat("x", web.MaxBodyBytes+10)}, "time_zone": {"UTC"}}
	if rec := f.do("POST", "/sites", cookie, big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize body: %d", rec.Code)
	}
	// Field errors keep the user's input.
	rec = f.do("POST", "/sites", cookie, url.Values{"csrf": {csrf}, "code": {"lower case"}, "name": {"Kept name"}, "time_zone": {"Nowhere/City"}})
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="Kept name"`) || !strings.Contains(body, "is not a time zone") {
		t.Fatalf("field errors: %d\n%s", rec.Code, body)
	}
	// Health, readiness and metrics.
	if rec := f.do("GET", "/readyz", nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "schema version") {
		t.Fatalf("readyz: %d %s", rec.Code, rec.Body.String())
	}
	rec = f.do("GET", "/metrics", nil, nil)
	if !strings.Contains(rec.Body.String(), `cohort_http_requests_total{route="POST /sites",status="422"} 1`) ||
		!strings.Contains(rec.Body.String(), "cohort_db_open_connections") ||
		!strings.Contains(rec.Body.String(), `cohort_build_info{version="26.1",build="7",revision="0123456789ab",time="2026-11-25T10:00:00Z",schema_version="11"} 1`) {
		t.Fatalf("metrics:\n%s", rec.Body.String())
	}
}

func TestMustChangePasswordGate(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	ctx := context.Background()
	u, _ := account.GetByUsername(ctx, db, "m.jansen") // demo users must change at first login
	cookie, csrf := f.session(t, u.ID)
	if rec := f.do("GET", "/sites", cookie, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account/password" {
		t.Fatalf("gate: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// Wrong current password: a field error, not a change.
	rec := f.do("POST", "/account/password", cookie, url.Values{"csrf": {csrf}, "current": {"x"}, "new": {"New secret pass 9"}, "confirm": {"New secret pass 9"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "not your current password") {
		t.Fatalf("wrong current: %d", rec.Code)
	}
}
