package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// wilhelmina is a volunteer whose personal data is easy to spot in a page.
func wilhelmina() volunteer.Volunteer {
	return volunteer.Volunteer{
		GivenName: "Wilhelmina", FamilyName: "Zwanenburg", BirthDate: volunteer.NewDate(1977, 3, 14),
		SexAtBirth: volunteer.SexFemale, PreferredSite: "AMS", Email: "wz@example.com",
		Phones:  []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+31612398765"}},
		Address: volunteer.Address{Line1: "Prinsengracht 263", PostalCode: "1016 GV", City: "Amsterdam", Country: "NL"},
	}
}

// wilhelminaPHI are the values no page may show a user without view_phi.
var wilhelminaPHI = []string{"Wilhelmina", "Zwanenburg", "1977-03-14", "612398765", "wz@example.com", "Prinsengracht", "1016 GV"}

// addExporter adds a role that may search and export volunteers but not
// see their personal data, and a user holding it.
func (f *fixture) addExporter(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	err := access.CreateRole(ctx, f.db, audit.System, access.Role{Code: "exporter", Name: "Exporter",
		Permissions: access.Set{access.VolunteerView: true, access.VolunteerImport: true, access.AuditView: true, access.AuditExport: true}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := account.Create(ctx, f.db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
		Username: "as-exporter", DisplayName: "Exporter", Password: testPassword, Grants: []access.Grant{{RoleCode: "exporter"}}})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func views(t *testing.T, db *store.DB, number string) int {
	t.Helper()
	es, _, err := audit.List(context.Background(), db, audit.Filter{Entity: registry.Entity, EntityID: number, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == audit.View {
			n++
		}
	}
	return n
}

// TestVolunteerPHIIsMaskedForEveryRoleWithoutViewPHI asks the search page,
// the volunteer page, the export, the audit viewer and the audit export as
// every seeded role (and a role that may export without view_phi), and
// checks that personal data shows exactly for the roles with view_phi and
// that every unmasked view and every export is in the audit trail.
func TestVolunteerPHIIsMaskedForEveryRoleWithoutViewPHI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.userIDs["exporter"] = f.addExporter(t)
		rec, err := registry.Create(ctx, db, audit.Actor{ID: 1, Name: "admin"}, wilhelmina(), registry.CreateOptions{DuplicateReason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		perms := map[string]access.Set{"exporter": {access.VolunteerView: true, access.VolunteerImport: true, access.AuditView: true, access.AuditExport: true}}
		for _, r := range access.DefaultRoles() {
			perms[r.Code] = r.Permissions
		}
		for code, p := range perms {
			cookie, _ := f.session(t, f.userIDs[code])
			phi := p.Has(access.VolunteerPHI)
			// check: without view_phi no personal value shows; with it, the
			// values the page lists do.
			check := func(what string, rec *httptest.ResponseRecorder, listed []string) {
				t.Helper()
				body := rec.Body.String()
				for _, secret := range wilhelminaPHI {
					if !phi && strings.Contains(body, secret) {
						t.Errorf("%s as %s shows %q", what, code, secret)
					}
				}
				for _, secret := range listed {
					if phi && !strings.Contains(body, secret) {
						t.Errorf("%s as %s, who may see personal data, lacks %q", what, code, secret)
					}
				}
			}
			before := views(t, db, rec.Number)
			search := f.do("GET", "/volunteers?name=zwanen", cookie, nil)
			page := f.do("GET", "/volunteers/"+rec.Number, cookie, nil)
			if !p.Has(access.VolunteerView) {
				if search.Code != http.StatusForbidden || page.Code != http.StatusForbidden {
					t.Errorf("as %s without volunteer.view: %d %d", code, search.Code, page.Code)
				}
				continue
			}
			if search.Code != 200 || page.Code != 200 {
				t.Fatalf("as %s: search %d, page %d", code, search.Code, page.Code)
			}
			check("search", search, []string{"Wilhelmina", "Zwanenburg", "1977-03-14"})
			check("volunteer page", page, wilhelminaPHI)
			if !phi && (!strings.Contains(search.Body.String(), "W*** Z***") || !strings.Contains(page.Body.String(), "1977-**-**")) {
				t.Errorf("as %s the masked values are missing", code)
			}
			if got, want := views(t, db, rec.Number)-before, map[bool]int{true: 1, false: 0}[phi]; got != want {
				t.Errorf("as %s opening the record added %d view entries, want %d", code, got, want)
			}
			if p.Has(access.VolunteerImport) {
				exp := f.do("GET", "/volunteers/export.csv?name=zwanen", cookie, nil)
				if exp.Code != 200 || !strings.HasPrefix(exp.Body.String(), "UNCONTROLLED COPY") {
					t.Fatalf("export as %s: %d %.80s", code, exp.Code, exp.Body.String())
				}
				check("export", exp, wilhelminaPHI)
			}
			if p.Has(access.AuditView) {
				trail := f.do("GET", "/audit?entity=volunteer&entity_id="+rec.Number, cookie, nil)
				if !phi && strings.Contains(trail.Body.String(), "Zwanenburg") {
					t.Errorf("the audit viewer shows PHI to %s", code)
				}
				if phi && !strings.Contains(trail.Body.String(), "Zwanenburg") {
					t.Errorf("the audit viewer hides the create entry's values from %s, who may see them", code)
				}
			}
			if p.Has(access.AuditExport) {
				trail := f.do("GET", "/audit/export.csv?entity=volunteer", cookie, nil)
				if !phi && strings.Contains(trail.Body.String(), "Zwanenburg") {
					t.Errorf("the audit export shows PHI to %s", code)
				}
			}
		}
		// Every export is in the trail, masked or not.
		es, _, _ := audit.List(ctx, db, audit.Filter{Entity: registry.Entity, EntityID: "search", Limit: 100})
		exports := map[string]string{}
		for _, e := range es {
			if e.Action == audit.Export && e.Field == "masked" {
				exports[e.Actor] = e.New
			}
		}
		if exports["as-exporter"] != "yes" || exports["as-administrator"] != "no" {
			t.Fatalf("exports in the trail: %v", exports)
		}
	})
}

// TestVolunteerSearchAnswersHtmxWithTheResultsOnly checks the live search:
// an htmx request gets the results block, a plain one the whole page.
func TestVolunteerSearchAnswersHtmxWithTheResultsOnly(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite))
	cookie, _ := f.session(t, f.userIDs["crc"])
	req := httptest.NewRequest("GET", "/volunteers?name=a&sort=-birth_date", nil)
	req.AddCookie(cookie)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "volunteer-results")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, "<html") || !strings.Contains(body, `id="volunteer-results"`) || strings.Count(body, `<tr id="v-`) != 25 {
		t.Fatalf("htmx search: %d\n%s", rec.Code, body)
	}
	full := f.do("GET", "/volunteers?name=a", cookie, nil)
	if !strings.Contains(full.Body.String(), "<html") || !strings.Contains(full.Body.String(), `rel="next"`) {
		t.Fatalf("plain search page lacks the layout or paging")
	}
	bad := f.do("GET", "/volunteers?birth_date=May+1984&phone=12", cookie, nil)
	if !strings.Contains(bad.Body.String(), "Use a date like") || !strings.Contains(bad.Body.String(), "last 4 digits") {
		t.Fatalf("bad search fields are not explained:\n%s", bad.Body.String())
	}
}

