package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/cohort-clinical/cohort/internal/store"
	consolemigrations "github.com/cohort-clinical/cohort/migrations/console"
)

// versionTable is the console's own goose version table. An instance keeps
// its versions in goose's default table, so neither migration set ever
// mistakes the other database for its own.
const versionTable = "console_schema_version"

func provider(db *store.DB) (*goose.Provider, error) {
	dialect, dir := goose.DialectSQLite3, "sqlite"
	if db.Engine == store.Postgres {
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	fsys, err := fs.Sub(consolemigrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.Raw(), fsys, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
}

// ErrInstanceDatabase refuses to turn a clinical instance's database into a
// console's.
var ErrInstanceDatabase = errors.New("This database holds a clinical instance, not a console; give the console a database of its own.")

// Migrate applies the console's pending schema migrations and returns the
// version the console database is at afterwards.
func Migrate(ctx context.Context, db *store.DB) (int64, error) {
	instance, err := db.HasTable(ctx, "goose_db_version")
	if err != nil {
		return 0, fmt.Errorf("migrate console: %w", err)
	}
	if instance {
		return 0, ErrInstanceDatabase
	}
	p, err := provider(db)
	if err != nil {
		return 0, fmt.Errorf("migrate console: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate console: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// IsConsoleDatabase reports whether db is a console's registry, which an
// instance's migrations must never touch.
func IsConsoleDatabase(ctx context.Context, db *store.DB) (bool, error) {
	found, err := db.HasTable(ctx, versionTable)
	if err != nil {
		return false, fmt.Errorf("look for the console's schema: %w", err)
	}
	return found, nil
}

// SchemaVersion returns the console database's schema version and the one
// this build expects; the console's /readyz compares them.
func SchemaVersion(ctx context.Context, db *store.DB) (current, expected int64, err error) {
	p, err := provider(db)
	if err != nil {
		return 0, 0, fmt.Errorf("console schema version: %w", err)
	}
	return p.GetVersions(ctx)
}
