package consoleweb

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/web"
)

// maxUpload bounds an uploaded build (a cohort binary is some 40 MB).
const maxUpload = 512 << 20

func (s *Server) registerReleaseRoutes() {
	s.handle("GET", "/releases", need(access.ConsoleView), s.releaseList)
	s.handle("POST", "/releases", Need{Permission: access.ConsoleManage, MaxBody: maxUpload}, s.releaseRegister)
	s.handle("GET", "/releases/{build}", need(access.ConsoleView), s.releaseShow)
	s.handle("GET", "/o/{org}/{env}/{role}/hotfixes", need(access.ConsoleView), s.hotfixList)
	s.handle("POST", "/o/{org}/{env}/{role}/hotfixes/accept", need(access.ConsoleManage), s.hotfixDecide(true))
	s.handle("POST", "/o/{org}/{env}/{role}/hotfixes/decline", need(access.ConsoleManage), s.hotfixDecide(false))
	s.handle("GET", "/metrics", public, s.consoleMetrics)
}

func (s *Server) catalog() *release.Catalog { return release.For(s.Console) }

// catalogRow is one build of the catalog page, with the instances on it.
type catalogRow struct {
	release.Build
	Instances []string
}

type catalogPage struct {
	Rows []catalogRow
	// Problems lists the builds whose stored binary is missing or changed.
	Problems map[string]string
}

func (s *Server) catalogData(r *http.Request) (catalogPage, error) {
	var d catalogPage
	list, err := release.List(r.Context(), s.Console.DB)
	if err != nil {
		return d, err
	}
	insts, err := console.Instances(r.Context(), s.Console.DB)
	if err != nil {
		return d, err
	}
	for _, b := range list {
		row := catalogRow{Build: b}
		for _, in := range insts {
			if in.State != console.Destroyed && in.Build == b.Ref() {
				row.Instances = append(row.Instances, in.Key())
			}
		}
		d.Rows = append(d.Rows, row)
	}
	bad, err := s.catalog().Verify(r.Context())
	if err != nil {
		return d, err
	}
	d.Problems = map[string]string{}
	for k, e := range bad {
		d.Problems[k] = e.Error()
	}
	return d, nil
}

func (s *Server) releaseList(w http.ResponseWriter, r *http.Request) {
	d, err := s.catalogData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Release catalog", d)
	if n := r.URL.Query().Get("registered"); n != "" {
		p.Notice = "Registered build " + n + "."
	}
	s.render(w, r, http.StatusOK, "release_catalog.html", p)
}

// releaseRegister registers a build from an uploaded binary or from a path
// on the console's server, with notes typed in or uploaded.
func (s *Server) releaseRegister(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The uploaded build is too large.", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "The form could not be read: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	fail := func(err error) {
		d, derr := s.catalogData(r)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		p := s.newPage(r, "Release catalog", d)
		var fe check.FieldErrors
		if errors.As(err, &fe) {
			s.formProblem(w, r, "release_catalog.html", p, err)
			return
		}
		if msg, ok := web.UserMessage(err); ok {
			p.Problem = msg
			s.render(w, r, http.StatusUnprocessableEntity, "release_catalog.html", p)
			return
		}
		s.fail(w, r, err)
	}
	notes := r.PostFormValue("notes")
	if f, _, err := r.FormFile("notes_file"); err == nil {
		data, err := io.ReadAll(io.LimitReader(f, release.MaxNotes+1))
		f.Close()
		if err != nil {
			fail(err)
			return
		}
		notes = string(data)
	}
	binary := strings.TrimSpace(r.PostFormValue("path"))
	if f, hdr, err := r.FormFile("binary"); err == nil {
		tmp, err := saveUpload(f)
		f.Close()
		if err != nil {
			fail(fmt.Errorf("keep the uploaded build %s: %w", hdr.Filename, err))
			return
		}
		defer os.RemoveAll(filepath.Dir(tmp))
		binary = tmp
	}
	if binary == "" {
		fail(check.FieldErrors{"path": "Upload the build's binary, or give its path on the console's server."})
		return
	}
	if !filepath.IsAbs(binary) {
		fail(check.FieldErrors{"path": "Give the binary's full path on the console's server, e.g. /opt/cohort/builds/cohort-26.2."})
		return
	}
	b, added, err := s.catalog().Register(r.Context(), visitOf(r).user.Actor(), release.Registration{Binary: binary, Notes: notes})
	if err != nil {
		fail(err)
		return
	}
	if !added {
		redirect(w, r, "/releases/"+url.PathEscape(b.Key())+"?notice=again")
		return
	}
	redirect(w, r, "/releases/"+url.PathEscape(b.Key())+"?notice=registered")
}