func TestVolunteerRegistrationWithDuplicatesAndPrivacyRemoval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin, err := account.GetByUsername(ctx, db, "admin")
		if err != nil {
			t.Fatal(err)
		}
		cookie, csrf := f.session(t, admin.ID)
		form := url.Values{"csrf": {csrf}, "given_name": {"Wilhelmina"}, "family_name": {"Zwanenburg"}, "birth_date": {"1977-03-14"},
			"preferred_site": {"AMS"}, "status": {"active"}, "phone.number": {"06 1239 8765", ""}, "phone.kind": {"mobile", "home"},
			"address.country": {"NL"}, "consent.type": {"database"}, "consent.version": {"2.0"}, "consent.date": {"2020-02-02"},
			"participation.study": {"CRU-2020-001"}, "participation.start": {"2020-03-01"}, "participation.end": {"2020-03-10"},
			"participation.outcome": {"completed"}}
		// A field problem keeps the input and names the field.
		bad := cloneValues(form)
		bad.Set("birth_date", "14-03-1977")
		rec := f.do("POST", "/volunteers", cookie, bad)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `id="e-birth_date"`) || !strings.Contains(rec.Body.String(), `value="Zwanenburg"`) {
			t.Fatalf("bad birth date: %d\n%s", rec.Code, rec.Body.String())
		}
		rec = f.do("POST", "/volunteers", cookie, form)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("register: %d\n%s", rec.Code, rec.Body.String())
		}
		first := strings.TrimPrefix(strings.Split(rec.Header().Get("Location"), "?")[0], "/volunteers/")
		// The same person again: the candidates are shown, nothing is stored.
		again := cloneValues(form)
		again.Set("given_name", "WILHELMINA")
		rec = f.do("POST", "/volunteers", cookie, again)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), first) || !strings.Contains(rec.Body.String(), "same name and date of birth") {
			t.Fatalf("duplicate: %d\n%s", rec.Code, rec.Body.String())
		}
		again.Set("duplicate_reason", "her twin sister, ID checked")
		rec = f.do("POST", "/volunteers", cookie, again)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("register anyway: %d\n%s", rec.Code, rec.Body.String())
		}
		second := strings.TrimPrefix(strings.Split(rec.Header().Get("Location"), "?")[0], "/volunteers/")
		es, _, _ := audit.List(ctx, db, audit.Filter{Entity: registry.Entity, EntityID: second})
		var reasoned bool
		for _, e := range es {
			reasoned = reasoned || e.Reason == "her twin sister, ID checked" && strings.Contains(e.New, first)
		}
		if !reasoned {
			t.Fatalf("the duplicate reason is not in the trail: %+v", es)
		}

		// Privacy removal: only with the permission, a reason and the password.
		crc, crcCSRF := f.session(t, f.userIDs["crc"])
		if rec := f.do("POST", "/volunteers/"+first+"/privacy", crc, url.Values{"csrf": {crcCSRF}, "reason": {"x"}, "password": {testPassword}}); rec.Code != http.StatusForbidden {
			t.Fatalf("privacy removal as crc: %d", rec.Code)
		}
		got, _ := registry.Get(ctx, db, first)
		version := strconv.Itoa(got.Version)
		rec = f.do("POST", "/volunteers/"+first+"/privacy", cookie, url.Values{"csrf": {csrf}, "version": {version}, "reason": {"request 12"}, "password": {"wrong"}})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "not your password") || strings.Contains(rec.Body.String(), `value="wrong"`) {
			t.Fatalf("wrong password: %d\n%s", rec.Code, rec.Body.String())
		}
		rec = f.do("POST", "/volunteers/"+first+"/privacy", cookie, url.Values{"csrf": {csrf}, "version": {version}, "reason": {"request 12"}, "password": {testPassword}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("privacy removal: %d\n%s", rec.Code, rec.Body.String())
		}
		page := f.do("GET", "/volunteers/"+first, cookie, nil).Body.String()
		if strings.Contains(page, "Zwanenburg") || !strings.Contains(page, "privacy-removed") || !strings.Contains(page, "CRU-2020-001") || !strings.Contains(page, "1977-**-**") {
			t.Fatalf("the removed volunteer's page:\n%s", page)
		}
		if rec := f.do("GET", "/volunteers/"+first+"/edit", cookie, nil); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("editing a removed volunteer: %d", rec.Code)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestVolunteerImportPagesMapCheckImportAndReturnRejects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin, _ := account.GetByUsername(context.Background(), db, "admin")
		cookie, csrf := f.session(t, admin.ID)
		file := "Voornaam;Achternaam;Geboortedatum;Locatie;Mobiel\n" +
			"Sanne;Verbeek;03/04/1991;AMS;06 11223344\n" +
			"Bram;Kuipers;31/04/1990;AMS;\n" + // no 31 April
			"Noor;Hendriks;05/06/1992;XYZ;\n" // unknown site

		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", csrf)
		mw.WriteField("separator", "semicolon")
		fw, _ := mw.CreateFormFile("file", "leden.csv")
		fw.Write([]byte(file))
		mw.Close()
		req := httptest.NewRequest("POST", "/volunteers/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
		}
		mapping := f.do("GET", rec.Header().Get("Location"), cookie, nil)
		token := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindStringSubmatch(mapping.Body.String())
		if mapping.Code != 200 || token == nil || !strings.Contains(mapping.Body.String(), "Geboortedatum") {
			t.Fatalf("mapping page: %d\n%s", mapping.Code, mapping.Body.String())
		}
		run := url.Values{"csrf": {csrf}, "token": {token[1]}, "separator": {"semicolon"}, "map.0": {"given_name"}, "map.1": {"family_name"},
			"map.2": {"birth_date"}, "map.3": {"preferred_site"}, "map.4": {"phone.mobile"}, "date_format": {"DD/MM/YYYY"},
			"calling_code": {"31"}, "mode": {"valid-rows"}, "action": {"check"}}
		checked := f.do("POST", "/volunteers/import/run", cookie, run).Body.String()
		for _, want := range []string{"3 rows read: 1 valid, 2 with problems", "31/04/1990", "XYZ", "Nothing was stored"} {
			if !strings.Contains(checked, want) {
				t.Fatalf("check report lacks %q:\n%s", want, checked)
			}
		}
		run.Set("action", "import")
		imported := f.do("POST", "/volunteers/import/run", cookie, run).Body.String()
		if !strings.Contains(imported, "Volunteers imported: 1.") || !strings.Contains(imported, "rejected.csv?token="+token[1]) {
			t.Fatalf("import result:\n%s", imported)
		}
		rejects := f.do("GET", "/volunteers/import/rejected.csv?token="+token[1], cookie, nil)
		rows, err := csv.NewReader(rejects.Body).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][5] != "problem" || rows[1][0] != "Bram" || !strings.Contains(rows[2][5], "XYZ") {
			t.Fatalf("rejected rows: %v %v", rows, err)
		}
		if res, _ := registry.Search(context.Background(), db, registry.Query{Name: "verbeek sanne"}, true); len(res.Rows) != 1 {
			t.Fatal("the valid row was not imported")
		}
		// Another user cannot use the upload.
		other, otherCSRF := f.session(t, f.userIDs["administrator"])
		run.Set("csrf", otherCSRF)
		if rec := f.do("POST", "/volunteers/import/run", other, run); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("someone else's upload: %d", rec.Code)
		}
	})
}
