package consoleweb

import (
	"net/http"
	"net/url"

	"github.com/cohort-clinical/cohort/internal/console"
)

// envForm is what the new-environment form offers.
type envForm struct {
	Org     console.Organisation
	Rules   []console.KindRule
	Sources []console.Instance
}

func (s *Server) envFormData(r *http.Request) (envForm, error) {
	var d envForm
	var err error
	if d.Org, err = console.GetOrganisation(r.Context(), s.Console.DB, r.PathValue("org")); err != nil {
		return d, err
	}
	d.Rules = console.Rules
	all, err := console.InstancesIn(r.Context(), s.Console.DB, console.Running, console.Stopped)
	if err != nil {
		return d, err
	}
	// Every instance that holds a finished database is offered; the rules
	// decide on submit and say why when a source is not allowed.
	d.Sources = all
	return d, nil
}

func (s *Server) environmentNew(w http.ResponseWriter, r *http.Request) {
	d, err := s.envFormData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "New environment", nil), err)
		return
	}
	p := s.newPage(r, "New environment for "+d.Org.Name, d)
	p.Form = r.URL.Query()
	s.render(w, r, http.StatusOK, "environment_form.html", p)
}

func (s *Server) environmentCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	req := console.NewEnvironment{Org: org, Code: r.PostFormValue("code"), Purpose: console.Purpose(r.PostFormValue("purpose")),
		From: r.PostFormValue("from"), Reason: r.PostFormValue("reason"), RequestKey: r.PostFormValue("request_key")}
	var err error
	if req.Kind, err = console.ParseKind(r.PostFormValue("kind")); err != nil || r.PostFormValue("kind") == "" {
		req.Kind = ""
	}
	_, _, err = s.Console.CreateEnvironment(r.Context(), visitOf(r).user.Actor(), req)
	if err != nil {
		d, derr := s.envFormData(r)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		s.formProblem(w, r, "environment_form.html", s.newPage(r, "New environment for "+d.Org.Name, d), err)
		return
	}
	redirect(w, r, "/o/"+url.PathEscape(org)+"?notice=environment")
}

func (s *Server) environmentDestroy(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	_, err := s.Console.DestroyEnvironment(r.Context(), visitOf(r).user.Actor(), org, r.PathValue("env"), r.PostFormValue("reason"))
	if err != nil {
		d, derr := s.orgPageData(r, org)
		if derr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Organisation", nil), derr)
			return
		}
		p := s.newPage(r, d.Org.Name, d)
		p.Form.Set("destroy_env", r.PathValue("env"))
		s.formProblem(w, r, "organisation.html", p, err)
		return
	}
	redirect(w, r, "/o/"+url.PathEscape(org)+"?notice=destroying")
}
