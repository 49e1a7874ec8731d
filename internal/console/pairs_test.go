package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
)

// volunteerNames reads an instance's volunteers' distinct family names and
// how many volunteers it holds.
func volunteerNames(t *testing.T, c *console.Console, key string) (map[string]bool, int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, c.Places.DSN(instance(t, c, key)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(ctx, "SELECT family_name FROM volunteer")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out, count := map[string]bool{}, 0
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out[n] = true
		count++
	}
	return out, count
}

func overlap(a, b map[string]bool) int {
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return n
}

// TestPairsAreMadeFromConfigurationAndTheMigrationOutput makes, with real
// instances on both engines, an informal VAL before the migration output
// is signed off (configuration of the Sandbox + the latest run, PHI
// obfuscated and scanned clean) and, after sign-off, the PROD pair from the
// VAL's configuration and the signed-off run, not obfuscated.
func TestPairsAreMadeFromConfigurationAndTheMigrationOutput(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			mustOrg(t, c, "acme")
			_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
			consoletest.Wait(t, c, ops[0], console.OpDone)
			_, ops = mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main", Reason: "configure"})
			for _, op := range ops {
				consoletest.Wait(t, c, op, console.OpDone)
			}
			_, _, err := c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.VAL, ConfigFrom: "acme/sandbox/main", Reason: "early"})
			refused(t, "a VAL before any migration run", err, "acme has no successful migration run yet; a VAL needs the migration output. Run the migration program first.")

			spec, source := consoletest.SmallLegacySource(t, "", 200)
			run, err := c.StartMigration(ctx, alice, console.MigrationRequest{Org: "acme", SpecPath: spec, SourcePath: source, Reason: "first iteration"})
			if err != nil {
				t.Fatal(err)
			}
			op, _ := console.GetOperation(ctx, c.DB, run.OperationID)
			consoletest.Wait(t, c, op, console.OpDone)

			env, ops, err := c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.VAL, ConfigFrom: "acme/sandbox/main", Reason: "an early look"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) != 2 || ops[0].Kind != console.OpMakeVAL || ops[0].Source != "acme/sandbox/main" {
				t.Fatalf("VAL operations: %+v", ops)
			}
			for _, op := range ops {
				done := consoletest.Wait(t, c, op, console.OpDone)
				for _, want := range []string{"configuration bundle", "Loaded ", "PHI-leak scan", "found none", "Ready at"} {
					if !strings.Contains(strings.ToLower(done.Log), strings.ToLower(want)) {
						t.Errorf("the log of %s lacks %q:\n%s", op.Instance, want, done.Log)
					}
				}
			}
			plan, found, err := console.PairPlanOf(ctx, c.DB, env.ID)
			if err != nil || !found || !plan.Informal || !plan.Obfuscated || plan.RunNumber != 1 || plan.ConfigSource != "acme/sandbox/main" {
				t.Fatalf("the VAL's plan: %+v %v %v", plan, found, err)
			}
			if !strings.Contains(env.MadeFrom, "informal") {
				t.Errorf("the informal VAL does not say so: %q", env.MadeFrom)
			}
			original, volunteers := volunteerNames(t, c, "acme/migration/main")
			if volunteers < 100 {
				t.Fatalf("the Migration instance holds %d volunteers", volunteers)
			}
			for _, key := range []string{"acme/val/main", "acme/val/test"} {
				if in := instance(t, c, key); in.State != console.Running {
					t.Errorf("%s is %s", key, in.State)
				}
				names, n := volunteerNames(t, c, key)
				if n != volunteers || overlap(names, original) != 0 {
					t.Errorf("%s: %d volunteers (want %d), %d original family names", key, n, volunteers, overlap(names, original))
				}
			}

			// PROD takes the signed-off run only.
			_, _, err = c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.Prod, ConfigFrom: "acme/val/main", Reason: "go-live"})
			refused(t, "PROD before sign-off", err, "PROD is made from the migration output the customer signed off, and acme has not signed it off yet.")
			if err := c.SignOffMigration(ctx, alice, "acme", 1, "report accepted"); err != nil {
				t.Fatal(err)
			}
			_, _, err = c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.Prod, ConfigFrom: "acme/val/main", Run: 2, Reason: "go-live"})
			refused(t, "PROD from another run", err, "PROD is filled from the migration run the customer signed off (run 1), not run 2.")
			// (The walk in consoleweb makes PROD from a VAL's configuration;
			// here it starts from the predefined demo configuration.)
			_, ops, err = c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.Prod, Predefined: console.PredefinedDemo, Reason: "go-live"})
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range ops {
				done := consoletest.Wait(t, c, op, console.OpDone)
				if strings.Contains(done.Log, "Obfuscating") {
					t.Errorf("PROD was obfuscated:\n%s", done.Log)
				}
			}
			if prod, n := volunteerNames(t, c, "acme/prod/main"); n != volunteers || overlap(prod, original) != len(original) {
				t.Errorf("PROD holds %d volunteers (want %d) and %d of the %d original family names", n, volunteers, overlap(prod, original), len(original))
			}
			prodDB, err := store.Open(ctx, c.Places.DSN(instance(t, c, "acme/prod/main")))
			if err != nil {
				t.Fatal(err)
			}
			defer prodDB.Close()
			var sites, users int
			if err := prodDB.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM site), (SELECT COUNT(*) FROM app_user)").Scan(&sites, &users); err != nil {
				t.Fatal(err)
			}
			if sites != 3 || users != 1 {
				t.Errorf("PROD from the demo configuration has %d sites (want the demo's 3) and %d accounts (want only its administrator)", sites, users)
			}
			// A second PROD is refused by the limit rule.
			_, _, err = c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.Prod, Predefined: console.PredefinedNone, Reason: "again"})
			refused(t, "a second PROD", err, "An organisation has one PROD environment; it is upgraded in place.")
		})
	}
}

