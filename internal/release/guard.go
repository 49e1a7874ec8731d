package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Guard wraps the console's runtime so that no instance is ever prepared
// or started on a build older than its database's schema: before handing
// the instance to the runtime it reads the schema version the database is
// at and compares it with the schema version the build needs, as the
// catalog recorded it. The instance itself refuses too (`cohort instance
// serve` checks its database); the guard says so earlier, in the console's
// words, naming the build to use instead.
type Guard struct {
	console.Runtime
	Catalog *Catalog
	// Own is the console's own build, run from OwnBinary, needing schema
	// OwnSchema; it need not be in the catalog.
	Own       console.Build
	OwnBinary string
	OwnSchema int64
}

var _ console.Runtime = (*Guard)(nil)

// Prepare refuses a database ahead of the build (a copy of an instance that
// runs a newer build), then prepares it.
func (g *Guard) Prepare(ctx context.Context, spec console.Spec, p console.Preparation) (console.Prepared, error) {
	if err := g.Check(ctx, spec); err != nil {
		return console.Prepared{}, err
	}
	return g.Runtime.Prepare(ctx, spec, p)
}

// Start refuses a database ahead of the build, then starts the instance.
func (g *Guard) Start(ctx context.Context, spec console.Spec) error {
	if err := g.Check(ctx, spec); err != nil {
		return err
	}
	return g.Runtime.Start(ctx, spec)
}

// SchemaRefusal says an instance's database is ahead of the build it was
// about to run on.
type SchemaRefusal struct {
	Instance string
	Build    string
	// Database and Known are the database's schema and the build's.
	Database, Known int64
	// Use names the oldest registered build that knows the database's
	// schema, when there is one.
	Use string
}

func (e *SchemaRefusal) Error() string {
	s := fmt.Sprintf("This database is at schema %d, but build %s knows only up to %d; ", e.Database, e.Build, e.Known)
	if e.Use != "" {
		return s + fmt.Sprintf("start it with build %s or later.", e.Use)
	}
	return s + fmt.Sprintf("start it with a build whose schema version is %d or later (none is registered yet).", e.Database)
}

// Check refuses to run spec's database on spec's binary when the database
// is at a newer schema than the build knows. A binary the catalog does not
// know (none of its builds) is left to the instance's own check.
func (g *Guard) Check(ctx context.Context, spec console.Spec) error {
	build, known, ok, err := g.buildOf(ctx, spec.Binary)
	if err != nil || !ok {
		return err
	}
	cur, err := databaseSchema(ctx, spec.DSN)
	if err != nil {
		return fmt.Errorf("read the schema version of %s: %w", spec.Key, err)
	}
	if cur <= known {
		return nil
	}
	refusal := &SchemaRefusal{Instance: spec.Key, Build: build, Database: cur, Known: known}
	if b, found, err := Covering(ctx, g.Catalog.DB, cur); err == nil && found {
		refusal.Use = b.Version
	}
	return refusal
}

// buildOf names the build a binary belongs to and the schema it knows.
func (g *Guard) buildOf(ctx context.Context, binary string) (string, int64, bool, error) {
	if binary == g.OwnBinary && g.OwnSchema > 0 {
		return g.Own.String(), g.OwnSchema, true, nil
	}
	if g.Catalog == nil || filepath.Dir(binary) != filepath.Clean(g.Catalog.Dir) {
		return "", 0, false, nil
	}
	row := g.Catalog.DB.QueryRow(ctx, "SELECT "+buildColumns+" FROM release_build WHERE file = ?", filepath.Base(binary))
	b, err := scanBuild(row)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, false, nil
		}
		return "", 0, false, fmt.Errorf("find the build of %s: %w", binary, err)
	}
	return b.String(), b.SchemaVersion, true, nil
}

// databaseSchema reads an instance database's schema version without
// changing it; a database that does not exist yet is at 0.
func databaseSchema(ctx context.Context, dsn string) (int64, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:")); errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return instance.DatabaseSchema(ctx, db)
}
