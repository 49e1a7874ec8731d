package instance

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/migrations"
)

// SchemaVersion is the instance schema version this build needs and knows:
// the highest migration embedded in it (the same on both engines; a build
// whose engines disagree reports the lower, the one both can reach).
func SchemaVersion() int64 {
	v, _ := embeddedVersions()
	return v
}

// embeddedVersions returns the highest migration of each engine's folder,
// the lower of the two first.
func embeddedVersions() (int64, map[string]int64) {
	per := map[string]int64{}
	for _, dir := range []string{"sqlite", "postgres"} {
		files, _ := fs.Glob(migrations.FS, dir+"/*.sql")
		for _, f := range files {
			num, _, ok := strings.Cut(path.Base(f), "_")
			if !ok {
				continue
			}
			if n, err := strconv.ParseInt(num, 10, 64); err == nil && n > per[dir] {
				per[dir] = n
			}
		}
	}
	return min(per["sqlite"], per["postgres"]), per
}

// DatabaseSchema returns the schema version a database is at without
// changing it: 0 for a database no build has migrated yet.
func DatabaseSchema(ctx context.Context, db *store.DB) (int64, error) {
	migrated, err := db.HasTable(ctx, "goose_db_version")
	if err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", db.Location, err)
	}
	if !migrated {
		return 0, nil
	}
	var v int64
	if err := db.QueryRow(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", db.Location, err)
	}
	return v, nil
}

// SchemaAheadError refuses to run a database on a build older than its
// schema: the older build would read and write tables it does not know.
type SchemaAheadError struct {
	// Database is the schema version the database is at; Known is the
	// highest this build knows; Build names the build (26.1 (build 7)).
	Database, Known int64
	Build           string
}

func (e *SchemaAheadError) Error() string {
	b := e.Build
	if b == "" {
		b = "this build"
	} else {
		b = "build " + b
	}
	return fmt.Sprintf("This database is at schema %d, but %s knows only up to %d; start it with a build whose schema version is %d or later.",
		e.Database, b, e.Known, e.Database)
}

// CheckSchema refuses a database whose schema is ahead of this build's,
// before anything migrates or serves it. build names this build in the
// refusal, e.g. "26.1 (build 7)".
func CheckSchema(ctx context.Context, db *store.DB, build string) error {
	cur, err := DatabaseSchema(ctx, db)
	if err != nil {
		return err
	}
	if known := SchemaVersion(); cur > known {
		return &SchemaAheadError{Database: cur, Known: known, Build: build}
	}
	return nil
}
