package consoleweb

import (
	"net/http"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
)

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := audit.Filter{Entity: q.Get("entity"), EntityID: q.Get("entity_id"), Actor: q.Get("actor"), Limit: 100}
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	entries, total, err := audit.List(r.Context(), s.Console.DB, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Console audit trail", map[string]any{"Entries": entries, "Total": total})
	p.Form = q
	s.render(w, r, http.StatusOK, "audit.html", p)
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "rules.html", s.newPage(r, "Environment rules", console.Rules))
}
