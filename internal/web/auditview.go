package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// auditFilter reads the viewer's filter from the query string; dates are
// whole days in UTC, the "to" day included.
func auditFilter(q url.Values) (audit.Filter, check.FieldErrors) {
	fe := check.FieldErrors{}
	f := audit.Filter{Actor: q.Get("user"), Entity: q.Get("entity"), EntityID: q.Get("entity_id")}
	if s := q.Get("from"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			fe.Add("from", "Use a date like 2026-01-31.")
		}
		f.From = t
	}
	if s := q.Get("to"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			fe.Add("to", "Use a date like 2026-01-31.")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	return f, fe
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, fe := auditFilter(q)
	pageSize := visitOf(r).settings.Int("audit.page_size")
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	f.Limit, f.Offset = pageSize, (pageNo-1)*pageSize
	var entries []audit.Entry
	var total int
	if len(fe) == 0 {
		var err error
		if entries, total, err = audit.List(r.Context(), s.DB, f); err != nil {
			s.fail(w, r, err)
			return
		}
		// Volunteer PHI in the trail is shown as the record would be.
		if err := registry.MaskTrail(r.Context(), s.DB, entries, canSeePHI(r)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	entities, err := audit.Entities(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("page", strconv.Itoa(pageNo+1))
	prev := url.Values{}
	for k, v := range q {
		prev[k] = v
	}
	prev.Set("page", strconv.Itoa(pageNo-1))
	p := s.newPage(r, "Audit trail", map[string]any{
		"Entries": entries, "Total": total, "Page": pageNo, "HasNext": pageNo*pageSize < total, "HasPrev": pageNo > 1,
		"Next": "?" + next.Encode(), "Prev": "?" + prev.Encode(), "Query": q.Encode(),
		"Retention": visitOf(r).settings.Int("audit.retention_years"), "Entities": entities,
	})
	p.Form, p.Errors = q, fe
	s.render(w, r, http.StatusOK, "audit.html", p)
}

func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	f, fe := auditFilter(r.URL.Query())
	if len(fe) > 0 {
		http.Error(w, "The filter dates are not valid: "+fe.Error(), http.StatusBadRequest)
		return
	}
	v := visitOf(r)
	// The export itself is an event worth recording.
	err := s.DB.InTx(r.Context(), func(tx *store.Tx) error {
		return audit.Record(r.Context(), tx, audit.Event{Actor: v.user.Actor(), Action: audit.Export, Entity: "audit_trail", EntityID: "csv",
			Changes: []audit.Change{{Field: "filter", New: r.URL.RawQuery}}})
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-trail-%s.csv"`, time.Now().UTC().Format("20060102-150405")))
	mask := registry.NewTrailMasker(s.DB, canSeePHI(r))
	if err := audit.WriteCSVMasked(r.Context(), s.DB, f, v.user.Username, w, mask.Mask); err != nil {
		s.Logger.Error("audit export failed part-way", "err", err)
	}
}
