package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// upgradeRun is what one run of an upgrade measured and made.
type upgradeRun struct {
	fromSchema, toSchema int64
	backup               string
	heldFrom, heldTo     time.Time
	validatedBy          string
	// stopped is set once the old process was stopped: from then on a
	// failure is rolled back.
	stopped bool
}

// upgrade carries out an upgrade operation. Everything that can be done
// while the instance serves is done first (checks of the build, the
// target's schema, a backup for SQLite, warming the new binary); then the
// proxy holds the instance's requests, the old process stops, the
// database is copied (the rollback point), the new build starts and
// migrates, is checked, recorded, and the requests are let through. Any
// failure after the hold began restores the copy and restarts the old
// build before the requests are let through.
func (c *Console) upgrade(ctx context.Context, op Operation, inst Instance) error {
	u, err := UpgradeByOperation(ctx, c.DB, op.ID)
	if err != nil {
		return err
	}
	if u.Slot.Valid && time.Now().Before(u.Slot.Time) {
		// Reached by hand (RunOnce) before its slot: wait for it.
		c.progress(ctx, op, "scheduled", 0, "Waiting for the agreed slot "+u.Slot.Time.UTC().Format("2006-01-02 15:04")+" UTC.")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(u.Slot.Time)):
		}
	}
	note := c.note(ctx, op)
	if over, err := c.resumeUpgrade(ctx, op, inst, u); over || err != nil {
		return err
	}
	c.setUpgrade(ctx, u.ID, "outcome = ?, started_at = ?, finished_at = NULL", string(UpgradeRunning), time.Now().UTC())
	var run upgradeRun
	err = c.runUpgrade(ctx, op, inst, u, &run)
	if err != nil && ctx.Err() != nil && !(run.stopped && keepsInstance(err)) {
		// The console is stopping before the upgrade could be put right:
		// the next console does (see resumeUpgrade). A rollback that did
		// finish is recorded below, so the next console does not restore
		// the backup again over what the old build saved since.
		return err
	}
	outcome := Upgraded
	switch {
	case err == nil:
	case !run.stopped:
		// Nothing was touched: the instance serves on as before.
		outcome = UpgradeRefused
		if !keepsInstance(err) {
			err = &upgradeFailed{err}
		}
	case keepsInstance(err):
		outcome = RolledBack
	default:
		outcome = UpgradeFailed
	}
	set := "outcome = ?, finished_at = ?, backup = ?"
	args := []any{string(outcome), time.Now().UTC(), run.backup}
	if run.fromSchema > 0 {
		set += ", from_schema = ?, to_schema = ?"
		args = append(args, run.fromSchema, run.toSchema)
	}
	if !run.heldFrom.IsZero() {
		held := run.heldTo.Sub(run.heldFrom)
		set += ", held_ms = ?"
		args = append(args, held.Milliseconds())
		note(fmt.Sprintf("Requests were held for %d ms.", held.Milliseconds()))
		if m, ok := c.Gate.(FailureMeter); ok {
			// Requests let through at the release finish a moment later.
			time.Sleep(500 * time.Millisecond)
			failed := m.Failures(inst.Key(), run.heldFrom.Add(-time.Second), run.heldTo)
			set += ", failed_requests = ?"
			args = append(args, failed)
			note(fmt.Sprintf("Failed requests during the upgrade: %d.", failed))
		}
	}
	c.setUpgrade(ctx, u.ID, set, args...)
	if err == nil {
		// Only a successful upgrade makes older backups unneeded.
		if _, perr := c.pruneBackups(context.WithoutCancel(ctx), inst, note); perr != nil {
			note("Could not remove the backups of older upgrades: " + perr.Error())
		}
	}
	if err == nil && run.validatedBy != "" {
		if merr := RecordMilestone(context.WithoutCancel(ctx), c.DB, worker, inst.Org, UpgradeDone(run.validatedBy),
			fmt.Sprintf("PROD upgraded to %s (operation %d); the upgrade VAL %s may be destroyed", u.To, op.ID, run.validatedBy)); merr != nil {
			note("Could not record that the upgrade validated by " + run.validatedBy + " is done: " + merr.Error())
		} else {
			note("Recorded the milestone " + string(UpgradeDone(run.validatedBy)) + ": the upgrade VAL may now be destroyed.")
		}
	}
	return err
}

