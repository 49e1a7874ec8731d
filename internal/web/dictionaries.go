package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
)

// MaxDictionaryUpload is the largest distribution archive the import page
// accepts: a zipped WHODrug Global B3 release with room to spare.
const MaxDictionaryUpload = 512 << 20

// registerDictionaryRoutes registers the medical dictionary pages: the
// versions, import, activation, search and the hierarchy browser. Seeing
// needs config.view, changing config.manage.
func (s *Server) registerDictionaryRoutes() {
	view, manage := need(access.ConfigView), need(access.ConfigManage)
	upload := manage
	upload.MaxBody = MaxDictionaryUpload
	s.handle("GET", "/config/dictionaries", view, s.dictionaryList)
	s.handle("POST", "/config/dictionaries", upload, s.dictionaryImport)
	s.handle("GET", "/config/dictionaries/{id}", view, s.dictionaryShow)
	s.handle("POST", "/config/dictionaries/{id}/activate", manage, s.dictionaryActivate)
	s.handle("POST", "/config/dictionaries/{id}/retire", manage, s.dictionaryRetire)
	s.handle("GET", "/config/dictionaries/{id}/search", view, s.dictionarySearch)
	s.handle("GET", "/config/dictionaries/{id}/terms/{code}", view, s.dictionaryTerm)
}

// dictionaryKind groups the versions of one dictionary for the list page.
type dictionaryKind struct {
	Kind     dictionary.Kind
	Name     string
	Versions []dictionary.StoredVersion
}

func (s *Server) dictionaryListPage(w http.ResponseWriter, r *http.Request) (*page, bool) {
	versions, err := dictionary.Versions(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	var kinds []dictionaryKind
	for _, k := range dictionary.Kinds() {
		dk := dictionaryKind{Kind: k, Name: k.Name()}
		for _, v := range versions {
			if v.Kind == k {
				dk.Versions = append(dk.Versions, v)
			}
		}
		kinds = append(kinds, dk)
	}
	return s.newPage(r, "Medical dictionaries", map[string]any{"Kinds": kinds}), true
}

func (s *Server) dictionaryList(w http.ResponseWriter, r *http.Request) {
	p, ok := s.dictionaryListPage(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "dictionaries.html", p)
}

// dictionaryImport reads an uploaded distribution archive and imports it.
// Problems with the archive or the release are shown beside those fields;
// problems in the distribution's files are listed, one per file line, above
// the form. Nothing is stored unless everything is.
func (s *Server) dictionaryImport(w http.ResponseWriter, r *http.Request) {
	err := r.ParseMultipartForm(32 << 20)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "The upload is too large.", http.StatusRequestEntityTooLarge)
		return
	case err != nil && !errors.Is(err, http.ErrNotMultipart):
		http.Error(w, "The upload could not be read: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	problem := func(err error) {
		p, ok := s.dictionaryListPage(w, r)
		if !ok {
			return
		}
		p.Form = r.PostForm
		var joined interface{ Unwrap() []error }
		var pe *dictionary.ParseError
		switch {
		case errors.As(err, &pe) && errors.As(err, &joined):
			lines := []string{}
			for _, e := range joined.Unwrap() {
				lines = append(lines, e.Error())
			}
			p.Data.(map[string]any)["ParseErrors"] = lines
			p.Problem = "The distribution has problems, listed below by file, line and field; nothing was imported."
			s.render(w, r, http.StatusUnprocessableEntity, "dictionaries.html", p)
		case errors.As(err, &pe):
			p.Data.(map[string]any)["ParseErrors"] = []string{pe.Error()}
			p.Problem = "The distribution has problems, listed below by file, line and field; nothing was imported."
			s.render(w, r, http.StatusUnprocessableEntity, "dictionaries.html", p)
		case errors.Is(err, dictionary.ErrBadArchive), errors.Is(err, dictionary.ErrUnknownDistribution):
			s.formProblem(w, r, "dictionaries.html", p, check.FieldErrors{"archive": capitalise(err.Error())})
		default:
			s.formProblem(w, r, "dictionaries.html", p, err)
		}
	}
	file, header, err := r.FormFile("archive")
	if err != nil {
		problem(check.FieldErrors{"archive": "Choose the .zip file of the distribution to import."})
		return
	}
	defer file.Close()
	fsys, err := dictionary.OpenZip(file, header.Size, header.Filename)
	if err != nil {
		problem(err)
		return
	}
	stored, err := dictionary.ImportFS(r.Context(), s.DB, visitOf(r).user.Actor(), fsys, r.PostFormValue("release"), header.Filename)
	if err != nil {
		problem(err)
		return
	}
	notice := "imported"
	if stored.Active {
		notice = "imported-active"
	}
	redirect(w, r, "/config/dictionaries/"+strconv.FormatInt(stored.ID, 10)+"?notice="+notice)
}

