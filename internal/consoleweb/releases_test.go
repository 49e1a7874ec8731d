package consoleweb_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
)

// selfReporting writes an executable that, like cohort, answers
// `version --json` with an identity and its own SHA-256: a real child
// process for the catalog to question, without another Go build.
func selfReporting(t *testing.T, version, number string, schema int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort-"+version)
	body := "#!/bin/sh\nsum=$(sha256sum \"$0\" | cut -d' ' -f1)\n" +
		"printf '{\"version\": \"" + version + "\", \"build\": \"" + number + "\", \"time\": \"2026-11-25T10:00:00Z\", \"revision\": \"0123456789ab\", \"sha256\": \"%s\", \"schema_version\": " +
		strconv.Itoa(schema) + "}\\n' \"$sum\"\n"
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// releaseFixture is a console whose demo instances are recorded on release
// 26.1 (build 7), with 26.1 and its hotfix 26.1.1 in the catalog.
func releaseFixture(t *testing.T, e store.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	c := consoletest.New(t, e, "")
	c.Build = console.Build{Version: "26.1", Number: "7"}
	cat := &release.Catalog{DB: c.DB, Dir: release.DirOf(c.Places.DataDir)}
	cat.RequestUpgrade = c.RequestUpgrade
	c.Catalog = cat
	f := newFixture(t, c)
	by := f.actor(t, "console-admin")
	if _, _, err := cat.Register(ctx, by, release.Registration{Binary: selfReporting(t, "26.1", "7", 9),
		Notes: "Our first release.\n\n## Features\n- Release catalog\n\n## Known issues\n- None"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cat.Register(ctx, by, release.Registration{Binary: selfReporting(t, "26.1.1", "8", 9),
		Notes: "## Fixes\n- Site **time zones** are kept\n- <script>alert(1)</script> stays text\n\n## Known issues\n- See [the guide](https://cohort.example/guide)"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) actor(t *testing.T, role string) audit.Actor {
	return audit.Actor{ID: f.userIDs[role], Name: "Test " + role}
}

func TestRegisterABuildByUpload(t *testing.T) {
	f := releaseFixture(t, store.SQLite)
	cookie, csrf := f.session(t, f.userIDs["console-admin"])
	upload := func(binary, notes string) *httptest.ResponseRecorder {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("csrf", csrf)
		w.WriteField("notes", notes)
		if binary != "" {
			part, _ := w.CreateFormFile("binary", "cohort")
			data, _ := os.ReadFile(binary)
			part.Write(data)
		}
		w.Close()
		req := httptest.NewRequest("POST", "/releases", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec
	}
	rec := upload(selfReporting(t, "26.2", "12", 10), "## Features\n- Uploaded")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/releases/26.2+12?notice=registered" {
		t.Fatalf("upload: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	b, err := release.Get(context.Background(), f.c.DB, "26.2", "12")
	if err != nil || b.RegisteredBy != "as-console-admin-none" || b.Notes != "## Features\n- Uploaded" {
		t.Fatalf("the uploaded build: by %q, notes %q, %v", b.RegisteredBy, b.Notes, err)
	}
	page := f.do("GET", "/releases/26.2+12?notice=registered", cookie, nil).Body.String()
	if !strings.Contains(page, "Registered build 26.2 (build 12).") || !strings.Contains(page, b.SHA256) || !strings.Contains(page, "Uploaded") {
		t.Fatalf("the new build's page:\n%s", page)
	}
	if rec := upload("", ""); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Upload the build") {
		t.Fatalf("a registration without a binary: %d\n%s", rec.Code, rec.Body.String())
	}
	if rec := upload(selfReporting(t, "dev", "0", 10), ""); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "not a release version") {
		t.Fatalf("a development build: %d\n%s", rec.Code, rec.Body.String())
	}
	// The console's /metrics names its build.
	if body := f.do("GET", "/metrics", nil, nil).Body.String(); !strings.Contains(body, `cohort_build_info{component="console",version="test",build="42"`) ||
		!strings.Contains(body, "cohort_release_builds 3") {
		t.Fatalf("/metrics:\n%s", body)
	}
}

func TestHotfixAnswersFromThePages(t *testing.T) {
	f := releaseFixture(t, store.SQLite)
	admin, csrf := f.session(t, f.userIDs["console-admin"])
	const base = "/o/demo-cru/demo/main/hotfixes"
	if body := f.do("GET", base, admin, nil).Body.String(); !strings.Contains(body, "Hotfix of 26.1, registered") || !strings.Contains(body, "Accept and request the upgrade") {
		t.Fatalf("the offer with its forms:\n%s", body)
	}
	observer, _ := f.session(t, f.userIDs["console-observer"])
	if body := f.do("GET", base, observer, nil).Body.String(); !strings.Contains(body, "Hotfix of 26.1, registered") || strings.Contains(body, "Accept and request the upgrade") {
		t.Fatalf("an observer sees the offer but no forms:\n%s", body)
	}
	rec := f.do("POST", base+"/decline", admin, url.Values{"csrf": {csrf}, "build": {"26.1.1+8"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Say why the hotfix is declined") {
		t.Fatalf("a decline without a reason: %d\n%s", rec.Code, rec.Body.String())
	}
	// The Demo instance is still being made: the console refuses the
	// upgrade, and the page says so; nothing is recorded.
	rec = f.do("POST", base+"/accept", admin, url.Values{"csrf": {csrf}, "build": {"26.1.1+8"}, "reason": {"CR-114"}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "is busy") {
		t.Fatalf("accepting for a busy instance: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = f.do("POST", base+"/accept", admin, url.Values{"csrf": {csrf}, "build": {"26.1+7"}, "reason": {"CR-114"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "is a release, not a hotfix") {
		t.Fatalf("accepting a release as a hotfix: %d\n%s", rec.Code, rec.Body.String())
	}
	if d, err := release.Decisions(context.Background(), f.c.DB, "demo-cru/demo/main"); err != nil || len(d) != 0 {
		t.Fatalf("refused answers were recorded: %+v %v", d, err)
	}
	rec = f.do("POST", base+"/decline", admin, url.Values{"csrf": {csrf}, "build": {"26.1.1+8"}, "reason": {"not affected"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"?notice=declined" {
		t.Fatalf("decline: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}
