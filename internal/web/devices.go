package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/site"
)

// siteToday is the current date at a site: a calibration lapses at the
// site's midnight, not the server's.
func siteToday(timeZone string) time.Time {
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		loc = time.UTC
	}
	return time.Now().In(loc)
}

// dateValue is a date as date inputs and tables show it, or "" for none.
func dateValue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// deviceRow is a device with what the pages say about its use today.
type deviceRow struct {
	device.Device
	// Problem says why the device cannot be used, or is "".
	Problem string
	Due     string
	Last    string
	DueDays int
	DueSoon bool
}

func rowOf(d device.Device) deviceRow {
	today := siteToday(d.SiteTimeZone)
	row := deviceRow{Device: d, Due: dateValue(d.CalibrationDue), Last: dateValue(d.LastCalibrated)}
	if err := device.Usable(d, today); err != nil {
		row.Problem = err.Error()
	} else {
		row.DueDays, row.DueSoon = device.DaysUntilDue(d, today)
	}
	return row
}

func (s *Server) deviceList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := device.Filter{SiteCode: q.Get("site"), TypeCode: q.Get("type"), Status: device.Status(q.Get("status")), Text: q.Get("q")}
	devices, err := device.List(r.Context(), s.DB, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]deviceRow, len(devices))
	for i, d := range devices {
		rows[i] = rowOf(d)
	}
	sites, err := site.List(r.Context(), s.DB, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	types, err := device.ListTypes(r.Context(), s.DB, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Devices", map[string]any{"Devices": rows, "Sites": sites, "Types": types, "Statuses": device.Statuses, "Filter": f})
	if q.Get("notice") == "created" {
		p.Notice = "The device " + q.Get("tag") + " was registered."
	}
	s.render(w, r, http.StatusOK, "devices.html", p)
}

// deviceChoices are what the device form offers: active types and sites,
// plus the device's own type and site if they have since been deactivated or
// archived, so the form can show where the device is now.
func (s *Server) deviceChoices(r *http.Request, d device.Device) (map[string]any, error) {
	allTypes, err := device.ListTypes(r.Context(), s.DB, true)
	if err != nil {
		return nil, err
	}
	var types []device.Type
	for _, t := range allTypes {
		if t.Active || t.Code == d.TypeCode {
			types = append(types, t)
		}
	}
	allSites, err := site.List(r.Context(), s.DB, true)
	if err != nil {
		return nil, err
	}
	var sites []site.Site
	for _, st := range allSites {
		if !st.Archived || st.Code == d.SiteCode {
			sites = append(sites, st)
		}
	}
	return map[string]any{"Device": rowOf(d), "Types": types, "Sites": sites, "Statuses": device.Statuses}, nil
}

// formDate reads a date field; a value that is not a date is a field error.
func formDate(fe check.FieldErrors, field, value string) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, value)
	if err != nil {
		fe.Add(field, "Enter the date as YYYY-MM-DD, for example 2026-10-01.")
	}
	return t
}

// deviceForm reads a device from a posted form, with the errors of any
// date that could not be read.
func deviceForm(r *http.Request) (device.Device, check.FieldErrors) {
	fe := check.FieldErrors{}
	d := device.Device{AssetTag: r.PostFormValue("asset_tag"), SerialNumber: r.PostFormValue("serial_number"),
		Model: r.PostFormValue("model"), Manufacturer: r.PostFormValue("manufacturer"), TypeCode: r.PostFormValue("type"),
		SiteCode: r.PostFormValue("site"), CalibrationDue: formDate(fe, "calibration_due", r.PostFormValue("calibration_due")),
		Status: device.Status(r.PostFormValue("status")), Notes: r.PostFormValue("notes")}
	return d, fe
}

// withDateErrors adds the form's date errors to whatever else Validate
// finds, so the user sees every problem at once.
func withDateErrors(d device.Device, fe check.FieldErrors) error {
	if len(fe) == 0 {
		return nil
	}
	if more, ok := check.AsFieldErrors(d.Validate()); ok {
		for f, msg := range more {
			fe.Add(f, "%s", msg)
		}
	}
	return fe
}

