package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// upload posts a multipart form with one file, as the import page does.
func (f *fixture) uploadArchive(t *testing.T, path string, cookie *http.Cookie, fields map[string]string, file string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("archive", file)
	fw.Write(data)
	w.Close()
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// TestDictionaryImportListsEveryProblem uploads a MedDRA release with two
// damaged lines and checks that the page names both by file, line and
// field, and that nothing was stored.
func TestDictionaryImportListsEveryProblem(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, csrf := f.session(t, f.userIDs["administrator"])
	dir := "../dictionary/testdata/meddra/27.0"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if e.Name() == "llt.asc" {
			lines := strings.Split(string(data), "\n")
			fields := strings.Split(lines[2], "$")
			fields[9] = "maybe" // llt_currency
			lines[2] = strings.Join(fields, "$")
			lines[6] = "1234$Broken$"
			data = []byte(strings.Join(lines, "\n"))
		}
		w, _ := zw.Create(e.Name())
		w.Write(data)
	}
	zw.Close()
	before, _ := dictionary.Versions(context.Background(), db)
	rec := f.uploadArchive(t, "/config/dictionaries", cookie, map[string]string{"csrf": csrf}, "meddra_27_0.zip", buf.Bytes())
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "nothing was imported") ||
		!strings.Contains(body, `llt.asc line 3: field llt_currency: &#34;maybe&#34; is neither Y nor N`) ||
		!strings.Contains(body, "llt.asc line 7: the line has 2 fields") {
		t.Fatalf("damaged upload: %d\n%s", rec.Code, body)
	}
	after, _ := dictionary.Versions(context.Background(), db)
	if len(after) != len(before) {
		t.Fatalf("a damaged upload stored a version: %+v", after)
	}
}

// TestDictionaryLiveSearchAnswersWithTheResultsOnly checks the htmx
// request of the live search gets only the results block, and a plain
// request the whole page.
func TestDictionaryLiveSearchAnswersWithTheResultsOnly(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, _ := f.session(t, f.userIDs["qa"])
	v, err := dictionary.ActiveVersion(context.Background(), db, dictionary.MedDRA)
	if err != nil {
		t.Fatal(err)
	}
	path := "/config/dictionaries/" + strconv.FormatInt(v.ID, 10) + "/search?q=H%C3%89AD"
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(cookie)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "results")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, "<html") || !strings.Contains(body, ">Headache</a>") {
		t.Fatalf("live search: %d\n%s", rec.Code, body)
	}
	full := f.do("GET", path, cookie, nil)
	if !strings.Contains(full.Body.String(), "<html") || !strings.Contains(full.Body.String(), ">Headache</a>") {
		t.Fatalf("search page without htmx: %d", full.Code)
	}
}
