package console_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 7, Name: "alice"}

// eachEngine runs fn with a console without a runtime (requests are only
// recorded, as the CLI records them) on SQLite and on PostgreSQL.
func eachEngine(t *testing.T, fn func(t *testing.T, c *console.Console)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { fn(t, consoletest.New(t, e, "")) })
	}
}

func mustOrg(t *testing.T, c *console.Console, code string) {
	t.Helper()
	if _, err := console.CreateOrganisation(context.Background(), c.DB, alice, code, "Org "+code); err != nil {
		t.Fatal(err)
	}
}

func mustEnv(t *testing.T, c *console.Console, req console.NewEnvironment) (console.Environment, []console.Operation) {
	t.Helper()
	env, ops, err := c.CreateEnvironment(context.Background(), alice, req)
	if err != nil {
		t.Fatalf("create %s in %s: %v", req.Kind, req.Org, err)
	}
	return env, ops
}

// settle marks instances as the worker would leave them, and frees their
// locks: for tests of requests that need instances past provisioning.
func settle(t *testing.T, c *console.Console, state console.State, keys ...string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		inst, err := console.GetInstance(ctx, c.DB, k)
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustExec(t, c.DB, "DELETE FROM instance_lock WHERE instance_id = ?", inst.ID)
		storetest.MustExec(t, c.DB, "UPDATE operation SET state = 'done' WHERE instance_id = ? AND state IN ('queued', 'running')", inst.ID)
		storetest.MustExec(t, c.DB, "UPDATE instance SET state = ? WHERE id = ?", string(state), inst.ID)
	}
}

func TestEnvironmentsGetTheirShapeAndQueueTheirInstances(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		// Codes that are words of the console's own addresses are refused.
		for _, code := range []string{"golive", "iq", "Bad Code"} {
			_, _, err := c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, Code: code, Reason: "named badly"})
			if fe, ok := check.AsFieldErrors(err); !ok || fe["code"] == "" {
				t.Errorf("code %q: %v", code, err)
			}
		}
		env, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, Reason: "first try"})
		if env.Code != "sandbox" || len(env.Instances) != 2 || len(ops) != 2 {
			t.Fatalf("sandbox: code %q, %d instances, %d operations", env.Code, len(env.Instances), len(ops))
		}
		for i, role := range []console.Role{console.Main, console.Test} {
			in := env.Instances[i]
			if in.Role != role || in.State != console.Requested || in.BasePath != "/i/acme/sandbox/"+string(role) || in.Build != consoletest.Build {
				t.Errorf("instance %d: %+v", i, in)
			}
			if ops[i].Kind != console.OpProvision || ops[i].State != console.OpQueued || ops[i].RequestedBy != "alice" {
				t.Errorf("operation %d: %+v", i, ops[i])
			}
			if in.Engine != c.DB.Engine || in.Database == "" {
				t.Errorf("instance %s has no database of its own: %s %q", in.Key(), in.Engine, in.Database)
			}
		}
		if env.Instances[0].Database == env.Instances[1].Database {
			t.Error("Main and Test share a database")
		}
		mig, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Migration})
		if len(mig.Instances) != 1 || mig.Instances[0].Role != console.Main || len(ops) != 1 {
			t.Fatalf("a Migration environment has %d instances", len(mig.Instances))
		}
		// A second Sandbox gets a numbered code; a second Migration is refused.
		second, _ := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox})
		if second.Code != "sandbox-2" {
			t.Errorf("second sandbox code %q", second.Code)
		}
		_, _, err := c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Migration})
		refused(t, "a second Migration", err, "An organisation has one Migration environment; every migration run rebuilds it.")
		// Every step is in the console's audit trail.
		entries, _, err := audit.List(ctx, c.DB, audit.Filter{Entity: "environment", EntityID: "acme/sandbox"})
		if err != nil || len(entries) == 0 || entries[len(entries)-1].Reason != "first try" {
			t.Errorf("environment not audited with its reason: %v %+v", err, entries)
		}
		if res, err := audit.Verify(ctx, c.DB); err != nil || !res.OK() {
			t.Errorf("console audit trail: %v %+v", err, res)
		}
	})
}

