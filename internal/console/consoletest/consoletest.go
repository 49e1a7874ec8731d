// Package consoletest gives tests a real lifecycle console: the cohort
// binary built once per test binary, a migrated console database on either
// engine with its instances under the test's temporary directory (or on
// the test PostgreSQL server), and the local-process runtime running real
// child processes.
package consoletest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
	"github.com/cohort-clinical/cohort/internal/obfuscation"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// Build is the build the test binary reports and consoles record.
var Build = console.Build{Version: "test", Number: "42"}

// BuildBinary builds cmd/cohort into a temporary directory, for TestMain;
// cleanup removes it.
func BuildBinary() (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "cohort-console-bin")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "cohort")
	cmd := exec.Command("go", "build", "-o", path, "-ldflags", "-X main.version="+Build.Version+" -X main.buildNumber="+Build.Number,
		"github.com/cohort-clinical/cohort/cmd/cohort")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build cohort: %w", err)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// OpenDB returns a fresh, migrated console database on engine e and its DSN.
func OpenDB(t testing.TB, e store.Engine) (*store.DB, string) {
	t.Helper()
	dsn := storetest.NewDSN(t, e)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open console database on %s: %v", e, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := console.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate console database on %s: %v", e, err)
	}
	return db, dsn
}

// New returns a console on engine e whose runtime runs binary; with an
// empty binary it has no runtime (it only records requests, like the CLI).
// Its processes are stopped and, on PostgreSQL, its instance databases
// dropped when the test ends.
func New(t testing.TB, e store.Engine, binary string) *console.Console {
	t.Helper()
	db, dsn := OpenDB(t, e)
	c := &console.Console{DB: db, Places: console.Places{DataDir: t.TempDir()}, Build: Build, Binary: binary,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HeartbeatEvery: 100 * time.Millisecond, StaleAfter: time.Second}
	c.Obfuscate = func(ctx context.Context, source, target console.Spec, note func(string)) error {
		return obfuscation.Release(ctx, source.DSN, target.DSN, obfuscation.Origin{Source: source.Key, By: obfuscation.ConsoleActor}, note)
	}
	if e == store.Postgres {
		c.Places.Postgres = dsn
		t.Cleanup(func() { dropInstanceDatabases(db) })
	}
	if binary != "" {
		rt := localproc.New(localproc.Options{Logger: c.Logger, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, StopTimeout: 10 * time.Second})
		c.Runtime = rt
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rt.Close(ctx)
		})
	}
	return c
}

// dropInstanceDatabases removes the databases a test console created on
// the shared test server (its instances' and their archives).
func dropInstanceDatabases(db *store.DB) {
	ctx := context.Background()
	var self string
	if err := db.QueryRow(ctx, "SELECT current_database()").Scan(&self); err != nil {
		return
	}
	rows, err := db.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE ?", self+"\\_%")
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	admin, err := sql.Open("pgx", storetest.PostgresDSN())
	if err != nil {
		return
	}
	defer admin.Close()
	for _, n := range names {
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+strings.ReplaceAll(n, `"`, `""`)+`" WITH (FORCE)`)
	}
}

// Run runs the console's worker until the test ends.
func Run(t testing.TB, c *console.Console) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console worker: %v", err)
		}
	})
}

// Wait follows an operation to its end, failing the test with its log
// when it does not end as want.
func Wait(t testing.TB, c *console.Console, op console.Operation, want console.OpState) console.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done, err := console.WaitOperation(ctx, c.DB, op.ID, nil)
	if err != nil {
		t.Fatalf("operation %d (%s of %s): %v\n%s", op.ID, op.Kind, op.Instance, err, done.Log)
	}
	if done.State != want {
		t.Fatalf("operation %d (%s of %s) ended %s, want %s:\n%s", op.ID, op.Kind, op.Instance, done.State, want, done.Log)
	}
	return done
}
