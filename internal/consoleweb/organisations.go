package consoleweb

import (
	"net/http"
	"net/url"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// instanceRow is an instance as the pages show it: the registry's record,
// its process as the runtime sees it, and the operation holding it.
type instanceRow struct {
	console.Instance
	Process console.Status
	Op      *console.Operation
}

// Working reports whether something is under way, so the page keeps
// polling for progress.
func (i instanceRow) Working() bool {
	return i.Op != nil || i.State == console.Requested || i.State == console.Provisioning
}

// envView is an environment with its instance rows.
type envView struct {
	console.Environment
	Rows []instanceRow
}

func (s *Server) status(key string) console.Status {
	if s.Console.Runtime == nil {
		return console.Status{Process: console.Down}
	}
	return s.Console.Runtime.Status(key)
}

func (s *Server) row(r *http.Request, in console.Instance) (instanceRow, error) {
	row := instanceRow{Instance: in, Process: s.status(in.Key())}
	op, held, err := console.Holder(r.Context(), s.Console.DB, in.ID)
	if err != nil {
		return row, err
	}
	if held {
		row.Op = &op
	}
	return row, nil
}

func (s *Server) envViews(r *http.Request, org string) ([]envView, bool, error) {
	envs, err := console.Environments(r.Context(), s.Console.DB, org)
	if err != nil {
		return nil, false, err
	}
	working := false
	out := make([]envView, len(envs))
	for i, e := range envs {
		out[i].Environment = e
		for _, in := range e.Instances {
			row, err := s.row(r, in)
			if err != nil {
				return nil, false, err
			}
			working = working || row.Working()
			out[i].Rows = append(out[i].Rows, row)
		}
	}
	return out, working, nil
}

type orgSummary struct {
	console.Organisation
	Environments []envView
}

func (s *Server) organisationList(w http.ResponseWriter, r *http.Request) {
	orgs, err := console.Organisations(r.Context(), s.Console.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]orgSummary, len(orgs))
	for i, o := range orgs {
		envs, _, err := s.envViews(r, o.Code)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		list[i] = orgSummary{Organisation: o, Environments: envs}
	}
	p := s.newPage(r, "Organisations", list)
	switch r.URL.Query().Get("notice") {
	case "password":
		p.Notice = "Your password has been changed."
	}
	s.render(w, r, http.StatusOK, "organisations.html", p)
}

func (s *Server) organisationNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "organisation_form.html", s.newPage(r, "New organisation", nil))
}

func (s *Server) organisationCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	o, err := console.CreateOrganisation(r.Context(), s.Console.DB, visitOf(r).user.Actor(), r.PostFormValue("code"), r.PostFormValue("name"))
	if err != nil {
		s.formProblem(w, r, "organisation_form.html", s.newPage(r, "New organisation", nil), err)
		return
	}
	redirect(w, r, "/o/"+url.PathEscape(o.Code)+"?notice=created")
}

// orgPage is the organisation page's data: its timeline and environments.
type orgPage struct {
	Org          console.Organisation
	Timeline     []console.Stage
	Environments []envView
	Working      bool
	// Checklist is the go-live checklist with the milestones' signatures
	// and what the destroy rules allow now.
	Checklist console.Checklist
	// Plans says how each VAL and PROD environment was made, by code.
	Plans map[string]console.PairPlan
	// IQ are the organisation's issued IQ documents, newest first.
	IQ []console.IQDocument
}

func (s *Server) orgPageData(r *http.Request, code string) (orgPage, error) {
	var d orgPage
	var err error
	if d.Org, err = console.GetOrganisation(r.Context(), s.Console.DB, code); err != nil {
		return d, err
	}
	if d.Timeline, err = console.TimelineOf(r.Context(), s.Console.DB, code); err != nil {
		return d, err
	}
	if d.Checklist, err = console.GoLiveChecklist(r.Context(), s.Console.DB, code); err != nil {
		return d, err
	}
	if d.Plans, err = s.pairPlans(r, code); err != nil {
		return d, err
	}
	if d.IQ, err = console.IQDocuments(r.Context(), s.Console.DB, code); err != nil {
		return d, err
	}
	d.Environments, d.Working, err = s.envViews(r, code)
	return d, err
}

func (s *Server) organisationShow(w http.ResponseWriter, r *http.Request) {
	d, err := s.orgPageData(r, r.PathValue("org"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Organisation", nil), err)
		return
	}
	p := s.newPage(r, d.Org.Name, d)
	p.Form = url.Values{}
	for _, st := range d.Timeline {
		p.Form.Set("planned_"+string(st.Kind), st.Planned)
	}
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The organisation was created. Give it its first environment."
	case "environment":
		p.Notice = "The environment was requested; its instances are being made. This page follows their progress."
	case "planned":
		p.Notice = "The timeline was saved."
	case "destroying":
		p.Notice = "The environment's instances are being destroyed; their final backups are kept."
	}
	s.render(w, r, http.StatusOK, "organisation.html", p)
}

func (s *Server) timelinePlan(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	by := visitOf(r).user.Actor()
	fe := check.FieldErrors{}
	for _, k := range console.Timeline {
		err := console.PlanStage(r.Context(), s.Console.DB, by, org, k, r.PostFormValue("planned_"+string(k)), r.PostFormValue("reason"))
		if f, ok := check.AsFieldErrors(err); ok {
			for field, msg := range f {
				fe.Add(field, "%s", msg)
			}
		} else if err != nil {
			s.formProblem(w, r, "organisation.html", s.newPage(r, "Organisation", nil), err)
			return
		}
	}
	if len(fe) > 0 {
		d, err := s.orgPageData(r, org)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.formProblem(w, r, "organisation.html", s.newPage(r, d.Org.Name, d), fe)
		return
	}
	redirect(w, r, "/o/"+url.PathEscape(org)+"?notice=planned")
}
