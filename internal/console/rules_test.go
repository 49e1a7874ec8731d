package console_test

import (
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
)

// refused checks that err is a rule's refusal with exactly the sentence.
func refused(t *testing.T, what string, err error, sentence string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s was allowed; want it refused with %q", what, sentence)
		return
	}
	if !console.IsRefusal(err) {
		t.Errorf("%s failed with %v, not with a rule's refusal", what, err)
		return
	}
	if err.Error() != sentence {
		t.Errorf("%s refused with\n  %q\nwant\n  %q", what, err.Error(), sentence)
	}
}

func allowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s was refused: %v", what, err)
	}
}

func TestEveryKindHasOneRuleAndParses(t *testing.T) {
	kinds := []console.Kind{console.Demo, console.Sandbox, console.Migration, console.VAL, console.PreProd, console.Prod, console.CommunityDev}
	if len(console.Rules) != len(kinds) {
		t.Fatalf("%d rules for %d kinds", len(console.Rules), len(kinds))
	}
	for _, k := range kinds {
		r, ok := console.RuleOf(k)
		if !ok || r.MadeFromRule == "" || r.MadeFrom == "" || r.Destroy == "" {
			t.Errorf("kind %s has no complete rule: %+v", k, r)
		}
		got, err := console.ParseKind(r.Label)
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", r.Label, got, err)
		}
	}
	for in, want := range map[string]console.Kind{"Pre-PROD": console.PreProd, "preprod": console.PreProd, "community dev": console.CommunityDev, "VAL": console.VAL} {
		if got, err := console.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := console.ParseKind("staging"); err == nil {
		t.Error("ParseKind accepted a kind that does not exist")
	}
}

func TestShapes(t *testing.T) {
	refused(t, "a Migration Test instance", console.CheckRole(console.Migration, console.Test), "A Migration environment has only a Main instance.")
	refused(t, "a Pre-PROD Test instance", console.CheckRole(console.PreProd, console.Test), "A Pre-PROD environment has only a Main instance.")
	refused(t, "a Demo Test instance", console.CheckRole(console.Demo, console.Test), "A Demo environment has only a Main instance.")
	refused(t, "a Community Dev Test instance", console.CheckRole(console.CommunityDev, console.Test), "A Community Dev environment has only a Main instance.")
	for _, k := range []console.Kind{console.Sandbox, console.VAL, console.Prod} {
		allowed(t, string(k)+" Test instance", console.CheckRole(k, console.Test))
		r, _ := console.RuleOf(k)
		if got := r.Shape.Roles(); len(got) != 2 || got[0] != console.Main || got[1] != console.Test {
			t.Errorf("%s is a pair but has roles %v", k, got)
		}
	}
	for _, r := range console.Rules {
		allowed(t, string(r.Kind)+" Main instance", console.CheckRole(r.Kind, console.Main))
	}
}

func TestOnlyValAndProdGetAnIQDocument(t *testing.T) {
	for _, r := range console.Rules {
		err := console.CheckIQ(r.Kind)
		if r.Kind == console.VAL || r.Kind == console.Prod {
			allowed(t, "an IQ document for "+r.Label, err)
			continue
		}
		refused(t, "an IQ document for "+r.Label, err, "Only VAL and PROD environments get an IQ document.")
	}
}

func TestMigrationIsNeverEdited(t *testing.T) {
	for _, r := range console.Rules {
		err := console.CheckEdit(r.Kind)
		if r.Kind == console.Migration {
			refused(t, "an edit in Migration", err, "The Migration instance is rebuilt by every migration run; edits there are never preserved.")
			continue
		}
		allowed(t, "an edit in "+r.Label, err)
	}
}