// saveUpload writes an uploaded binary to a private temporary directory,
// executable, for the catalog to run and copy.
func saveUpload(f io.Reader) (string, error) {
	dir, err := os.MkdirTemp("", "cohort-upload-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "cohort")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o700)
	if err == nil {
		_, err = io.Copy(out, f)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}

type releasePage struct {
	Build     release.Build
	Notes     release.Notes
	Instances []string
	// Offered lists the instances a hotfix is offered to.
	Offered []string
	Problem string
}

func (s *Server) releaseShow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := release.Resolve(ctx, s.Console.DB, r.PathValue("build"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	d := releasePage{Build: b, Notes: release.ParseNotes(b.Notes)}
	insts, err := console.Instances(ctx, s.Console.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, in := range insts {
		if in.State == console.Destroyed {
			continue
		}
		if in.Build == b.Ref() {
			d.Instances = append(d.Instances, in.Key())
		} else if release.Offered(b, in.Build) {
			d.Offered = append(d.Offered, in.Key())
		}
	}
	if _, err := s.catalog().Binary(ctx, b.Ref()); err != nil {
		d.Problem = err.Error()
	}
	p := s.newPage(r, "cohort "+b.String(), d)
	switch r.URL.Query().Get("notice") {
	case "registered":
		p.Notice = "Registered build " + b.String() + "."
	case "again":
		p.Notice = "Build " + b.String() + " was already registered with this binary; nothing changed."
	}
	s.render(w, r, http.StatusOK, "release_notes.html", p)
}

type hotfixPage struct {
	Key       string
	Running   console.Build
	Offers    []release.Offer
	Decisions []release.Decision
	// CanInstall is false while the console has no upgrade operation.
	CanInstall bool
}

func (s *Server) hotfixData(r *http.Request) (hotfixPage, error) {
	key := keyOf(r)
	d := hotfixPage{Key: key, CanInstall: s.catalog().RequestUpgrade != nil}
	inst, err := console.GetInstance(r.Context(), s.Console.DB, key)
	if err != nil {
		return d, err
	}
	d.Running = inst.Build
	if d.Offers, err = release.Offers(r.Context(), s.Console.DB, key); err != nil {
		return d, err
	}
	d.Decisions, err = release.Decisions(r.Context(), s.Console.DB, key)
	return d, err
}

// hotfixList is the hotfixes offered to an instance: a page of its own, or
// the block the instance page loads.
func (s *Server) hotfixList(w http.ResponseWriter, r *http.Request) {
	d, err := s.hotfixData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Hotfixes", nil), err)
		return
	}
	p := s.newPage(r, "Hotfixes for "+d.Key, d)
	switch r.URL.Query().Get("notice") {
	case "accepted":
		p.Notice = "The hotfix was accepted and the upgrade requested; the instance page follows it."
	case "declined":
		p.Notice = "The hotfix was declined; it stays offered and can be accepted later."
	}
	s.render(w, r, http.StatusOK, "release_hotfixes.html", p)
}

func (s *Server) hotfixDecide(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !parseForm(w, r) {
			return
		}
		ctx, key, ref, reason := r.Context(), keyOf(r), r.PostFormValue("build"), r.PostFormValue("reason")
		by := visitOf(r).user.Actor()
		var err error
		notice := "declined"
		if accept {
			var at time.Time
			if v := strings.TrimSpace(r.PostFormValue("at")); v != "" {
				if at, err = time.ParseInLocation("2006-01-02T15:04", v, time.UTC); err != nil {
					err = check.FieldErrors{"at": "Give the agreed slot as a date and time (UTC)."}
				}
			}
			if err == nil {
				_, _, err = s.catalog().Accept(ctx, by, key, ref, reason, at)
			}
			notice = "accepted"
		} else {
			_, err = s.catalog().Decline(ctx, by, key, ref, reason)
		}
		if err == nil {
			redirect(w, r, pathOf(key)+"/hotfixes?notice="+notice)
			return
		}
		d, derr := s.hotfixData(r)
		if derr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Hotfixes", nil), derr)
			return
		}
		p := s.newPage(r, "Hotfixes for "+key, d)
		if errors.Is(err, release.ErrNoUpgrades) {
			p.Problem = err.Error()
			s.render(w, r, http.StatusUnprocessableEntity, "release_hotfixes.html", p)
			return
		}
		if _, ok := check.AsFieldErrors(err); !ok && !console.IsRefusal(err) {
			if msg, ok := web.UserMessage(err); ok {
				p.Problem = msg
				s.render(w, r, http.StatusUnprocessableEntity, "release_hotfixes.html", p)
				return
			}
		}
		s.formProblem(w, r, "release_hotfixes.html", p, err)
	}
}

// consoleMetrics is the console's /metrics: its build and its catalog, in
// the Prometheus text format.
func (s *Server) consoleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace
	b := s.Build
	fmt.Fprintln(w, "# HELP cohort_build_info The running console's build.")
	fmt.Fprintln(w, "# TYPE cohort_build_info gauge")
	fmt.Fprintf(w, "cohort_build_info{component=\"console\",version=\"%s\",build=\"%s\",time=\"%s\",revision=\"%s\",schema_version=\"%d\"} 1\n",
		esc(b.Version), esc(b.Number), esc(b.Time), esc(b.Revision), instance.SchemaVersion())
	list, err := release.List(r.Context(), s.Console.DB)
	if err != nil {
		s.Logger.Error("metrics: read the release catalog", "err", err)
		return
	}
	fmt.Fprintln(w, "# HELP cohort_release_builds Builds registered in the release catalog.")
	fmt.Fprintln(w, "# TYPE cohort_release_builds gauge")
	fmt.Fprintf(w, "cohort_release_builds %d\n", len(list))
}