// fillDevice puts a stored device's editable values into the page's form.
func fillDevice(p *page, d device.Device) {
	if p.Form == nil {
		p.Form = url.Values{}
	}
	for k, v := range map[string]string{"serial_number": d.SerialNumber, "model": d.Model, "manufacturer": d.Manufacturer,
		"type": d.TypeCode, "site": d.SiteCode, "calibration_due": dateValue(d.CalibrationDue), "status": string(d.Status), "notes": d.Notes} {
		p.Form.Set(k, v)
	}
}

func (s *Server) deviceNew(w http.ResponseWriter, r *http.Request) {
	data, err := s.deviceChoices(r, device.Device{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "New device", data)
	p.Form = url.Values{"status": {string(device.InService)}, "type": {r.URL.Query().Get("type")}, "site": {r.URL.Query().Get("site")}}
	s.render(w, r, http.StatusOK, "device.html", p)
}

func (s *Server) deviceCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	d, fe := deviceForm(r)
	err := withDateErrors(d, fe)
	if err == nil {
		d, err = device.Create(r.Context(), s.DB, visitOf(r).user.Actor(), d)
	}
	if err != nil {
		data, derr := s.deviceChoices(r, device.Device{})
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		s.formProblem(w, r, "device.html", s.newPage(r, "New device", data), err)
		return
	}
	redirect(w, r, "/config/devices?notice=created&tag="+url.QueryEscape(d.AssetTag)+"#device-"+d.AssetTag)
}

// devicePage is the page of one stored device, its form filled from the
// post when there is one.
func (s *Server) devicePage(r *http.Request, tag string) (*page, device.Device, error) {
	d, err := device.Get(r.Context(), s.DB, tag)
	if err != nil {
		return nil, d, err
	}
	data, err := s.deviceChoices(r, d)
	if err != nil {
		return nil, d, err
	}
	return s.newPage(r, "Device "+d.AssetTag, data), d, nil
}

func (s *Server) deviceShow(w http.ResponseWriter, r *http.Request) {
	p, d, err := s.devicePage(r, r.PathValue("tag"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Device", nil), err)
		return
	}
	fillDevice(p, d)
	switch r.URL.Query().Get("notice") {
	case "saved":
		p.Notice = "Your changes were saved."
	case "calibrated":
		p.Notice = "The calibration was recorded; the next one is due on " + dateValue(d.CalibrationDue) + "."
	}
	s.render(w, r, http.StatusOK, "device.html", p)
}

func (s *Server) deviceUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	tag := r.PathValue("tag")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	d, fe := deviceForm(r)
	d.AssetTag = tag
	err := withDateErrors(d, fe)
	if err == nil {
		err = device.Update(r.Context(), s.DB, visitOf(r).user.Actor(), tag, version, d, r.PostFormValue("reason"))
	}
	if err != nil {
		p, _, perr := s.devicePage(r, tag)
		if perr != nil {
			err = perr
			p = s.newPage(r, "Device", nil)
		}
		s.formProblem(w, r, "device.html", p, err)
		return
	}
	redirect(w, r, "/config/devices/"+tag+"?notice=saved")
}

func (s *Server) deviceCalibrate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	tag := r.PathValue("tag")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	fe := check.FieldErrors{}
	on := formDate(fe, "calibrated_on", r.PostFormValue("calibrated_on"))
	err := fe.Err()
	if err == nil {
		err = device.RecordCalibration(r.Context(), s.DB, visitOf(r).user.Actor(), tag, version, on, r.PostFormValue("reason"))
	}
	if err != nil {
		p, d, perr := s.devicePage(r, tag)
		if perr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Device", nil), perr)
			return
		}
		p.Data.(map[string]any)["Calibrating"] = true
		fillDevice(p, d)
		s.formProblem(w, r, "device.html", p, err)
		return
	}
	redirect(w, r, "/config/devices/"+tag+"?notice=calibrated")
}