// runUpgrade does the upgrade's steps; see upgrade.
func (c *Console) runUpgrade(ctx context.Context, op Operation, inst Instance, u UpgradeRecord, run *upgradeRun) (err error) {
	note := c.note(ctx, op)
	key := inst.Key()
	c.progress(ctx, op, "checks", 5, fmt.Sprintf("Checking the upgrade of %s from %s to %s.", key, inst.Build, u.To))
	if inst.State != Running {
		return refuse("%s is %s; only a running instance is upgraded.", key, inst.State)
	}
	if inst.Build != u.From {
		return refuse("%s runs %s, not %s as when the upgrade was requested; request it again.", key, inst.Build, u.From)
	}
	if err := c.ensurePort(ctx, &inst); err != nil {
		return err
	}
	from, err := c.SpecOn(ctx, inst, inst.Build)
	if err != nil {
		return refuse("The build %s that %s runs now is not installed, so it could not be rolled back to: %v", inst.Build, key, err)
	}
	to, err := c.SpecOn(ctx, inst, u.To)
	if err != nil {
		return refuse("The build %s is not installed: %v", u.To, err)
	}
	if err := c.checkBinary(ctx, to.Binary, u.To); err != nil {
		return err
	}
	note("The binary of " + u.To.String() + " is intact and says it is that build.")
	if run.toSchema, err = c.schemaOfBuild(ctx, u.To, to.Binary); err != nil {
		return err
	}
	if run.fromSchema, err = c.schemaOfInstance(ctx, inst); err != nil {
		return err
	}
	if run.fromSchema > run.toSchema {
		return refuse("The database of %s is at schema version %d and %s knows only up to %d; a build never runs on a newer schema than its own.",
			key, run.fromSchema, u.To, run.toSchema)
	}
	note(fmt.Sprintf("Schema version %d now; %s migrates it to %d.", run.fromSchema, u.To, run.toSchema))
	if inst.Kind == Prod {
		if run.validatedBy, err = validatedFor(ctx, c.DB, inst.Org, u.To); err != nil {
			return err
		}
		note("Validated on the upgrade VAL " + inst.Org + "/" + run.validatedBy + ".")
	}
	if err := c.checkSpace(ctx, inst); err != nil {
		return err
	}
	if c.Runtime.Status(key).Process != Up {
		return refuse("%s is not serving (its process is %s); an upgrade starts from a serving instance.", key, c.Runtime.Status(key).Process)
	}
	if inst.Engine == store.SQLite {
		// A consistent copy made while the instance serves proves a backup
		// can be made and warms the page cache, so the copy made while
		// requests are held takes milliseconds.
		c.progress(ctx, op, "backup", 20, "Taking a backup of the database while the instance serves.")
		if err := c.copySQLite(ctx, c.Places.DSN(inst), c.backupPath(inst, "snapshot"), note); err != nil {
			return refuse("No backup of %s could be made, so it is not upgraded: %v", key, err)
		}
		defer removeSQLite(c.backupPath(inst, "snapshot"))
	}

	// From here on requests are held: every step is quick, and any failure
	// puts the old build back before they are let through.
	c.progress(ctx, op, "hold", progressHold, "Holding new requests to "+key+"; requests in flight finish first.")
	run.heldFrom = time.Now()
	release := func() {}
	if c.Gate != nil {
		rel, err := c.Gate.Hold(ctx, key)
		if err != nil {
			run.heldTo = time.Now()
			return &upgradeFailed{fmt.Errorf("hold the requests of %s: %w", key, err)}
		}
		release = rel
	} else {
		note("This console has no proxy; requests are not held.")
	}
	released := false
	let := func() {
		if !released {
			released = true
			release()
			run.heldTo = time.Now()
		}
	}
	defer let()
	started := false
	fail := func(step string, cause error) error {
		if ctx.Err() != nil {
			note("The console is stopping in the middle of the upgrade: it is rolled back now rather than left half done.")
		}
		note(fmt.Sprintf("%s failed: %v. Rolling back.", step, cause))
		if started {
			c.Runtime.Stop(context.WithoutCancel(ctx), to)
		}
		back := context.WithoutCancel(ctx)
		if run.stopped {
			if run.backup != "" {
				if err := c.restoreBackup(back, inst, run.backup); err != nil {
					return fmt.Errorf("%s failed (%v) and the backup %s could not be restored: %w", step, cause, run.backup, err)
				}
				note("Restored the backup " + run.backup + ".")
			}
			if err := c.startChecked(back, inst, inst.Build, run.fromSchema); err != nil {
				return fmt.Errorf("%s failed (%v) and %s did not come back on %s: %w", step, cause, key, inst.Build, err)
			}
			note(key + " serves again on " + inst.Build.String() + ".")
		}
		let()
		return &upgradeFailed{fmt.Errorf("%s failed, so %s was rolled back to %s: %w", step, key, inst.Build, cause)}
	}
	c.progress(ctx, op, "stop", 50, "Stopping "+inst.Build.String()+".")
	run.stopped = true
	step := time.Now()
	if err := c.Runtime.Stop(ctx, from); err != nil {
		return fail("Stopping the old build", err)
	}
	note(fmt.Sprintf("Stopped in %d ms.", time.Since(step).Milliseconds()))
	step = time.Now()
	if run.fromSchema == run.toSchema && inst.Engine == store.Postgres {
		// No migration will run: starting the new build changes nothing
		// in the database before requests are let through, so the database
		// as it is now is the rollback point, and the copy — the longest
		// step of a PostgreSQL upgrade — is not needed.
		note("The schema stays at the same version; the database is its own rollback point, so no copy is made during the hold.")
	} else {
		c.progress(ctx, op, "backup", 55, "Copying the stopped database: the point a rollback returns to.")
		if run.backup, err = c.takeBackup(ctx, inst, op.ID); err != nil {
			run.backup = ""
			return fail("The backup", err)
		}
		c.setUpgrade(ctx, u.ID, "backup = ?", run.backup)
		note(fmt.Sprintf("Backup %s made in %d ms.", run.backup, time.Since(step).Milliseconds()))
	}
	step = time.Now()
	c.progress(ctx, op, "start", 65, "Starting "+u.To.String()+"; it migrates the schema.")
	started = true
	if err := c.Runtime.Start(ctx, to); err != nil {
		if tail := c.logTail(to); tail != "" {
			err = fmt.Errorf("%w\n%s", err, tail)
		}
		return fail("Starting "+u.To.String(), err)
	}
	note(fmt.Sprintf("Started, migrated and ready in %d ms.", time.Since(step).Milliseconds()))
	c.progress(ctx, op, "smoke", 80, "Checking the new build answers.")
	if err := smokeCheck(ctx, to.Addr, u.To, run.toSchema); err != nil {
		return fail("The smoke check", err)
	}
	if err := c.recordBuild(ctx, op, inst, u.To); err != nil {
		return fail("Recording the new build", err)
	}
	let()
	c.progress(ctx, op, "done", 95, fmt.Sprintf("%s runs %s (schema version %d); requests are let through.", key, u.To, run.toSchema))
	return nil
}

