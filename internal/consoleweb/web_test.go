package consoleweb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web"
)

const testPassword = "Console pass 1234"

var binary string

func TestMain(m *testing.M) {
	path, cleanup, err := consoletest.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// fixture is a console with one account per console role (and one with
// none), the demo customer, and its server.
type fixture struct {
	c       *console.Console
	srv     *consoleweb.Server
	userIDs map[string]int64
}

func newFixture(t *testing.T, c *console.Console) *fixture {
	t.Helper()
	ctx := context.Background()
	if _, _, err := console.Bootstrap(ctx, c.DB, testPassword); err != nil {
		t.Fatal(err)
	}
	f := &fixture{c: c, userIDs: map[string]int64{}}
	for _, r := range append(console.Roles(), access.Role{Code: ""}) {
		var grants []access.Grant
		if r.Code != "" {
			grants = []access.Grant{{RoleCode: r.Code}}
		}
		u, err := account.Create(ctx, c.DB, audit.System, account.Policy{MinLength: 8}, account.NewUser{
			Username: "as-" + strings.TrimPrefix(r.Code+"-none", "-"), DisplayName: "Test " + r.Name, Password: testPassword, Grants: grants})
		if err != nil {
			t.Fatal(err)
		}
		f.userIDs[r.Code] = u.ID
	}
	if _, err := c.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := consoleweb.New(consoleweb.Options{Console: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Build: web.Build{Version: "test", Number: "42"}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

func (f *fixture) session(t *testing.T, userID int64) (*http.Cookie, string) {
	t.Helper()
	tok, s, err := account.StartSession(context.Background(), f.c.DB, userID, "")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: "cohort_console_session", Value: tok}, s.CSRFToken
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

func concrete(path string) string {
	return strings.NewReplacer("{org}", "demo-cru", "{env}", "demo", "{role}", "main", "{build}", "test+42", "{op}", "1", "{run}", "1", "{number}", "IQ-DEMO-CRU-0001", "{$}", "").Replace(path)
}

func redirectsToLogin(rec *httptest.ResponseRecorder) bool {
	return rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login")
}

// TestEveryConsoleRouteAgainstEveryConsoleRole asks every registered
// console route as each console role, as a user with no role and signed
// out, and checks the answer against the permission the route declares.
func TestEveryConsoleRouteAgainstEveryConsoleRole(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			f := newFixture(t, consoletest.New(t, e, ""))
			roles := map[string]access.Set{"": {}}
			for _, r := range console.Roles() {
				roles[r.Code] = r.Permissions
			}
			if len(f.srv.Routes()) < 20 {
				t.Fatalf("only %d routes registered", len(f.srv.Routes()))
			}
			for _, route := range f.srv.Routes() {
				method := route.Method
				if method == "" {
					method = "GET"
				}
				path := concrete(route.Path)
				if path == "/i/" {
					path = "/i/demo-cru/demo/main/login"
				}
				rec := f.do(method, path, nil, url.Values{})
				if route.Need.Public {
					if redirectsToLogin(rec) || rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
						t.Errorf("%s %s signed out: public route answered %d %s", method, path, rec.Code, rec.Header().Get("Location"))
					}
					continue
				}
				if !redirectsToLogin(rec) {
					t.Errorf("%s %s signed out: got %d, want a redirect to the login page", method, path, rec.Code)
				}
				for code, perms := range roles {
					cookie, csrf := f.session(t, f.userIDs[code])
					rec := f.do(method, path, cookie, url.Values{"csrf": {csrf}})
					if route.Path == "/logout" {
						if !redirectsToLogin(rec) || !redirectsToLogin(f.do("GET", "/", cookie, nil)) {
							t.Errorf("POST /logout as %q did not end the session", code)
						}
						continue
					}
					ok := route.Need.Permission == "" || perms.Has(route.Need.Permission)
					switch {
					case ok && (rec.Code == http.StatusForbidden || redirectsToLogin(rec) || rec.Code >= 500):
						t.Errorf("%s %s as %q: got %d, want it allowed (%s)\n%s", method, path, code, rec.Code, route.Need.Permission, rec.Body.String())
					case !ok && rec.Code != http.StatusForbidden:
						t.Errorf("%s %s as %q: got %d, want 403 (needs %s)", method, path, code, rec.Code, route.Need.Permission)
					}
				}
			}
		})
	}
}

func TestConsoleFormsNeedTheCSRFToken(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	cookie, _ := f.session(t, f.userIDs["console-admin"])
	for _, route := range f.srv.Routes() {
		if route.Method != "POST" {
			continue
		}
		rec := f.do("POST", concrete(route.Path), cookie, url.Values{"code": {"forged"}, "name": {"Forged"}, "kind": {"demo"}, "reason": {"r"}, "csrf": {"forged"}})
		if rec.Code != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: got %d, want 403", route.Path, rec.Code)
		}
	}
	if _, err := console.GetOrganisation(context.Background(), f.c.DB, "forged"); err == nil {
		t.Fatal("a forged request created an organisation")
	}
}

func TestRefusalsAreShownWithTheirRule(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	ctx := context.Background()
	cookie, csrf := f.session(t, f.userIDs["console-admin"])
	rec := f.do("POST", "/o/demo-cru/environments", cookie, url.Values{"csrf": {csrf}, "kind": {"migration"}, "from": {"demo-cru/demo/main"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Only a running or stopped instance can be cloned") {
		t.Errorf("clone of a requested instance: %d\n%s", rec.Code, rec.Body.String())
	}
	if _, _, err := f.c.CreateEnvironment(ctx, audit.System, console.NewEnvironment{Org: "demo-cru", Kind: console.Prod}); err != nil {
		t.Fatal(err)
	}
	rec = f.do("POST", "/o/demo-cru/prod/destroy", cookie, url.Values{"csrf": {csrf}, "reason": {"tidy"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "PROD is never destroyed; it is upgraded in place.") {
		t.Errorf("destroying PROD: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", "/o/demo-cru/demo/main/start", cookie, url.Values{"csrf": {csrf}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "demo-cru/demo/main is busy: the provision requested by system") {
		t.Errorf("starting an instance being provisioned: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", "/o/demo-cru/environments", cookie, url.Values{"csrf": {csrf}, "kind": {"sandbox"}, "request_key": {"k1"}})
	again := f.do("POST", "/o/demo-cru/environments", cookie, url.Values{"csrf": {csrf}, "kind": {"sandbox"}, "request_key": {"k1"}})
	if rec.Code != http.StatusSeeOther || again.Code != http.StatusSeeOther {
		t.Fatalf("create sandbox twice with one form: %d, %d", rec.Code, again.Code)
	}
	envs, _ := console.Environments(ctx, f.c.DB, "demo-cru")
	sandboxes := 0
	for _, e := range envs {
		if e.Kind == console.Sandbox {
			sandboxes++
		}
	}
	if sandboxes != 1 {
		t.Errorf("a double-submitted form made %d sandboxes", sandboxes)
	}
}
