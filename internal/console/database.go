package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// sqliteFiles are the files a SQLite database in WAL mode is made of.
func sqliteFiles(path string) []string {
	return []string{path, path + "-wal", path + "-shm", path + "-journal"}
}

func removeSQLite(path string) error {
	for _, f := range sqliteFiles(path) {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
	}
	return nil
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// postgresExists reports whether a database of that name is on the server.
func (c *Console) postgresExists(ctx context.Context, name string) (bool, error) {
	var n int
	if err := c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = ?", name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	return n > 0, nil
}

// freshDatabase gives a provisioning instance an empty database. Whatever a
// failed earlier attempt left there is removed first: a provisioning
// instance has never served anyone, so nothing of value is lost, and the
// retry does exactly what the first attempt would have.
func (c *Console) freshDatabase(ctx context.Context, inst Instance) error {
	if inst.Engine == store.SQLite {
		path := c.Places.DSN(inst)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("create the directory of %s: %w", inst.Key(), err)
		}
		return errors.Join(removeSQLite(path), removeSQLite(path+".partial"))
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(inst.Database)); err != nil {
		return fmt.Errorf("remove the unfinished database %s: %w", inst.Database, err)
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "CREATE DATABASE "+quoteIdent(inst.Database)); err != nil {
		return fmt.Errorf("create database %s: %w", inst.Database, err)
	}
	return nil
}

// copyDatabase makes dst's database a consistent copy of src's, reading src
// only.
//
// SQLite: VACUUM INTO from a read-only connection copies one consistent
// snapshot while the source keeps serving (WAL lets it write beside the
// reader); the copy is written beside its final name, checked, and renamed
// into place, so a failed copy never looks finished.
//
// PostgreSQL: CREATE DATABASE … TEMPLATE is a file-level copy — seconds for
// a large clinic, where a dump and restore takes minutes and needs client
// tools of the server's version — but it needs the source without
// connections. A running source is therefore held at the proxy gate (its
// requests wait rather than fail), its process is stopped, the copy made,
// and the process started again. Nothing is written to the source database.
func (c *Console) copyDatabase(ctx context.Context, src, dst Instance, note func(string)) error {
	if src.Engine != dst.Engine {
		return fmt.Errorf("%s is on %s and %s on %s; a copy stays on one engine.", src.Key(), src.Engine, dst.Key(), dst.Engine)
	}
	// Copies from one source take turns inside this console.
	m := c.sourceMutex(src.ID)
	m.Lock()
	defer m.Unlock()
	if src.Engine == store.SQLite {
		return c.copySQLite(ctx, c.Places.DSN(src), c.Places.DSN(dst), note)
	}
	return c.copyPostgres(ctx, src, dst, note)
}

func (c *Console) copySQLite(ctx context.Context, from, to string, note func(string)) error {
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("The source database %s is missing: %w.", from, err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return fmt.Errorf("create the directory for %s: %w", to, err)
	}
	partial := to + ".partial"
	if err := errors.Join(removeSQLite(to), removeSQLite(partial)); err != nil {
		return err
	}
	// VACUUM INTO reads the source only; query_only would refuse it.
	src, err := sql.Open("sqlite", "file:"+from+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open the source %s: %w", from, err)
	}
	defer src.Close()
	start := time.Now()
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", partial); err != nil {
		removeSQLite(partial)
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := quickCheck(ctx, partial); err != nil {
		removeSQLite(partial)
		return err
	}
	if err := os.Rename(partial, to); err != nil {
		return fmt.Errorf("put the copy in place: %w", err)
	}
	if fi, err := os.Stat(to); err == nil {
		note(fmt.Sprintf("Copied a consistent snapshot (%d KiB) in %d ms.", fi.Size()/1024, time.Since(start).Milliseconds()))
	}
	return nil
}

// quickCheck opens a fresh copy and asks SQLite whether it is sound.
func quickCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("The copy is damaged: %s.", res)
	}
	return nil
}