func TestClonesFollowTheRules(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		mustOrg(t, c, "prospect")
		mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
		mustEnv(t, c, console.NewEnvironment{Org: "prospect", Kind: console.Demo})
		_, _, err := c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main"})
		refused(t, "a clone of an instance still being made", err, "Only a running or stopped instance can be cloned; acme/demo/main is requested.")
		settle(t, c, console.Running, "acme/demo/main", "prospect/demo/main")

		_, _, err = c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "prospect/demo/main"})
		refused(t, "a Sandbox from another customer's Demo", err, "A Sandbox is made empty or as a clone of the customer's own Demo.")
		_, _, err = c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Migration, From: "acme/demo/main"})
		refused(t, "a cloned Migration", err, "A Migration environment is made only from the output of the migration program; it is never cloned.")
		_, _, err = c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/nowhere/main"})
		if fe, ok := check.AsFieldErrors(err); !ok || fe["from"] == "" {
			t.Errorf("a clone of a missing instance: %v", err)
		}
		env, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main"})
		if env.MadeFrom != "clone of acme/demo/main" || len(ops) != 2 {
			t.Fatalf("sandbox from demo: %q, %d operations", env.MadeFrom, len(ops))
		}
		for _, op := range ops {
			if op.Kind != console.OpClone || op.Source != "acme/demo/main" {
				t.Errorf("operation %+v", op)
			}
		}
		for _, in := range env.Instances {
			if in.Source != "acme/demo/main" {
				t.Errorf("%s does not record its source: %q", in.Key(), in.Source)
			}
		}
		// While clones read the Demo, it may not be stopped or destroyed.
		_, err = c.Request(ctx, alice, console.OpStop, "acme/demo/main", "maintenance", "")
		var busy *console.Busy
		if !errors.As(err, &busy) || !strings.Contains(err.Error(), "acme/demo/main is busy: the clone requested by alice") {
			t.Errorf("stopping a source being cloned: %v", err)
		}
		// PROD is never copied unscrambled: a console without the
		// obfuscation step refuses (consoletest installs the real one).
		c.Obfuscate = nil
		mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Prod})
		settle(t, c, console.Running, "acme/prod/main")
		_, _, err = c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.VAL, Purpose: console.Upgrade, From: "acme/prod/main"})
		refused(t, "a VAL copied from PROD without obfuscation", err,
			"Volunteer PHI never leaves PROD unscrambled: a copy of PROD needs the obfuscation step, which this console does not have yet.")
		_, _, err = c.CreateEnvironment(ctx, alice, console.NewEnvironment{Org: "acme", Kind: console.Prod})
		refused(t, "a second PROD", err, "An organisation has one PROD environment; it is upgraded in place.")
	})
}

func TestOperationsOnOneInstanceAreSerialised(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
		// The queued provisioning holds the instance.
		_, err := c.Request(ctx, alice, console.OpStart, "acme/demo/main", "", "")
		var busy *console.Busy
		if !errors.As(err, &busy) || busy.Holder.ID != ops[0].ID {
			t.Fatalf("start while provisioning is queued: %v", err)
		}
		want := "acme/demo/main is busy: the provision requested by alice at "
		if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "has not finished. Wait for it to finish, then try again.") {
			t.Errorf("busy sentence: %q", err.Error())
		}
		settle(t, c, console.Running, "acme/demo/main")

		// Eight people press Stop at once: one request is queued, seven are
		// refused as busy, none waits silently.
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = c.Request(ctx, audit.Actor{ID: int64(i), Name: "user" + string(rune('a'+i))}, console.OpStop, "acme/demo/main", "maintenance", "")
			}()
		}
		wg.Wait()
		accepted := 0
		for _, err := range results {
			switch {
			case err == nil:
				accepted++
			case errors.As(err, &busy):
			default:
				t.Errorf("concurrent stop failed otherwise: %v", err)
			}
		}
		if accepted != 1 {
			t.Fatalf("%d of 8 concurrent stops were accepted, want exactly 1", accepted)
		}
		var locks int
		if err := c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM instance_lock").Scan(&locks); err != nil || locks != 1 {
			t.Fatalf("lock rows: %d, %v", locks, err)
		}
	})
}

func TestRepeatedRequestsAreIdempotent(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		req := console.NewEnvironment{Org: "acme", Kind: console.Sandbox, RequestKey: "form-1"}
		env1, ops1 := mustEnv(t, c, req)
		env2, ops2, err := c.CreateEnvironment(ctx, alice, req)
		if err != nil || env2.Code != env1.Code || len(ops2) != 2 || ops2[0].ID != ops1[0].ID || ops2[1].ID != ops1[1].ID {
			t.Fatalf("a repeated create made something new: %v %s %+v", err, env2.Code, ops2)
		}
		envs, _ := console.Environments(ctx, c.DB, "acme")
		if len(envs) != 1 {
			t.Fatalf("%d environments after a repeated request", len(envs))
		}
		settle(t, c, console.Running, "acme/sandbox/main")
		op1, err := c.Request(ctx, alice, console.OpStop, "acme/sandbox/main", "night", "stop-1")
		if err != nil {
			t.Fatal(err)
		}
		op2, err := c.Request(ctx, alice, console.OpStop, "acme/sandbox/main", "night", "stop-1")
		if err != nil || op2.ID != op1.ID {
			t.Fatalf("a repeated stop: %v, operation %d then %d", err, op1.ID, op2.ID)
		}
	})
}

