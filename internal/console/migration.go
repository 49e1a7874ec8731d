package console

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
)

// OpMigrate rebuilds an organisation's Migration instance from scratch and
// applies a migration run to it.
const OpMigrate OpKind = "migrate"

// RunState is where a migration run is.
type RunState string

// The migration run states.
const (
	RunQueued  RunState = "queued"
	RunRunning RunState = "running"
	RunDone    RunState = "done"
	RunFailed  RunState = "failed"
)

// MigrationRun is one run of the migration program for an organisation.
type MigrationRun struct {
	ID     int64
	Org    string
	Number int
	// OperationID is the console operation that carries the run out.
	OperationID int64
	Instance    string
	SpecName    string
	// SpecSHA256 and SourceSHA256 fingerprint what was migrated; SpecPath
	// and SourcePath are the console's own copies.
	SpecSHA256   string
	SourceSHA256 string
	SpecPath     string
	SourcePath   string
	// SourceLabel says where the source came from ("the shipped sample",
	// or the path given).
	SourceLabel string
	State       RunState
	Reason      string
	RequestedBy string
	RequestedAt time.Time
	StartedAt   sql.NullTime
	FinishedAt  sql.NullTime
	Failure     string
	// Report is the run's report once it is done.
	Report       *migration.Report
	SignedOffBy  string
	SignedOffAt  sql.NullTime
	SignOffNote  string
	reportJSON   string
	organisation int64
}

// SignedOff reports whether the run's output was signed off.
func (r MigrationRun) SignedOff() bool { return r.SignedOffAt.Valid }

// MigrationRequest asks for a migration run.
type MigrationRequest struct {
	Org string
	// Sample runs the shipped sample specification over the shipped sample
	// source; otherwise SpecPath and SourcePath are paths on the console's
	// machine (a CSV directory, a SQLite file or an SQL dump).
	Sample     bool
	SpecPath   string
	SourcePath string
	Reason     string
}

const runColumns = `r.id, o.code, r.organisation_id, r.number, COALESCE(r.operation_id, 0), r.instance, r.spec_name, r.spec_sha256, r.source_sha256,
	r.spec_path, r.source_path, r.source_label, r.state, r.reason, r.requested_by, r.requested_at, r.started_at, r.finished_at,
	r.report, r.failure, r.signed_off_by, r.signed_off_at, r.signoff_reason`