func (c *Console) copyPostgres(ctx context.Context, src, dst Instance, note func(string)) (err error) {
	if ok, err := c.postgresExists(ctx, src.Database); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("The source database %s is missing.", src.Database)
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(dst.Database)); err != nil {
		return fmt.Errorf("remove the unfinished copy %s: %w", dst.Database, err)
	}
	if c.Runtime != nil && c.Runtime.Status(src.Key()).Process != Down {
		spec, err := c.Spec(src)
		if err != nil {
			return err
		}
		if c.Gate != nil {
			release, err := c.Gate.Hold(ctx, src.Key())
			if err != nil {
				return fmt.Errorf("hold the requests of %s: %w", src.Key(), err)
			}
			defer release()
			note("Holding new requests to " + src.Key() + " while its database is copied.")
		}
		if err := c.Runtime.Stop(ctx, spec); err != nil {
			return fmt.Errorf("pause %s for the copy: %w", src.Key(), err)
		}
		defer func() {
			// The source goes back to serving whatever happened to the copy.
			restart, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if serr := c.Runtime.Start(restart, spec); serr != nil {
				note("The source " + src.Key() + " did not come back at once; its supervisor keeps trying: " + serr.Error())
			} else {
				note("The source " + src.Key() + " is serving again.")
			}
		}()
	}
	if err := c.waitIdle(ctx, src.Database); err != nil {
		return err
	}
	start := time.Now()
	if _, err := c.DB.Raw().ExecContext(ctx, "CREATE DATABASE "+quoteIdent(dst.Database)+" TEMPLATE "+quoteIdent(src.Database)); err != nil {
		return fmt.Errorf("copy database %s: %w", src.Database, err)
	}
	note(fmt.Sprintf("Copied database %s to %s in %d ms.", src.Database, dst.Database, time.Since(start).Milliseconds()))
	return nil
}

// waitIdle waits a little for a database's last connections to close; a
// copy never ends somebody else's session.
func (c *Console) waitIdle(ctx context.Context, name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = ?", name).Scan(&n); err != nil {
			return fmt.Errorf("count the connections to %s: %w", name, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("The database %s still has %d connection(s) from outside the console; close them and retry.", name, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// archiveDatabase keeps a destroyed instance's final backup: SQLite's file
// is compacted into the archive directory and the live files removed;
// PostgreSQL's database is renamed to its archive name, which keeps every
// byte and frees the instance's name. Both steps are safe to repeat.
func (c *Console) archiveDatabase(ctx context.Context, inst Instance, archive string, note func(string)) error {
	if inst.Engine == store.SQLite {
		live := c.Places.DSN(inst)
		final := c.Places.path(archive)
		if _, err := os.Stat(live); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(final); err == nil {
				note("The archive " + archive + " was already made.")
				return nil
			}
			note("The instance had no database to archive.")
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
			return fmt.Errorf("create the archive directory: %w", err)
		}
		if err := c.copySQLite(ctx, live, final, note); err != nil {
			return err
		}
		if err := removeSQLite(live); err != nil {
			return err
		}
		note("Archived the final backup as " + archive + ".")
		return nil
	}
	exists, err := c.postgresExists(ctx, inst.Database)
	if err != nil {
		return err
	}
	if !exists {
		if done, err := c.postgresExists(ctx, archive); err != nil || done {
			note("The archive " + archive + " was already made.")
			return err
		}
		note("The instance had no database to archive.")
		return nil
	}
	if err := c.waitIdle(ctx, inst.Database); err != nil {
		return err
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "ALTER DATABASE "+quoteIdent(inst.Database)+" RENAME TO "+quoteIdent(archive)); err != nil {
		return fmt.Errorf("archive database %s: %w", inst.Database, err)
	}
	note("Archived the database as " + archive + ".")
	return nil
}

// archiveName is where a destroyed instance's final backup goes.
func (c *Console) archiveName(inst Instance, at time.Time) string {
	stamp := at.UTC().Format("20060102t150405")
	if inst.Engine == store.SQLite {
		return filepath.ToSlash(filepath.Join("archive", strings.ReplaceAll(inst.Key(), "/", "_")+"_"+stamp+".db"))
	}
	// The live name's start (console, id) keeps archives unique.
	return inst.Database[:min(len(inst.Database), 40)] + "_archived_" + stamp
}
