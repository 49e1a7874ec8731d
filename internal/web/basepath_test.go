package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web"
)

// TestAnInstanceWorksUnderABasePath serves an instance as the console's
// proxy does — the prefix stripped from requests — and checks that every
// link, form, asset, redirect and cookie it sends back carries the prefix.
func TestAnInstanceWorksUnderABasePath(t *testing.T) {
	const base = "/i/acme/demo/main"
	const password = "Base path pass 1"
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if _, _, err := account.Bootstrap(ctx, db, password); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BasePath: base + "/"})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	cookie := func(rec *httptest.ResponseRecorder, name string) *http.Cookie {
		for _, c := range rec.Result().Cookies() {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no %s cookie", name)
		return nil
	}

	if rec := do("GET", "/sites", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"/login?next=%2Fsites" {
		t.Fatalf("signed out: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	login := do("GET", "/login", nil)
	html := login.Body.String()
	for _, want := range []string{`href="` + base + `/static/cohort.css"`, `src="` + base + `/static/htmx.min.js"`, `action="` + base + `/login"`} {
		if !strings.Contains(html, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	pre := cookie(login, "cohort_login_csrf")
	if pre.Path != base {
		t.Errorf("login cookie path %q", pre.Path)
	}
	rec := do("POST", "/login", url.Values{"username": {"admin"}, "password": {password}, "next": {"/sites"}, "csrf": {pre.Value}}, pre)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"/sites" {
		t.Fatalf("login: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	sess := cookie(rec, "cohort_session")
	if sess.Path != base {
		t.Errorf("session cookie path %q", sess.Path)
	}
	sites := do("GET", "/sites", nil, sess).Body.String()
	if !strings.Contains(sites, `href="`+base+`/sites/AMS"`) || !strings.Contains(sites, `href="`+base+`/sites/new"`) {
		t.Errorf("the sites page's links lack the prefix:\n%s", sites)
	}
	if strings.Contains(sites, `href="/sites`) || strings.Contains(sites, base+base) {
		t.Errorf("the sites page has an unprefixed or doubly prefixed link:\n%s", sites)
	}
	if rec := do("GET", "/static/cohort.css", nil); rec.Code != 200 {
		t.Errorf("static asset: %d", rec.Code)
	}
}