func queryRuns(ctx context.Context, q store.Querier, where string, args ...any) ([]MigrationRun, error) {
	rows, err := q.Query(ctx, "SELECT "+runColumns+" FROM migration_run r JOIN organisation o ON o.id = r.organisation_id "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list migration runs: %w", err)
	}
	defer rows.Close()
	var out []MigrationRun
	for rows.Next() {
		var r MigrationRun
		var state string
		if err := rows.Scan(&r.ID, &r.Org, &r.organisation, &r.Number, &r.OperationID, &r.Instance, &r.SpecName, &r.SpecSHA256, &r.SourceSHA256,
			&r.SpecPath, &r.SourcePath, &r.SourceLabel, &state, &r.Reason, &r.RequestedBy, &r.RequestedAt, &r.StartedAt, &r.FinishedAt,
			&r.reportJSON, &r.Failure, &r.SignedOffBy, &r.SignedOffAt, &r.SignOffNote); err != nil {
			return nil, fmt.Errorf("list migration runs: %w", err)
		}
		r.State = RunState(state)
		if r.reportJSON != "" {
			var rep migration.Report
			if err := json.Unmarshal([]byte(r.reportJSON), &rep); err == nil {
				r.Report = &rep
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MigrationRuns lists an organisation's migration runs, newest first.
func MigrationRuns(ctx context.Context, q store.Querier, org string) ([]MigrationRun, error) {
	return queryRuns(ctx, q, "WHERE o.code = ? ORDER BY r.number DESC", org)
}

// GetMigrationRun returns run number n of an organisation.
func GetMigrationRun(ctx context.Context, q store.Querier, org string, n int) (MigrationRun, error) {
	runs, err := queryRuns(ctx, q, "WHERE o.code = ? AND r.number = ?", org, n)
	if err != nil {
		return MigrationRun{}, err
	}
	if len(runs) == 0 {
		return MigrationRun{}, fmt.Errorf("migration run %d of %s: %w", n, org, check.ErrNotFound)
	}
	return runs[0], nil
}

// MigrationRunByID returns a run by its id.
func MigrationRunByID(ctx context.Context, q store.Querier, id int64) (MigrationRun, error) {
	runs, err := queryRuns(ctx, q, "WHERE r.id = ?", id)
	if err != nil {
		return MigrationRun{}, err
	}
	if len(runs) == 0 {
		return MigrationRun{}, fmt.Errorf("migration run %d: %w", id, check.ErrNotFound)
	}
	return runs[0], nil
}

// migrationDir is where the console keeps a run's copies of its
// specification and source.
func (c *Console) migrationDir(org string, n int) string {
	return filepath.Join(c.Places.DataDir, "migrations", org, "run-"+strconv.Itoa(n))
}

// StartMigration records a migration run for the organisation and queues
// the operation that rebuilds its Migration instance from scratch with the
// run's output. The specification is read and checked first (its problems
// are refused with line and key); specification and source are copied into
// the console's data directory and fingerprinted, so the run can be
// repeated exactly. An organisation without a Migration environment gets
// one.
func (c *Console) StartMigration(ctx context.Context, by audit.Actor, req MigrationRequest) (MigrationRun, error) {
	var specBytes []byte
	var err error
	label := "the shipped sample (ClinBase 4 export of Harbourview CRU)"
	if req.Sample {
		specBytes = sample.SpecJSON()
	} else {
		if strings.TrimSpace(req.SpecPath) == "" || strings.TrimSpace(req.SourcePath) == "" {
			return MigrationRun{}, check.FieldErrors{"spec": "Give the specification's path and the legacy source's path on the console's machine, or use the sample."}
		}
		if specBytes, err = os.ReadFile(req.SpecPath); err != nil {
			return MigrationRun{}, check.FieldErrors{"spec": fmt.Sprintf("The specification %s cannot be read: %v.", req.SpecPath, err)}
		}
		if _, err := os.Stat(req.SourcePath); err != nil {
			return MigrationRun{}, check.FieldErrors{"source": fmt.Sprintf("The legacy source %s cannot be read: %v.", req.SourcePath, err)}
		}
		label = req.SourcePath
	}
	spec, err := migration.ParseSpec(strings.NewReader(string(specBytes)))
	if err != nil {
		return MigrationRun{}, check.FieldErrors{"spec": err.Error()}
	}
	var run MigrationRun
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		org, err := GetOrganisation(ctx, tx, req.Org)
		if err != nil {
			return err
		}
		inst, err := c.migrationInstance(ctx, tx, by, org, req.Reason)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM migration_run WHERE organisation_id = ?", org.ID).Scan(&n); err != nil {
			return fmt.Errorf("number the migration run: %w", err)
		}
		dir := c.migrationDir(org.Code, n)
		specPath, sourcePath, err := keepCopies(dir, specBytes, req)
		if err != nil {
			return err
		}
		specSum, err := migration.Fingerprint(specPath)
		if err != nil {
			return err
		}
		sourceSum, err := migration.Fingerprint(sourcePath)
		if err != nil {
			return err
		}
		reason := strings.TrimSpace(req.Reason)
		op, err := enqueue(ctx, tx, by, Operation{Kind: OpMigrate, InstanceID: inst.ID, Instance: inst.Key(),
			Reason: nonEmpty(reason, fmt.Sprintf("migration run %d", n))}, inst)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO migration_run (organisation_id, number, operation_id, instance, spec_name, spec_sha256, source_sha256,
			spec_path, source_path, source_label, state, reason, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			org.ID, n, op.ID, inst.Key(), spec.Name, specSum, sourceSum, specPath, sourcePath, label, string(RunQueued), reason, by.Name, now)
		if err != nil {
			return fmt.Errorf("record migration run %d of %s: %w", n, org.Code, err)
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "migration_run", EntityID: org.Code + "/" + strconv.Itoa(n),
			Reason: reason, Changes: []audit.Change{{Field: "spec", New: spec.Name + " sha256:" + specSum}, {Field: "source", New: label + " sha256:" + sourceSum},
				{Field: "instance", New: inst.Key()}}}); err != nil {
			return err
		}
		run, err = MigrationRunByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return MigrationRun{}, err
	}
	c.notify()
	return run, nil
}

// migrationInstance returns the Main instance of the organisation's live
// Migration environment, making the environment (requested, to be built by
// the run) when there is none.
func (c *Console) migrationInstance(ctx context.Context, tx *store.Tx, by audit.Actor, org Organisation, reason string) (Instance, error) {
	envs, err := Environments(ctx, tx, org.Code)
	if err != nil {
		return Instance{}, err
	}
	for _, e := range envs {
		if e.Kind != Migration || !e.Live() {
			continue
		}
		for _, in := range e.Instances {
			if in.Role == Main && in.State != Destroyed {
				if err := lockRow(ctx, tx, in.ID); err != nil {
					return Instance{}, err
				}
				return in, nil
			}
		}
	}
	code, err := freeCode(ctx, tx, org.ID, string(Migration))
	if err != nil {
		return Instance{}, err
	}
	now := time.Now().UTC()
	envID, err := tx.InsertID(ctx, `INSERT INTO environment (organisation_id, code, kind, purpose, made_from, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, org.ID, code, string(Migration), "", "migration program output", now, by.Name)
	if err != nil {
		return Instance{}, fmt.Errorf("create environment %s/%s: %w", org.Code, code, err)
	}
	if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "environment", EntityID: org.Code + "/" + code,
		Reason: nonEmpty(reason, "first migration run"), Changes: []audit.Change{{Field: "kind", New: "Migration"}, {Field: "made_from", New: "migration program output"}}}); err != nil {
		return Instance{}, err
	}
	return c.insertInstance(ctx, tx, by, envID, org.Code, code, Main, nil)
}

// keepCopies copies the specification and the source into dir and returns
// the copies' paths.
func keepCopies(dir string, spec []byte, req MigrationRequest) (specPath, sourcePath string, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", fmt.Errorf("keep the run's files: %w", err)
	}
	specPath = filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, spec, 0o640); err != nil {
		return "", "", fmt.Errorf("keep the run's specification: %w", err)
	}
	if req.Sample {
		sourcePath = filepath.Join(dir, "source")
		return specPath, sourcePath, copyFS(sample.SourceFS(), sourcePath)
	}
	st, err := os.Stat(req.SourcePath)
	if err != nil {
		return "", "", err
	}
	if st.IsDir() {
		sourcePath = filepath.Join(dir, "source")
		return specPath, sourcePath, copyFS(os.DirFS(req.SourcePath), sourcePath)
	}
	sourcePath = filepath.Join(dir, "source"+strings.ToLower(filepath.Ext(req.SourcePath)))
	return specPath, sourcePath, copySourceFile(req.SourcePath, sourcePath)
}

// copyFS copies the CSV files at the top of fsys into dir.
func copyFS(fsys fs.FS, dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	names, err := fs.Glob(fsys, "*.csv")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return check.FieldErrors{"source": "The legacy source directory holds no CSV files."}
	}
	for _, n := range names {
		in, err := fsys.Open(n)
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dir, n))
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			return fmt.Errorf("keep a copy of %s: %w", n, err)
		}
	}
	return nil
}

func copySourceFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// migrate carries out an OpMigrate: the Migration instance is stopped, its
// database replaced by a fresh one prepared by its build (schema and
// administrator), the run's stored specification and source applied, and
// the instance started again. Edits made in the old instance are gone by
// design. A retry starts over the same way.
func (c *Console) migrate(ctx context.Context, op Operation, inst Instance) error {
	runs, err := queryRuns(ctx, c.DB, "WHERE r.operation_id = ?", op.ID)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return fmt.Errorf("operation %d has no migration run", op.ID)
	}
	run := runs[0]
	if _, err := c.DB.Exec(ctx, "UPDATE migration_run SET state = ?, started_at = ?, failure = '', report = '' WHERE id = ?",
		string(RunRunning), time.Now().UTC(), run.ID); err != nil {
		return fmt.Errorf("start migration run %d: %w", run.Number, err)
	}
	rep, err := c.rebuild(ctx, op, inst, run)
	state, failure := RunDone, ""
	if err != nil {
		state, failure = RunFailed, err.Error()
	}
	var reportJSON []byte
	if rep != nil {
		reportJSON, _ = json.Marshal(rep)
	}
	if _, uerr := c.DB.Exec(context.WithoutCancel(ctx), "UPDATE migration_run SET state = ?, finished_at = ?, failure = ?, report = ? WHERE id = ?",
		string(state), time.Now().UTC(), failure, string(reportJSON), run.ID); uerr != nil {
		return errors.Join(err, fmt.Errorf("record the end of migration run %d: %w", run.Number, uerr))
	}
	return err
}

func (c *Console) rebuild(ctx context.Context, op Operation, inst Instance, run MigrationRun) (*migration.Report, error) {
	if inst.Kind != Migration {
		return nil, refuse("%s is not a Migration instance; only the Migration environment is rebuilt by a migration run.", inst.Key())
	}
	note := c.note(ctx, op)
	if err := c.ensurePort(ctx, &inst); err != nil {
		return nil, err
	}
	spec, err := c.Spec(inst)
	if err != nil {
		return nil, err
	}
	switch inst.State {
	case Running:
		c.progress(ctx, op, "stop", 5, "Stopping "+inst.Key()+"; it is rebuilt from scratch, and nothing edited in it is kept.")
		if err := c.Runtime.Stop(ctx, spec); err != nil {
			return nil, fmt.Errorf("stop %s: %w", inst.Key(), err)
		}
		if err := c.move(ctx, &inst, Stopped, op); err != nil {
			return nil, err
		}
	case Requested, Failed:
		if err := c.move(ctx, &inst, Provisioning, op); err != nil {
			return nil, err
		}
	}
	c.progress(ctx, op, "database", 10, fmt.Sprintf("Creating a fresh %s database.", inst.Engine))
	if err := c.freshDatabase(ctx, inst); err != nil {
		return nil, err
	}
	c.progress(ctx, op, "prepare", 15, "Preparing the database with build "+inst.Build.String()+".")
	prepared, err := c.Runtime.Prepare(ctx, spec, Preparation{By: op.RequestedBy})
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", inst.Key(), err)
	}
	c.announce(inst, prepared, note)
	c.progress(ctx, op, "migrate", 20, fmt.Sprintf("Applying migration run %d (specification sha256:%s…, source sha256:%s…).", run.Number, run.SpecSHA256[:12], run.SourceSHA256[:12]))
	rep, err := c.applyRun(ctx, run, spec.DSN, fmt.Sprintf("run %d of %s", run.Number, run.Org), func(p migration.Progress) {
		pct := 20
		if p.Phase == "store" && p.Of > 0 {
			pct = 60 + 25*p.Rows/p.Of
		} else if p.Phase == "read" {
			pct = min(59, 20+p.Rows/500)
		}
		c.progress(ctx, op, "migrate", pct, fmt.Sprintf("%s %s: %d rows.", map[string]string{"read": "Reading", "store": "Storing"}[p.Phase], p.Table, p.Rows))
	})
	if err != nil {
		return rep, err
	}
	note(fmt.Sprintf("Migrated %d volunteers (%d duplicates found), %d list entries, %d archived studies, %d participations; %d rows rejected.",
		rep.Volunteers, rep.Duplicates, rep.ListEntries, rep.Studies, rep.Participations, rep.Rejected()))
	return rep, c.launch(ctx, op, &inst, spec, 90)
}

// applyRun applies a stored run's specification and source to the
// instance database at dsn.
func (c *Console) applyRun(ctx context.Context, run MigrationRun, dsn, name string, progress func(migration.Progress)) (*migration.Report, error) {
	if sum, err := migration.Fingerprint(run.SpecPath); err != nil || sum != run.SpecSHA256 {
		return nil, fmt.Errorf("the console's copy of the specification of migration run %d (%s) is missing or changed; the run cannot be repeated exactly", run.Number, run.SpecPath)
	}
	f, err := os.Open(run.SpecPath)
	if err != nil {
		return nil, fmt.Errorf("open the specification of migration run %d: %w", run.Number, err)
	}
	spec, err := migration.ParseSpec(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if sum, err := migration.Fingerprint(run.SourcePath); err != nil || sum != run.SourceSHA256 {
		return nil, fmt.Errorf("the console's copy of the source of migration run %d (%s) is missing or changed; the run cannot be repeated exactly", run.Number, run.SourcePath)
	}
	src, err := migration.OpenSource(ctx, run.SourcePath)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the instance database: %w", err)
	}
	defer db.Close()
	return migration.Run(ctx, db, spec, src, migration.Options{Run: name, Progress: progress})
}

// LoadMigration applies the stored specification and source of a migration
// run into target.DSN, an instance database already prepared with the
// schema, so VAL and PROD get the same migration output as the signed-off
// Migration instance. note hears progress.
func (c *Console) LoadMigration(ctx context.Context, runID int64, target Spec, note func(string)) error {
	run, err := MigrationRunByID(ctx, c.DB, runID)
	if err != nil {
		return err
	}
	if run.State != RunDone {
		return refuse("Migration run %d of %s is %s; only a finished run can be loaded.", run.Number, run.Org, run.State)
	}
	if note == nil {
		note = func(string) {}
	}
	note(fmt.Sprintf("Loading migration run %d of %s into %s.", run.Number, run.Org, target.Key))
	last := ""
	rep, err := c.applyRun(ctx, run, target.DSN, fmt.Sprintf("run %d of %s, loaded into %s", run.Number, run.Org, target.Key), func(p migration.Progress) {
		if line := p.Phase + " " + p.Table; line != last || p.Rows%5000 == 0 {
			last = line
			note(fmt.Sprintf("%s %s: %d rows.", map[string]string{"read": "Reading", "store": "Storing"}[p.Phase], p.Table, p.Rows))
		}
	})
	if err != nil {
		return fmt.Errorf("load migration run %d into %s: %w", run.Number, target.Key, err)
	}
	if run.Report != nil && rep.Volunteers != run.Report.Volunteers {
		return fmt.Errorf("load migration run %d into %s: %d volunteers migrated where the run migrated %d", run.Number, target.Key, rep.Volunteers, run.Report.Volunteers)
	}
	note(fmt.Sprintf("Loaded %d volunteers, %d list entries, %d archived studies, %d participations.", rep.Volunteers, rep.ListEntries, rep.Studies, rep.Participations))
	return nil
}

// SignOffMigration records that a named user signed off the output of run
// number n of org, with a reason, and records the milestone
// MigrationSignedOff. Only the latest successful run can be signed off.
func (c *Console) SignOffMigration(ctx context.Context, by audit.Actor, org string, n int, reason string) error {
	return c.signOffMigration(ctx, by, org, n, reason, nil)
}

// MigrationSignOffMeaning is what signing a migration run's output off means.
const MigrationSignOffMeaning = "I confirm that the output of this migration run is correct and complete and may be used for VAL and PROD."

// signOffMigration signs run n off in one transaction: the run, the
// milestone and, when signed electronically, the signature all land or none
// does.
func (c *Console) signOffMigration(ctx context.Context, by audit.Actor, org string, n int, reason string, signature func(tx *store.Tx, orgID int64) error) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return check.FieldErrors{"reason": "Say why the migration output is signed off; the reason is kept in the console's audit trail."}
	}
	run, err := GetMigrationRun(ctx, c.DB, org, n)
	if err != nil {
		return err
	}
	if run.State != RunDone {
		return refuse("Migration run %d of %s is %s; only a successful run's output can be signed off.", n, org, run.State)
	}
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		var latest int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) FROM migration_run WHERE organisation_id = ? AND state = ?",
			run.organisation, string(RunDone)).Scan(&latest); err != nil {
			return fmt.Errorf("find the latest migration run: %w", err)
		}
		if latest != n {
			return refuse("Only the latest successful migration run can be signed off: run %d is newer than run %d, and the Migration instance holds its output.", latest, n)
		}
		now := time.Now().UTC()
		res, err := tx.Exec(ctx, "UPDATE migration_run SET signed_off_by = ?, signed_off_at = ?, signoff_reason = ? WHERE id = ? AND signed_off_at IS NULL",
			by.Name, now, reason, run.ID)
		if err != nil {
			return fmt.Errorf("sign off migration run %d: %w", n, err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return refuse("Migration run %d of %s was already signed off by %s.", n, org, run.SignedOffBy)
		}
		if signature != nil {
			if err := signature(tx, run.organisation); err != nil {
				return err
			}
		}
		if err := reach(ctx, tx, run.organisation, org, by, MigrationSignedOff, fmt.Sprintf("migration run %d signed off: %s", n, reason)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "migration_run", EntityID: org + "/" + strconv.Itoa(n),
			Reason: reason, Changes: []audit.Change{{Field: "signed_off_at", New: now.Format(time.RFC3339)}}})
	})
}

// CompareMigrationRuns lists the figures that differ between run a and run
// b of an organisation (see migration.Compare).
func CompareMigrationRuns(ctx context.Context, q store.Querier, org string, a, b int) (MigrationRun, MigrationRun, []migration.Difference, error) {
	ra, err := GetMigrationRun(ctx, q, org, a)
	if err != nil {
		return ra, MigrationRun{}, nil, err
	}
	rb, err := GetMigrationRun(ctx, q, org, b)
	if err != nil {
		return ra, rb, nil, err
	}
	if ra.Report == nil || rb.Report == nil {
		return ra, rb, nil, refuse("Only finished runs can be compared; run %d is %s and run %d is %s.", a, ra.State, b, rb.State)
	}
	return ra, rb, migration.Compare(ra.Report, rb.Report), nil
}

// SignOffMigrationSigned is SignOffMigration with an electronic signature:
// the signer's user name and password entered again (21 CFR 11.200),
// checked like the go-live signatures; the run's sign-off names the
// signer.
func (c *Console) SignOffMigrationSigned(ctx context.Context, s Signer, org string, n int, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why the migration output is signed off; the reason is kept in the console's audit trail."}
	}
	subject := fmt.Sprintf("migration-run/%d", n)
	u, err := verifySigner(ctx, c.DB, s, org+"/"+subject)
	if err != nil {
		return err
	}
	return c.signOffMigration(ctx, u.Actor(), org, n, reason, func(tx *store.Tx, orgID int64) error {
		_, err := sign(ctx, tx, orgID, org, u, subject, 0, MigrationSignOffMeaning, reason)
		return err
	})
}