// capitalise makes an error that starts in lower case a sentence.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// storedVersion reads the version named in the path, answering 404 itself
// when there is none.
func (s *Server) storedVersion(w http.ResponseWriter, r *http.Request) (dictionary.StoredVersion, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return dictionary.StoredVersion{}, false
	}
	v, err := dictionary.GetVersion(r.Context(), s.DB, id)
	if errors.Is(err, check.ErrNotFound) {
		s.notFound(w, r)
		return v, false
	}
	if err != nil {
		s.fail(w, r, err)
		return v, false
	}
	return v, true
}

func (s *Server) dictionaryVersionPage(w http.ResponseWriter, r *http.Request, v dictionary.StoredVersion) (*page, bool) {
	roots, err := dictionary.NewReader(s.DB, v.ID).Roots(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return s.newPage(r, v.Label(), map[string]any{"Version": v, "Roots": roots}), true
}

func (s *Server) dictionaryShow(w http.ResponseWriter, r *http.Request) {
	v, ok := s.storedVersion(w, r)
	if !ok {
		return
	}
	p, ok := s.dictionaryVersionPage(w, r, v)
	if !ok {
		return
	}
	switch r.URL.Query().Get("notice") {
	case "imported":
		p.Notice = v.Label() + " was imported. It is not active yet: coding uses it once you activate it."
	case "imported-active":
		p.Notice = v.Label() + " was imported and is active, as the first " + v.Kind.Name() + " version of this instance."
	case "activated":
		p.Notice = v.Label() + " is now the active " + v.Kind.Name() + " version."
	case "retired":
		p.Notice = v.Label() + " is retired. It stays for data coded with it."
	}
	s.render(w, r, http.StatusOK, "dictionary.html", p)
}

func (s *Server) dictionaryActivate(w http.ResponseWriter, r *http.Request) {
	s.dictionaryChange(w, r, dictionary.Activate, "activated")
}

func (s *Server) dictionaryRetire(w http.ResponseWriter, r *http.Request) {
	s.dictionaryChange(w, r, dictionary.Retire, "retired")
}

func (s *Server) dictionaryChange(w http.ResponseWriter, r *http.Request, do func(context.Context, *store.DB, audit.Actor, int64, int, string) error, notice string) {
	if !parseForm(w, r) {
		return
	}
	v, ok := s.storedVersion(w, r)
	if !ok {
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := do(r.Context(), s.DB, visitOf(r).user.Actor(), v.ID, version, r.PostFormValue("reason")); err != nil {
		p, ok := s.dictionaryVersionPage(w, r, v)
		if !ok {
			return
		}
		p.Data.(map[string]any)["Action"] = notice
		s.formProblem(w, r, "dictionary.html", p, err)
		return
	}
	redirect(w, r, "/config/dictionaries/"+strconv.FormatInt(v.ID, 10)+"?notice="+notice)
}

// dictionarySearch answers the search page, and for htmx's live search as
// the user types only the results block.
func (s *Server) dictionarySearch(w http.ResponseWriter, r *http.Request) {
	v, ok := s.storedVersion(w, r)
	if !ok {
		return
	}
	q := r.URL.Query().Get("q")
	results, err := dictionary.NewReader(s.DB, v.ID).Search(r.Context(), q, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Search "+v.Label(), map[string]any{"Version": v, "Query": q, "Results": results, "Searched": strings.TrimSpace(q) != ""})
	s.render(w, r, http.StatusOK, "dictionary_search.html", p)
}

// dictionaryTerm shows one term: the paths from the top of the hierarchy
// down to it, primary first as breadcrumbs, and the terms under it.
func (s *Server) dictionaryTerm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.storedVersion(w, r)
	if !ok {
		return
	}
	level, code := dictionary.Level(r.URL.Query().Get("level")), r.PathValue("code")
	reader := dictionary.NewReader(s.DB, v.ID)
	term, err := reader.Lookup(r.Context(), level, code)
	if errors.Is(err, check.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	paths, err := reader.Paths(r.Context(), level, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	children, err := reader.Children(r.Context(), level, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, term.Name+" · "+v.Label(), map[string]any{"Version": v, "Term": term, "Paths": paths, "Children": children})
	s.render(w, r, http.StatusOK, "dictionary_term.html", p)
}
