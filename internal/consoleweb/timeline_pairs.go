package consoleweb

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// pairPage is the form that makes a VAL or PROD pair from configuration
// and the migration output.
type pairPage struct {
	Org  console.Organisation
	Kind console.Kind
	Rule console.KindRule
	// Sources are the instances the pair may take its configuration from.
	Sources   []console.Instance
	SignedOff bool
	StudyRule string
	// Runs are the organisation's successful migration runs, newest
	// first; SignedOffRun is the signed-off one's number (0: none yet).
	Runs         []console.MigrationRun
	SignedOffRun int
}

func (s *Server) pairData(r *http.Request, kind string) (pairPage, error) {
	d := pairPage{Kind: console.VAL, StudyRule: console.StudyLibrariesRule}
	if k, err := console.ParseKind(kind); err == nil && k == console.Prod {
		d.Kind = console.Prod
	}
	d.Rule, _ = console.RuleOf(d.Kind)
	var err error
	org := r.PathValue("org")
	if d.Org, err = console.GetOrganisation(r.Context(), s.Console.DB, org); err != nil {
		return d, err
	}
	facts, err := console.FactsOf(r.Context(), s.Console.DB, org)
	if err != nil {
		return d, err
	}
	d.SignedOff = facts.Has(console.MigrationSignedOff)
	runs, err := console.MigrationRuns(r.Context(), s.Console.DB, org)
	if err != nil {
		return d, err
	}
	for _, run := range runs {
		if run.State == console.RunDone {
			d.Runs = append(d.Runs, run)
		}
		if run.SignedOff() && d.SignedOffRun == 0 {
			d.SignedOffRun = run.Number
		}
	}
	envs, err := console.Environments(r.Context(), s.Console.DB, org)
	if err != nil {
		return d, err
	}
	for _, e := range envs {
		if !e.Live() {
			continue
		}
		for _, in := range e.Instances {
			if in.Role != console.Main || (in.State != console.Running && in.State != console.Stopped) {
				continue
			}
			switch {
			case d.Kind == console.VAL && (in.Kind == console.Sandbox || in.Kind == console.PreProd),
				d.Kind == console.Prod && in.Kind == console.VAL && in.Purpose != console.Upgrade:
				d.Sources = append(d.Sources, in)
			}
		}
	}
	return d, nil
}

func (s *Server) pairNew(w http.ResponseWriter, r *http.Request) {
	d, err := s.pairData(r, r.URL.Query().Get("kind"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "New pair", nil), err)
		return
	}
	p := s.newPage(r, "New "+d.Rule.Label+" pair for "+d.Org.Name, d)
	p.Form = r.URL.Query()
	s.render(w, r, http.StatusOK, "pair_form.html", p)
}

func (s *Server) pairCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	d, err := s.pairData(r, r.PostFormValue("kind"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "New pair", nil), err)
		return
	}
	req := console.NewPair{Org: org, Kind: d.Kind, Code: r.PostFormValue("code"), ConfigFrom: r.PostFormValue("config_from"),
		Predefined: r.PostFormValue("predefined"), Reason: r.PostFormValue("reason"), RequestKey: r.PostFormValue("request_key")}
	if run := strings.TrimSpace(r.PostFormValue("run")); run != "" {
		if req.Run, err = strconv.Atoi(run); err != nil || req.Run <= 0 {
			s.formProblem(w, r, "pair_form.html", s.newPage(r, "New "+d.Rule.Label+" pair for "+d.Org.Name, d),
				check.FieldErrors{"run": "Write the migration run's number, or leave it empty."})
			return
		}
	}
	if _, _, err := s.Console.MakePair(r.Context(), visitOf(r).user.Actor(), req); err != nil {
		s.formProblem(w, r, "pair_form.html", s.newPage(r, "New "+d.Rule.Label+" pair for "+d.Org.Name, d), err)
		return
	}
	redirect(w, r, "/o/"+url.PathEscape(org)+"?notice=environment")
}

// pairPlans returns how each VAL and PROD environment of the organisation
// was made, by environment code, for the timeline's informal marks.
func (s *Server) pairPlans(r *http.Request, org string) (map[string]console.PairPlan, error) {
	envs, err := console.Environments(r.Context(), s.Console.DB, org)
	if err != nil {
		return nil, err
	}
	out := map[string]console.PairPlan{}
	for _, e := range envs {
		if e.Kind != console.VAL && e.Kind != console.Prod {
			continue
		}
		plan, found, err := console.PairPlanOf(r.Context(), s.Console.DB, e.ID)
		if err != nil {
			return nil, err
		}
		if found {
			out[e.Code] = plan
		}
	}
	return out, nil
}