// drain carries out queued operations one by one until none is left.
func drain(t *testing.T, c *console.Console) {
	t.Helper()
	for {
		ran, err := c.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

// TestAFailedVALIsNotReleasedAndARetryMakesItOnce drives the queue by hand
// (RunOnce), so the console's set-up can change between operations as it
// would across a restart: a VAL requested while the obfuscation step was
// installed, carried out by a console without it, fails, is left failed and
// stopped with the reason in its log; retried on a console with the step,
// it is made once, exactly as asked.
func TestAFailedVALIsNotReleasedAndARetryMakesItOnce(t *testing.T) {
	ctx := context.Background()
	c := consoletest.New(t, store.SQLite, binary)
	obfuscate := c.Obfuscate // the step `cohort serve` installs, as consoletest.New does
	mustOrg(t, c, "acme")
	mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox})
	spec, source := consoletest.SmallLegacySource(t, "", 200)
	if _, err := c.StartMigration(ctx, alice, console.MigrationRequest{Org: "acme", SpecPath: spec, SourcePath: source, Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	drain(t, c)
	_, volunteers := volunteerNames(t, c, "acme/migration/main")
	_, ops, err := c.MakePair(ctx, alice, console.NewPair{Org: "acme", Kind: console.VAL, ConfigFrom: "acme/sandbox/main", Reason: "validation"})
	if err != nil {
		t.Fatal(err)
	}
	c.Obfuscate = nil
	drain(t, c)
	for _, op := range ops {
		done, err := console.GetOperation(ctx, c.DB, op.ID)
		if err != nil || done.State != console.OpFailed || !strings.Contains(done.Log, "no obfuscation step installed; the VAL is not released") {
			t.Fatalf("%s without the obfuscation step: %s %v\n%s", op.Instance, done.State, err, done.Log)
		}
		in := instance(t, c, op.Instance)
		if in.State != console.Failed || c.Runtime.Status(in.Key()).Process != console.Down || !strings.Contains(in.Failure, "not released") {
			t.Errorf("%s after the failure: %s, process %s", in.Key(), in.State, c.Runtime.Status(in.Key()).Process)
		}
	}
	c.Obfuscate = obfuscate
	for _, op := range ops {
		retry, err := c.Retry(ctx, alice, op.Instance, "", "")
		if err != nil {
			t.Fatalf("retry %s: %v", op.Instance, err)
		}
		if retry.Kind != console.OpMakeVAL || retry.Source != "acme/sandbox/main" {
			t.Errorf("the retry of %s: %+v", op.Instance, retry)
		}
	}
	drain(t, c)
	for _, op := range ops {
		in := instance(t, c, op.Instance)
		if in.State != console.Running {
			t.Errorf("%s after the retry: %s\n%s", in.Key(), in.State, in.Failure)
		}
		if _, n := volunteerNames(t, c, op.Instance); n != volunteers {
			t.Errorf("%s after the retry holds %d volunteers, want %d", in.Key(), n, volunteers)
		}
	}
}
