package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestConfigurationPages asks every configuration page about records that
// exist, as a role that may only look and as one that may change things,
// and checks the forms' refusals: reason required, stale versions, unreadable
// dates, every field error at once.
func TestConfigurationPages(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	ctx := context.Background()
	viewer, _ := f.session(t, f.userIDs["pharmacist"])
	admin, csrf := f.session(t, f.userIDs["administrator"])

	for _, path := range []string{"/config", "/config/lists", "/config/lists/question", "/config/lists/medical_history?q=asth&inactive=1",
		"/config/lists/question/CONTACT-PREF", "/config/device-types", "/config/device-types/ECG",
		"/config/devices?site=LDN&type=ECG&status=in_service&q=ecg", "/config/devices/ECG-0003"} {
		rec := f.do("GET", path, viewer, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s as a viewer: %d", path, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "Save changes") || strings.Contains(rec.Body.String(), `class="button" href="/config/`) {
			t.Errorf("GET %s offers a viewer changes they may not make", path)
		}
	}
	for _, path := range []string{"/config/lists/race/NOPE", "/config/lists/colours", "/config/devices/NOPE-1", "/config/device-types/NOPE"} {
		if rec := f.do("GET", path, viewer, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
	body := f.do("GET", "/config/devices?site=LDN&type=ECG&q=ecg", viewer, nil).Body.String()
	if !strings.Contains(body, `id="device-ECG-0003"`) || !strings.Contains(body, `id="device-ECG-0004"`) ||
		strings.Contains(body, `id="device-ECG-0001"`) || !strings.Contains(body, "ECG-0003 is out of calibration since") {
		t.Errorf("filtered device list:\n%s", body)
	}
	if body := f.do("GET", "/config/lists/question/GP", viewer, nil).Body.String(); !strings.Contains(body, "answers are masked") {
		t.Errorf("a PHI question does not say so:\n%s", body)
	}

	post := func(path string, form url.Values) (int, string) {
		form.Set("csrf", csrf)
		rec := f.do("POST", path, admin, form)
		return rec.Code, rec.Body.String()
	}
	hyper, _ := configlist.Get(ctx, db, configlist.MedicalHistory, "HYPERTENSION")
	version := strconv.Itoa(hyper.Version)
	if code, body := post("/config/lists/medical_history/HYPERTENSION/move", url.Values{"direction": {"up"}, "version.HYPERTENSION": {version}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "reason for change") {
		t.Fatalf("move without a reason: %d", code)
	}
	if code, _ := post("/config/lists/medical_history/HYPERTENSION/move", url.Values{"direction": {"up"}, "version.HYPERTENSION": {version}, "reason": {"common at screening"}}); code != http.StatusSeeOther {
		t.Fatalf("move: %d", code)
	}
	if moved, _ := configlist.Get(ctx, db, configlist.MedicalHistory, "HYPERTENSION"); moved.SortOrder != hyper.SortOrder-1 {
		t.Fatalf("HYPERTENSION at %d after moving up from %d", moved.SortOrder, hyper.SortOrder)
	}
	if code, body := post("/config/lists/medical_history/ASTHMA/move", url.Values{"direction": {"up"}, "version.ASTHMA": {"1"}, "reason": {"top"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "already first") {
		t.Fatalf("moving the first entry up: %d", code)
	}
	if code, body := post("/config/lists/medical_history/HYPERTENSION", url.Values{"label": {"High blood pressure"}, "version": {version}, "reason": {"plain words"}}); code != http.StatusConflict || !strings.Contains(body, "changed by") {
		t.Fatalf("stale edit: %d", code)
	}
	code, _ := post("/config/lists/question", url.Values{"code": {"DIET"}, "label": {"Do you follow a diet?"}, "answer_type": {"choice"}, "options": {"None\r\nVegetarian\r\nVegan\r\n"}})
	if diet, err := configlist.Get(ctx, db, configlist.Question, "DIET"); code != http.StatusSeeOther || err != nil || len(diet.Options) != 3 || diet.Options[2] != "Vegan" {
		t.Fatalf("new choice question: %d %+v %v", code, diet, err)
	}

	code, body = post("/config/devices", url.Values{"asset_tag": {"ECG-0100"}, "calibration_due": {"15/01/2025"}, "status": {"in_service"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "YYYY-MM-DD") || !strings.Contains(body, `id="e-serial_number"`) ||
		!strings.Contains(body, `id="e-type"`) || !strings.Contains(body, `value="ECG-0100"`) {
		t.Fatalf("device with an unreadable date: %d\n%s", code, body)
	}
	ecg, _ := device.Get(ctx, db, "ECG-0003")
	code, _ = post("/config/devices/ECG-0003/calibration", url.Values{"calibrated_on": {"2026-01-10"}, "version": {strconv.Itoa(ecg.Version)}, "reason": {"certificate 2026-118"}})
	if ecg, _ = device.Get(ctx, db, "ECG-0003"); code != http.StatusSeeOther || ecg.CalibrationDue.Format("2006-01-02") != "2027-01-10" {
		t.Fatalf("record calibration: %d, due %v", code, ecg.CalibrationDue)
	}
	code, body = post("/config/device-types/ECG/active", url.Values{"active": {"false"}, "version": {"1"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-reason"`) {
		t.Fatalf("deactivate a type without a reason: %d", code)
	}
}
