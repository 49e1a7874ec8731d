package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/study"
)

// TestLibraryAndDesignPages posts to the library and design pages as a data
// manager would, and checks what comes back: a field error beside its field
// with the input kept, a conflict naming who saved first, a missing reason
// for a row action shown beside that row's reason, an illegal status move
// refused with a sentence, and the htmx row fragments.
func TestLibraryAndDesignPages(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, csrf := f.session(t, f.userIDs["administrator"])
	post := func(path string, v url.Values) (int, string, string) {
		v.Set("csrf", csrf)
		rec := f.do("POST", path, cookie, v)
		return rec.Code, rec.Body.String(), rec.Header().Get("Location")
	}
	if code, _, loc := post("/library", url.Values{"oid": {"F.WEB"}, "name": {"Web form"}}); code != http.StatusSeeOther || loc != "/library/F.WEB" {
		t.Fatalf("create form: %d %s", code, loc)
	}
	v, err := study.GetVersion(context.Background(), db, "F.WEB", 1)
	if err != nil {
		t.Fatal(err)
	}
	ver := strconv.Itoa(v.Version)

	// A field error keeps the input.
	code, body, _ := post("/library/F.WEB/group", url.Values{"number": {"1"}, "version": {ver}, "oid": {"IG.KEPT"}, "reason": {"r"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="IG.KEPT"`) || !strings.Contains(body, `id="e-name"`) {
		t.Fatalf("group without a name: %d\n%s", code, body)
	}
	if code, _, _ := post("/library/F.WEB/group", url.Values{"number": {"1"}, "version": {ver}, "oid": {"IG.A"}, "name": {"A"}, "reason": {"r"}}); code != http.StatusSeeOther {
		t.Fatalf("save group: %d", code)
	}
	// The same page posted again is out of date.
	code, body, _ = post("/library/F.WEB/unit", url.Values{"number": {"1"}, "version": {ver}, "oid": {"MU.KG"}, "name": {"kilogram"}, "symbol": {"kg"}, "reason": {"r"}})
	if code != http.StatusConflict || !strings.Contains(body, "This form was changed by") || !strings.Contains(body, `value="MU.KG"`) {
		t.Fatalf("stale unit save: %d\n%s", code, body)
	}
	// A row action without a reason says so beside the row actions' reason.
	v, _ = study.GetVersion(context.Background(), db, "F.WEB", 1)
	code, body, _ = post("/library/F.WEB/group/remove", url.Values{"number": {"1"}, "version": {strconv.Itoa(v.Version)}, "oid": {"IG.A"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-action_reason"`) {
		t.Fatalf("remove without a reason: %d\n%s", code, body)
	}
	// An item with range checks posted as rows, spare rows left empty.
	code, body, _ = post("/library/F.WEB/item", url.Values{"number": {"1"}, "version": {strconv.Itoa(v.Version)}, "group": {"IG.A"},
		"oid": {"I.HR"}, "name": {"HR"}, "data_type": {"integer"}, "reason": {"r"},
		"range_comparator": {"GE", "LE", ""}, "range_values": {"30", "x", ""}, "range_softhard": {"Soft", "Hard", "Soft"}, "range_message": {"", "", ""}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `&#34;x&#34; is not a integer value.`) || !strings.Contains(body, `value="30"`) {
		t.Fatalf("item with a bad range value: %d\n%s", code, body)
	}
	// htmx asks for one more row.
	rec := f.do("GET", "/library/F.WEB/item/range-row", cookie, nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(rec.Body.String()), "<tr>") || !strings.Contains(rec.Body.String(), `name="range_comparator"`) {
		t.Fatalf("range row: %d %s", rec.Code, rec.Body.String())
	}
	rec = f.do("GET", "/library/F.WEB/codelist/code-row", cookie, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="code_value"`) {
		t.Fatalf("code row: %d %s", rec.Code, rec.Body.String())
	}

	// Discarding the draft of a new form takes it out of the library.
	if code, _, _ := post("/library", url.Values{"oid": {"F.GONE"}, "name": {"Gone"}}); code != http.StatusSeeOther {
		t.Fatalf("create form: %d", code)
	}
	if code, _, loc := post("/library/F.GONE/discard", url.Values{"number": {"1"}, "version": {"1"}, "reason": {"not needed"}}); code != http.StatusSeeOther || loc != "/library?notice=discarded" {
		t.Fatalf("discard: %d %s", code, loc)
	}
	if rec := f.do("GET", "/library/F.GONE", cookie, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("discarded form page: %d", rec.Code)
	}

	// Study design: an illegal status move is refused with a sentence.
	if code, _, _ := post("/studies", url.Values{"code": {"CRU-W-1"}, "title": {"Web"}}); code != http.StatusSeeOther {
		t.Fatalf("create study: %d", code)
	}
	s, _ := study.Get(context.Background(), db, "CRU-W-1")
	code, body, _ = post("/studies/CRU-W-1/status", url.Values{"version": {strconv.Itoa(s.Version)}, "status": {"locked"}, "reason": {"skip"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "A study in status design cannot move to locked.") {
		t.Fatalf("design → locked: %d\n%s", code, body)
	}
	if code, _, _ := post("/studies/CRU-W-1/events", url.Values{"event_oid": {"SE.D1"}, "event_name": {"Day 1"}, "event_type": {"Scheduled"}, "reason": {"r"}}); code != http.StatusSeeOther {
		t.Fatalf("add event: %d", code)
	}
	rec = f.do("GET", "/studies/CRU-W-1/events/SE.D1", cookie, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `value="Day 1"`) {
		t.Fatalf("event page: %d", rec.Code)
	}
	s, _ = study.Get(context.Background(), db, "CRU-W-1")
	code, body, _ = post("/studies/CRU-W-1/events/SE.D1", url.Values{"version": {strconv.Itoa(s.Version)}, "event_name": {"Day one"},
		"event_type": {"Scheduled"}, "offset_hours": {"soon"}, "order": {"1"}, "reason": {"r"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="Day one"`) || !strings.Contains(body, "Give the planned time in hours") {
		t.Fatalf("event with a bad time: %d\n%s", code, body)
	}
	code, _, _ = post("/studies/CRU-W-1/events/SE.D1", url.Values{"version": {strconv.Itoa(s.Version)}, "event_name": {"Day one"},
		"event_type": {"Scheduled"}, "offset_hours": {"-0.5"}, "order": {"1"}, "reason": {"r"}})
	e, _ := study.GetEvent(context.Background(), db, "CRU-W-1", "SE.D1")
	if code != http.StatusSeeOther || e.Name != "Day one" || e.NominalOffsetMinutes == nil || *e.NominalOffsetMinutes != -30 {
		t.Fatalf("event save: %d %+v", code, e)
	}
	code, body, _ = post("/studies/CRU-W-1/events/SE.D1/remove", url.Values{"version": {strconv.Itoa(s.Version)}, "reason": {"r"}})
	if code != http.StatusConflict || !strings.Contains(body, "This study was changed by") {
		t.Fatalf("stale remove: %d", code)
	}
}
