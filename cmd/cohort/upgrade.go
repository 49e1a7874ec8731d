package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
)

const upgradeUsage = `cohort upgrade — temporary upgrade VALs and scheduled upgrades

  val --org ORG --to VERSION[+NUMBER] --reason R
                       clone the organisation's PROD into a temporary VAL (volunteer
                       PHI obfuscated) and upgrade it to the build, for validation
  signoff ORG/ENV --validated|--rejected --reason R
                       record the verdict on an upgrade VAL; "validated" allows the
                       PROD upgrade to its build
  vals --org ORG       list the organisation's upgrade VALs
  cancel OPERATION --reason R
                       call off a scheduled upgrade before its slot
  backups [--keep N --reason R]
                       how many successful upgrades' backups each instance keeps
                       (older ones are removed after the next successful upgrade;
                       those of failed or rolled-back upgrades are always kept)

Upgrading an instance: cohort instance upgrade ORG/ENV/ROLE --to VERSION+NUMBER
[--at 2026-12-01T22:00Z] --reason R; its history: cohort instance upgrades ORG/ENV/ROLE.`

// runUpgrade is the upgrade command.
func runUpgrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, upgradeUsage)
		return nil
	}
	switch args[0] {
	case "val":
		return runUpgradeVAL(ctx, args[1:], stdout, stderr)
	case "signoff":
		return runUpgradeSignOff(ctx, args[1:], stdout, stderr)
	case "vals":
		return runUpgradeVALs(ctx, args[1:], stdout, stderr)
	case "cancel":
		return runUpgradeCancel(ctx, args[1:], stdout, stderr)
	case "backups":
		return runUpgradeBackups(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown upgrade command %q; run `cohort upgrade help`", args[0])}
}

// parseSlot reads an agreed slot: RFC 3339 with or without seconds
// (2026-12-01T22:00Z, 2026-12-01T23:00+01:00), or a local time with --tz.
func parseSlot(s, tz string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, fmt.Errorf("--tz %q is not a time zone; use a name such as Europe/Amsterdam.", tz)
		}
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04"} {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("--at %q is not a time; write it as 2026-12-01T22:00Z, with an offset (2026-12-01T23:00+01:00), or as 2026-12-01T23:00 with --tz Europe/Amsterdam.", s)
}

// upgradeFlags is the flag set every upgrade command starts with: the
// registry's flags, its usage written to stderr.
func upgradeFlags(name string, stderr io.Writer, waits bool) (*flag.FlagSet, registryFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, addRegistryFlags(fs, waits)
}

// parseAndOpen parses a command that takes no positional arguments and
// opens the registry; the caller closes its database.
func parseAndOpen(ctx context.Context, fs *flag.FlagSet, rf registryFlags, args []string) (*console.Console, error) {
	if _, err := parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	return rf.open(ctx)
}

// openForBuild opens the registry and resolves the build ref names in it;
// the caller closes the registry's database.
func openForBuild(ctx context.Context, rf registryFlags, ref string) (*console.Console, console.Build, error) {
	c, err := rf.open(ctx)
	if err != nil {
		return nil, console.Build{}, err
	}
	b, err := resolveBuild(ctx, c, ref)
	if err != nil {
		c.DB.Close()
		return nil, console.Build{}, err
	}
	return c, b, nil
}

// resolveBuild turns VERSION[+NUMBER] into a registered build.
func resolveBuild(ctx context.Context, c *console.Console, ref string) (console.Build, error) {
	if strings.TrimSpace(ref) == "" {
		return console.Build{}, usageError{"say which build with --to VERSION+NUMBER, e.g. --to 26.2+7"}
	}
	if v, n, ok := strings.Cut(ref, "+"); ok && c.Build.Version == v && c.Build.Number == n {
		return c.Build, nil // the console's own build needs no catalog entry
	}
	b, err := release.Resolve(ctx, c.DB, ref)
	if err != nil {
		return console.Build{}, err
	}
	return b.Ref(), nil
}

