package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// sourceBundle exports the configuration of a separate Sandbox instance:
// the default roles plus lab-tech, sites AMS (renamed) and UTR, its own
// organisation name. It returns the bundle's bytes and a file holding them.
func sourceBundle(t *testing.T, e store.Engine) ([]byte, string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, e)
	by := audit.Actor{ID: 1, Name: "sandbox.admin"}
	if err := access.SeedRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := access.CreateRole(ctx, db, by, access.Role{Code: "lab-tech", Name: "Lab technician", Permissions: access.Set{access.ConfigView: true}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []site.Site{
		{Code: "AMS", Name: "Amsterdam Phase I Unit (Zuid)", Address: "Meibergdreef 9, 1105 AZ Amsterdam", TimeZone: "Europe/Amsterdam"},
		{Code: "UTR", Name: "Utrecht research ward", TimeZone: "Europe/Amsterdam"},
	} {
		if _, err := site.Create(ctx, db, by, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := setting.Save(ctx, db, by, setting.General, "", map[string]string{"org.name": "Leiden CRU"}, "sandbox"); err != nil {
		t.Fatal(err)
	}
	_, data, err := bundle.Export(ctx, db, bundle.ExportOptions{Instance: "Sandbox Main", At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sandbox-config.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data, path
}

// upload posts a bundle file to the preview page as a browser does.
func (f *fixture) upload(t *testing.T, cookie *http.Cookie, csrf string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("bundle", "bundle.json")
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest("POST", "/config/bundle/preview", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

var tokenField = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

func TestBundleExportDownload(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, _ := f.session(t, f.userIDs["administrator"])

	rec := f.do("GET", "/config/bundle/export?chosen=1&category=roles&category=sites", cookie, nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), `attachment; filename="cohort-config-`) {
		t.Fatalf("export: %d %v", rec.Code, rec.Header())
	}
	b, err := bundle.Decode(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("the download is not a valid bundle: %v", err)
	}
	if strings.Join(b.Manifest.Categories, ",") != "roles,sites" || b.Manifest.Source.Instance != "http://example.com/" ||
		b.Manifest.Source.Organisation != "Demo Clinical Research Unit" {
		t.Fatalf("manifest: %+v", b.Manifest)
	}
	if rec := f.do("GET", "/config/bundle/export?chosen=1", cookie, nil); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Choose at least one category") {
		t.Fatalf("export of nothing: %d", rec.Code)
	}
	if rec := f.do("GET", "/config/bundle/export?category=teleporters", cookie, nil); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "no configuration category") {
		t.Fatalf("export of an unknown category: %d", rec.Code)
	}
}

func TestBundlePreviewAndApplyOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		data, _ := sourceBundle(t, db.Engine)
		f := newFixture(t, db)
		cookie, csrf := f.session(t, f.userIDs["administrator"])

		// A bundle changed after export is refused on upload.
		tampered := bytes.Replace(data, []byte("Leiden CRU"), []byte("Leiden CRV"), 1)
		if rec := f.upload(t, cookie, csrf, tampered); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "changed after export") {
			t.Fatalf("tampered upload: %d", rec.Code)
		}
		// No file at all is a field error, not a failure.
		if rec := f.do("POST", "/config/bundle/preview", cookie, url.Values{"csrf": {csrf}}); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("preview without a file: %d", rec.Code)
		}

		rec := f.upload(t, cookie, csrf, data)
		m := tokenField.FindStringSubmatch(rec.Body.String())
		if rec.Code != 200 || m == nil {
			t.Fatalf("preview: %d\n%s", rec.Code, rec.Body.String())
		}
		// Someone changes a site the bundle also changes, after the preview.
		ams, _ := site.Get(ctx, db, "AMS")
		if err := site.Update(ctx, db, audit.Actor{ID: 9, Name: "someone"}, "AMS", ams.Version, site.Site{Name: "Amsterdam (new name)", TimeZone: "Europe/Amsterdam"}, "rename"); err != nil {
			t.Fatal(err)
		}
		before := auditTotal(t, db)
		rec = f.do("POST", "/config/bundle/apply", cookie, url.Values{"csrf": {csrf}, "token": {m[1]}, "reason": {"Promote to VAL"}})
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "changed after the preview was made") || auditTotal(t, db) != before {
			t.Fatalf("apply after a change since the preview: %d", rec.Code)
		}
		// The page shows the fresh plan with a new token; the old one is spent.
		fresh := tokenField.FindStringSubmatch(rec.Body.String())
		if fresh == nil || fresh[1] == m[1] || !strings.Contains(rec.Body.String(), "Amsterdam (new name)") {
			t.Fatal("the refused apply did not show the fresh preview")
		}
		if rec := f.do("POST", "/config/bundle/apply", cookie, url.Values{"csrf": {csrf}, "token": {m[1]}, "reason": {"x"}}); rec.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(rec.Body.String(), "expired or was already applied") {
			t.Fatalf("spent token: %d", rec.Code)
		}
		// Without a reason: the preview again, with the reason marked.
		rec = f.do("POST", "/config/bundle/apply", cookie, url.Values{"csrf": {csrf}, "token": {fresh[1]}, "reason": {" "}})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Say why you are importing") || auditTotal(t, db) != before {
			t.Fatalf("apply without a reason: %d", rec.Code)
		}
		fresh = tokenField.FindStringSubmatch(rec.Body.String())
		// Another administrator cannot apply this user's preview.
		other, err := account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
			Username: "second.admin", DisplayName: "Second admin", Password: testPassword, Grants: []access.Grant{{RoleCode: "administrator"}}})
		if err != nil {
			t.Fatal(err)
		}
		otherCookie, otherCSRF := f.session(t, other.ID)
		before = auditTotal(t, db)
		if rec := f.do("POST", "/config/bundle/apply", otherCookie, url.Values{"csrf": {otherCSRF}, "token": {fresh[1]}, "reason": {"mine now"}}); rec.Code != http.StatusUnprocessableEntity || auditTotal(t, db) != before {
			t.Fatalf("another user applied the preview: %d", rec.Code)
		}
		rec = f.do("POST", "/config/bundle/apply", cookie, url.Values{"csrf": {csrf}, "token": {fresh[1]}, "reason": {"Promote to VAL"}})
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/config/bundle?notice=imported&id=") {
			t.Fatalf("apply: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if _, err := access.GetRole(ctx, db, "lab-tech"); err != nil {
			t.Fatal("the import did not add the role")
		}
		if rec := f.do("GET", rec.Header().Get("Location"), cookie, nil); !strings.Contains(rec.Body.String(), "records added or changed in one transaction") {
			t.Fatalf("notice after import:\n%s", rec.Body.String())
		}
		// The same file again: nothing to import, no apply form.
		rec = f.upload(t, cookie, csrf, data)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Nothing to import") || strings.Contains(rec.Body.String(), `id="apply-form"`) {
			t.Fatalf("second preview: %d", rec.Code)
		}
	})
}

func auditTotal(t *testing.T, db *store.DB) int {
	t.Helper()
	_, n, err := audit.List(context.Background(), db, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
