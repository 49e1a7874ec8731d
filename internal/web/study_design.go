package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/study"
)

// The study design pages beyond the study page itself: editing an event
// (name, type, repeating, epoch, arm or cohort, nominal time, order),
// removing or moving it, no longer collecting a form at it, and choosing
// another published version of a form the study uses. Each post carries the
// study version the user opened and a reason.

func (s *Server) registerStudyDesignRoutes() {
	s.handle("GET", "/studies/{code}/events/{event}", need(access.StudyView), s.studyEventPage)
	s.handle("POST", "/studies/{code}/events/{event}", need(access.StudyDesign), s.studyEventSave)
	s.handle("POST", "/studies/{code}/events/{event}/remove", need(access.StudyDesign), s.studyEventRemove)
	s.handle("POST", "/studies/{code}/events/{event}/move", need(access.StudyDesign), s.studyEventMove)
	s.handle("POST", "/studies/{code}/events/{event}/forms/remove", need(access.StudyDesign), s.studyEventFormRemove)
	s.handle("POST", "/studies/{code}/forms/version", need(access.StudyDesign), s.studyFormVersion)
}

func studyVersion(r *http.Request) int {
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	return v
}

// eventPage loads the event editing page; on GET the form shows what is stored.
func (s *Server) eventPage(r *http.Request) (*page, error) {
	code, oid := r.PathValue("code"), r.PathValue("event")
	st, err := study.Get(r.Context(), s.DB, code)
	if err != nil {
		return nil, err
	}
	e, err := study.GetEvent(r.Context(), s.DB, code, oid)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, "Event "+oid, map[string]any{"Study": st, "Event": e, "Editable": st.Status == study.Design})
	if r.Method == http.MethodGet {
		p.Form = url.Values{"event_name": {e.Name}, "event_type": {string(e.Type)}, "repeating": {yes(e.Repeating)},
			"epoch": {e.Epoch}, "arm": {e.Arm}, "offset_hours": {study.OffsetText(e.NominalOffsetMinutes)},
			"window_before": {intValue(e.WindowBeforeMinutes)}, "window_after": {intValue(e.WindowAfterMinutes)},
			"order": {strconv.Itoa(e.Order)}, "version": {strconv.Itoa(st.Version)}}
	}
	return p, nil
}

func (s *Server) studyEventPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.eventPage(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Event", nil), err)
		return
	}
	s.render(w, r, http.StatusOK, "study_event.html", p)
}

// offsetMinutes reads a nominal time in hours ("24", "-0.5") as minutes.
func offsetMinutes(v string) (*int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	h, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, check.FieldErrors{"offset_hours": "Give the planned time in hours from the reference time, for example 24 or -0.5."}
	}
	m := int(h*60 + copysign(0.5, h))
	return &m, nil
}

// postedEvent reads an event as the add and edit forms post it: name,
// type, repeating, epoch, arm or cohort, and the schedule (nominal time and
// window). oid names the event: typed in when it is added, from the
// address when it is edited.
func postedEvent(r *http.Request, oid string) (study.Event, error) {
	e := study.Event{OID: oid, Name: r.PostFormValue("event_name"), Type: odm.EventType(r.PostFormValue("event_type")),
		Repeating: r.PostFormValue("repeating") == "yes", Epoch: r.PostFormValue("epoch"), Arm: r.PostFormValue("arm")}
	err := readSchedule(r, &e)
	return e, err
}

// readSchedule reads an event's nominal time (hours) and window (minutes)
// from the posted form into e.
func readSchedule(r *http.Request, e *study.Event) error {
	off, err := offsetMinutes(r.PostFormValue("offset_hours"))
	if err != nil {
		return err
	}
	fe := check.FieldErrors{}
	e.NominalOffsetMinutes = off
	e.WindowBeforeMinutes = optionalInt(fe, r, "window_before")
	e.WindowAfterMinutes = optionalInt(fe, r, "window_after")
	return fe.Err()
}

func copysign(x, sign float64) float64 {
	if sign < 0 {
		return -x
	}
	return x
}

func (s *Server) studyEventSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	e, err := postedEvent(r, r.PathValue("event"))
	if err == nil {
		if e.Order, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("order"))); err != nil || e.Order < 1 {
			err = check.FieldErrors{"order": "Give the event's place in the schedule as a number from 1."}
		}
	}
	if err == nil {
		err = study.EditEvent(r.Context(), s.DB, visitOf(r).user.Actor(), code, studyVersion(r), e, r.PostFormValue("reason"))
	}
	if err != nil {
		p, perr := s.eventPage(r)
		if perr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Event", nil), perr)
			return
		}
		s.formProblem(w, r, "study_event.html", p, err)
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

// studyDesignChange runs a change posted from the study page and shows the
// page again with the problem, or goes back to it.
func (s *Server) studyDesignChange(w http.ResponseWriter, r *http.Request, apply func(code string) error) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	if err := apply(code); err != nil {
		s.studyProblem(w, r, code, renameField(err, "reason", "design_reason"))
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

func (s *Server) studyEventRemove(w http.ResponseWriter, r *http.Request) {
	s.studyDesignChange(w, r, func(code string) error {
		return study.RemoveEvent(r.Context(), s.DB, visitOf(r).user.Actor(), code, studyVersion(r), r.PathValue("event"), r.PostFormValue("reason"))
	})
}

func (s *Server) studyEventMove(w http.ResponseWriter, r *http.Request) {
	s.studyDesignChange(w, r, func(code string) error {
		return study.MoveEvent(r.Context(), s.DB, visitOf(r).user.Actor(), code, studyVersion(r), r.PathValue("event"), step(r), r.PostFormValue("reason"))
	})
}

func (s *Server) studyEventFormRemove(w http.ResponseWriter, r *http.Request) {
	s.studyDesignChange(w, r, func(code string) error {
		return study.UnassignForm(r.Context(), s.DB, visitOf(r).user.Actor(), code, studyVersion(r), r.PathValue("event"), r.PostFormValue("form"), r.PostFormValue("reason"))
	})
}

func (s *Server) studyFormVersion(w http.ResponseWriter, r *http.Request) {
	s.studyDesignChange(w, r, func(code string) error {
		// form_version is "OID vN", as the page offers it.
		oid, num, ok := strings.Cut(r.PostFormValue("form_version"), " v")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			return check.FieldErrors{"form_version": fmt.Sprintf("Choose a published version of the form, not %q.", r.PostFormValue("form_version"))}
		}
		return study.ChangeFormVersion(r.Context(), s.DB, visitOf(r).user.Actor(), code, studyVersion(r), oid, n, r.PostFormValue("reason"))
	})
}
