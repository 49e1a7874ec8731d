package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/check"
)

// maxBundleBytes bounds an uploaded configuration bundle; medical
// dictionaries make bundles large.
const maxBundleBytes = 256 << 20

// registerBundleRoutes adds the configuration bundle pages: exporting needs
// config.export, importing config.import — an import rewrites roles and
// settings, so it is kept apart from day-to-day configuration work.
func (s *Server) registerBundleRoutes() {
	s.handle("GET", "/config/bundle", need(access.ConfigExport), s.bundlePage)
	s.handle("GET", "/config/bundle/export", need(access.ConfigExport), s.bundleExport)
	s.handle("POST", "/config/bundle/preview", Need{Permission: access.ConfigImport, MaxBody: maxBundleBytes}, s.bundlePreview)
	s.handle("POST", "/config/bundle/apply", need(access.ConfigImport), s.bundleApply)
}

// bundleCategory is one category as the export form offers it.
type bundleCategory struct {
	Name       string
	Promotable bool
}

func (s *Server) bundlePageFor(r *http.Request) *page {
	var cats []bundleCategory
	for _, c := range bundle.Categories() {
		cats = append(cats, bundleCategory{Name: c.Name(), Promotable: c.Promotable()})
	}
	return s.newPage(r, "Configuration bundle", map[string]any{"Categories": cats})
}

func (s *Server) bundlePage(w http.ResponseWriter, r *http.Request) {
	p := s.bundlePageFor(r)
	q := r.URL.Query()
	if q.Get("notice") == "imported" {
		if q.Get("changes") == "0" {
			p.Notice = "Configuration bundle " + q.Get("id") + " was imported: this instance already matched it, so nothing changed."
		} else {
			p.Notice = "Configuration bundle " + q.Get("id") + " was imported: " + q.Get("changes") + " records added or changed in one transaction."
		}
	}
	s.render(w, r, http.StatusOK, "bundle.html", p)
}

func (s *Server) bundleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("chosen") == "1" && len(q["category"]) == 0 {
		p := s.bundlePageFor(r)
		p.Problem = "Choose at least one category to export."
		s.render(w, r, http.StatusUnprocessableEntity, "bundle.html", p)
		return
	}
	b, data, err := bundle.Export(r.Context(), s.DB, bundle.ExportOptions{Categories: q["category"], Instance: instanceAddress(r)})
	if err != nil {
		s.formProblem(w, r, "bundle.html", s.bundlePageFor(r), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="cohort-config-`+b.ID()+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}

// instanceAddress is the address this instance was reached at, which names
// it as the source in the bundle's manifest.
func instanceAddress(r *http.Request) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: "/"}
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		u.Scheme = "https"
	}
	return u.String()
}

func (s *Server) bundlePreview(w http.ResponseWriter, r *http.Request) {
	file, _, err := r.FormFile("bundle")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The bundle is too large.", http.StatusRequestEntityTooLarge)
			return
		}
		p := s.bundlePageFor(r)
		p.Errors["bundle"] = "Choose a bundle file to import."
		p.Problem = "Choose the bundle file (.json) exported from the source instance."
		s.render(w, r, http.StatusUnprocessableEntity, "bundle.html", p)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := bundle.Decode(data)
	if err != nil {
		s.formProblem(w, r, "bundle.html", s.bundlePageFor(r), err)
		return
	}
	s.renderPreview(w, r, b, nil)
}

// renderPreview previews b and shows the plan with the form that applies
// it; problem, when set, is shown above it (a refused apply).
func (s *Server) renderPreview(w http.ResponseWriter, r *http.Request, b *bundle.Bundle, problem error) {
	plan, err := bundle.Preview(r.Context(), s.DB, b)
	if plan == nil {
		s.formProblem(w, r, "bundle.html", s.bundlePageFor(r), err)
		return
	}
	data := map[string]any{"Plan": plan, "ID": b.ID()}
	p := s.newPage(r, "Import preview", data)
	status := http.StatusOK
	switch {
	case err != nil:
		// The bundle cannot be imported: show how far it got and why.
		if msg, ok := userMessage(err); ok {
			p.Problem = "This bundle cannot be imported. " + msg
			status = http.StatusUnprocessableEntity
		} else {
			s.fail(w, r, err)
			return
		}
	default:
		data["Token"] = s.bundles.put(visitOf(r).user.ID, stashedBundle{bundle: b, fingerprint: plan.Fingerprint()})
		if fe, ok := check.AsFieldErrors(problem); ok {
			p.Errors, status = fe, http.StatusUnprocessableEntity
			p.Problem = "Please give a reason for the import; nothing was imported."
		} else if problem != nil {
			p.Problem, status = problem.Error(), http.StatusConflict
		}
	}
	s.render(w, r, status, "bundle_preview.html", p)
}

func (s *Server) bundleApply(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	stashed, ok := s.bundles.take(r.PostFormValue("token"), v.user.ID)
	if !ok {
		p := s.bundlePageFor(r)
		p.Problem = "This preview has expired or was already applied. Upload the bundle again to see what it would change."
		s.render(w, r, http.StatusUnprocessableEntity, "bundle.html", p)
		return
	}
	plan, err := bundle.Import(r.Context(), s.DB, v.user.Actor(), stashed.bundle,
		bundle.ImportOptions{Reason: r.PostFormValue("reason"), Previewed: stashed.fingerprint})
	if _, isField := check.AsFieldErrors(err); isField || errors.Is(err, bundle.ErrStale) {
		s.renderPreview(w, r, stashed.bundle, err)
		return
	}
	if err != nil {
		s.formProblem(w, r, "bundle.html", s.bundlePageFor(r), err)
		return
	}
	redirect(w, r, "/config/bundle?notice=imported&id="+stashed.bundle.ID()+"&changes="+strconv.Itoa(plan.Changes()))
}

// stashedBundle is a previewed bundle waiting for the user to apply it,
// with the fingerprint of the plan they saw.
type stashedBundle struct {
	bundle      *bundle.Bundle
	fingerprint string
}
