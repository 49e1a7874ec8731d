package web

import (
	"net/http"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/lab"
)

// registerLabRoutes registers the pages for labs, lab tests and panels.
// Seeing needs config.view, changing config.manage.
func (s *Server) registerLabRoutes() {
	view, manage := need(access.ConfigView), need(access.ConfigManage)
	s.handle("GET", "/config/labs", view, s.labList)
	s.handle("GET", "/config/labs/new", manage, s.labNew)
	s.handle("POST", "/config/labs", manage, s.labSave)
	s.handle("GET", "/config/labs/{code}", view, s.labShow)
	s.handle("POST", "/config/labs/{code}", manage, s.labSave)
	s.handle("POST", "/config/labs/{code}/active", manage, s.labSetActive)

	s.handle("GET", "/config/lab-tests", view, s.labTestList)
	s.handle("GET", "/config/lab-tests/new", manage, s.labTestNew)
	s.handle("POST", "/config/lab-tests", manage, s.labTestSave)
	s.handle("GET", "/config/lab-tests/{code}", view, s.labTestShow)
	s.handle("POST", "/config/lab-tests/{code}", manage, s.labTestSave)
	s.handle("POST", "/config/lab-tests/{code}/active", manage, s.labTestSetActive)

	s.handle("GET", "/config/lab-panels", view, s.labPanelList)
	s.handle("GET", "/config/lab-panels/new", manage, s.labPanelNew)
	s.handle("POST", "/config/lab-panels", manage, s.labPanelSave)
	s.handle("GET", "/config/lab-panels/{code}", view, s.labPanelShow)
	s.handle("POST", "/config/lab-panels/{code}", manage, s.labPanelSave)
	s.handle("POST", "/config/lab-panels/{code}/active", manage, s.labPanelSetActive)
}

// listQuery reads the search box and the "show inactive" switch of a list.
func listQuery(r *http.Request) (string, bool) {
	return r.URL.Query().Get("q"), r.URL.Query().Get("inactive") == "1"
}

// listNotice turns a list page's notice parameter into a sentence.
func listNotice(p *page, r *http.Request, noun string) {
	switch r.URL.Query().Get("notice") {
	case "deactivated":
		p.Notice = "The " + noun + " was deactivated. It stays in the records and is no longer offered."
	case "reactivated":
		p.Notice = "The " + noun + " was reactivated."
	}
}

// showNotice turns an edit page's notice parameter into a sentence.
func showNotice(p *page, r *http.Request, noun string) {
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The " + noun + " was created."
	case "saved":
		p.Notice = "Your changes were saved."
	case "reactivated":
		p.Notice = "The " + noun + " was reactivated."
	}
}

func (s *Server) labList(w http.ResponseWriter, r *http.Request) {
	q, inactive := listQuery(r)
	labs, err := lab.ListLabs(r.Context(), s.DB, q, inactive)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Labs", map[string]any{"Labs": labs, "Query": q, "Inactive": inactive})
	listNotice(p, r, "lab")
	s.render(w, r, http.StatusOK, "labs.html", p)
}

func labForm(r *http.Request) lab.Lab {
	return lab.Lab{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Kind: lab.Kind(r.PostFormValue("kind")),
		Address: r.PostFormValue("address"), Accreditation: r.PostFormValue("accreditation")}
}

func labKinds() []lab.Kind { return []lab.Kind{lab.Local, lab.Central} }

func (s *Server) labNew(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "New lab", map[string]any{"Lab": lab.StoredLab{}, "Kinds": labKinds()})
	p.Form = map[string][]string{"kind": {string(lab.Local)}}
	s.render(w, r, http.StatusOK, "lab.html", p)
}

func (s *Server) labShow(w http.ResponseWriter, r *http.Request) {
	l, err := lab.GetLab(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Lab", nil), err)
		return
	}
	p := s.newPage(r, "Lab "+l.Code, map[string]any{"Lab": l, "Kinds": labKinds()})
	p.Form = map[string][]string{"name": {l.Name}, "kind": {string(l.Kind)}, "address": {l.Address}, "accreditation": {l.Accreditation}}
	showNotice(p, r, "lab")
	s.render(w, r, http.StatusOK, "lab.html", p)
}

// labSave creates a lab (POST /config/labs) or saves an existing one.
func (s *Server) labSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code, by := r.PathValue("code"), visitOf(r).user.Actor()
	if code == "" {
		created, err := lab.CreateLab(r.Context(), s.DB, by, labForm(r))
		if err != nil {
			s.formProblem(w, r, "lab.html", s.newPage(r, "New lab", map[string]any{"Lab": lab.StoredLab{}, "Kinds": labKinds()}), err)
			return
		}
		redirect(w, r, "/config/labs/"+created.Code+"?notice=created")
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := lab.UpdateLab(r.Context(), s.DB, by, code, version, labForm(r), r.PostFormValue("reason")); err != nil {
		l, _ := lab.GetLab(r.Context(), s.DB, code)
		s.formProblem(w, r, "lab.html", s.newPage(r, "Lab "+code, map[string]any{"Lab": l, "Kinds": labKinds()}), err)
		return
	}
	redirect(w, r, "/config/labs/"+code+"?notice=saved")
}

func (s *Server) labSetActive(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	active := r.PostFormValue("active") == "true"
	if err := lab.SetLabActive(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, active, r.PostFormValue("reason")); err != nil {
		l, _ := lab.GetLab(r.Context(), s.DB, code)
		p := s.newPage(r, "Lab "+code, map[string]any{"Lab": l, "Kinds": labKinds(), "Toggling": true})
		p.Form.Set("name", l.Name)
		p.Form.Set("kind", string(l.Kind))
		p.Form.Set("address", l.Address)
		p.Form.Set("accreditation", l.Accreditation)
		s.formProblem(w, r, "lab.html", p, err)
		return
	}
	if active {
		redirect(w, r, "/config/labs/"+code+"?notice=reactivated")
		return
	}
	redirect(w, r, "/config/labs?notice=deactivated")
}

// fieldErrorsOf returns the field errors in err, or nil.
func fieldErrorsOf(err error) check.FieldErrors {
	fe, _ := check.AsFieldErrors(err)
	return fe
}