// runInstanceUpgrade is `cohort instance upgrade`.
func runInstanceUpgrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("instance upgrade", stderr, true)
	to := fs.String("to", "", "the registered build to upgrade to, VERSION+NUMBER (e.g. 26.2+7)")
	at := fs.String("at", "", "the agreed slot, e.g. 2026-12-01T22:00Z; default: now")
	tz := fs.String("tz", "", "time zone of a slot given without an offset, e.g. Europe/Amsterdam")
	reason := fs.String("reason", "", "why, for the console's audit trail (required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name one instance: cohort instance upgrade ORG/ENV/ROLE --to VERSION+NUMBER --reason R"}
	}
	slot, err := parseSlot(*at, *tz)
	if err != nil {
		return usageError{err.Error()}
	}
	c, b, err := openForBuild(ctx, rf, *to)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	op, err := c.RequestUpgrade(ctx, cliActor(), strings.Trim(pos[0], "/"), b, slot, *reason)
	if err != nil {
		return err
	}
	if op.State == console.OpScheduled {
		fmt.Fprintf(stdout, "Scheduled operation %d: upgrade of %s to %s at %s UTC. The running console queues it then; `cohort upgrade cancel %d --reason …` calls it off.\n",
			op.ID, op.Instance, b, slot.UTC().Format("2006-01-02 15:04"), op.ID)
		return nil
	}
	err = follow(ctx, c, rf, []console.Operation{op}, stdout)
	if u, uerr := console.UpgradeByOperation(ctx, c.DB, op.ID); uerr == nil && u.Finished() {
		fmt.Fprintf(stdout, "Outcome: %s; requests held %s; failed requests %s.\n", u.Outcome, heldText(u), failedText(u))
	}
	return err
}

func heldText(u console.UpgradeRecord) string {
	if !u.HeldMS.Valid {
		return "—"
	}
	return strconv.FormatInt(u.HeldMS.Int64, 10) + " ms"
}

func failedText(u console.UpgradeRecord) string {
	if !u.FailedRequests.Valid {
		return "not measured"
	}
	return strconv.FormatInt(u.FailedRequests.Int64, 10)
}

// runInstanceUpgrades is `cohort instance upgrades`: the instance's
// upgrade history.
func runInstanceUpgrades(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("instance upgrades", stderr, false)
	asJSON := fs.Bool("json", false, "print JSON")
	withLog := fs.Bool("log", false, "print each upgrade's log")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name one instance: cohort instance upgrades ORG/ENV/ROLE"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	list, err := console.UpgradesOf(ctx, c.DB, strings.Trim(pos[0], "/"))
	if err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Operation      int64      `json:"operation"`
			From           string     `json:"from"`
			To             string     `json:"to"`
			RequestedBy    string     `json:"requested_by"`
			RequestedAt    time.Time  `json:"requested_at"`
			Slot           *time.Time `json:"slot,omitempty"`
			Reason         string     `json:"reason"`
			Outcome        string     `json:"outcome"`
			HeldMS         *int64     `json:"held_ms,omitempty"`
			FailedRequests *int64     `json:"failed_requests,omitempty"`
			Backup         string     `json:"backup,omitempty"`
			FinishedAt     *time.Time `json:"finished_at,omitempty"`
			Log            []string   `json:"log,omitempty"`
		}
		out := []row{}
		for _, u := range list {
			r := row{Operation: u.OperationID, From: u.From.String(), To: u.To.String(), RequestedBy: u.RequestedBy, RequestedAt: u.RequestedAt,
				Reason: u.Reason, Outcome: string(u.Outcome), Backup: u.Backup}
			if u.Slot.Valid {
				r.Slot = &u.Slot.Time
			}
			if u.HeldMS.Valid {
				r.HeldMS = &u.HeldMS.Int64
			}
			if u.FailedRequests.Valid {
				r.FailedRequests = &u.FailedRequests.Int64
			}
			if u.FinishedAt.Valid {
				r.FinishedAt = &u.FinishedAt.Time
			}
			if *withLog {
				r.Log = u.Lines()
			}
			out = append(out, r)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "%s has never been upgraded.\n", pos[0])
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tFROM\tTO\tREQUESTED BY\tREQUESTED (UTC)\tSLOT (UTC)\tOUTCOME\tHELD\tFAILED REQUESTS")
	for _, u := range list {
		slot := "now"
		if u.Slot.Valid {
			slot = u.Slot.Time.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.OperationID, u.From, u.To, u.RequestedBy,
			u.RequestedAt.UTC().Format("2006-01-02 15:04"), slot, u.Outcome, heldText(u), failedText(u))
	}
	tw.Flush()
	if *withLog {
		for _, u := range list {
			fmt.Fprintf(stdout, "\nOperation %d (%s → %s):\n", u.OperationID, u.From, u.To)
			for _, l := range u.Lines() {
				fmt.Fprintln(stdout, "  "+l)
			}
		}
	}
	return nil
}

