package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/device"
)

func (s *Server) deviceTypeList(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("inactive") == "1"
	types, err := device.ListTypes(r.Context(), s.DB, all)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Device types", map[string]any{"Types": types, "ShowInactive": all})
	code := r.URL.Query().Get("code")
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The device type " + code + " was created."
	case "deactivated":
		p.Notice = "The device type " + code + " was deactivated. Its devices stay as they are; no new device can be given this type."
	case "reactivated":
		p.Notice = "The device type " + code + " was reactivated."
	}
	s.render(w, r, http.StatusOK, "device_types.html", p)
}

// typeForm reads a device type from a posted form. A blank or unreadable
// interval is 0, which Validate refuses when calibration is required.
func typeForm(r *http.Request) device.Type {
	days, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("calibration_interval_days")))
	return device.Type{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		CalibrationRequired: r.PostFormValue("calibration_required") == "yes", CalibrationIntervalDays: days}
}

// fillType puts a stored type's editable values into the page's form.
func fillType(p *page, t device.Type) {
	if p.Form == nil {
		p.Form = url.Values{}
	}
	p.Form.Set("name", t.Name)
	p.Form.Set("description", t.Description)
	p.Form.Set("calibration_required", "")
	p.Form.Set("calibration_interval_days", "")
	if t.CalibrationRequired {
		p.Form.Set("calibration_required", "yes")
		p.Form.Set("calibration_interval_days", strconv.Itoa(t.CalibrationIntervalDays))
	}
}

func (s *Server) deviceTypeNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "device_type.html", s.newPage(r, "New device type", map[string]any{"Type": device.Type{}}))
}

func (s *Server) deviceTypeCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	t, err := device.CreateType(r.Context(), s.DB, visitOf(r).user.Actor(), typeForm(r))
	if err != nil {
		s.formProblem(w, r, "device_type.html", s.newPage(r, "New device type", map[string]any{"Type": device.Type{}}), err)
		return
	}
	redirect(w, r, "/config/device-types?notice=created&code="+url.QueryEscape(t.Code)+"#type-"+t.Code)
}

func (s *Server) deviceTypeShow(w http.ResponseWriter, r *http.Request) {
	t, err := device.GetType(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Device type", nil), err)
		return
	}
	p := s.newPage(r, "Device type "+t.Code, map[string]any{"Type": t})
	fillType(p, t)
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "Your changes were saved."
	}
	s.render(w, r, http.StatusOK, "device_type.html", p)
}

func (s *Server) deviceTypeUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := device.UpdateType(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, typeForm(r), r.PostFormValue("reason"))
	if err != nil {
		t, gerr := device.GetType(r.Context(), s.DB, code)
		if gerr != nil {
			err = gerr
		}
		s.formProblem(w, r, "device_type.html", s.newPage(r, "Device type "+code, map[string]any{"Type": t}), err)
		return
	}
	redirect(w, r, "/config/device-types/"+code+"?notice=saved")
}

func (s *Server) deviceTypeSetActive(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	change, notice := device.DeactivateType, "deactivated"
	if r.PostFormValue("active") == "true" {
		change, notice = device.ReactivateType, "reactivated"
	}
	if err := change(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, r.PostFormValue("reason")); err != nil {
		t, gerr := device.GetType(r.Context(), s.DB, code)
		if gerr != nil {
			err = gerr
		}
		p := s.newPage(r, "Device type "+code, map[string]any{"Type": t, "Toggling": true})
		fillType(p, t)
		s.formProblem(w, r, "device_type.html", p, err)
		return
	}
	redirect(w, r, "/config/device-types?notice="+notice+"&code="+url.QueryEscape(code))
}
