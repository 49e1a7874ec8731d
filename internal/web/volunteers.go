package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// registerVolunteerRoutes adds the volunteer database. Anyone with
// volunteer.view searches and opens records, masked unless they also hold
// volunteer.view_phi; editing needs volunteer.edit (and view_phi, since a
// masked record cannot be edited), import and export volunteer.import,
// and privacy removal volunteer.privacy_remove.
func (s *Server) registerVolunteerRoutes() {
	s.handle("GET", "/volunteers", need(access.VolunteerView), s.volunteerSearch)
	s.handle("GET", "/volunteers/export.csv", need(access.VolunteerImport), s.volunteerExport)
	s.handle("GET", "/volunteers/new", need(access.VolunteerEdit), s.volunteerNew)
	s.handle("POST", "/volunteers", need(access.VolunteerEdit), s.volunteerCreate)
	s.handle("GET", "/volunteers/import", need(access.VolunteerImport), s.volunteerImportPage)
	s.handle("POST", "/volunteers/import", Need{Permission: access.VolunteerImport, MaxBody: maxImportBytes}, s.volunteerImportUpload)
	s.handle("POST", "/volunteers/import/run", need(access.VolunteerImport), s.volunteerImportRun)
	s.handle("GET", "/volunteers/import/rejected.csv", need(access.VolunteerImport), s.volunteerImportRejects)
	s.handle("GET", "/volunteers/{number}", need(access.VolunteerView), s.volunteerShow)
	s.handle("GET", "/volunteers/{number}/edit", need(access.VolunteerEdit), s.volunteerEdit)
	s.handle("POST", "/volunteers/{number}", need(access.VolunteerEdit), s.volunteerUpdate)
	s.handle("POST", "/volunteers/{number}/status", need(access.VolunteerEdit), s.volunteerStatus)
	s.handle("GET", "/volunteers/{number}/privacy", need(access.VolunteerErase), s.volunteerPrivacyPage)
	s.handle("POST", "/volunteers/{number}/privacy", need(access.VolunteerErase), s.volunteerPrivacy)
}

// canSeePHI reports whether the signed-in user may see volunteers'
// personal data unmasked.
func canSeePHI(r *http.Request) bool { return visitOf(r).auth.Can(access.VolunteerPHI) }

