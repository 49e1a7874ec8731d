package instance_test

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/migrations"
)

// TestSchemaVersionIsTheHighestEmbeddedMigration checks the build's schema
// version against the migration files themselves, on both engines.
func TestSchemaVersionIsTheHighestEmbeddedMigration(t *testing.T) {
	for _, dir := range []string{"sqlite", "postgres"} {
		files, err := fs.Glob(migrations.FS, dir+"/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s migrations embedded: %v", dir, err)
		}
		last := files[len(files)-1] // Glob sorts; names are zero-padded
		if !strings.HasPrefix(strings.TrimPrefix(last, dir+"/"), "0") {
			t.Fatalf("unexpected migration name %s", last)
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(last, dir+"/")[:5], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", last, err)
		}
		if n != instance.SchemaVersion() {
			t.Errorf("%s: highest migration %s, but SchemaVersion() = %d", dir, last, instance.SchemaVersion())
		}
	}
}

// TestADatabaseAheadOfTheBuildIsRefusedUntouched makes a real database
// whose schema is ahead of this build (a newer build migrated it) and
// checks that preparing it is refused with the sentence the operator sees,
// and that nothing was migrated or written.
func TestADatabaseAheadOfTheBuildIsRefusedUntouched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cur, err := instance.DatabaseSchema(ctx, db)
		if err != nil || cur != instance.SchemaVersion() {
			t.Fatalf("a freshly migrated database is at %d (%v), want %d", cur, err, instance.SchemaVersion())
		}
		if err := instance.CheckSchema(ctx, db, "26.1 (build 7)"); err != nil {
			t.Fatalf("a database at this build's schema was refused: %v", err)
		}
		ahead := instance.SchemaVersion() + 2
		storetest.MustExec(t, db, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", ahead, true)

		err = instance.CheckSchema(ctx, db, "26.1 (build 7)")
		var refusal *instance.SchemaAheadError
		if !errors.As(err, &refusal) || refusal.Database != ahead || refusal.Known != instance.SchemaVersion() {
			t.Fatalf("a database ahead of the build: got %v", err)
		}
		want := "This database is at schema " + strconv.FormatInt(ahead, 10) + ", but build 26.1 (build 7) knows only up to " + strconv.FormatInt(instance.SchemaVersion(), 10) + ";"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("refusal %q does not start %q", err, want)
		}
		var users int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM app_user").Scan(&users)
		if _, err := instance.Prepare(ctx, db, instance.Options{Build: "26.1 (build 7)", AdminPassword: "Correct horse 12"}); !errors.As(err, &refusal) {
			t.Fatalf("Prepare of a database ahead of the build: %v", err)
		}
		var after int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM app_user").Scan(&after)
		if after != users {
			t.Errorf("a refused Prepare still created accounts (%d → %d)", users, after)
		}
	})
}

// TestAnEmptyDatabaseIsAtSchemaZero checks that a database no build has
// migrated is accepted by every build.
func TestAnEmptyDatabaseIsAtSchemaZero(t *testing.T) {
	storetest.EachEmpty(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if v, err := instance.DatabaseSchema(ctx, db); err != nil || v != 0 {
			t.Fatalf("empty database at schema %d (%v), want 0", v, err)
		}
		if err := instance.CheckSchema(ctx, db, "26.1 (build 7)"); err != nil {
			t.Fatalf("an empty database was refused: %v", err)
		}
	})
}
