package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
)

//go:embed templates
var templateFS embed.FS

var colour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"join": strings.Join,
	// css admits only a validated #rrggbb colour into a style block.
	"css": func(s string) template.CSS {
		if colour.MatchString(s) {
			return template.CSS(s)
		}
		return "#1f5f8b"
	},
	"lower": strings.ToLower,
	"list":  func(s ...string) []string { return s },
	"dict":  Dict,
}

// Dict builds a map from key, value pairs, so a template can hand several
// values to a sub-template ({{template "field" (dict "P" $ "ID" "x")}}).
func Dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

// loadPages parses every page with the layout once, at start-up, so a
// broken template stops the server before it serves anything.
func loadPages() (*pages, error) {
	byName, err := ParsePages(templateFS, funcs)
	if err != nil {
		return nil, err
	}
	return &pages{byName: byName}, nil
}

// ParsePages parses every templates/*.html page of fsys together with
// templates/layout.html, by file name. The instance and the console both
// lay their pages out this way.
func ParsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	byName := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		byName[name] = t
	}
	return byName, nil
}

// page is what every template receives.
type page struct {
	Title  string
	Data   any
	Form   url.Values
	Errors map[string]string
	// Problem is a message about the whole form (a conflict, a refusal).
	Problem string
	Notice  string
	visit   *visit
	server  *Server
	Path    string
}

// User returns the signed-in user's display name, or "".
func (p *page) User() string { return p.visit.user.DisplayName }

// Username returns the signed-in user's user name.
func (p *page) Username() string { return p.visit.user.Username }

// SignedIn reports whether a user is signed in.
func (p *page) SignedIn() bool { return p.visit.token != "" }

// CSRF is the token every form posts back.
func (p *page) CSRF() string { return p.visit.csrf }

// Can reports whether the user holds a permission, to show or hide actions.
func (p *page) Can(perm string) bool { return p.visit.auth.Can(access.Permission(perm)) }

// Setting returns a display value of a setting.
func (p *page) Setting(key string) string { return p.visit.settings.Display(key) }

// Build is the running build.
func (p *page) Build() Build { return p.server.Build }

// Test reports whether this is a Test instance.
func (p *page) Test() bool { return p.server.TestInstance }

// Err returns the error for a form field.
func (p *page) Err(field string) string { return p.Errors[field] }

// Val returns the submitted value of a form field.
func (p *page) Val(field string) string { return p.Form.Get(field) }

// Time formats a time in the instance's time zone and date format.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc, err := time.LoadLocation(p.visit.settings.Get("locale.time_zone"))
	if err != nil {
		loc = time.UTC
	}
	layout := setting.DateFormats[p.visit.settings.Get("locale.date_format")]
	if layout == "" {
		layout = "2006-01-02"
	}
	return t.In(loc).Format(layout + " 15:04 MST")
}

// Active marks the navigation entry of the current module.
func (p *page) Active(prefix string) bool { return strings.HasPrefix(p.Path, prefix) }

func (s *Server) newPage(r *http.Request, title string, data any) *page {
	return &page{Title: title, Data: data, Form: r.PostForm, Errors: map[string]string{}, visit: visitOf(r), server: s, Path: r.URL.Path}
}

// render writes a full page, or only the named block for htmx requests that
// ask for one.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("no template %s", name))
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
	w.Write(withBase(s.BasePath, buf.Bytes()))
}

// formProblem renders a form again with the problem err describes: field
// errors beside their fields, a conflict or refusal above the form, and the
// user's input kept. Unknown errors are server failures.
func (s *Server) formProblem(w http.ResponseWriter, r *http.Request, name string, p *page, err error) {
	var conflict *check.Conflict
	switch fe, ok := check.AsFieldErrors(err); {
	case ok:
		p.Errors = fe
		p.Problem = "Please correct the fields marked below; nothing was saved."
		s.render(w, r, http.StatusUnprocessableEntity, name, p)
	case errors.As(err, &conflict):
		p.Problem = conflict.Error()
		s.render(w, r, http.StatusConflict, name, p)
	case errors.Is(err, check.ErrNotFound):
		s.notFound(w, r)
	default:
		if msg, ok := userMessage(err); ok {
			p.Problem = msg
			s.render(w, r, http.StatusUnprocessableEntity, name, p)
			return
		}
		s.fail(w, r, err)
	}
}

// userMessage recognises errors written as sentences for the user (they
// start with a capital letter and end with a full stop) as opposed to
// internal failures, which are logged and not shown.
func userMessage(err error) (string, bool) {
	msg := err.Error()
	if msg == "" || msg[0] < 'A' || msg[0] > 'Z' || !strings.HasSuffix(msg, ".") {
		return "", false
	}
	return msg, true
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "Something went wrong on the server. The problem has been logged.", http.StatusInternalServerError)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "Not found", nil)
	p.Problem = "There is nothing at this address. It may have been mistyped, or the record may not exist."
	s.render(w, r, http.StatusNotFound, "message.html", p)
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, perm access.Permission) {
	p := s.newPage(r, "Not allowed", nil)
	p.Problem = fmt.Sprintf("Your roles do not include the permission %s that this page needs. Ask an administrator if you need it.", perm)
	s.render(w, r, http.StatusForbidden, "message.html", p)
}

// redirect sends the browser on after a successful POST (post/redirect/get).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
