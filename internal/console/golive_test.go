package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

const signPassword = "Sign here 4567"

// signers gives the console its roles and two users: Dana, a console
// administrator who may sign, and Olly, an observer who may not.
func signers(t *testing.T, c *console.Console) (dana, olly account.User) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := console.Bootstrap(ctx, c.DB, "Bootstrap pass 1234"); err != nil {
		t.Fatal(err)
	}
	mk := func(name, full, role string) account.User {
		u, err := account.Create(ctx, c.DB, audit.System, account.Policy{MinLength: 8}, account.NewUser{
			Username: name, DisplayName: full, Password: signPassword, Grants: []access.Grant{{RoleCode: role}}})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	return mk("dana", "Dana Whitfield", "console-admin"), mk("olly", "Olly Observer", "console-observer")
}

// auditCount counts audit events of an action by one of their fields (the
// trail keeps one entry per changed field).
func auditCount(t *testing.T, db *store.DB, action, field string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = ? AND field = ?", action, field).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGoLiveIsSignedStepByStepAndThenLetsTheEnvironmentsGo(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		dana, olly := signers(t, c)
		as := func(u account.User) console.Signer {
			return console.Signer{SessionUserID: u.ID, Username: u.Username, Password: signPassword}
		}
		mustOrg(t, c, "acme")
		for _, k := range []console.Kind{console.Sandbox, console.Migration, console.VAL} {
			mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: k})
		}
		settle(t, c, console.Running, "acme/sandbox/main", "acme/sandbox/test", "acme/migration/main", "acme/val/main", "acme/val/test")
		sign := func(s console.Signer, step string) error {
			_, err := console.SignGoLiveStep(ctx, c.DB, s, "acme", step, "checked "+step)
			return err
		}

		// A wrong password signs nothing and leaves its trace.
		bad := as(dana)
		bad.Password = "not my password"
		err := sign(bad, "source-dump")
		if fe, ok := check.AsFieldErrors(err); !ok || !strings.Contains(fe["password"], "not correct; nothing was signed") {
			t.Fatalf("signing with a wrong password: %v", err)
		}
		if n := auditCount(t, c.DB, "sign_failed", "why"); n != 1 {
			t.Errorf("a refused signature left %d audit entries, want 1", n)
		}
		// Nobody signs in someone else's name, and an observer does not sign.
		other := as(olly)
		other.SessionUserID = dana.ID
		if fe, ok := check.AsFieldErrors(sign(other, "source-dump")); !ok || fe["username"] == "" {
			t.Error("a signature in someone else's name was not refused")
		}
		refused(t, "an observer signing", sign(as(olly), "source-dump"), "olly may not sign for the console: their roles lack the permission console.manage.")
		refused(t, "signing out of order", sign(as(dana), "configuration"),
			"The go-live checklist is signed off in order: «Final source dump received» comes before «Configuration extracted from the agreed source instance».")
		refused(t, "an unknown step", sign(as(dana), "party"), `"party" is not a step of the go-live checklist.`)
		_, err = console.CompleteGoLive(ctx, c.DB, as(dana), "acme", "go")
		refused(t, "go-live with nothing signed", err, "PROD cannot go live yet: «Final source dump received» is not signed off (step 1 of 6 of the go-live checklist).")

		allowed(t, "signing the source dump", sign(as(dana), "source-dump"))
		refused(t, "signing a step twice", sign(as(dana), "source-dump"), "«Final source dump received» was signed off by Dana Whitfield on "+
			mustChecklist(t, c).Steps[0].Signature.SignedAt.UTC().Format("2006-01-02 15:04")+" UTC; a signature is never changed or given twice.")
		allowed(t, "signing the configuration", sign(as(dana), "configuration"))
		refused(t, "the migration step before the customer's sign-off", sign(as(dana), "migration-run"),
			"«Migration run» cannot be signed off yet: The customer has not signed the migration output off yet.")
		allowed(t, "the customer's sign-off", console.RecordMilestone(ctx, c.DB, alice, "acme", console.MigrationSignedOff, "signed off"))
		allowed(t, "signing the migration run", sign(as(dana), "migration-run"))
		refused(t, "the PROD step without PROD", sign(as(dana), "prod-populated"),
			"«PROD Main populated, configured and reviewed» cannot be signed off yet: There is no working PROD Main instance yet.")
		mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Prod})
		settle(t, c, console.Running, "acme/prod/main", "acme/prod/test")
		allowed(t, "signing PROD populated", sign(as(dana), "prod-populated"))
		refused(t, "the IQ step without an IQ document", sign(as(dana), "iq"),
			"«IQ document issued» cannot be signed off yet: No IQ document has been issued for acme/prod/main since it was created; issue one first (cohort iq issue acme/prod/main).")
		// No instance runs in this test, so the document is recorded as
		// IssueIQ would record it; iq_test.go issues one for real.
		prodMain := instance(t, c, "acme/prod/main")
		storetest.MustExec(t, c.DB, `INSERT INTO iq_document (organisation_id, seq, number, instance_id, instance_key, issued_at, issued_by, content, sha256)
			SELECT e.organisation_id, 1, 'IQ-ACME-0001', ?, 'acme/prod/main', ?, 'dana', '{}', 'x' FROM environment e WHERE e.id = ?`,
			prodMain.ID, time.Now().UTC(), prodMain.EnvID)
		allowed(t, "signing the IQ", sign(as(dana), "iq"))
		_, err = console.CompleteGoLive(ctx, c.DB, as(dana), "acme", "go")
		refused(t, "go-live before the final QC", err, "PROD cannot go live yet: «Customer's final QC» is not signed off (step 6 of 6 of the go-live checklist).")
		_, err = c.Request(ctx, alice, console.OpDestroy, "acme/sandbox/main", "tidy", "")
		refused(t, "destroying the Sandbox before go-live", err, "A Sandbox is destroyed only when PROD goes live, and PROD is not live yet.")
		allowed(t, "signing the final QC", sign(as(dana), "final-qc"))

		cl := mustChecklist(t, c)
		if !cl.Complete || cl.Live != nil || cl.Facts.Has(console.ProdLive) {
			t.Fatalf("after every step: complete %v, live %v", cl.Complete, cl.Live)
		}
		for i, st := range cl.Steps {
			if st.Signature == nil || st.Signature.Username != "dana" || st.Signature.FullName != "Dana Whitfield" ||
				st.Signature.Meaning != console.GoLiveSteps[i].Meaning || st.Signature.Comment != "checked "+st.Code || st.Signature.SignedAt.IsZero() {
				t.Errorf("step %s: signature %+v", st.Code, st.Signature)
			}
		}
		bad = as(dana)
		bad.Password = "wrong"
		if _, err := console.CompleteGoLive(ctx, c.DB, bad, "acme", "go"); err == nil {
			t.Fatal("go-live was signed with a wrong password")
		}
		sig, err := console.CompleteGoLive(ctx, c.DB, as(dana), "acme", "PROD accepted")
		allowed(t, "go-live", err)
		if sig.Meaning != console.GoLiveMeaning || sig.Username != "dana" {
			t.Errorf("go-live signature: %+v", sig)
		}
		cl = mustChecklist(t, c)
		if cl.Live == nil || !cl.Facts.Has(console.ProdLive) {
			t.Fatal("go-live did not record PROD live")
		}
		may := map[string]bool{}
		for _, d := range cl.Destroy {
			may[d.Env.Code] = d.Allowed
		}
		if !may["sandbox"] || !may["migration"] || may["val"] || may["prod"] {
			t.Errorf("after go-live, may destroy: %v", may)
		}
		_, err = c.DestroyEnvironment(ctx, alice, "acme", "val", "validated")
		refused(t, "destroying VAL before validation", err, "A VAL environment is destroyed only after validation is done and PROD is live.")
		_, err = console.SignValidationDone(ctx, c.DB, bad, "acme", "done")
		if err == nil {
			t.Fatal("validation was signed with a wrong password")
		}
		_, err = console.SignValidationDone(ctx, c.DB, as(dana), "acme", "all scripts passed")
		allowed(t, "signing validation done", err)
		for _, env := range []string{"sandbox", "migration", "val"} {
			_, err := c.DestroyEnvironment(ctx, alice, "acme", env, "go-live done")
			allowed(t, "destroying "+env+" after go-live and validation", err)
		}
		_, err = c.DestroyEnvironment(ctx, alice, "acme", "prod", "never")
		refused(t, "destroying PROD", err, "PROD is never destroyed; it is upgraded in place.")

		// Every signature is in the console's audit trail, and none can be
		// changed or removed afterwards.
		if n := auditCount(t, c.DB, "sign", "signer"); n != len(console.GoLiveSteps)+2 {
			t.Errorf("%d signatures audited, want %d", n, len(console.GoLiveSteps)+2)
		}
		if _, err := c.DB.Exec(ctx, "UPDATE signature SET comment = 'edited'"); err == nil {
			t.Error("a signature was changed in place")
		}
		if _, err := c.DB.Exec(ctx, "DELETE FROM signature"); err == nil {
			t.Error("a signature was removed")
		}
		if ok, err := audit.Verify(ctx, c.DB); err != nil || !ok.OK() {
			t.Errorf("the console's audit trail does not verify: %v %+v", err, ok)
		}
	})
}

