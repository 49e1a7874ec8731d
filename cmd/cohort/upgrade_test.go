package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseSlot(t *testing.T) {
	for _, c := range []struct{ in, tz, want string }{
		{"2026-12-01T22:00Z", "", "2026-12-01T22:00:00Z"},
		{"2026-12-01T23:00+01:00", "", "2026-12-01T22:00:00Z"},
		{"2026-12-01T22:00:30Z", "", "2026-12-01T22:00:30Z"},
		{"2026-12-01T23:00", "Europe/Amsterdam", "2026-12-01T22:00:00Z"},
		{"2026-07-01 23:00", "Europe/Amsterdam", "2026-07-01T21:00:00Z"},
	} {
		got, err := parseSlot(c.in, c.tz)
		if err != nil || got.UTC().Format(time.RFC3339) != c.want {
			t.Errorf("parseSlot(%q, %q) = %v, %v; want %s", c.in, c.tz, got.UTC(), err, c.want)
		}
	}
	if _, err := parseSlot("2026-12-01T23:00", ""); err == nil || !strings.Contains(err.Error(), "--tz") {
		t.Errorf("a slot without a zone: %v", err)
	}
	if _, err := parseSlot("tomorrow", ""); err == nil {
		t.Error("a slot that is no time was accepted")
	}
	if at, err := parseSlot("", ""); err != nil || !at.IsZero() {
		t.Errorf("no slot: %v %v", at, err)
	}
}

// TestUpgradeFromTheCommandLine upgrades the running console's Demo
// instance to a registered release build with the CLI, reads its history,
// and schedules and calls off a second upgrade.
func TestUpgradeFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a console and builds a release; skipped with -short")
	}
	rel := release262(t)
	dir := t.TempDir()
	con := startConsole(t, dir)
	con.waitDemo(t)
	if code, out := cohortCLI(t, dir, "release", "register", rel); code != 0 {
		t.Fatalf("register: exit %d\n%s", code, out)
	}
	const key = "demo-cru/demo/main"
	if code, _, errOut := cohort(t, dir, "instance", "upgrade", key, "--to", "26.2+5"); code != 1 || !strings.Contains(errOut, "Say why demo-cru/demo/main is to be upgraded") {
		t.Errorf("an upgrade without a reason: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := cohort(t, dir, "instance", "upgrade", key, "--to", "26.9+1", "--reason", "r"); code != 1 || !strings.Contains(errOut, "Build 26.9+1 is not in the release catalog") {
		t.Errorf("an upgrade to an unregistered build: exit %d\n%s", code, errOut)
	}
	code, out, errOut := cohort(t, dir, "instance", "upgrade", key, "--to", "26.2+5", "--reason", "release 26.2 for the demo")
	if code != 0 || !strings.Contains(out, "Requests were held for") || !strings.Contains(out, "Outcome: upgraded; requests held") {
		t.Fatalf("instance upgrade: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, body := fetch(t, con.url+"i/"+key+"/metrics"); !strings.Contains(body, `version="26.2",build="5"`) {
		t.Errorf("the instance does not serve 26.2 (build 5) after the upgrade:\n%s", body)
	}
	code, out, _ = cohort(t, dir, "instance", "upgrades", key, "--json")
	var hist []struct {
		From, To, Outcome string
		RequestedBy       string `json:"requested_by"`
		HeldMS            *int64 `json:"held_ms"`
		FailedRequests    *int64 `json:"failed_requests"`
	}
	if err := json.Unmarshal([]byte(out), &hist); code != 0 || err != nil || len(hist) != 1 || hist[0].Outcome != "upgraded" ||
		hist[0].To != "26.2 (build 5)" || hist[0].HeldMS == nil || hist[0].FailedRequests == nil || *hist[0].FailedRequests != 0 ||
		!strings.HasPrefix(hist[0].RequestedBy, "cli:") {
		t.Fatalf("instance upgrades --json: exit %d %v\n%s", code, err, out)
	}

	// A slot agreed for later is scheduled, excludes a second upgrade, and
	// can be called off.
	code, out, errOut = cohort(t, dir, "instance", "upgrade", key, "--to", "test+42", "--at", time.Now().Add(48*time.Hour).UTC().Format("2006-01-02T15:04Z"), "--reason", "back to the console's build")
	m := regexp.MustCompile(`Scheduled operation (\d+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("a scheduled upgrade: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := cohort(t, dir, "instance", "upgrade", key, "--to", "test+42", "--reason", "now instead"); code != 1 || !strings.Contains(errOut, "already has an upgrade scheduled") {
		t.Errorf("a second upgrade beside a scheduled one: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := cohort(t, dir, "upgrade", "cancel", m[1], "--reason", "the customer asked for another slot"); code != 0 || !strings.Contains(out, "Called off") {
		t.Errorf("upgrade cancel: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cohort(t, dir, "instance", "upgrades", key)
	if code != 0 || !strings.Contains(out, "cancelled") || !strings.Contains(out, "upgraded") {
		t.Errorf("instance upgrades: exit %d\n%s", code, out)
	}

	// The backup retention: shown, refused below one, changed with a reason.
	if code, out, errOut := cohort(t, dir, "upgrade", "backups"); code != 0 || !strings.Contains(out, "its last 3 successful upgrades") {
		t.Errorf("upgrade backups: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := cohort(t, dir, "upgrade", "backups", "--keep", "0", "--reason", "save disk"); code != 1 || !strings.Contains(errOut, "from 1 to 100") {
		t.Errorf("keeping no backup: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := cohort(t, dir, "upgrade", "backups", "--keep", "5", "--reason", "a longer way back"); code != 0 || !strings.Contains(out, "its last 5 successful upgrades") {
		t.Errorf("upgrade backups --keep 5: exit %d\n%s\n%s", code, out, errOut)
	}
}