// startChecked starts the instance on build b and checks it answers.
// schema < 0 skips the schema check.
func (c *Console) startChecked(ctx context.Context, inst Instance, b Build, schema int64) error {
	spec, err := c.SpecOn(ctx, inst, b)
	if err != nil {
		return err
	}
	if err := c.Runtime.Start(ctx, spec); err != nil {
		return err
	}
	return smokeCheck(ctx, spec.Addr, b, schema)
}

// recordBuild records the instance's new build, audited.
func (c *Console) recordBuild(ctx context.Context, op Operation, inst Instance, to Build) error {
	return c.DB.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE instance SET build_version = ?, build_number = ?, updated_by = ?, version = version + 1
			WHERE id = ? AND build_version = ? AND build_number = ?`, to.Version, to.Number, op.RequestedBy, inst.ID, inst.Build.Version, inst.Build.Number)
		if err != nil {
			return fmt.Errorf("record the build of %s: %w", inst.Key(), err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("record the build of %s: it changed meanwhile", inst.Key())
		}
		return audit.Record(ctx, tx, audit.Event{Actor: worker, Action: audit.Update, Entity: "instance", EntityID: inst.Key(),
			Reason:  fmt.Sprintf("operation %d: upgrade requested by %s (%s)", op.ID, op.RequestedBy, op.Reason),
			Changes: []audit.Change{{Field: "build", Old: inst.Build.String(), New: to.String()}}})
	})
}

// checkBinary runs the build's binary to ask who it is: it must exist,
// run, and report the build it is registered as. Reading it whole first
// puts it in the page cache, so the start during the hold is quick.
func (c *Console) checkBinary(ctx context.Context, binary string, b Build) error {
	f, err := os.Open(binary)
	if err != nil {
		return refuse("The binary of %s is missing: %v", b, err)
	}
	_, err = io.Copy(io.Discard, f)
	f.Close()
	if err != nil {
		return refuse("The binary of %s cannot be read: %v", b, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "version", "--json")
	cmd.Env = cohortFreeEnv()
	out, err := cmd.Output()
	if err != nil {
		return refuse("The binary of %s does not run: %v", b, err)
	}
	var v struct {
		Version string `json:"version"`
		Build   string `json:"build"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return refuse("The binary of %s did not say which build it is: %v", b, err)
	}
	if v.Version != b.Version || v.Build != b.Number {
		return refuse("The binary registered as %s says it is %s (build %s); it is not upgraded to.", b, v.Version, v.Build)
	}
	return nil
}