func mustChecklist(t *testing.T, c *console.Console) console.Checklist {
	t.Helper()
	cl, err := console.GoLiveChecklist(context.Background(), c.DB, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestPairsRefuseWhatTheirPreconditionsMiss(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		mustOrg(t, c, "acme")
		mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
		mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox})
		settle(t, c, console.Running, "acme/demo/main", "acme/sandbox/main", "acme/sandbox/test")
		mk := func(p console.NewPair) error {
			p.Org = "acme"
			if p.Reason == "" {
				p.Reason = "validation"
			}
			_, _, err := c.MakePair(ctx, alice, p)
			return err
		}
		if fe, ok := check.AsFieldErrors(mk(console.NewPair{Kind: console.VAL})); !ok || fe["config_from"] == "" {
			t.Error("a VAL without a configuration source was not refused")
		}
		if fe, ok := check.AsFieldErrors(mk(console.NewPair{Kind: console.Sandbox})); !ok || fe["kind"] == "" {
			t.Error("a Sandbox made as a pair was not refused")
		}
		if fe, ok := check.AsFieldErrors(mk(console.NewPair{Kind: console.VAL, ConfigFrom: "acme/sandbox/main", Reason: " "})); !ok || fe["reason"] == "" {
			t.Error("a VAL without a reason was not refused")
		}
		refused(t, "a VAL configured from the Demo", mk(console.NewPair{Kind: console.VAL, ConfigFrom: "acme/demo/main"}),
			"A VAL environment is made from promoted configuration and the migration output, or for an upgrade as a clone of the customer's PROD with volunteer PHI obfuscated.")
		refused(t, "a VAL configured from a Sandbox Test", mk(console.NewPair{Kind: console.VAL, ConfigFrom: "acme/sandbox/test"}),
			"A VAL environment is made from promoted configuration and the migration output, or for an upgrade as a clone of the customer's PROD with volunteer PHI obfuscated.")
		if fe, ok := check.AsFieldErrors(mk(console.NewPair{Kind: console.VAL, ConfigFrom: "acme/sandbox/main", Predefined: "demo"})); !ok || fe["predefined"] == "" {
			t.Error("a VAL with a predefined configuration was not refused")
		}
		refused(t, "PROD before the migration output is signed off", mk(console.NewPair{Kind: console.Prod, Predefined: console.PredefinedNone}),
			"PROD is made from the migration output the customer signed off, and acme has not signed it off yet.")
		if fe, ok := check.AsFieldErrors(mk(console.NewPair{Kind: console.Prod, Predefined: "fancy"})); !ok || fe["predefined"] == "" {
			t.Error("an unknown predefined configuration was not refused")
		}
		refused(t, "PROD configured from a Sandbox", mk(console.NewPair{Kind: console.Prod, ConfigFrom: "acme/sandbox/main"}),
			"A PROD environment is made from configuration promoted from VAL (or predefined) and the migration output, never by cloning.")
		envs, err := console.Environments(ctx, c.DB, "acme")
		if err != nil || len(envs) != 2 {
			t.Errorf("refused pairs left environments behind: %d %v", len(envs), err)
		}
	})
}

