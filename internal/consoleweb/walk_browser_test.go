package consoleweb_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web/browsertest"
)

// walkConsole is a console with real instances, the obfuscation step
// installed as `cohort serve` installs it (consoletest.New does), and its
// pages on a test server.
func walkConsole(t *testing.T, e store.Engine) (*console.Console, *httptest.Server) {
	t.Helper()
	c := consoletest.New(t, e, binary)
	proxy := consoleweb.NewProxy(c, nil)
	c.Gate = proxy
	consoletest.Run(t, c)
	f := newFixture(t, c)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	return c, ts
}

// TestBrowserWalkFromDemoToALivePROD is the "done when": in real
// headless Chromium against a real console running real instances, one
// fictional customer goes from its Demo to a live PROD pair — a Sandbox
// cloned from the Demo, the migration run twice and signed off, a VAL made
// from the Sandbox's configuration and the migration output with its PHI
// obfuscated and scanned clean, configuration promoted, the PROD pair made,
// the go-live checklist signed step by step with electronic signatures
// (a wrong password refused), PROD put live, validation signed done, and
// the Sandbox, Migration and VAL destroyed.
func TestBrowserWalkFromDemoToALivePROD(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { walkToALivePROD(t, e) })
	}
}

func walkToALivePROD(t *testing.T, e store.Engine) {
	started := time.Now()
	ctx := context.Background()
	c, ts := walkConsole(t, e)
	demoOps, err := console.OperationsOf(ctx, c.DB, mustInstance(t, c, "demo-cru/demo/main").ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	consoletest.Wait(t, c, demoOps[0], console.OpDone)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	// The walk takes three browser sessions, each within browsertest's
	// time budget even on a busy machine; each logs in again.
	var b *browsertest.Browser
	session := func() {
		b = browsertest.New(t)
		b.Do(t, "log in to the console", chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("username")),
			chromedp.SendKeys(id("username"), "admin"), chromedp.SendKeys(id("password"), testPassword),
			chromedp.Submit(id("password")), chromedp.WaitVisible(id("timeline")), chromedp.WaitVisible(id("open-demo-main")))
	}
	text := func(what, sel string) string {
		return browsertest.Get(t, b, what, chromedp.Text(sel))
	}
	session()

	// 1. A Sandbox pair cloned from the customer's Demo.
	b.Do(t, "ask for a Sandbox cloned from the Demo",
		chromedp.Click(`//a[.="New environment"]`), chromedp.WaitVisible(id("f-kind")),
		chromedp.SetValue(id("f-kind"), "sandbox"), chromedp.SetValue(id("f-from"), "demo-cru/demo/main"),
		chromedp.SendKeys(id("f-reason"), "the customer configures its clinic"),
		chromedp.Click(`//button[.="Create environment"]`),
		chromedp.WaitVisible(id("open-sandbox-main")), chromedp.WaitVisible(id("open-sandbox-test")))
	b.Screenshot(t, "walk-sandbox")

	// 2. The migration program, run twice on the customer's legacy source;
	// after the first run an informal VAL gives an early look; the second
	// run's output is signed off by the customer.
	// The page reads only under the console's migration-sources directory.
	specPath, sourceDir := consoletest.SmallLegacySource(t, filepath.Join(c.Places.DataDir, "migration-sources"), 300)
	makeVAL := func(what, env, reason string) {
		b.Do(t, what,
			chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("make-val")), chromedp.Click(id("make-val")),
			chromedp.WaitVisible(id("f-config_from")), chromedp.SetValue(id("f-config_from"), "demo-cru/sandbox/main"),
			chromedp.SendKeys(id("f-reason"), reason),
			chromedp.Click(`//button[.="Make the VAL pair"]`),
			chromedp.WaitVisible(id("env-"+env)),
			chromedp.WaitVisible(id("open-"+env+"-main")), chromedp.WaitVisible(id("open-"+env+"-test")))
		ops, err := console.OperationsOf(ctx, c.DB, mustInstance(t, c, "demo-cru/"+env+"/main").ID, 1)
		if err != nil || len(ops) != 1 || !regexp.MustCompile(`PHI-leak scan looked for \d+ original values .* found none`).MatchString(ops[0].Log) {
			t.Fatalf("%s was not scanned clean (%v):\n%s", env, err, ops[0].Log)
		}
	}
	for n := 1; n <= 2; n++ {
		b.Do(t, fmt.Sprintf("start migration run %d", n),
			chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("migration-link")), chromedp.Click(id("migration-link")),
			chromedp.WaitVisible(id("start-form")), chromedp.Click(id("kind-path")),
			chromedp.SendKeys(id("f-spec"), specPath), chromedp.SendKeys(id("f-source"), sourceDir),
			chromedp.SendKeys(id("run-reason"), fmt.Sprintf("iteration %d on the customer's dump", n)),
			chromedp.Click(id("start-run-button")), chromedp.WaitVisible(id("run-summary")))
		if state := text("run state", "#run-state"); state != "done" {
			t.Fatalf("migration run %d is %q", n, state)
		}
		if n == 1 {
			makeVAL("ask for an informal VAL", "val", "an early look at the first iteration")
			b.Do(t, "the VAL is marked informal", chromedp.WaitVisible(id("informal-val")))
		}
	}
	b.Do(t, "the customer signs run 2 off",
		chromedp.SendKeys(id("s-username"), "admin"), chromedp.SendKeys(id("s-password"), testPassword),
		chromedp.SendKeys(id("signoff-reason"), "the second iteration's report is accepted"),
		chromedp.Click(id("signoff-button")), chromedp.WaitVisible(id("signed-off")))
	b.Screenshot(t, "walk-migration-signed-off")

	// 3. The formal VAL pair: the Sandbox's configuration + the signed-off
	// output, volunteer PHI obfuscated and scanned clean before release.
	session()
	makeVAL("ask for the formal VAL pair", "val-2", "formal validation of configuration and migration")
	if head := text("VAL heading", `#env-val-2 h3`); !strings.Contains(head, "migration run 2, volunteer PHI obfuscated") || strings.Contains(head, "informal") {
		t.Errorf("the formal VAL's heading: %q", head)
	}
	b.Screenshot(t, "walk-val")

	// 4. Configuration promoted through the bundle, with its diff shown.
	b.Do(t, "preview a promotion into VAL Test",
		chromedp.Click(id("promote-link")), chromedp.WaitVisible(id("study-rule")),
		chromedp.SetValue(id("f-from"), "demo-cru/sandbox/main"), chromedp.SetValue(id("f-to"), "demo-cru/val-2/test"),
		chromedp.Click(`//button[.="Preview the promotion"]`), chromedp.WaitVisible(id("promotion-diff")))
	if row := text("sites row", "#cat-general-settings"); !strings.Contains(row, "general-settings") {
		t.Errorf("the promotion diff lacks general settings: %q", row)
	}
	b.Do(t, "apply the promotion",
		chromedp.SendKeys(id("promote-reason"), "the agreed configuration"),
		chromedp.Click(`//form[@id="promote-apply"]//button`), chromedp.WaitVisible(id("promoted")))
	b.Screenshot(t, "walk-promoted")

	// 5. The PROD pair: the VAL's configuration + the signed-off output.
	session()
	b.Do(t, "ask for the PROD pair",
		chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("make-prod")), chromedp.Click(id("make-prod")),
		chromedp.WaitVisible(id("f-config_from")), chromedp.SetValue(id("f-config_from"), "demo-cru/val-2/main"),
		chromedp.SendKeys(id("f-reason"), "production for go-live"),
		chromedp.Click(`//button[.="Make the PROD pair"]`),
		chromedp.WaitVisible(id("env-prod")),
		chromedp.WaitVisible(id("open-prod-main")), chromedp.WaitVisible(id("open-prod-test")))
	b.Screenshot(t, "walk-prod")

	// The IQ document of PROD Main, which the checklist's IQ step needs.
	b.Do(t, "issue the IQ document of PROD Main", chromedp.Click(id("issue-iq-prod-main")), chromedp.WaitVisible(id("iq-document")),
		chromedp.Navigate(ts.URL+"/o/demo-cru"), chromedp.WaitVisible(id("golive-link")))

	// 6. The go-live checklist, signed step by step.
	b.Do(t, "open the go-live checklist", chromedp.Click(id("golive-link")), chromedp.WaitVisible(id("checklist")))
	if made := text("PROD made from", "#prod-made-from"); !strings.Contains(made, "configuration of demo-cru/val-2/main + migration run 2, not obfuscated") {
		t.Errorf("the checklist says PROD was made from: %q", made)
	}
	b.Do(t, "sign with a wrong password",
		chromedp.SendKeys(id("step-username"), "admin"), chromedp.SendKeys(id("step-password"), "not the password"),
		chromedp.Click(`//form[@id="form-step"]//button`), chromedp.WaitVisible(id("problem")))
	if msg := text("refusal", `#form-step .error`); !strings.Contains(msg, "nothing was signed") {
		t.Fatalf("a wrong password was not refused: %q", msg)
	}
	for _, st := range console.GoLiveSteps {
		b.Do(t, "sign off "+st.Code,
			chromedp.WaitVisible(`//tr[@id="step-`+st.Code+`"]//span[.="next"]`),
			chromedp.SetValue(id("step-username"), "admin"), chromedp.SendKeys(id("step-password"), testPassword),
			chromedp.SendKeys(id("step-comment"), "checked: "+st.Label),
			chromedp.Click(`//form[@id="form-step"]//button`),
			chromedp.WaitVisible(`//tr[@id="step-`+st.Code+`"]//span[.="signed"]`))
	}
	b.Do(t, "put PROD live",
		chromedp.SendKeys(id("golive-username"), "admin"), chromedp.SendKeys(id("golive-password"), testPassword),
		chromedp.SendKeys(id("golive-comment"), "final QC accepted"),
		chromedp.Click(`//form[@id="form-golive"]//button`),
		chromedp.WaitVisible(`//tr[@id="step-golive"]//span[.="live"]`))
	b.Do(t, "sign validation done",
		chromedp.SendKeys(id("validation-username"), "admin"), chromedp.SendKeys(id("validation-password"), testPassword),
		chromedp.SendKeys(id("validation-comment"), "all validation scripts passed"),
		chromedp.Click(`//form[@id="form-validation"]//button`),
		chromedp.WaitVisible(`//tr[@id="step-validation"]//span[.="done"]`))
	if row := text("PROD row", "#destroy-prod"); !strings.Contains(row, "PROD is never destroyed") {
		t.Errorf("the checklist offers to destroy PROD: %q", row)
	}
	b.Screenshot(t, "walk-live")

	// 7. Sandbox, Migration and VAL destroyed, as the rules now allow.
	for _, env := range []string{"sandbox", "migration", "val", "val-2"} {
		b.Do(t, "destroy "+env,
			chromedp.Navigate(ts.URL+"/o/demo-cru/golive"), chromedp.WaitVisible(id("destroy-button-"+env)),
			chromedp.SendKeys(id("destroy-reason-"+env), "PROD is live; "+env+" is no longer needed"),
			chromedp.Click(id("destroy-button-"+env)), chromedp.WaitVisible(id("env-"+env)))
	}
	for _, env := range []string{"sandbox", "migration", "val", "val-2"} {
		b.Do(t, "wait until "+env+" is destroyed",
			chromedp.WaitVisible(`//section[@id="env-`+env+`"]//h3[contains(., "destroyed")]`))
	}
	for _, key := range []string{"demo-cru/sandbox/main", "demo-cru/sandbox/test", "demo-cru/migration/main", "demo-cru/val/main", "demo-cru/val/test", "demo-cru/val-2/main", "demo-cru/val-2/test"} {
		if in := mustInstance(t, c, key); in.State != console.Destroyed || in.Archive == "" {
			t.Errorf("%s after the walk: %s, archive %q", key, in.State, in.Archive)
		}
	}
	for _, key := range []string{"demo-cru/prod/main", "demo-cru/prod/test"} {
		if in := mustInstance(t, c, key); in.State != console.Running {
			t.Errorf("%s after the walk: %s", key, in.State)
		}
	}
	if state := text("go-live state", "#golive-state"); !strings.Contains(state, "PROD went live") {
		t.Errorf("the organisation page says: %q", state)
	}
	b.Screenshot(t, "walk-done")
	t.Logf("the walk from Demo to a live PROD on %s took %s", e, time.Since(started).Round(time.Second))
}
