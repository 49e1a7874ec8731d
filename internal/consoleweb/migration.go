package consoleweb

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/migration"
)

// migrationRunsPage is the data of an organisation's migration runs page.
type migrationRunsPage struct {
	Org  console.Organisation
	Runs []console.MigrationRun
	// Active is the run still being carried out, if any, whose operation
	// the page follows.
	Active *console.MigrationRun
	// LatestDone is the number of the latest successful run: the only one
	// that can be signed off.
	LatestDone int
	SignedOff  bool
	// SourcesDir is where the page may read a specification and a source.
	SourcesDir string
}

// migrationRunPage is the data of one run's report page.
type migrationRunPage struct {
	Org        console.Organisation
	Run        console.MigrationRun
	Report     *migration.Report
	Operation  console.Operation
	LatestDone bool
	Others     []console.MigrationRun
}

// migrationComparePage is the data of the comparison of two runs.
type migrationComparePage struct {
	Org         console.Organisation
	A, B        console.MigrationRun
	Differences []migration.Difference
	Runs        []console.MigrationRun
}

func (s *Server) migrationRunsData(r *http.Request) (migrationRunsPage, error) {
	var d migrationRunsPage
	var err error
	if d.Org, err = console.GetOrganisation(r.Context(), s.Console.DB, r.PathValue("org")); err != nil {
		return d, err
	}
	if d.Runs, err = console.MigrationRuns(r.Context(), s.Console.DB, d.Org.Code); err != nil {
		return d, err
	}
	d.SourcesDir = s.migrationSources()
	for i, run := range d.Runs {
		if (run.State == console.RunQueued || run.State == console.RunRunning) && d.Active == nil {
			d.Active = &d.Runs[i]
		}
		if run.State == console.RunDone && d.LatestDone == 0 {
			d.LatestDone = run.Number
		}
		d.SignedOff = d.SignedOff || run.SignedOff()
	}
	return d, nil
}

func (s *Server) migrationRuns(w http.ResponseWriter, r *http.Request) {
	d, err := s.migrationRunsData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Migration runs", nil), err)
		return
	}
	p := s.newPage(r, "Migration runs of "+d.Org.Name, d)
	if r.URL.Query().Get("notice") == "started" {
		p.Notice = "The migration run was queued: the Migration instance is being rebuilt from scratch with its output. This page follows its progress."
	}
	s.render(w, r, http.StatusOK, "migration_runs.html", p)
}

func (s *Server) migrationStart(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	req := console.MigrationRequest{Org: r.PathValue("org"), Sample: r.PostFormValue("source_kind") != "path",
		SpecPath: r.PostFormValue("spec_path"), SourcePath: r.PostFormValue("source_path"), Reason: r.PostFormValue("reason")}
	var err error
	if !req.Sample {
		fe := check.FieldErrors{}
		if req.SpecPath, err = s.inMigrationSources(req.SpecPath); err != nil {
			fe["spec_path"] = err.Error()
		}
		if req.SourcePath, err = s.inMigrationSources(req.SourcePath); err != nil {
			fe["source"] = err.Error()
		}
		err = fe.Err()
	}
	var run console.MigrationRun
	if err == nil {
		run, err = s.Console.StartMigration(r.Context(), visitOf(r).user.Actor(), req)
	}
	if err != nil {
		d, derr := s.migrationRunsData(r)
		if derr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Migration runs", nil), derr)
			return
		}
		if fe, ok := check.AsFieldErrors(err); ok && fe["spec"] != "" && fe["spec_path"] == "" {
			fe["spec_path"] = fe["spec"]
		}
		s.formProblem(w, r, "migration_runs.html", s.newPage(r, "Migration runs of "+d.Org.Name, d), err)
		return
	}
	redirect(w, r, fmt.Sprintf("/o/%s/migration-runs/%d?notice=started", url.PathEscape(run.Org), run.Number))
}

