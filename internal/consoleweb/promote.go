package consoleweb

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// promotePage is the promotion page's data: the organisation, the
// instances it may promote from and into, and — once both are chosen — the
// preview of what the promotion changes, category by category.
type promotePage struct {
	Org       console.Organisation
	Sources   []console.Instance
	Targets   []console.Instance
	Preview   *console.Promotion
	StudyRule string
	// Applied is the promotion just applied, shown as its result.
	Applied *console.Promotion
}

func (s *Server) promoteData(r *http.Request) (promotePage, error) {
	d := promotePage{StudyRule: console.StudyLibrariesRule}
	var err error
	org := r.PathValue("org")
	if d.Org, err = console.GetOrganisation(r.Context(), s.Console.DB, org); err != nil {
		return d, err
	}
	d.Sources, d.Targets, err = console.PromotionCandidates(r.Context(), s.Console.DB, org)
	return d, err
}

// promoteShow shows the promotion form and, with from and to chosen, the
// preview to apply.
func (s *Server) promoteShow(w http.ResponseWriter, r *http.Request) {
	d, err := s.promoteData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Promote configuration", nil), err)
		return
	}
	q := r.URL.Query()
	p := s.newPage(r, "Promote configuration for "+d.Org.Name, &d)
	p.Form = q
	if q.Get("from") != "" && q.Get("to") != "" {
		if err := sameOrganisation(d.Org.Code, q.Get("from"), q.Get("to")); err != nil {
			s.formProblem(w, r, "promote.html", p, err)
			return
		}
		if d.Preview, err = s.Console.PreviewPromotion(r.Context(), q.Get("from"), q.Get("to")); err != nil {
			s.formProblem(w, r, "promote.html", p, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "promote.html", p)
}

// promoteApply applies the previewed promotion with the user's reason.
func (s *Server) promoteApply(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	d, err := s.promoteData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Promote configuration", nil), err)
		return
	}
	p := s.newPage(r, "Promote configuration for "+d.Org.Name, &d)
	at, _ := time.Parse(time.RFC3339, r.PostFormValue("exported_at"))
	from, to := r.PostFormValue("from"), r.PostFormValue("to")
	if err := sameOrganisation(d.Org.Code, from, to); err != nil {
		s.formProblem(w, r, "promote.html", p, err)
		return
	}
	applied, err := s.Console.Promote(r.Context(), visitOf(r).user.Actor(), from, to, r.PostFormValue("reason"), r.PostFormValue("fingerprint"), at)
	if err != nil {
		// Show the preview again beside the problem, so the user sees what
		// they were about to apply.
		if from != "" && to != "" {
			d.Preview, _ = s.Console.PreviewPromotion(r.Context(), from, to)
		}
		s.formProblem(w, r, "promote.html", p, err)
		return
	}
	d.Applied = applied
	p.Notice = "The configuration of " + applied.From.Key() + " was promoted into " + applied.To.Key() + "; both audit trails record it."
	p.Form = url.Values{}
	s.render(w, r, http.StatusOK, "promote.html", p)
}

// sameOrganisation refuses instances of another organisation than the
// page's: a promotion never crosses customers.
func sameOrganisation(org string, keys ...string) error {
	fe := check.FieldErrors{}
	for i, k := range keys {
		if !strings.HasPrefix(k, org+"/") {
			fe.Add([]string{"from", "to"}[min(i, 1)], "Choose an instance of %s.", org)
		}
	}
	return fe.Err()
}
