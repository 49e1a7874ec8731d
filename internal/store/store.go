// Package store opens the database an instance keeps its data in — embedded
// SQLite by default, PostgreSQL for real deployments — applies the schema
// migrations and runs transactions. Domain packages write their SQL with `?`
// placeholders; the store rewrites them for the engine in use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"github.com/cohort-clinical/cohort/migrations"
)

// Engine names the database engine behind a DB.
type Engine string

// The engines cohort runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open instance database. For SQLite it holds two pools: one
// connection for writes, because SQLite allows a single writer and queuing
// writers in Go is kinder than busy-waiting in the engine, and several
// read-only connections that WAL lets run beside the writer. For PostgreSQL
// both pools are the same.
type DB struct {
	Engine Engine
	// Location is the SQLite file path or the PostgreSQL DSN with any
	// password removed; it is safe to log.
	Location string
	write    *sql.DB
	read     *sql.DB
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL
// for PostgreSQL, anything else is a SQLite file path (an optional sqlite:
// prefix is accepted). The SQLite file's directory is created if needed.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no SQLite file path was given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open database: create directory %s: %w", dir, err)
		}
	}
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	db := &DB{Engine: SQLite, Location: path, write: write, read: read}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pool.SetMaxOpenConns(16)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{Engine: Postgres, Location: redact(dsn), write: pool, read: pool}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", db.Location, err)
	}
	return db, nil
}

// redact removes the password from a database URL so it can be logged.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Stats reports the writer pool's statistics, for /metrics.
func (db *DB) Stats() sql.DBStats { return db.write.Stats() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// Raw returns the writer pool, for the few callers (migrations, tests that
// HasTable reports whether the database has a table of that name (in the
// current schema on PostgreSQL).
func (db *DB) HasTable(ctx context.Context, name string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if db.Engine == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	if err := db.QueryRow(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// tamper with rows on purpose, backups) that need the engine directly.
func (db *DB) Raw() *sql.DB { return db.write }

// Rebind rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. Queries in
// cohort never contain a literal question mark, so a plain scan is enough.
func (db *DB) Rebind(query string) string { return rebind(db.Engine, query) }

func rebind(e Engine, query string) string {
	if e != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Query runs a read-only query on the reader pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.Rebind(query), args...)
}

// QueryRow runs a read-only query expected to return one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.Rebind(query), args...)
}

// Exec runs a statement outside a transaction on the writer pool. Changes to
// audited data always go through InTx instead.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.Rebind(query), args...)
}

// Querier is what reading code needs, satisfied by both *DB and *Tx, so a
// read can run on its own or inside a write transaction.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction. Its methods take `?` placeholders.
type Tx struct {
	tx     *sql.Tx
	conn   *sql.Conn // the connection tx runs on, for CopyFrom
	Engine Engine
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, rebind(tx.Engine, query), args...)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, rebind(tx.Engine, query), args...)
}

// QueryRow runs a query in the transaction expected to return one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, rebind(tx.Engine, query), args...)
}

// Prepare prepares a statement in the transaction, for one run many times
// (bulk imports), so that the engine parses it once. The caller closes it.
func (tx *Tx) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return tx.tx.PrepareContext(ctx, rebind(tx.Engine, query))
}

// InsertID runs an INSERT … RETURNING id and returns the new row's id.
func (tx *Tx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// InTx runs fn in one write transaction and commits it if fn returns nil.
// On SQLite the transaction is IMMEDIATE, so it holds the write lock from the
// start and cannot fail half-way on a lock upgrade.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) (err error) {
	// The transaction runs on a connection of its own, which CopyFrom
	// can reach; it goes back to the pool when the transaction ends.
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{tx: sqlTx, conn: conn, Engine: db.Engine}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

func (db *DB) migrationProvider() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	dir := "sqlite"
	if db.Engine == Postgres {
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	fsys, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.write, fsys)
}

// Migrate applies every pending schema migration and returns the schema
// version the database is at afterwards.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// MigrateTo moves the schema up or down to version: tests of a migration
// start from the schema before it, and check its way back.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	if version >= current {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.DownTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}

// SchemaVersion returns the version the database's schema is at now, and
// the version this build expects; /readyz compares the two.
func (db *DB) SchemaVersion(ctx context.Context) (current, expected int64, err error) {
	p, err := db.migrationProvider()
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	return p.GetVersions(ctx)
}

// RowSource hands CopyFrom its rows one at a time: Next moves to the next
// row, Values returns it (CopyFrom is done with the slice when Next is
// called again), and Err says why Next stopped early.
type RowSource interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// CopyFrom stores rows in table with PostgreSQL's COPY, inside the
// transaction, and returns how many it stored. A bulk load sends its rows
// in one stream this way, where INSERT costs the server twice the work per
// row. It is for PostgreSQL only.
func (tx *Tx) CopyFrom(ctx context.Context, table string, columns []string, rows RowSource) (int64, error) {
	if tx.Engine != Postgres {
		return 0, fmt.Errorf("copy into %s: COPY is for PostgreSQL, not %s", table, tx.Engine)
	}
	var n int64
	err := tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the connection is a %T, not pgx's", driverConn)
		}
		var err error
		n, err = c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, rows)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copy into %s: %w", table, err)
	}
	return n, nil
}

// IsUniqueViolation reports whether err comes from a UNIQUE constraint, on
// either engine, so domains can turn it into a sentence for the user.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}
