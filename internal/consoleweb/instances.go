package consoleweb

import (
	"net/http"

	"github.com/cohort-clinical/cohort/internal/console"
)

// instancePage is the instance page's data.
type instancePage struct {
	Row  instanceRow
	Rule console.KindRule
	Ops  []console.Operation
	Log  []string
	// LogProblem says why the log could not be read.
	LogProblem string
}

func keyOf(r *http.Request) string {
	return console.InstanceKey(r.PathValue("org"), r.PathValue("env"), console.Role(r.PathValue("role")))
}

func pathOf(key string) string { return "/o/" + key }

func (s *Server) instanceData(r *http.Request) (instancePage, error) {
	var d instancePage
	inst, err := console.GetInstance(r.Context(), s.Console.DB, keyOf(r))
	if err != nil {
		return d, err
	}
	if d.Row, err = s.row(r, inst); err != nil {
		return d, err
	}
	d.Rule, _ = console.RuleOf(inst.Kind)
	if d.Ops, err = console.OperationsOf(r.Context(), s.Console.DB, inst.ID, 10); err != nil {
		return d, err
	}
	d.Log, d.LogProblem = s.logTail(inst)
	return d, nil
}

func (s *Server) logTail(inst console.Instance) ([]string, string) {
	if s.Console.Runtime == nil {
		return nil, "The log is kept by the running console."
	}
	spec, err := s.Console.Spec(inst)
	if err != nil {
		return nil, err.Error()
	}
	lines, err := s.Console.Runtime.Logs(spec, 40)
	if err != nil {
		return nil, err.Error()
	}
	return lines, ""
}

func (s *Server) instanceShow(w http.ResponseWriter, r *http.Request) {
	d, err := s.instanceData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Instance", nil), err)
		return
	}
	p := s.newPage(r, d.Row.Key(), d)
	switch r.URL.Query().Get("notice") {
	case "requested":
		p.Notice = "The operation was requested; this page follows its progress."
	}
	s.render(w, r, http.StatusOK, "instance.html", p)
}

// instanceStatus is the fragment the instance page polls while an
// operation runs: state, process and the operation's progress.
func (s *Server) instanceStatus(w http.ResponseWriter, r *http.Request) {
	d, err := s.instanceData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Instance", nil), err)
		return
	}
	r.Header.Set("HX-Request", "true")
	r.Header.Set("HX-Target", "status")
	s.render(w, r, http.StatusOK, "instance.html", s.newPage(r, d.Row.Key(), d))
}

// instanceLog is the fragment of the log tail, refreshed by the page.
func (s *Server) instanceLog(w http.ResponseWriter, r *http.Request) {
	d, err := s.instanceData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Instance", nil), err)
		return
	}
	r.Header.Set("HX-Request", "true")
	r.Header.Set("HX-Target", "log")
	s.render(w, r, http.StatusOK, "instance.html", s.newPage(r, d.Row.Key(), d))
}

func (s *Server) instanceAction(kind console.OpKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !parseForm(w, r) {
			return
		}
		key := keyOf(r)
		_, err := s.Console.Request(r.Context(), visitOf(r).user.Actor(), kind, key, r.PostFormValue("reason"), r.PostFormValue("request_key"))
		s.afterAction(w, r, key, err)
	}
}

func (s *Server) instanceRetry(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	key := keyOf(r)
	_, err := s.Console.Retry(r.Context(), visitOf(r).user.Actor(), key, r.PostFormValue("reason"), r.PostFormValue("request_key"))
	s.afterAction(w, r, key, err)
}

func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, key string, err error) {
	if err == nil {
		redirect(w, r, pathOf(key)+"?notice=requested")
		return
	}
	d, derr := s.instanceData(r)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Instance", nil), derr)
		return
	}
	p := s.newPage(r, key, d)
	s.formProblem(w, r, "instance.html", p, err)
}
