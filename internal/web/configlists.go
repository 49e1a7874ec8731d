package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/configlist"
)

// listKind finds the Configure list a route names, answering 404 when there
// is none.
func (s *Server) listKind(w http.ResponseWriter, r *http.Request) (configlist.Kind, bool) {
	k, ok := configlist.KindOf(r.PathValue("list"))
	if !ok {
		s.notFound(w, r)
	}
	return k, ok
}

// listSummary is one row of the Configure lists index.
type listSummary struct {
	Kind             configlist.Kind
	Active, Inactive int
}

func (s *Server) configListKinds(w http.ResponseWriter, r *http.Request) {
	var rows []listSummary
	for _, k := range configlist.Kinds {
		entries, err := configlist.Entries(r.Context(), s.DB, k.Code, true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row := listSummary{Kind: k}
		for _, e := range entries {
			if e.Active {
				row.Active++
			} else {
				row.Inactive++
			}
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "configlists.html", s.newPage(r, "Configure lists", map[string]any{"Lists": rows}))
}

// entriesPage is a list's page: its entries matching text, deactivated ones
// when inactive. Entries can be moved only in the unfiltered view, where
// every neighbour is visible.
func (s *Server) entriesPage(r *http.Request, k configlist.Kind, text string, inactive bool) (*page, error) {
	entries, err := configlist.Search(r.Context(), s.DB, k.Code, text, inactive)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, k.Name, nil)
	p.Data = map[string]any{"Kind": k, "Entries": entries, "Query": text, "ShowInactive": inactive,
		"CanReorder": p.Can("config.manage") && strings.TrimSpace(text) == ""}
	return p, nil
}

func (s *Server) configListEntries(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	p, err := s.entriesPage(r, k, q.Get("q"), q.Get("inactive") == "1")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := q.Get("code")
	switch q.Get("notice") {
	case "created":
		p.Notice = "The " + k.Singular + " " + code + " was added at the end of the list."
	case "moved":
		p.Notice = "The " + k.Singular + " " + code + " was moved."
	case "deactivated":
		p.Notice = "The " + k.Singular + " " + code + " was deactivated. Records that use it keep its label; it no longer appears in pickers."
	case "reactivated":
		p.Notice = "The " + k.Singular + " " + code + " was reactivated and appears in pickers again."
	}
	s.render(w, r, http.StatusOK, "configlist.html", p)
}

// entryForm reads a list entry from a posted form. Options come one per line.
func entryForm(r *http.Request, k configlist.Kind) configlist.Entry {
	e := configlist.Entry{List: k.Code, Code: r.PostFormValue("code"), Label: r.PostFormValue("label"),
		Description: r.PostFormValue("description")}
	if k.Questions {
		e.AnswerType = configlist.AnswerType(r.PostFormValue("answer_type"))
		e.Options = strings.Split(r.PostFormValue("options"), "\n")
		e.PHI = r.PostFormValue("phi") == "yes"
	}
	return e
}

// entryData is what the entry page shows besides the form.
func entryData(k configlist.Kind, e configlist.Entry) map[string]any {
	return map[string]any{"Kind": k, "Entry": e, "AnswerTypes": configlist.AnswerTypes}
}

func (s *Server) configListNew(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "configlist_entry.html", s.newPage(r, "New "+k.Singular, entryData(k, configlist.Entry{List: k.Code})))
}

func (s *Server) configListCreate(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok || !parseForm(w, r) {
		return
	}
	e, err := configlist.Create(r.Context(), s.DB, visitOf(r).user.Actor(), entryForm(r, k))
	if err != nil {
		s.formProblem(w, r, "configlist_entry.html", s.newPage(r, "New "+k.Singular, entryData(k, configlist.Entry{List: k.Code})), err)
		return
	}
	redirect(w, r, "/config/lists/"+k.Code+"?notice=created&code="+url.QueryEscape(e.Code)+"#entry-"+e.Code)
}

// fillEntry puts a stored entry's editable values into the page's form.
func fillEntry(p *page, e configlist.Entry) {
	if p.Form == nil {
		p.Form = map[string][]string{}
	}
	p.Form.Set("label", e.Label)
	p.Form.Set("description", e.Description)
	p.Form.Set("answer_type", string(e.AnswerType))
	p.Form.Set("options", strings.Join(e.Options, "\n"))
	p.Form.Set("phi", "")
	if e.PHI {
		p.Form.Set("phi", "yes")
	}
}

func (s *Server) configListShow(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok {
		return
	}
	e, err := configlist.Get(r.Context(), s.DB, k.Code, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, k.Name, nil), err)
		return
	}
	p := s.newPage(r, k.Singular+" "+e.Code, entryData(k, e))
	p.Form = map[string][]string{}
	fillEntry(p, e)
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "Your changes were saved."
	}
	s.render(w, r, http.StatusOK, "configlist_entry.html", p)
}

func (s *Server) configListUpdate(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok || !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := configlist.Update(r.Context(), s.DB, visitOf(r).user.Actor(), k.Code, code, version, entryForm(r, k), r.PostFormValue("reason"))
	if err != nil {
		e, gerr := configlist.Get(r.Context(), s.DB, k.Code, code)
		if gerr != nil {
			err = gerr
		}
		s.formProblem(w, r, "configlist_entry.html", s.newPage(r, k.Singular+" "+code, entryData(k, e)), err)
		return
	}
	redirect(w, r, "/config/lists/"+k.Code+"/"+code+"?notice=saved")
}

func (s *Server) configListSetActive(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok || !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	by, reason := visitOf(r).user.Actor(), r.PostFormValue("reason")
	change, notice := configlist.Deactivate, "deactivated"
	if r.PostFormValue("active") == "true" {
		change, notice = configlist.Reactivate, "reactivated"
	}
	if err := change(r.Context(), s.DB, by, k.Code, code, version, reason); err != nil {
		e, gerr := configlist.Get(r.Context(), s.DB, k.Code, code)
		if gerr != nil {
			err = gerr
		}
		data := entryData(k, e)
		data["Toggling"] = true
		p := s.newPage(r, k.Singular+" "+code, data)
		fillEntry(p, e)
		s.formProblem(w, r, "configlist_entry.html", p, err)
		return
	}
	redirect(w, r, "/config/lists/"+k.Code+"?notice="+notice+"&code="+url.QueryEscape(code))
}

func (s *Server) configListMove(w http.ResponseWriter, r *http.Request) {
	k, ok := s.listKind(w, r)
	if !ok || !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	dir := configlist.Down
	if r.PostFormValue("direction") == "up" {
		dir = configlist.Up
	}
	// The reorder form carries every row's version, named after its code.
	version, _ := strconv.Atoi(r.PostFormValue("version." + code))
	err := configlist.Move(r.Context(), s.DB, visitOf(r).user.Actor(), k.Code, code, version, dir, r.PostFormValue("reason"))
	if err != nil {
		p, perr := s.entriesPage(r, k, "", false)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.formProblem(w, r, "configlist.html", p, err)
		return
	}
	redirect(w, r, "/config/lists/"+k.Code+"?notice=moved&code="+url.QueryEscape(code)+"#entry-"+code)
}