func (s *Server) migrationRunData(r *http.Request) (migrationRunPage, error) {
	var d migrationRunPage
	n, err := strconv.Atoi(r.PathValue("run"))
	if err != nil {
		return d, fmt.Errorf("migration run %q: %w", r.PathValue("run"), check.ErrNotFound)
	}
	ctx := r.Context()
	if d.Org, err = console.GetOrganisation(ctx, s.Console.DB, r.PathValue("org")); err != nil {
		return d, err
	}
	if d.Run, err = console.GetMigrationRun(ctx, s.Console.DB, d.Org.Code, n); err != nil {
		return d, err
	}
	d.Report = d.Run.Report
	if d.Run.OperationID != 0 {
		if d.Operation, err = console.GetOperation(ctx, s.Console.DB, d.Run.OperationID); err != nil {
			return d, err
		}
	}
	runs, err := console.MigrationRuns(ctx, s.Console.DB, d.Org.Code)
	if err != nil {
		return d, err
	}
	for _, o := range runs {
		if o.State == console.RunDone {
			if !d.LatestDone && o.Number == n && !anyNewerDone(runs, n) {
				d.LatestDone = true
			}
			if o.Number != n {
				d.Others = append(d.Others, o)
			}
		}
	}
	return d, nil
}

func anyNewerDone(runs []console.MigrationRun, n int) bool {
	for _, o := range runs {
		if o.Number > n && o.State == console.RunDone {
			return true
		}
	}
	return false
}

func (s *Server) migrationRun(w http.ResponseWriter, r *http.Request) {
	d, err := s.migrationRunData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Migration run", nil), err)
		return
	}
	p := s.newPage(r, fmt.Sprintf("Migration run %d of %s", d.Run.Number, d.Org.Name), d)
	switch r.URL.Query().Get("notice") {
	case "started":
		p.Notice = "The migration run was queued: the Migration instance is being rebuilt from scratch with its output. This page follows its progress."
	case "signed":
		p.Notice = "The run's output is signed off; the milestone “Migration output signed off” is recorded on the timeline."
	}
	s.render(w, r, http.StatusOK, "migration_run.html", p)
}

func (s *Server) migrationSignOff(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	n, err := strconv.Atoi(r.PathValue("run"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	org := r.PathValue("org")
	err = s.Console.SignOffMigrationSigned(r.Context(), console.Signer{SessionUserID: visitOf(r).user.ID,
		Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}, org, n, r.PostFormValue("reason"))
	if err == nil {
		redirect(w, r, fmt.Sprintf("/o/%s/migration-runs/%d?notice=signed", url.PathEscape(org), n))
		return
	}
	d, derr := s.migrationRunData(r)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Migration run", nil), derr)
		return
	}
	p := s.newPage(r, fmt.Sprintf("Migration run %d of %s", d.Run.Number, d.Org.Name), d)
	p.Form.Del("password")
	s.formProblem(w, r, "migration_run.html", p, err)
}

func (s *Server) migrationCompare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d migrationComparePage
	var err error
	if d.Org, err = console.GetOrganisation(ctx, s.Console.DB, r.PathValue("org")); err == nil {
		d.Runs, err = console.MigrationRuns(ctx, s.Console.DB, d.Org.Code)
	}
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Compare migration runs", nil), err)
		return
	}
	p := s.newPage(r, "Compare migration runs of "+d.Org.Name, &d)
	p.Form = r.URL.Query()
	a, aerr := strconv.Atoi(r.URL.Query().Get("a"))
	b, berr := strconv.Atoi(r.URL.Query().Get("b"))
	if aerr == nil && berr == nil {
		d.A, d.B, d.Differences, err = console.CompareMigrationRuns(ctx, s.Console.DB, d.Org.Code, a, b)
		if err != nil {
			d.A, d.B = console.MigrationRun{}, console.MigrationRun{}
			s.formProblem(w, r, "migration_compare.html", p, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "migration_compare.html", p)
}

// migrationSources is the one directory the migration page reads from. The
// command line may name any file its user can read; a browser must never
// make the console read any file on its machine.
func (s *Server) migrationSources() string {
	dir, err := filepath.Abs(filepath.Join(s.Console.Places.DataDir, "migration-sources"))
	if err != nil {
		return filepath.Join(s.Console.Places.DataDir, "migration-sources")
	}
	return dir
}

// inMigrationSources resolves a name typed on the page inside
// migrationSources, following links, and refuses anything outside it.
// Empty stays empty: the console then says what is missing.
func (s *Server) inMigrationSources(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	root := s.migrationSources()
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	outside := fmt.Errorf("The page reads only files under %s on the console's machine; put the file there (or use cohort migrate run from the command line).", root)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", outside
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("%s does not exist under %s.", name, root)
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", outside
	}
	return real, nil
}
