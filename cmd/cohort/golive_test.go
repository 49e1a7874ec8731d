package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cohortWithInput runs the binary in dir with stdin as its standard input.
func cohortWithInput(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COHORT_DATA_DIR=", "COHORT_DATABASE=")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestPromotionPairsAndTheGoLiveChecklistFromTheCommandLine drives the
// go-live flows through the CLI against a running console: configuration
// promoted from a Sandbox into a VAL with its diff shown first, a VAL pair
// refused without migration output, and the checklist signed with a
// password on standard input — a wrong one refused, steps in order, go-live
// refused until every step is signed.
func TestPromotionPairsAndTheGoLiveChecklistFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	const adminPassword = "Go live sign 4321"
	con := startConsole(t, dir, "COHORT_ADMIN_PASSWORD="+adminPassword)
	con.waitDemo(t)

	if code, out, errOut := cohort(t, dir, "instance", "clone", "demo-cru/demo/main", "demo-cru/sandbox", "--kind", "sandbox", "--reason", "configure"); code != 0 {
		t.Fatalf("clone the Sandbox: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cohort(t, dir, "instance", "create", "demo-cru/val", "--kind", "val", "--reason", "an empty VAL"); code != 0 {
		t.Fatalf("create an empty VAL: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := cohort(t, dir, "instance", "promote", "--from", "demo-cru/demo/main", "--to", "demo-cru/val/main", "--dry-run")
	if code != 1 || !strings.Contains(errOut, "Configuration is promoted from the Main instance of a Sandbox or Pre-PROD environment") {
		t.Errorf("promoting from the Demo: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cohort(t, dir, "instance", "promote", "--from", "demo-cru/sandbox/main", "--to", "demo-cru/val/main", "--dry-run")
	if code != 0 || !strings.Contains(out, "(would change)") || !strings.Contains(out, "+ AMS") || !strings.Contains(out, "× sso.enabled") ||
		!strings.Contains(out, "move study designs with ODM export/import") {
		t.Fatalf("promotion dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = cohort(t, dir, "instance", "promote", "--from", "demo-cru/sandbox/main", "--to", "demo-cru/val/main"); code != 2 || !strings.Contains(errOut, "--reason") {
		t.Errorf("a promotion without a reason: exit %d\n%s", code, errOut)
	}
	code, out, errOut = cohort(t, dir, "instance", "promote", "--from", "demo-cru/sandbox/main", "--to", "demo-cru/val/main", "--reason", "agreed configuration")
	if code != 0 || !strings.Contains(out, "Promoted:") {
		t.Fatalf("promotion: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cohort(t, dir, "instance", "promote", "--from", "demo-cru/sandbox/main", "--to", "demo-cru/val/main", "--dry-run")
	if code != 0 || strings.Contains(out, "      + ") {
		t.Errorf("a second promotion still adds records:\n%s", out)
	}

	code, _, errOut = cohort(t, dir, "instance", "val", "demo-cru", "--config-from", "demo-cru/sandbox/main", "--reason", "early look")
	if code != 1 || !strings.Contains(errOut, "demo-cru has no successful migration run yet") {
		t.Errorf("a VAL without migration output: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cohort(t, dir, "instance", "prod", "demo-cru", "--predefined", "none", "--reason", "too early")
	if code != 1 || !strings.Contains(errOut, "has not signed it off yet") {
		t.Errorf("PROD before sign-off: exit %d\n%s", code, errOut)
	}

	sign := func(pw string, args ...string) (int, string, string) {
		return cohortWithInput(t, dir, pw+"\n", append([]string{"golive"}, args...)...)
	}
	code, _, errOut = sign("wrong password", "sign", "--org", "demo-cru", "--step", "source-dump", "--user", "admin")
	if code != 1 || !strings.Contains(errOut, "nothing was signed") {
		t.Errorf("signing with a wrong password: exit %d\n%s", code, errOut)
	}
	code, _, errOut = sign(adminPassword, "sign", "--org", "demo-cru", "--step", "configuration", "--user", "admin")
	if code != 1 || !strings.Contains(errOut, "signed off in order") {
		t.Errorf("signing out of order: exit %d\n%s", code, errOut)
	}
	for _, step := range []string{"source-dump", "configuration"} {
		code, out, errOut = sign(adminPassword, "sign", "--org", "demo-cru", "--step", step, "--user", "admin", "--comment", "checked")
		if code != 0 || !strings.Contains(out, "Signed: Console administrator (admin)") {
			t.Fatalf("signing %s: exit %d\n%s\n%s", step, code, out, errOut)
		}
	}
	code, _, errOut = sign(adminPassword, "sign", "--org", "demo-cru", "--step", "migration-run", "--user", "admin")
	if code != 1 || !strings.Contains(errOut, "has not signed the migration output off yet") {
		t.Errorf("the migration step before sign-off: exit %d\n%s", code, errOut)
	}
	code, _, errOut = sign(adminPassword, "complete", "--org", "demo-cru", "--user", "admin")
	if code != 1 || !strings.Contains(errOut, "PROD cannot go live yet: «Migration run» is not signed off") {
		t.Errorf("go-live with an unfinished checklist: exit %d\n%s", code, errOut)
	}
	code, out, _ = cohort(t, dir, "golive", "status", "--org", "demo-cru")
	if code != 0 || !strings.Contains(out, "signed off by Console administrator (admin)") || !strings.Contains(out, "Sandbox sandbox: no — A Sandbox is destroyed only when PROD goes live") {
		t.Errorf("golive status: exit %d\n%s", code, out)
	}
	code, out, _ = cohort(t, dir, "golive", "status", "--org", "demo-cru", "--json")
	var st struct {
		Steps []struct {
			Code      string
			Signature *struct{ Username, Comment string }
		}
		Complete bool
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || len(st.Steps) != 6 || st.Steps[1].Signature == nil ||
		st.Steps[1].Signature.Comment != "checked" || st.Steps[2].Signature != nil || st.Complete {
		t.Errorf("golive status --json: exit %d %v\n%s", code, err, out)
	}
}