// searchQuery reads a volunteer search from the query string; sort values
// are a column, "-" first for descending.
func searchQuery(q url.Values) registry.Query {
	sort := q.Get("sort")
	query := registry.Query{
		Name: q.Get("name"), BirthDate: q.Get("birth_date"), Number: q.Get("number"), Phone: q.Get("phone"),
		Status: volunteer.Status(q.Get("status")), Sort: registry.Sort(strings.TrimPrefix(sort, "-")), Descending: strings.HasPrefix(sort, "-"),
		Limit: 25,
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 {
		query.Offset = (p - 1) * query.Limit
	}
	return query
}

// sortChoice is one entry of the search page's sort menu.
type sortChoice struct{ Value, Label string }

var sortChoices = []sortChoice{
	{"number", "Volunteer number"}, {"-number", "Volunteer number, newest first"},
	{"family_name", "Family name"}, {"-family_name", "Family name, Z to A"},
	{"birth_date", "Date of birth, oldest first"}, {"-birth_date", "Date of birth, youngest first"},
}

func (s *Server) volunteerSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := searchQuery(q)
	data := map[string]any{"Statuses": volunteer.Statuses(), "Sorts": sortChoices, "Masked": !canSeePHI(r), "Query": q.Encode()}
	p := s.newPage(r, "Volunteers", data)
	p.Form = q
	switch q.Get("notice") {
	case "removed":
		p.Notice = "The volunteer's personal data was removed. The record keeps the number and study history."
	}
	res, err := registry.Search(r.Context(), s.DB, query, canSeePHI(r))
	if fe, ok := check.AsFieldErrors(err); ok {
		p.Errors = fe
		s.render(w, r, http.StatusOK, "volunteers.html", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pageNo := query.Offset/query.Limit + 1
	data["Result"] = res
	data["Page"] = pageNo
	data["First"] = query.Offset + 1
	data["Last"] = query.Offset + len(res.Rows)
	if res.More {
		data["Next"] = withPage(q, pageNo+1)
	}
	if pageNo > 1 {
		data["Prev"] = withPage(q, pageNo-1)
	}
	s.render(w, r, http.StatusOK, "volunteers.html", p)
}

// withPage returns the query string of another page of the same search.
func withPage(q url.Values, page int) string {
	next := url.Values{}
	for k, v := range q {
		if k != "notice" {
			next[k] = v
		}
	}
	next.Set("page", strconv.Itoa(page))
	return "?" + next.Encode()
}

func (s *Server) volunteerExport(w http.ResponseWriter, r *http.Request) {
	query := searchQuery(r.URL.Query())
	if fe := query.Check(); fe != nil {
		http.Error(w, "The search cannot be exported: "+fe.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="volunteers-%s.csv"`, time.Now().UTC().Format("20060102-150405")))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := registry.Export(r.Context(), s.DB, visitOf(r).user.Actor(), query, canSeePHI(r), w); err != nil {
		s.Logger.Error("volunteer export failed part-way", "err", err)
	}
}

// codeLabels returns code → label for the Configure lists a volunteer page
// shows, deactivated entries included.
func (s *Server) codeLabels(r *http.Request) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, k := range configlist.Kinds {
		labels, err := configlist.Labels(r.Context(), s.DB, k.Code)
		if err != nil {
			return nil, err
		}
		out[k.Code] = labels
	}
	return out, nil
}

// volunteerView is what the volunteer page shows.
type volunteerView struct {
	registry.Record
	Labels map[string]map[string]string
	// NextStatuses are the statuses the volunteer may move to from here.
	NextStatuses []volunteer.Status
	Outcomes     []volunteer.Outcome
}

// Label returns the label of a code in a list, or the code itself.
func (v volunteerView) Label(list, code string) string {
	if l := v.Labels[list][code]; l != "" {
		return l
	}
	return code
}

// Entry describes a coded entry's dates.
func (v volunteerView) Entry(e volunteer.CodedEntry) string {
	return strings.TrimSpace(strings.TrimPrefix(registry.DescribeEntry(e), e.Code))
}

func nextStatuses(from volunteer.Status) []volunteer.Status {
	var out []volunteer.Status
	for _, to := range volunteer.Statuses() {
		if to != from && to != volunteer.StatusPrivacyRemoved && volunteer.CheckStatusChange(from, to) == nil {
			out = append(out, to)
		}
	}
	return out
}

// volunteerPage reads the volunteer of the request as the user may see it
// (recording the view when unmasked) and builds its page.
func (s *Server) volunteerPage(r *http.Request) (*page, error) {
	rec, err := registry.Open(r.Context(), s.DB, visitOf(r).user.Actor(), r.PathValue("number"), canSeePHI(r))
	if err != nil {
		return nil, err
	}
	labels, err := s.codeLabels(r)
	if err != nil {
		return nil, err
	}
	view := volunteerView{Record: rec, Labels: labels, NextStatuses: nextStatuses(rec.Status), Outcomes: volunteer.Outcomes()}
	p := s.newPage(r, "Volunteer "+rec.Number, view)
	p.Form = url.Values{"version": {strconv.Itoa(rec.Version)}}
	return p, nil
}

func (s *Server) volunteerShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.volunteerPage(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Volunteer", nil), err)
		return
	}
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The volunteer was registered as " + r.PathValue("number") + "."
	case "saved":
		p.Notice = "Your changes were saved."
	case "status":
		p.Notice = "The status was changed."
	case "removed":
		p.Notice = "The volunteer's personal data was removed. The record keeps the number and study history."
	}
	s.render(w, r, http.StatusOK, "volunteer.html", p)
}

func (s *Server) volunteerStatus(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	number := r.PathValue("number")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := registry.ChangeStatus(r.Context(), s.DB, visitOf(r).user.Actor(), number, version,
		volunteer.Status(r.PostFormValue("status")), r.PostFormValue("reason"))
	if err != nil {
		p, perr := s.volunteerPage(r)
		if perr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Volunteer", nil), perr)
			return
		}
		p.Form = r.PostForm
		s.formProblem(w, r, "volunteer.html", p, err)
		return
	}
	redirect(w, r, "/volunteers/"+url.PathEscape(number)+"?notice=status")
}

func (s *Server) volunteerPrivacyPage(w http.ResponseWriter, r *http.Request) {
	rec, err := registry.Open(r.Context(), s.DB, visitOf(r).user.Actor(), r.PathValue("number"), false)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Volunteer", nil), err)
		return
	}
	p := s.newPage(r, "Remove personal data of "+rec.Number, rec)
	p.Form = url.Values{"version": {strconv.Itoa(rec.Version)}}
	s.render(w, r, http.StatusOK, "volunteer_privacy.html", p)
}

func (s *Server) volunteerPrivacy(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	number := r.PathValue("number")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := registry.RemovePersonalData(r.Context(), s.DB, visitOf(r).user.Actor(), number, version,
		r.PostFormValue("password"), r.PostFormValue("reason"))
	if err != nil {
		rec, gerr := registry.Open(r.Context(), s.DB, visitOf(r).user.Actor(), number, false)
		if gerr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Volunteer", nil), gerr)
			return
		}
		p := s.newPage(r, "Remove personal data of "+rec.Number, rec)
		p.Form.Del("password") // never echo a password back
		var conflict *check.Conflict
		if errors.As(err, &conflict) {
			p.Form.Set("version", strconv.Itoa(rec.Version))
		}
		s.formProblem(w, r, "volunteer_privacy.html", p, err)
		return
	}
	redirect(w, r, "/volunteers/"+url.PathEscape(number)+"?notice=removed")
}
