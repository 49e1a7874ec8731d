package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
)

// labelEditor is what label.html draws: a new or stored template's editor,
// its preview and the actions on it.
type labelEditor struct {
	New    bool
	Stored label.Stored
	// Action is where the editor posts, including its add and remove row
	// buttons, which redraw the editor without saving.
	Action  string
	Rows    []labelRow
	Choices labelChoices
	// Demos and From are the templates a new one can start from, and the
	// one it started from.
	Demos []label.Template
	From  string
	// Deactivating marks a failed deactivation, whose reason and problem
	// belong to the deactivation form rather than the editor.
	Deactivating bool
	Preview      *labelPreview
}

// labelPath is the address of a stored template's page.
func labelPath(code string) string { return "/labels/" + url.PathEscape(code) }

// labelPage builds the page of a new template (st nil) or a stored one,
// with the editor showing form.
func (s *Server) labelPage(r *http.Request, st *label.Stored, form url.Values) *page {
	ed := &labelEditor{New: st == nil, Action: "/labels", Choices: newLabelChoices()}
	title := "New label template"
	if st != nil {
		ed.Stored = *st
		ed.Action = labelPath(st.Template.Code)
		ed.Preview = newLabelPreview(*st, r.URL.Query())
		title = "Label template " + st.Template.Code
	} else {
		ed.Demos = label.DemoTemplates()
	}
	p := s.newPage(r, title, ed)
	p.Form = form
	ed.Rows = labelRows(form, nil)
	return p
}

// labelProblem draws the page again with err's problems beside their
// inputs and rows.
func (s *Server) labelProblem(w http.ResponseWriter, r *http.Request, p *page, err error) {
	if fe, ok := check.AsFieldErrors(err); ok {
		p.Data.(*labelEditor).Rows = labelRows(p.Form, fe)
	}
	s.formProblem(w, r, "label.html", p, err)
}

// labelRowOp handles the editor's add and remove row buttons: it redraws
// the editor with the rows changed and saves nothing. With htmx only the
// rows are sent back; without JavaScript the whole page is.
func (s *Server) labelRowOp(w http.ResponseWriter, r *http.Request, p *page) bool {
	switch {
	case r.PostFormValue("op") == "add":
		if labelRowCount(p.Form) >= maxLabelRows {
			p.Problem = "A label holds at most " + strconv.Itoa(maxLabelRows) + " fields."
			s.render(w, r, http.StatusUnprocessableEntity, "label.html", p)
			return true
		}
		addLabelRow(p.Form)
	case r.PostForm.Has("remove"):
		if i, err := strconv.Atoi(r.PostFormValue("remove")); err == nil {
			removeLabelRow(p.Form, i)
		}
	default:
		return false
	}
	p.Data.(*labelEditor).Rows = labelRows(p.Form, nil)
	s.render(w, r, http.StatusOK, "label.html", p)
	return true
}

// withParseProblems adds a template's own problems to those found reading
// its form; a reading problem wins on its input, being the more basic.
func withParseProblems(parse check.FieldErrors, t label.Template) check.FieldErrors {
	for k, msg := range label.Problems(t) {
		parse.Add(k, "%s", msg)
	}
	return parse
}

func (s *Server) labelList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := label.Filter{Search: q.Get("q"), IncludeInactive: q.Get("inactive") == "1"}
	list, err := label.List(r.Context(), s.DB, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Label templates", map[string]any{"Labels": list, "Filter": f})
	if q.Get("notice") == "deactivated" {
		p.Notice = "The label template was deactivated. It is kept with its history and is no longer offered for printing."
	}
	s.render(w, r, http.StatusOK, "labels.html", p)
}

func (s *Server) labelNew(w http.ResponseWriter, r *http.Request) {
	start, from := blankLabel(), r.URL.Query().Get("from")
	for _, d := range label.DemoTemplates() {
		if d.Code == from {
			start = d
			start.Code = "" // the copy needs a code of its own
		}
	}
	p := s.labelPage(r, nil, templateForm(start))
	p.Data.(*labelEditor).From = from
	s.render(w, r, http.StatusOK, "label.html", p)
}

