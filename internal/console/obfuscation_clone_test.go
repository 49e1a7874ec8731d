package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/obfuscation"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// prodWithVolunteers makes a running PROD for acme and stores synthetic
// volunteers in it; it returns their names by number.
func prodWithVolunteers(t *testing.T, c *console.Console) map[string][2]string {
	t.Helper()
	ctx := context.Background()
	mustOrg(t, c, "acme")
	_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Prod})
	for _, op := range ops {
		consoletest.Wait(t, c, op, console.OpDone)
	}
	// The connection is closed at once: a PostgreSQL copy waits for its
	// source to have none.
	db := openInstance(t, c, "acme/prod/main")
	defer db.Close()
	if _, err := registry.Populate(ctx, db, audit.Actor{Name: "test"}, registry.PopulateOptions{Count: 250, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	return namesOf(t, db)
}

func openInstance(t *testing.T, c *console.Console, key string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), c.Places.DSN(instance(t, c, key)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func namesOf(t *testing.T, db *store.DB) map[string][2]string {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT number, given_name, family_name FROM volunteer")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var n, g, f string
		if err := rows.Scan(&n, &g, &f); err != nil {
			t.Fatal(err)
		}
		out[n] = [2]string{g, f}
	}
	return out
}

// TestCopyOfProdIsObfuscatedAndScanned: with the obfuscation installed, a
// VAL cloned from PROD is allowed, comes up with pseudonyms only, passes
// the PHI-leak scan and audit verification, and PROD is untouched.
func TestCopyOfProdIsObfuscatedAndScanned(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			originals := prodWithVolunteers(t, c)
			before := fingerprintOf(t, c, "acme/prod/main")

			_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.VAL, Purpose: console.Upgrade,
				From: "acme/prod/main", Reason: "validate the next release"})
			for _, op := range ops {
				done := consoletest.Wait(t, c, op, console.OpDone)
				if !strings.Contains(done.Log, "The PHI-leak scan looked for") || !strings.Contains(done.Log, "found none") {
					t.Errorf("the clone's log does not report a clean PHI-leak scan:\n%s", done.Log)
				}
			}
			prod := openInstance(t, c, "acme/prod/main")
			for _, key := range []string{"acme/val/main", "acme/val/test"} {
				up(t, c, key)
				val := openInstance(t, c, key)
				copied := namesOf(t, val)
				if len(copied) != len(originals) {
					t.Fatalf("%s has %d volunteers; PROD has %d", key, len(copied), len(originals))
				}
				for num, o := range originals {
					if o[0] != "" && (copied[num][0] == o[0] || copied[num][1] == o[1]) {
						t.Errorf("%s: volunteer %s kept a name of PROD", key, num)
					}
				}
				f, err := obfuscation.Scan(ctx, prod, val, nil)
				if err != nil || !f.Clean() {
					t.Errorf("%s: scan against PROD: %d findings %v, %v", key, f.Count, f.First, err)
				}
				if v, err := audit.Verify(ctx, val); err != nil || !v.OK() {
					t.Errorf("%s: audit verify: %+v, %v", key, v, err)
				}
				es, _, err := audit.List(ctx, val, audit.Filter{Entity: obfuscation.Entity, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var source bool
				for _, e := range es {
					source = source || (e.Action == obfuscation.Obfuscated && e.Field == "source" && e.New == "acme/prod/main" && e.Actor == obfuscation.ConsoleActor.Name)
				}
				if !source {
					t.Errorf("%s's audit trail does not record its obfuscation from acme/prod/main: %+v", key, es)
				}
			}
			if after := fingerprintOf(t, c, "acme/prod/main"); after != before {
				t.Errorf("the clone changed PROD: before %+v, after %+v", before, after)
			}
			if got := namesOf(t, prod); len(got) != len(originals) {
				t.Errorf("PROD lost volunteers: %d of %d", len(got), len(originals))
			}
		})
	}
}

// TestLeakFailsTheCopy: PHI in a table the obfuscation does not know
// fails the clone; the target is marked failed and never started, and
// PROD is untouched.
func TestLeakFailsTheCopy(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			originals := prodWithVolunteers(t, c)
			var name [2]string
			for _, n := range originals {
				if n[0] != "" {
					name = n
					break
				}
			}
			prod := openInstance(t, c, "acme/prod/main")
			storetest.MustExec(t, prod, "CREATE TABLE legacy_callback (id INTEGER PRIMARY KEY, remark TEXT NOT NULL)")
			storetest.MustExec(t, prod, "INSERT INTO legacy_callback (id, remark) VALUES (1, ?)", "Call back "+name[0]+" "+name[1]+" tomorrow")
			prod.Close()
			before := fingerprintOf(t, c, "acme/prod/main")

			_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.VAL, Purpose: console.Upgrade,
				From: "acme/prod/main", Reason: "validate the next release"})
			for _, op := range ops {
				failed := consoletest.Wait(t, c, op, console.OpFailed)
				// One hit per pair of name words: a double family name makes two.
				want := " original values in the copy (first: legacy_callback.remark row 1, field given_name+family_name); the copy is not released."
				if !strings.Contains(failed.Log, "The PHI-leak scan found ") || !strings.Contains(failed.Log, want) ||
					!strings.Contains(failed.Log, "An original value of given_name+family_name is in legacy_callback.remark row 1.") {
					t.Errorf("the failed clone does not say why:\n%s", failed.Log)
				}
				if strings.Contains(failed.Log, name[1]) {
					t.Errorf("the operation's log shows the leaked value")
				}
				if !strings.Contains(failed.Log, "The copy's database was emptied") {
					t.Errorf("the failed copy was not emptied:\n%s", failed.Log)
				}
			}
			for _, key := range []string{"acme/val/main", "acme/val/test"} {
				copyDB := openInstance(t, c, key)
				var n int
				if err := copyDB.QueryRow(context.Background(), "SELECT COUNT(*) FROM legacy_callback").Scan(&n); err == nil {
					t.Errorf("%s still holds the leaked table (%d rows) after the failed scan", key, n)
				}
				copyDB.Close()
			}
			for _, key := range []string{"acme/val/main", "acme/val/test"} {
				in := instance(t, c, key)
				if in.State != console.Failed || c.Runtime.Status(key).Process != console.Down {
					t.Errorf("%s after a failed scan: state %s, process %s; want failed and down", key, in.State, c.Runtime.Status(key).Process)
				}
			}
			if after := fingerprintOf(t, c, "acme/prod/main"); after != before {
				t.Errorf("the failed clone changed PROD: before %+v, after %+v", before, after)
			}
			up(t, c, "acme/prod/main")
		})
	}
}
