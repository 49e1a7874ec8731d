package release_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
)

// consoleOn261 is a console whose instances run release 26.1 (build 7)
// from the catalog, through the schema guard, with real child processes.
func consoleOn261(t testing.TB, e store.Engine) (*console.Console, *release.Catalog) {
	t.Helper()
	ctx := context.Background()
	c := consoletest.New(t, e, bin261)
	cat := &release.Catalog{DB: c.DB, Dir: release.DirOf(c.Places.DataDir)}
	b, _, err := cat.Register(ctx, manager, release.Registration{Binary: bin261, Notes: notes261})
	if err != nil {
		t.Fatal(err)
	}
	cat.RequestUpgrade = c.RequestUpgrade
	c.Catalog, c.Build = cat, b.Ref()
	c.Binary, _ = cat.Binary(ctx, b.Ref())
	c.Runtime = &release.Guard{Runtime: c.Runtime, Catalog: cat, Own: c.Build, OwnBinary: c.Binary, OwnSchema: b.SchemaVersion}
	if _, err := console.CreateOrganisation(ctx, c.DB, manager, "acme", "Acme CRU"); err != nil {
		t.Fatal(err)
	}
	return c, cat
}

// TestHotfixesAreOfferedAndInstalledOnlyWhenAccepted runs a Sandbox pair on
// 26.1, registers hotfix 26.1.1, and walks the customer's answers: a
// declined hotfix stays offered and installs nothing; an acceptance needs a
// reason and a running instance, and requests the upgrade.
func TestHotfixesAreOfferedAndInstalledOnlyWhenAccepted(t *testing.T) {
	ctx := context.Background()
	c, cat := consoleOn261(t, store.SQLite)
	_, ops, err := c.CreateEnvironment(ctx, manager, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, Code: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	key := "acme/sandbox/main"
	if offers, err := release.Offers(ctx, c.DB, key); err != nil || len(offers) != 0 {
		t.Fatalf("offers before any hotfix: %v %v", offers, err)
	}
	h, _, err := cat.Register(ctx, manager, release.Registration{Binary: bin2611, Notes: "## Fixes\n- Site time zones"})
	if err != nil {
		t.Fatal(err)
	}
	offers, err := release.Offers(ctx, c.DB, key)
	if err != nil || len(offers) != 1 || offers[0].Build.ID != h.ID || offers[0].Latest != nil {
		t.Fatalf("hotfix 26.1.1 is not offered to %s on 26.1: %+v %v", key, offers, err)
	}
	// Not running yet: the console refuses the upgrade, and no acceptance
	// is recorded.
	var busy *console.Busy
	if _, _, err := cat.Accept(ctx, manager, key, "26.1.1", "fixes our time zone issue", time.Time{}); !errors.As(err, &busy) {
		t.Fatalf("accepting for an instance still being made: %v", err)
	}
	if d, err := release.Decisions(ctx, c.DB, key); err != nil || len(d) != 0 {
		t.Fatalf("an acceptance the console refused was recorded: %+v %v", d, err)
	}
	for _, op := range ops {
		if ran, err := c.RunOnce(ctx); err != nil || !ran {
			t.Fatalf("provision: %v %v", ran, err)
		}
		consoletest.Wait(t, c, op, console.OpDone)
	}

	if _, err := cat.Decline(ctx, manager, key, "26.1.1", " "); !hasField(err, "reason") {
		t.Fatalf("a decline without a reason: %v", err)
	}
	d, err := cat.Decline(ctx, manager, key, "26.1.1", "not affected; revisit at 26.2")
	if err != nil || d.Accepted || d.By != "rm:alice" {
		t.Fatalf("decline: %+v %v", d, err)
	}
	offers, _ = release.Offers(ctx, c.DB, key)
	if len(offers) != 1 || offers[0].Latest == nil || offers[0].Latest.Verb() != "declined" {
		t.Fatalf("a declined hotfix must stay offered with its decision: %+v", offers)
	}
	if in, _ := console.GetInstance(ctx, c.DB, key); in.Build != c.Build {
		t.Fatalf("declining changed the build to %s", in.Build)
	}
	if _, _, err := cat.Accept(ctx, manager, key, "26.1", "the release itself", time.Time{}); err == nil || !strings.Contains(err.Error(), "is a release, not a hotfix") {
		t.Fatalf("accepting a release as a hotfix: %v", err)
	}
	if _, _, err := cat.Accept(ctx, manager, key, "26.1.1", "", time.Time{}); !hasField(err, "reason") {
		t.Fatalf("an acceptance without a reason: %v", err)
	}
	noUpgrades := &release.Catalog{DB: cat.DB, Dir: cat.Dir}
	if _, _, err := noUpgrades.Accept(ctx, manager, key, "26.1.1", "CR-114", time.Time{}); !errors.Is(err, release.ErrNoUpgrades) {
		t.Fatalf("accepting without the upgrade operation: %v", err)
	}

	slot := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	d, op, err := cat.Accept(ctx, manager, key, "26.1.1+8", "CR-114 approved by the QA lead", slot)
	if err != nil || !d.Accepted || op.ID == 0 || d.Operation != op.ID || op.Kind != console.OpUpgrade {
		t.Fatalf("accept: %+v %+v %v", d, op, err)
	}
	decisions, err := release.Decisions(ctx, c.DB, key)
	if err != nil || len(decisions) != 2 || decisions[0].Verb() != "accepted" || decisions[1].Verb() != "declined" {
		t.Fatalf("decisions newest first: %+v %v", decisions, err)
	}
	entries, _, err := audit.List(ctx, c.DB, audit.Filter{Entity: "instance", EntityID: key})
	var accepted, declined bool
	for _, e := range entries {
		accepted = accepted || e.Action == release.ActionAcceptHotfix && e.Reason == "CR-114 approved by the QA lead" && e.Actor == "rm:alice"
		declined = declined || e.Action == release.ActionDeclineHotfix && e.Reason == "not affected; revisit at 26.2"
	}
	if err != nil || !accepted || !declined {
		t.Fatalf("the decisions are not in the audit trail (accepted %v, declined %v): %v", accepted, declined, err)
	}
	// The Test instance of the pair was not touched by the Main's answer.
	if offers, _ := release.Offers(ctx, c.DB, "acme/sandbox/test"); len(offers) != 1 || offers[0].Latest != nil {
		t.Fatalf("the Test instance's offer: %+v", offers)
	}
}

func hasField(err error, field string) bool {
	var fe check.FieldErrors
	return errors.As(err, &fe) && fe[field] != ""
}

// TestAnInstanceIsNeverStartedOnABuildOlderThanItsSchema registers a build
// that knows only schema 3 and asks the guarded runtime to start a real
// database migrated by 26.1 on it.
func TestAnInstanceIsNeverStartedOnABuildOlderThanItsSchema(t *testing.T) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c, cat := consoleOn261(t, e)
			old, _, err := cat.Register(ctx, manager, release.Registration{Binary: selfReporting(t, "25.4", "3", 3)})
			if err != nil {
				t.Fatal(err)
			}
			oldBinary, err := cat.Binary(ctx, old.Ref())
			if err != nil {
				t.Fatal(err)
			}
			_, ops, err := c.CreateEnvironment(ctx, manager, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, Code: "sandbox"})
			if err != nil {
				t.Fatal(err)
			}
			if ran, err := c.RunOnce(ctx); err != nil || !ran {
				t.Fatalf("provision: %v %v", ran, err)
			}
			consoletest.Wait(t, c, ops[0], console.OpDone)
			inst, err := console.GetInstance(ctx, c.DB, ops[0].Instance)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := c.Spec(inst)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Runtime.Stop(ctx, spec); err != nil {
				t.Fatal(err)
			}
			spec.Binary = oldBinary
			err = c.Runtime.Start(ctx, spec)
			want := "This database is at schema " + itoa(instance.SchemaVersion()) + ", but build 25.4 (build 3) knows only up to 3; start it with build 26.1 or later."
			var refusal *release.SchemaRefusal
			if !errors.As(err, &refusal) || err.Error() != want {
				t.Fatalf("starting on an older build:\n got %v\nwant %s", err, want)
			}
			if st := c.Runtime.Status(spec.Key); st.Process != console.Down {
				t.Fatalf("the refused instance's process is %s", st.Process)
			}
			// Its own build still starts it.
			spec.Binary = c.Binary
			if err := c.Runtime.Start(ctx, spec); err != nil {
				t.Fatalf("the instance's own build: %v", err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