// Guessing a password through a signature form locks the account as
// guessing at the login page does; once locked, even the right password
// signs nothing.
func TestWrongSignaturePasswordsLockTheAccount(t *testing.T) {
	eachEngine(t, func(t *testing.T, c *console.Console) {
		ctx := context.Background()
		dana, _ := signers(t, c)
		mustOrg(t, c, "acme")
		guess := console.Signer{SessionUserID: dana.ID, Username: dana.Username, Password: "guess"}
		var err error
		for range 5 { // the default lockout threshold
			_, err = console.SignGoLiveStep(ctx, c.DB, guess, "acme", "source-dump", "guessing")
		}
		if !console.IsRefusal(err) || !strings.Contains(err.Error(), "is locked until") {
			t.Fatalf("the fifth wrong signature password: %v", err)
		}
		right := guess
		right.Password = signPassword
		if _, err := console.SignGoLiveStep(ctx, c.DB, right, "acme", "source-dump", "now with the right one"); !console.IsRefusal(err) || !strings.Contains(err.Error(), "locked") {
			t.Fatalf("a locked account signed: %v", err)
		}
		if n := auditCount(t, c.DB, "lockout", "locked_until"); n != 1 {
			t.Errorf("the lockout left %d audit entries, want 1", n)
		}
	})
}