func (s *Server) labelCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	p := s.labelPage(r, nil, r.PostForm)
	if s.labelRowOp(w, r, p) {
		return
	}
	t, fe := templateFromForm(r.PostForm)
	if len(fe) > 0 {
		s.labelProblem(w, r, p, withParseProblems(fe, t))
		return
	}
	created, err := label.Create(r.Context(), s.DB, visitOf(r).user.Actor(), t)
	if err != nil {
		s.labelProblem(w, r, p, err)
		return
	}
	redirect(w, r, labelPath(created.Template.Code)+"?notice=created")
}

func (s *Server) labelShow(w http.ResponseWriter, r *http.Request) {
	st, err := label.Get(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Label template", nil), err)
		return
	}
	form := templateForm(st.Template)
	form.Set("version", strconv.Itoa(st.Version))
	p := s.labelPage(r, &st, form)
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The label template was created."
	case "saved":
		p.Notice = "Your changes were saved."
	case "reactivated":
		p.Notice = "The label template was reactivated and is offered for printing again."
	}
	s.render(w, r, http.StatusOK, "label.html", p)
}

func (s *Server) labelUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	st, err := label.Get(r.Context(), s.DB, code)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Label template", nil), err)
		return
	}
	p := s.labelPage(r, &st, r.PostForm)
	if s.labelRowOp(w, r, p) {
		return
	}
	t, fe := templateFromForm(r.PostForm)
	if len(fe) > 0 {
		fe = withParseProblems(fe, t)
		if r.PostFormValue("reason") == "" {
			fe.Add("reason", "Say why you are making this change (reason for change).")
		}
		s.labelProblem(w, r, p, fe)
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := label.Update(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, t, r.PostFormValue("reason")); err != nil {
		s.labelProblem(w, r, p, err)
		return
	}
	redirect(w, r, labelPath(code)+"?notice=saved")
}

// labelSetActive deactivates or reactivates a template with a reason.
func (s *Server) labelSetActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !parseForm(w, r) {
			return
		}
		code := r.PathValue("code")
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		reason := r.PostFormValue("reason")
		change, done := label.Deactivate, "/labels?notice=deactivated"
		if active {
			change, done = label.Reactivate, labelPath(code)+"?notice=reactivated"
		}
		err := change(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, reason)
		if err == nil {
			redirect(w, r, done)
			return
		}
		st, gerr := label.Get(r.Context(), s.DB, code)
		if gerr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Label template", nil), gerr)
			return
		}
		form := templateForm(st.Template)
		form.Set("version", r.PostFormValue("version"))
		form.Set("reason", reason)
		p := s.labelPage(r, &st, form)
		p.Data.(*labelEditor).Deactivating = !active
		s.labelProblem(w, r, p, err)
	}
}

// registerLabelRoutes adds the barcode label template pages: config.view to
// see and preview templates, config.manage to change them.
func (s *Server) registerLabelRoutes() {
	view, manage := need(access.ConfigView), need(access.ConfigManage)
	s.handle("GET", "/labels", view, s.labelList)
	s.handle("GET", "/labels/new", manage, s.labelNew)
	s.handle("POST", "/labels", manage, s.labelCreate)
	s.handle("GET", "/labels/{code}", view, s.labelShow)
	s.handle("POST", "/labels/{code}", manage, s.labelUpdate)
	s.handle("POST", "/labels/{code}/deactivate", manage, s.labelSetActive(false))
	s.handle("POST", "/labels/{code}/reactivate", manage, s.labelSetActive(true))
	s.handle("GET", "/labels/{code}/preview.png", view, s.labelRendering(label.RenderPNG, "image/png", "", ""))
	s.handle("GET", "/labels/{code}/preview.pdf", view, s.labelRendering(label.RenderPDF, "application/pdf", "inline", ".pdf"))
	s.handle("GET", "/labels/{code}/label.zpl", view, s.labelRendering(label.RenderZPL, "text/plain; charset=utf-8", "attachment", ".zpl"))
}
