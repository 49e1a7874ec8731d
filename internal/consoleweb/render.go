package consoleweb

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/web"
)

type pages struct{ byName map[string]*template.Template }

var funcs = template.FuncMap{
	"dict": web.Dict,
	"join": strings.Join,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04") + " UTC"
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	},
	"kindLabel": func(k console.Kind) string { return k.Label() },
	"oplog":     operationLog,
}

// oneTimePassword finds the one-time passwords preparing an instance wrote
// into its operation's log.
var oneTimePassword = regexp.MustCompile(`(one-time password )\S+`)

// operationLog is an operation's log as the page's viewer may see it: the
// one-time passwords of a new instance are for those who manage the
// console, not for every observer who can read the log.
func operationLog(p *page, log string) string {
	if p.Can(string(access.ConsoleManage)) {
		return log
	}
	return oneTimePassword.ReplaceAllString(log, "${1}(hidden: only users with "+string(access.ConsoleManage)+" see it)")
}

func loadPages() (*pages, error) {
	byName, err := web.ParsePages(templateFS, funcs)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return &pages{byName: byName}, nil
}

// page is what every console template receives.
type page struct {
	Title   string
	Data    any
	Form    url.Values
	Errors  map[string]string
	Problem string
	Notice  string
	Path    string
	visit   *visit
	server  *Server
}

// User is the signed-in user's display name.
func (p *page) User() string { return p.visit.user.DisplayName }

// SignedIn reports whether someone is signed in.
func (p *page) SignedIn() bool { return p.visit.token != "" }

// CSRF is the token every form posts back.
func (p *page) CSRF() string { return p.visit.csrf }

// Can reports whether the user holds a permission.
func (p *page) Can(perm string) bool { return p.visit.auth.Can(access.Permission(perm)) }

// Build is the console's build.
func (p *page) Build() web.Build { return p.server.Build }

// Err returns a field's error.
func (p *page) Err(field string) string { return p.Errors[field] }

// Val returns a submitted field value.
func (p *page) Val(field string) string { return p.Form.Get(field) }

// Active marks the navigation entry of the current section.
func (p *page) Active(prefix string) bool { return strings.HasPrefix(p.Path, prefix) }

// RequestKey is a fresh idempotency key for a form: submitting the same
// form twice returns the first request's result.
func (p *page) RequestKey() string { return newRequestKey() }

func (s *Server) newPage(r *http.Request, title string, data any) *page {
	return &page{Title: title, Data: data, Form: r.PostForm, Errors: map[string]string{}, visit: visitOf(r), server: s, Path: r.URL.Path}
}

// render writes a page, or only the block an htmx request targets.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("no console template %s", name))
		return
	}
	block := "layout"
	if b := r.Header.Get("HX-Target"); b != "" && r.Header.Get("HX-Request") == "true" && t.Lookup(b) != nil {
		block = b
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// formProblem shows a form again with what is wrong: field errors beside
// their fields, a rule's refusal or a busy instance above the form.
func (s *Server) formProblem(w http.ResponseWriter, r *http.Request, name string, p *page, err error) {
	var conflict *check.Conflict
	var busy *console.Busy
	switch fe, ok := check.AsFieldErrors(err); {
	case ok:
		p.Errors = fe
		p.Problem = "Please correct the fields marked below; nothing was changed."
		s.render(w, r, http.StatusUnprocessableEntity, name, p)
	case errors.As(err, &busy):
		p.Problem = busy.Error()
		s.render(w, r, http.StatusConflict, name, p)
	case errors.As(err, &conflict):
		p.Problem = conflict.Error()
		s.render(w, r, http.StatusConflict, name, p)
	case console.IsRefusal(err):
		p.Problem = err.Error()
		s.render(w, r, http.StatusUnprocessableEntity, name, p)
	case errors.Is(err, check.ErrNotFound):
		s.notFound(w, r)
	default:
		if msg, ok := web.UserMessage(err); ok {
			p.Problem = msg
			s.render(w, r, http.StatusUnprocessableEntity, name, p)
			return
		}
		s.fail(w, r, err)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "Something went wrong on the server. The problem has been logged.", http.StatusInternalServerError)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "Not found", nil)
	p.Problem = "There is nothing at this address. It may have been mistyped, or the record may not exist."
	s.render(w, r, http.StatusNotFound, "message.html", p)
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, perm access.Permission) {
	p := s.newPage(r, "Not allowed", nil)
	p.Problem = fmt.Sprintf("Your console roles do not include the permission %s that this page needs. Ask a console administrator if you need it.", perm)
	s.render(w, r, http.StatusForbidden, "message.html", p)
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The request is too large.", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "The form could not be read: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