// schemaOfBuild is the schema version build b migrates to: from the
// catalog when it knows, otherwise from a dry run of the build on a
// throwaway empty database — which also proves its migrations apply.
func (c *Console) schemaOfBuild(ctx context.Context, b Build, binary string) (int64, error) {
	if s, ok := c.Catalog.(BuildSchemas); ok {
		if v, err := s.SchemaVersion(ctx, b); err == nil && v > 0 {
			return v, nil
		}
	}
	dir, err := os.MkdirTemp(c.Places.path("upgrades"), "dry-run-")
	if err != nil {
		if err := os.MkdirAll(c.Places.path("upgrades"), 0o750); err != nil {
			return 0, fmt.Errorf("prepare a dry run of %s: %w", b, err)
		}
		if dir, err = os.MkdirTemp(c.Places.path("upgrades"), "dry-run-"); err != nil {
			return 0, fmt.Errorf("prepare a dry run of %s: %w", b, err)
		}
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "instance", "init", "--by", "console upgrade dry run")
	cmd.Env = append(cohortFreeEnv(), "COHORT_DATABASE="+filepath.Join(dir, "dry-run.db"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, refuse("A dry run of %s on an empty database failed: %v %s", b, err, lastLine(stderr.String()))
	}
	var p Prepared
	if err := json.Unmarshal(out, &p); err != nil || p.SchemaVersion <= 0 {
		return 0, refuse("A dry run of %s did not report its schema version.", b)
	}
	return p.SchemaVersion, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// cohortFreeEnv is the console's environment without cohort's own
// settings, which are meant for the console, not for a build it runs.
func cohortFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHORT_") {
			env = append(env, kv)
		}
	}
	return env
}

// schemaOfInstance reads the schema version of the instance's database.
func (c *Console) schemaOfInstance(ctx context.Context, inst Instance) (int64, error) {
	db, err := store.Open(ctx, c.Places.DSN(inst))
	if err != nil {
		return 0, fmt.Errorf("open the database of %s: %w", inst.Key(), err)
	}
	defer db.Close()
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", inst.Key(), err)
	}
	return cur, nil
}

// checkSpace refuses an upgrade when the disk cannot hold the backups.
func (c *Console) checkSpace(ctx context.Context, inst Instance) error {
	if inst.Engine != store.SQLite {
		// The copy is made by the PostgreSQL server on its own disk, which
		// the console cannot see; the server refuses it cleanly when full.
		return nil
	}
	var need int64
	for _, f := range sqliteFiles(c.Places.DSN(inst)) {
		if fi, err := os.Stat(f); err == nil {
			need += fi.Size()
		}
	}
	need = need*2 + 64<<20 // the snapshot, the copy, and room to migrate
	dir := c.Places.path("upgrades")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create the backup directory: %w", err)
	}
	free, err := freeBytes(dir)
	if err != nil || free < 0 {
		return nil // unknown on this system: the copy itself fails cleanly
	}
	if free < need {
		return refuse("The disk holding %s has %d MiB free; the upgrade's backups need %d MiB.", dir, free>>20, need>>20)
	}
	return nil
}

