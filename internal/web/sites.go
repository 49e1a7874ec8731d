package web

import (
	"net/http"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/site"
)

func (s *Server) siteList(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("archived") == "1"
	sites, err := site.List(r.Context(), s.DB, all)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Sites", map[string]any{"Sites": sites, "ShowArchived": all})
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The site was created."
	case "archived":
		p.Notice = "The site was archived. It stays in the records and no longer appears in pickers."
	}
	s.render(w, r, http.StatusOK, "sites.html", p)
}

// siteForm reads a site from a posted form.
func siteForm(r *http.Request) site.Site {
	return site.Site{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Address: r.PostFormValue("address"), TimeZone: r.PostFormValue("time_zone")}
}

func (s *Server) siteNew(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "New site", map[string]any{"Zones": timeZones})
	p.Form = map[string][]string{"time_zone": {visitOf(r).settings.Get("locale.time_zone")}}
	s.render(w, r, http.StatusOK, "site_form.html", p)
}

func (s *Server) siteCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	created, err := site.Create(r.Context(), s.DB, visitOf(r).user.Actor(), siteForm(r))
	if err != nil {
		s.formProblem(w, r, "site_form.html", s.newPage(r, "New site", map[string]any{"Zones": timeZones}), err)
		return
	}
	redirect(w, r, "/sites?notice=created#site-"+created.Code)
}

func (s *Server) siteShow(w http.ResponseWriter, r *http.Request) {
	st, err := site.Get(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Site", nil), err)
		return
	}
	p := s.newPage(r, "Site "+st.Code, map[string]any{"Site": st, "Zones": timeZones})
	p.Form = map[string][]string{"name": {st.Name}, "address": {st.Address}, "time_zone": {st.TimeZone}, "version": {strconv.Itoa(st.Version)}}
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "Your changes were saved."
	}
	s.render(w, r, http.StatusOK, "site.html", p)
}

func (s *Server) siteUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := site.Update(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, siteForm(r), r.PostFormValue("reason"))
	if err != nil {
		st, _ := site.Get(r.Context(), s.DB, code)
		s.formProblem(w, r, "site.html", s.newPage(r, "Site "+code, map[string]any{"Site": st, "Zones": timeZones}), err)
		return
	}
	redirect(w, r, "/sites/"+code+"?notice=saved")
}

func (s *Server) siteArchive(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := site.Archive(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, r.PostFormValue("reason"))
	if err != nil {
		st, _ := site.Get(r.Context(), s.DB, code)
		p := s.newPage(r, "Site "+code, map[string]any{"Site": st, "Zones": timeZones, "Archiving": true})
		p.Form.Set("name", st.Name)
		p.Form.Set("address", st.Address)
		p.Form.Set("time_zone", st.TimeZone)
		s.formProblem(w, r, "site.html", p, err)
		return
	}
	redirect(w, r, "/sites?notice=archived")
}

// timeZones offers the zones clinics most often use in a datalist; any IANA
// name is accepted.
var timeZones = []string{"UTC", "Europe/Amsterdam", "Europe/Berlin", "Europe/Brussels", "Europe/London", "Europe/Paris",
	"Europe/Madrid", "Europe/Warsaw", "Europe/Stockholm", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Toronto", "Australia/Sydney", "Asia/Singapore", "Asia/Tokyo"}