func TestDestroyRules(t *testing.T) {
	none := console.Facts{}
	at := func(ms ...console.Milestone) console.Facts {
		f := console.Facts{Reached: map[console.Milestone]time.Time{}}
		for _, m := range ms {
			f.Reached[m] = time.Now()
		}
		return f
	}
	all := at(console.ProdLive, console.MigrationSignedOff, console.ValidationDone, console.UpgradeDone("val-2"))
	refused(t, "destroying PROD", console.CheckDestroy(console.Prod, "", "prod", all), "PROD is never destroyed; it is upgraded in place.")
	refused(t, "destroying Community Dev", console.CheckDestroy(console.CommunityDev, "", "community-dev", all),
		"The Community Dev environment is never destroyed; it is shared by every customer.")
	refused(t, "destroying a Sandbox before go-live", console.CheckDestroy(console.Sandbox, "", "sandbox", at(console.MigrationSignedOff, console.ValidationDone)),
		"A Sandbox is destroyed only when PROD goes live, and PROD is not live yet.")
	allowed(t, "destroying a Sandbox at go-live", console.CheckDestroy(console.Sandbox, "", "sandbox", at(console.ProdLive)))
	refused(t, "destroying Migration before sign-off", console.CheckDestroy(console.Migration, "", "migration", at(console.ProdLive)),
		"The Migration environment is destroyed only once the customer has signed its output off.")
	allowed(t, "destroying Migration after sign-off", console.CheckDestroy(console.Migration, "", "migration", at(console.MigrationSignedOff)))
	refused(t, "destroying VAL before validation", console.CheckDestroy(console.VAL, console.GoLive, "val", at(console.ProdLive)),
		"A VAL environment is destroyed only after validation is done and PROD is live.")
	refused(t, "destroying VAL before go-live", console.CheckDestroy(console.VAL, console.GoLive, "val", at(console.ValidationDone)),
		"A VAL environment is destroyed only after validation is done and PROD is live.")
	allowed(t, "destroying VAL after validation and go-live", console.CheckDestroy(console.VAL, console.GoLive, "val", at(console.ValidationDone, console.ProdLive)))
	refused(t, "destroying an upgrade VAL before its upgrade", console.CheckDestroy(console.VAL, console.Upgrade, "val-3", all),
		"An upgrade VAL is destroyed only once the upgrade it validates is done.")
	allowed(t, "destroying an upgrade VAL after its upgrade", console.CheckDestroy(console.VAL, console.Upgrade, "val-2", at(console.UpgradeDone("val-2"))))
	allowed(t, "destroying a Demo by hand", console.CheckDestroy(console.Demo, "", "demo", none))
	allowed(t, "destroying a Pre-PROD by hand", console.CheckDestroy(console.PreProd, "", "preprod", none))
}

func TestWhatEachKindIsMadeFrom(t *testing.T) {
	demo := &console.Origin{Key: "acme/demo/main", Kind: console.Demo, Org: "acme"}
	otherDemo := &console.Origin{Key: "prospect/demo/main", Kind: console.Demo, Org: "prospect"}
	prod := &console.Origin{Key: "acme/prod/main", Kind: console.Prod, Org: "acme"}
	sandbox := &console.Origin{Key: "acme/sandbox/main", Kind: console.Sandbox, Org: "acme"}

	allowed(t, "an empty Sandbox", console.CheckMadeFrom(console.Sandbox, "acme", nil, false))
	allowed(t, "a Sandbox cloned from the customer's Demo", console.CheckMadeFrom(console.Sandbox, "acme", demo, false))
	refused(t, "a Sandbox cloned from another customer's Demo", console.CheckMadeFrom(console.Sandbox, "acme", otherDemo, false),
		"A Sandbox is made empty or as a clone of the customer's own Demo.")
	refused(t, "a Sandbox cloned from PROD", console.CheckMadeFrom(console.Sandbox, "acme", prod, true),
		"A Sandbox is made empty or as a clone of the customer's own Demo.")
	allowed(t, "a Demo from a prospect's demo data", console.CheckMadeFrom(console.Demo, "acme", otherDemo, false))
	refused(t, "a Demo cloned from a Sandbox", console.CheckMadeFrom(console.Demo, "acme", sandbox, false),
		"A Demo environment is made empty or from other demo data.")
	refused(t, "a cloned Migration", console.CheckMadeFrom(console.Migration, "acme", demo, false),
		"A Migration environment is made only from the output of the migration program; it is never cloned.")
	allowed(t, "an empty Migration for the migration program", console.CheckMadeFrom(console.Migration, "acme", nil, false))
	refused(t, "a cloned PROD", console.CheckMadeFrom(console.Prod, "acme", sandbox, true),
		"A PROD environment is made from configuration promoted from VAL (or predefined) and the migration output, never by cloning.")
	refused(t, "an upgrade VAL from PROD without obfuscation", console.CheckMadeFrom(console.VAL, "acme", prod, false),
		"Volunteer PHI never leaves PROD unscrambled: a copy of PROD needs the obfuscation step, which this console does not have yet.")
	allowed(t, "an upgrade VAL from PROD, obfuscated", console.CheckMadeFrom(console.VAL, "acme", prod, true))
	refused(t, "a VAL cloned from a Sandbox", console.CheckMadeFrom(console.VAL, "acme", sandbox, true),
		"A VAL environment is made from promoted configuration and the migration output, or for an upgrade as a clone of the customer's PROD with volunteer PHI obfuscated.")
	refused(t, "a cloned Pre-PROD", console.CheckMadeFrom(console.PreProd, "acme", sandbox, false),
		"A Pre-PROD environment is configured by the customer; it starts empty.")
	refused(t, "a cloned Community Dev", console.CheckMadeFrom(console.CommunityDev, "acme", demo, false),
		"The Community Dev environment runs the latest release and starts empty.")
}