// backupPath is where an upgrade's SQLite copies of the instance go.
func (c *Console) backupPath(inst Instance, what string) string {
	return c.Places.path(filepath.Join("upgrades", strings.ReplaceAll(inst.Key(), "/", "_")+"_"+what+".db"))
}

// takeBackup copies the stopped instance's database: the rollback point,
// kept afterwards as the pre-upgrade backup. SQLite's files are copied as
// they are (nobody writes them now, and the copy is checked); PostgreSQL
// copies the database with CREATE DATABASE … TEMPLATE, which needs it
// without connections — as it is now.
func (c *Console) takeBackup(ctx context.Context, inst Instance, opID int64) (string, error) {
	// The operation's number keeps backups apart, however quickly upgrades follow each other.
	if inst.Engine == store.SQLite {
		dst := c.backupPath(inst, fmt.Sprintf("before-upgrade-%d", opID))
		if err := copyFiles(c.Places.DSN(inst), dst); err != nil {
			removeSQLite(dst)
			return "", err
		}
		rel, err := filepath.Rel(c.Places.path("."), dst)
		if err != nil {
			rel = dst
		}
		return filepath.ToSlash(rel), nil
	}
	name := fmt.Sprintf("%s_upgrade%d", inst.Database[:min(len(inst.Database), 44)], opID)
	if err := c.waitIdle(ctx, inst.Database); err != nil {
		return "", err
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)+" TEMPLATE "+quoteIdent(inst.Database)); err != nil {
		return "", fmt.Errorf("copy database %s: %w", inst.Database, err)
	}
	return name, nil
}

// restoreBackup puts the backup back as the instance's database; the
// backup itself is kept.
func (c *Console) restoreBackup(ctx context.Context, inst Instance, backup string) error {
	if inst.Engine == store.SQLite {
		src := c.Places.path(backup) // an absolute path stays as it is
		live := c.Places.DSN(inst)
		if err := removeSQLite(live); err != nil {
			return err
		}
		return copyFiles(src, live)
	}
	// The failed build's process is stopped; a connection it left (a
	// backend still running its migration) is ended with the database.
	if _, err := c.DB.Raw().ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(inst.Database)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("remove the failed database %s: %w", inst.Database, err)
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "CREATE DATABASE "+quoteIdent(inst.Database)+" TEMPLATE "+quoteIdent(backup)); err != nil {
		return fmt.Errorf("restore database %s from %s: %w", inst.Database, backup, err)
	}
	return nil
}

// copyFiles copies a closed SQLite database (and its write-ahead log, if
// one was left) to dst, syncing it to disk.
func copyFiles(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("create the directory of %s: %w", dst, err)
	}
	if err := removeSQLite(dst); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(src+suffix, dst+suffix); err != nil {
			if suffix != "" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

var smokeClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// smokeCheck asks the instance at addr whether it is ready at the schema
// version (schema < 0: any), runs build b, and serves its login page.
func smokeCheck(ctx context.Context, addr string, b Build, schema int64) error {
	get := func(path string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := smokeClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(body), nil
	}
	code, body, err := get("/readyz")
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	if code != http.StatusOK {
		return fmt.Errorf("readiness answered %d: %s", code, strings.TrimSpace(body))
	}
	if schema >= 0 && !strings.Contains(body, "schema version "+strconv.FormatInt(schema, 10)) {
		return fmt.Errorf("the instance is ready at another schema than %d: %s", schema, strings.TrimSpace(body))
	}
	code, body, err = get("/metrics")
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("metrics answered %d: %v", code, err)
	}
	if want := fmt.Sprintf(`version="%s",build="%s"`, b.Version, b.Number); !strings.Contains(body, want) {
		return fmt.Errorf("the instance does not report build %s in its metrics", b)
	}
	if code, _, err = get("/login"); err != nil || code != http.StatusOK {
		return fmt.Errorf("the login page answered %d: %v", code, err)
	}
	return nil
}
