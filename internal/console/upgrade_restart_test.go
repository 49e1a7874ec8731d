package console_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
)

// TestUpgradeCutShortByAConsoleStopIsRolledBack stops the console while
// build two migrates (requests held, the old build stopped, the backup
// taken) and starts another console on the same registry: the instance
// serves again on build one with every acknowledged site, the upgrade is
// recorded rolled back with its log (not retried unattended), nothing holds
// the instance, and it takes new records and a new upgrade request.
func TestUpgradeCutShortByAConsoleStopIsRolledBack(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			var stop func()
			r := startUpgradeRig(t, e, "up-stop", func(c *console.Console) { stop = consoletest.RunUntilStopped(t, c) })
			if err := r.user.CreateSite("UPGRADE-SLOW"); err != nil {
				t.Fatal(err)
			}
			op, acked := cutShortWhileMigrating(t, r, r.user, "CS", stop)
			if u, _ := console.UpgradeByOperation(ctx, r.c.DB, op.ID); u.Backup == "" {
				t.Fatalf("the upgrade was stopped before its backup; the test wants it stopped during the migration:\n%s", u.Log)
			}

			backOnBuildOne(t, r, op, acked, "The console is stopping in the middle of the upgrade", "Restored the backup", "serves again on 26.1",
				"had already ended rolled-back before the console stopped")
			t.Logf("%s: %d sites acknowledged before the console stopped", e, len(acked))
		})
	}
}

// backOnBuildOne starts another console on r's registry after the first
// stopped or crashed during the upgrade op, and checks what it makes of
// it: the upgrade recorded rolled back with inLog in its log, the instance
// serving build one with every acknowledged site, nothing held, and new
// records and requests taken.
func backOnBuildOne(t *testing.T, r *upgradeRig, op console.Operation, acked []string, inLog ...string) {
	t.Helper()
	ctx := context.Background()
	c2 := consoletest.Successor(t, r.c)
	proxy := consoleweb.NewProxy(c2, nil)
	c2.Gate = proxy
	consoletest.Run(t, c2)
	done := consoletest.Wait(t, c2, op, console.OpFailed)
	ts := httptest.NewServer(proxy)
	t.Cleanup(ts.Close)
	r2 := &upgradeRig{c: c2, proxy: proxy, ts: ts, key: r.key, base: r.base,
		user: r.user.At(ts.URL + r.base)}

	for _, want := range inLog {
		if !strings.Contains(done.Log, want) {
			t.Errorf("the log does not say %q:\n%s", want, done.Log)
		}
	}
	u, err := console.UpgradeByOperation(ctx, c2.DB, op.ID)
	if err != nil || u.Outcome != console.RolledBack || !u.FinishedAt.Valid {
		t.Errorf("upgrade record after the restart: %v %+v", err, u)
	}
	inst, _ := console.GetInstance(ctx, c2.DB, r.key)
	if inst.Build != buildOne || inst.State != console.Running {
		t.Errorf("the registry says %s is %s on %s; the interrupted upgrade leaves it running its old build", r.key, inst.State, inst.Build)
	}
	if h, held, err := console.Holder(ctx, c2.DB, inst.ID); err != nil || held {
		t.Errorf("%s is still held by operation %d after the restart (%v)", r.key, h.ID, err)
	}
	if build, schema := servedBuild(t, r2); build != "26.1+101" || schema == "99" {
		t.Errorf("after the restart the instance serves %s at schema %s, want 26.1+101 at its old schema", build, schema)
	}
	present := sitesIn(t, c2, r.key)
	for _, code := range acked {
		if !present[code] {
			t.Errorf("site %s was acknowledged but is missing after the restart", code)
		}
	}
	if len(acked) == 0 {
		t.Error("the load saved nothing before the console stopped")
	}
	if err := r2.user.CreateSite("AFTER-RESTART"); err != nil {
		t.Errorf("the instance takes no new record after the restart: %v", err)
	}
	// Nothing left held: the upgrade can be requested again.
	again, err := c2.RequestUpgrade(ctx, audit.Actor{Name: "release-engineer"}, r.key, buildOne, time.Time{}, "probe")
	if err == nil || !console.IsRefusal(err) || !strings.Contains(err.Error(), "already runs") {
		t.Errorf("a new upgrade request after the restart: %v %+v", err, again)
	}
}

// cutShortWhileMigrating upgrades r's instance to build two while a load
// saves sites as user, and calls cut once build two is well into its slow
// migration; it returns the upgrade and the sites acknowledged meanwhile.
func cutShortWhileMigrating(t *testing.T, r *upgradeRig, user *instanceUser, prefix string, cut func()) (console.Operation, []string) {
	t.Helper()
	l := startLoad(user, prefix)
	for l.Count() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	op, err := r.c.RequestUpgrade(context.Background(), audit.Actor{Name: "release-engineer"}, r.key, buildTwo, time.Time{}, "release 26.2")
	if err != nil {
		l.Stop(0)
		t.Fatal(err)
	}
	untilMigrating(t, r.c, op)
	time.Sleep(500 * time.Millisecond) // well into the slow migration
	cut()
	acked, _ := l.Stop(0)
	return op, acked
}

// untilMigrating waits for the upgrade op to be starting build two, which
// migrates slowly: requests are held, build one is stopped, the backup
// taken.
func untilMigrating(t *testing.T, c *console.Console, op console.Operation) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cur, err := console.GetOperation(context.Background(), c.DB, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Finished() || time.Now().After(deadline) {
			t.Fatalf("the upgrade never reached the start of build two (%s):\n%s", cur.State, cur.Log)
		}
		if cur.Step == "start" && cur.Progress >= 65 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
