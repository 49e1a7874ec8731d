package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/lab"
)

// panelPageData is what lab_panel.html shows: the panel, its tests in the
// order being edited, and the active tests that can be added.
func (s *Server) panelPageData(r *http.Request, p lab.StoredPanel, order []string) (map[string]any, error) {
	tests, err := lab.ListTests(r.Context(), s.DB, "", true)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	var addable []lab.StoredTest
	for _, t := range tests {
		names[t.Code] = t.Name
		if t.Active && !containsString(order, t.Code) {
			addable = append(addable, t)
		}
	}
	type row struct {
		Index, Position int
		Code, Name      string
		Last            bool
	}
	rows := make([]row, len(order))
	for i, c := range order {
		rows[i] = row{Index: i, Position: i + 1, Code: c, Name: names[c], Last: i == len(order)-1}
	}
	return map[string]any{"Panel": p, "Rows": rows, "Addable": addable}, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) renderPanel(w http.ResponseWriter, r *http.Request, status int, title string, p lab.StoredPanel, order []string, err error) {
	data, derr := s.panelPageData(r, p, order)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	pg := s.newPage(r, title, data)
	if err != nil {
		s.formProblem(w, r, "lab_panel.html", pg, err)
		return
	}
	showNotice(pg, r, "panel")
	s.render(w, r, status, "lab_panel.html", pg)
}

func (s *Server) labPanelList(w http.ResponseWriter, r *http.Request) {
	q, inactive := listQuery(r)
	panels, err := lab.ListPanels(r.Context(), s.DB, q, inactive)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Panels", map[string]any{"Panels": panels, "Query": q, "Inactive": inactive})
	listNotice(p, r, "panel")
	s.render(w, r, http.StatusOK, "lab_panels.html", p)
}

func (s *Server) labPanelNew(w http.ResponseWriter, r *http.Request) {
	s.renderPanel(w, r, http.StatusOK, "New panel", lab.StoredPanel{}, nil, nil)
}

func (s *Server) labPanelShow(w http.ResponseWriter, r *http.Request) {
	p, err := lab.GetPanel(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Panel", nil), err)
		return
	}
	r.PostForm = map[string][]string{"name": {p.Name}}
	s.renderPanel(w, r, http.StatusOK, "Panel "+p.Code, p, p.Tests, nil)
}

// rearrange applies the panel form's list buttons — "up:i", "down:i",
// "remove:i" — to the order of tests.
func rearrange(order []string, move string) []string {
	what, at, _ := strings.Cut(move, ":")
	i, err := strconv.Atoi(at)
	if err != nil || i < 0 || i >= len(order) {
		return order
	}
	switch {
	case what == "up" && i > 0:
		order[i-1], order[i] = order[i], order[i-1]
	case what == "down" && i < len(order)-1:
		order[i+1], order[i] = order[i], order[i+1]
	case what == "remove":
		order = append(order[:i], order[i+1:]...)
	}
	return order
}

// labPanelSave handles the panel form: adding, moving and removing tests
// redraw the form without saving; "Save" creates the panel (POST
// /config/lab-panels) or saves the existing one.
func (s *Server) labPanelSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code, by := r.PathValue("code"), visitOf(r).user.Actor()
	var stored lab.StoredPanel
	title := "New panel"
	if code != "" {
		var err error
		if stored, err = lab.GetPanel(r.Context(), s.DB, code); err != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Panel", nil), err)
			return
		}
		title = "Panel " + code
	}
	order := append([]string(nil), r.PostForm["tests"]...)
	switch {
	case r.PostForm.Has("add"):
		if t := r.PostFormValue("add_test"); t != "" && !containsString(order, t) {
			order = append(order, t)
		}
		s.renderPanel(w, r, http.StatusOK, title, stored, order, nil)
		return
	case r.PostFormValue("move") != "":
		s.renderPanel(w, r, http.StatusOK, title, stored, rearrange(order, r.PostFormValue("move")), nil)
		return
	}
	panel := lab.Panel{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Tests: order}
	var err error
	if code == "" {
		var created lab.StoredPanel
		if created, err = lab.CreatePanel(r.Context(), s.DB, by, panel); err == nil {
			code = created.Code
		}
	} else {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		err = lab.UpdatePanel(r.Context(), s.DB, by, code, version, panel, r.PostFormValue("reason"))
	}
	if err != nil {
		s.renderPanel(w, r, http.StatusUnprocessableEntity, title, stored, order, err)
		return
	}
	notice := "saved"
	if stored.ID == 0 {
		notice = "created"
	}
	redirect(w, r, "/config/lab-panels/"+code+"?notice="+notice)
}

func (s *Server) labPanelSetActive(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	active := r.PostFormValue("active") == "true"
	if err := lab.SetPanelActive(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, active, r.PostFormValue("reason")); err != nil {
		p, _ := lab.GetPanel(r.Context(), s.DB, code)
		reason := r.PostFormValue("reason")
		r.PostForm = map[string][]string{"name": {p.Name}, "reason": {reason}, "toggling": {"1"}}
		s.renderPanel(w, r, http.StatusUnprocessableEntity, "Panel "+code, p, p.Tests, err)
		return
	}
	if active {
		redirect(w, r, "/config/lab-panels/"+code+"?notice=reactivated")
		return
	}
	redirect(w, r, "/config/lab-panels?notice=deactivated")
}
