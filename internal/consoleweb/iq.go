package consoleweb

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// HasIQ reports whether the rules give the instance's kind an
// Installation Qualification document (VAL and PROD).
func (i instanceRow) HasIQ() bool { return console.CheckIQ(i.Kind) == nil }

// registerIQRoutes declares the IQ pages: issuing needs console.manage,
// reading a document console.view.
func (s *Server) registerIQRoutes() {
	s.handle("POST", "/o/{org}/{env}/{role}/iq", need(access.ConsoleManage), s.iqIssue)
	s.handle("GET", "/o/{org}/iq/{number}", need(access.ConsoleView), s.iqShow)
}

// iqIssue runs the IQ of one instance and, when every check passes, shows
// the document it issued; a refusal or a failed check is shown on the
// organisation page with nothing issued.
func (s *Server) iqIssue(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	org := r.PathValue("org")
	doc, err := s.Console.IssueIQ(r.Context(), visitOf(r).user.Actor(), keyOf(r))
	if err == nil {
		redirect(w, r, "/o/"+url.PathEscape(org)+"/iq/"+url.PathEscape(doc.Number)+"?notice=issued")
		return
	}
	d, derr := s.orgPageData(r, org)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Organisation", nil), derr)
		return
	}
	p := s.newPage(r, d.Org.Name, d)
	var failed *console.IQFailed
	if errors.As(err, &failed) {
		p.Problem = failed.Error()
		s.render(w, r, http.StatusUnprocessableEntity, "organisation.html", p)
		return
	}
	s.formProblem(w, r, "organisation.html", p, err)
}

// iqShow is an issued IQ document, printable: the print stylesheet keeps
// only the document and marks every printed page as an uncontrolled copy.
func (s *Server) iqShow(w http.ResponseWriter, r *http.Request) {
	doc, err := console.GetIQDocument(r.Context(), s.Console.DB, r.PathValue("number"))
	if err == nil && doc.Org != r.PathValue("org") {
		err = fmt.Errorf("IQ document %s of %s: %w", r.PathValue("number"), r.PathValue("org"), check.ErrNotFound)
	}
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "IQ document", nil), err)
		return
	}
	p := s.newPage(r, doc.Number+" · Installation Qualification", doc)
	if r.URL.Query().Get("notice") == "issued" {
		p.Notice = "Every check passed: the IQ document was issued and recorded in the console's audit trail."
	}
	s.render(w, r, http.StatusOK, "iq.html", p)
}

// WriteIQDocument writes an IQ document as a standalone HTML file (for
// `cohort iq show -o`): the same document as the page, marked as an
// uncontrolled copy on screen and in print.
func WriteIQDocument(w io.Writer, doc console.IQDocument) error {
	t, err := template.New("iq.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/iq.html")
	if err != nil {
		return fmt.Errorf("parse the IQ document template: %w", err)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "iq-export", doc); err != nil {
		return fmt.Errorf("write IQ document %s: %w", doc.Number, err)
	}
	_, err = io.WriteString(w, b.String())
	return err
}
