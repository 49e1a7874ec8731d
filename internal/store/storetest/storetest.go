// Package storetest gives tests a fresh, migrated database on every engine
// cohort supports: a SQLite file in the test's temporary directory and a
// PostgreSQL database of its own, created for the test and dropped after it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/cohort-clinical/cohort/internal/store"
)

// PostgresDSN is the server tests create their databases on:
// $COHORT_TEST_POSTGRES, or the local trust-auth server.
func PostgresDSN() string {
	if dsn := os.Getenv("COHORT_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// InCI reports whether the tests run in CI, where a missing dependency is a
// failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips the test outside CI and fails it in CI.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Each runs fn once per engine as a subtest named after the engine, each
// with its own freshly migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// EachEmpty runs fn once per engine, as Each does, with a database no
// migration has touched: for tests of what a build does to an empty
// database, or of one migration from the schema before it.
func EachEmpty(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			db, err := store.Open(context.Background(), NewDSN(t, e))
			if err != nil {
				t.Fatalf("open %s: %v", e, err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db)
		})
	}
}

// Open returns a freshly migrated database on engine e, closed and (for
// PostgreSQL) dropped when the test ends.
func Open(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	dsn := NewDSN(t, e)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return db
}

// NewDSN creates an empty database on engine e for the test and returns its
// DSN, without opening or migrating it — for tests that start a real
// cohort process on it.
func NewDSN(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.SQLite {
		return filepath.Join(t.TempDir(), "cohort.db")
	}
	admin, err := sql.Open("pgx", PostgresDSN())
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	if err := admin.PingContext(ctx); err != nil {
		SkipOrFail(t, "PostgreSQL is not reachable at %s: %v", PostgresDSN(), err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "cohort_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", PostgresDSN())
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(PostgresDSN())
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresDSN(), err)
	}
	u.Path = "/" + name
	return u.String()
}

// MustExec runs a statement directly on the engine, bypassing every domain
// rule — for tests that simulate tampering or corruption.
func MustExec(t testing.TB, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Raw().ExecContext(context.Background(), db.Rebind(query), args...); err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
}