func TestDestroyIsRefusedUntilTheTimelineAllowsIt(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		for _, k := range []console.Kind{console.Demo, console.Sandbox, console.Migration, console.VAL, console.Prod} {
			mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: k})
		}
		settle(t, c, console.Running, "acme/demo/main", "acme/sandbox/main", "acme/sandbox/test", "acme/migration/main",
			"acme/val/main", "acme/val/test", "acme/prod/main", "acme/prod/test")
		destroy := func(key string) error {
			_, err := c.Request(ctx, alice, console.OpDestroy, key, "tidy up", "")
			return err
		}
		_, err := c.Request(ctx, alice, console.OpDestroy, "acme/demo/main", " ", "")
		if fe, ok := check.AsFieldErrors(err); !ok || fe["reason"] == "" {
			t.Errorf("destroy without a reason: %v", err)
		}
		refused(t, "destroying PROD Main", destroy("acme/prod/main"), "PROD is never destroyed; it is upgraded in place.")
		refused(t, "destroying PROD Test", destroy("acme/prod/test"), "PROD is never destroyed; it is upgraded in place.")
		refused(t, "destroying the Sandbox before go-live", destroy("acme/sandbox/test"), "A Sandbox is destroyed only when PROD goes live, and PROD is not live yet.")
		_, err = c.DestroyEnvironment(ctx, alice, "acme", "migration", "tidy up")
		refused(t, "destroying Migration before sign-off", err, "The Migration environment is destroyed only once the customer has signed its output off.")
		refused(t, "destroying VAL before validation", destroy("acme/val/main"), "A VAL environment is destroyed only after validation is done and PROD is live.")
		allowed(t, "destroying the Demo by hand", destroy("acme/demo/main"))

		// Milestones need the environment they close.
		mustOrg(t, c, "newco")
		refused(t, "go-live without PROD", console.RecordMilestone(ctx, c.DB, alice, "newco", console.ProdLive, "go"),
			"PROD live cannot be recorded: newco has no working PROD Main instance.")
		for _, m := range []console.Milestone{console.MigrationSignedOff, console.ValidationDone, console.ProdLive} {
			allowed(t, "recording "+string(m), console.RecordMilestone(ctx, c.DB, alice, "acme", m, "done"))
		}
		allowed(t, "destroying the Sandbox after go-live", destroy("acme/sandbox/main"))
		ops, err := c.DestroyEnvironment(ctx, alice, "acme", "val", "validated")
		allowed(t, "destroying VAL after validation and go-live", err)
		if len(ops) != 2 {
			t.Errorf("destroying a VAL pair queued %d operations", len(ops))
		}
		ops, err = c.DestroyEnvironment(ctx, alice, "acme", "migration", "signed off")
		allowed(t, "destroying Migration after sign-off", err)
		if len(ops) != 1 {
			t.Errorf("destroying Migration queued %d operations", len(ops))
		}
		stages, err := console.TimelineOf(ctx, c.DB, "acme")
		if err != nil || len(stages) != 5 || stages[4].Kind != console.Prod || stages[4].Reached.IsZero() || stages[4].ReachedBy != "alice" {
			t.Fatalf("timeline: %v %+v", err, stages)
		}
		if err := console.PlanStage(ctx, c.DB, alice, "acme", console.VAL, "2026-13-01", "plan"); err == nil {
			t.Error("a planned date of month 13 was accepted")
		}
		allowed(t, "planning VAL", console.PlanStage(ctx, c.DB, alice, "acme", console.VAL, "2026-10-01", "plan"))
		stages, _ = console.TimelineOf(ctx, c.DB, "acme")
		if stages[3].Planned != "2026-10-01" || len(stages[1].Environments) != 1 {
			t.Errorf("timeline after planning: %+v", stages)
		}
	})
}

func TestConsoleAndInstanceDatabasesNeverMix(t *testing.T) {
	ctx := context.Background()
	inst := storetest.Open(t, store.SQLite) // an instance's database, migrated
	if _, err := console.Migrate(ctx, inst); !errors.Is(err, console.ErrInstanceDatabase) {
		t.Fatalf("console migrations on an instance database: %v", err)
	}
	c := consoletest.New(t, store.SQLite, "")
	if is, err := console.IsConsoleDatabase(ctx, c.DB); err != nil || !is {
		t.Fatalf("a console database is not recognised: %v", err)
	}
	if is, err := console.IsConsoleDatabase(ctx, inst); err != nil || is {
		t.Fatalf("an instance database is taken for a console's: %v", err)
	}
}