func TestLimits(t *testing.T) {
	refused(t, "a second PROD", console.CheckLimit(console.Prod, 1, 3), "An organisation has one PROD environment; it is upgraded in place.")
	allowed(t, "a first PROD", console.CheckLimit(console.Prod, 0, 3))
	refused(t, "a second Migration", console.CheckLimit(console.Migration, 1, 1), "An organisation has one Migration environment; every migration run rebuilds it.")
	refused(t, "a second Community Dev", console.CheckLimit(console.CommunityDev, 0, 1), "There is one Community Dev environment, shared by every customer.")
	allowed(t, "a fifth Demo", console.CheckLimit(console.Demo, 4, 9))
	allowed(t, "a second VAL", console.CheckLimit(console.VAL, 1, 5))
}

func TestStateMachine(t *testing.T) {
	legal := map[[2]console.State]bool{
		{console.Requested, console.Provisioning}: true, {console.Requested, console.Failed}: true,
		{console.Provisioning, console.Running}: true, {console.Provisioning, console.Stopped}: true, {console.Provisioning, console.Failed}: true,
		{console.Running, console.Stopped}: true, {console.Running, console.Destroyed}: true, {console.Running, console.Failed}: true,
		{console.Stopped, console.Running}: true, {console.Stopped, console.Destroyed}: true, {console.Stopped, console.Failed}: true,
		{console.Failed, console.Provisioning}: true, {console.Failed, console.Running}: true, {console.Failed, console.Stopped}: true,
		{console.Failed, console.Destroyed}: true,
	}
	states := []console.State{console.Requested, console.Provisioning, console.Running, console.Stopped, console.Destroyed, console.Failed}
	for _, from := range states {
		for _, to := range states {
			if got := console.CanMove(from, to); got != legal[[2]console.State{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
	key := "acme/demo/main"
	refused(t, "starting a destroyed instance", console.CheckOperation(console.OpStart, key, console.Destroyed),
		"acme/demo/main is destroyed, so it cannot be started; only a stopped, running or failed instance can.")
	refused(t, "stopping a provisioning instance", console.CheckOperation(console.OpStop, key, console.Provisioning),
		"acme/demo/main is provisioning, so it cannot be stopped; only a running, stopped or failed instance can.")
	refused(t, "destroying a requested instance", console.CheckOperation(console.OpDestroy, key, console.Requested),
		"acme/demo/main is requested, so it cannot be destroyed; only a running, stopped or failed instance can.")
	refused(t, "provisioning a running instance again", console.CheckOperation(console.OpProvision, key, console.Running),
		"acme/demo/main is running, so it cannot be created; only a requested or failed instance can.")
	refused(t, "cloning from an unfinished instance", console.CheckClonable(key, console.Provisioning),
		"Only a running or stopped instance can be cloned; acme/demo/main is provisioning.")
	allowed(t, "starting a running instance (a harmless retry)", console.CheckOperation(console.OpStart, key, console.Running))
	allowed(t, "retrying a failed clone", console.CheckOperation(console.OpClone, key, console.Failed))
}