func runUpgradeVAL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("upgrade val", stderr, true)
	org := fs.String("org", "", "the organisation whose PROD is previewed")
	to := fs.String("to", "", "the registered build to validate, VERSION+NUMBER")
	reason := fs.String("reason", "", "why, for the console's audit trail (required)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *org == "" {
		return usageError{"say whose PROD to preview with --org ORG"}
	}
	c, b, err := openForBuild(ctx, rf, *to)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	env, ops, err := c.RequestUpgradeVAL(ctx, cliActor(), *org, b, *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Requested upgrade VAL %s/%s: a copy of PROD, then upgraded to %s by the running console.\n", *org, env.Code, b)
	if err := follow(ctx, c, rf, ops, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Follow its upgrade with `cohort upgrade vals --org %s`; sign it off with `cohort upgrade signoff %s/%s --validated --reason …`.\n", *org, *org, env.Code)
	return nil
}

func runUpgradeSignOff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("upgrade signoff", stderr, false)
	validated := fs.Bool("validated", false, "the new build is validated on this VAL")
	rejected := fs.Bool("rejected", false, "the new build is rejected")
	reason := fs.String("reason", "", "what was checked (required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *validated == *rejected {
		return usageError{"cohort upgrade signoff ORG/ENV --validated|--rejected --reason R"}
	}
	org, env, ok := strings.Cut(strings.Trim(pos[0], "/"), "/")
	if !ok {
		return usageError{fmt.Sprintf("%q does not name an environment; write ORG/ENV", pos[0])}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	if err := c.SignOffUpgradeVAL(ctx, cliActor(), org, env, *validated, *reason); err != nil {
		return err
	}
	verdict := console.SignedRejected
	if *validated {
		verdict = console.SignedValidated
	}
	fmt.Fprintf(stdout, "Signed off %s/%s as %s.\n", org, env, verdict)
	return nil
}

func runUpgradeVALs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("upgrade vals", stderr, false)
	org := fs.String("org", "", "the organisation")
	c, err := parseAndOpen(ctx, fs, rf, args)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	list, err := console.UpgradeVALs(ctx, c.DB, *org)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "%s has no upgrade VAL.\n", *org)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tBUILD\tSTATE\tSIGNED OFF\tBY\tREASON")
	for _, v := range list {
		state := string(v.State)
		if v.Destroyed {
			state += " (destroyed)"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\n", v.Org, v.Env, v.To, state, v.SignedOff, v.SignedBy, v.SignReason)
	}
	return tw.Flush()
}

func runUpgradeCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("upgrade cancel", stderr, false)
	reason := fs.String("reason", "", "why (required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(strings.Join(pos, ""), 10, 64)
	if len(pos) != 1 || perr != nil {
		return usageError{"cohort upgrade cancel OPERATION --reason R (the operation number of the scheduled upgrade)"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	if err := c.CancelUpgrade(ctx, cliActor(), id, *reason); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Called off upgrade operation %d.\n", id)
	return nil
}

// runUpgradeBackups is `cohort upgrade backups`: it shows, or with --keep
// changes (audited), how many successful upgrades' backups each instance
// keeps.
func runUpgradeBackups(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := upgradeFlags("upgrade backups", stderr, false)
	keep := fs.String("keep", "", "keep the backups of this many latest successful upgrades per instance")
	reason := fs.String("reason", "", "why the number changes (required with --keep)")
	c, err := parseAndOpen(ctx, fs, rf, args)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	if *keep != "" {
		if err := c.SetBackupsKept(ctx, cliActor(), *keep, *reason); err != nil {
			return err
		}
	}
	n, err := console.BackupsKeptSetting(ctx, c.DB)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Each instance keeps the backups of its last %d successful upgrades (%s); backups of failed or rolled-back upgrades are always kept.\n", n, console.BackupsKept.Key)
	return nil
}
