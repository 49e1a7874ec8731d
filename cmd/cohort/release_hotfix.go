package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
)

// runReleaseHotfix lists the hotfixes offered to an instance, or records a
// customer's acceptance (which requests the upgrade) or refusal.
func runReleaseHotfix(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, verb == "accept")
	reason := fs.String("reason", "", "why, for the console's audit trail (required)")
	at := fs.String("at", "", "for accept: the agreed slot, e.g. 2026-12-01T22:00:00Z (default: now)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 2
	if verb == "hotfixes" {
		want = 1
	}
	if len(pos) != want {
		if verb == "hotfixes" {
			return usageError{"name one instance: cohort release hotfixes ORG/ENV/ROLE"}
		}
		return usageError{fmt.Sprintf("name the instance and the hotfix: cohort release %s ORG/ENV/ROLE VERSION[+NUMBER] --reason R", verb)}
	}
	var slot time.Time
	if *at != "" {
		if slot, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageError{"--at: write the slot as 2026-12-01T22:00:00Z (RFC 3339)"}
		}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	switch verb {
	case "hotfixes":
		offers, err := release.Offers(ctx, c.DB, pos[0])
		if err != nil {
			return err
		}
		if len(offers) == 0 {
			fmt.Fprintf(stdout, "No hotfix is offered to %s.\n", pos[0])
			return nil
		}
		for _, o := range offers {
			fmt.Fprintf(stdout, "%s runs %s; hotfix %s is offered (registered %s).", pos[0], o.Instance.Build, o.Build, o.Build.RegisteredAt.UTC().Format("2006-01-02"))
			if d := o.Latest; d != nil {
				fmt.Fprintf(stdout, " %s by %s on %s: %s.", capital(d.Verb()), d.By, d.At.UTC().Format("2006-01-02 15:04 UTC"), d.Reason)
			}
			fmt.Fprintln(stdout)
		}
		return nil
	case "decline":
		d, err := release.For(c).Decline(ctx, cliActor(), pos[0], pos[1], *reason)
		if err != nil {
			return flagError(err, "reason")
		}
		fmt.Fprintf(stdout, "Declined hotfix %s for %s; it stays offered and can be accepted later.\n", d.Build, d.Instance)
		return nil
	}
	d, op, err := release.For(c).Accept(ctx, cliActor(), pos[0], pos[1], *reason, slot)
	if err != nil {
		return flagError(err, "reason")
	}
	fmt.Fprintf(stdout, "Accepted hotfix %s for %s.\n", d.Build, d.Instance)
	if op.ID == 0 {
		return nil
	}
	if op.State == console.OpScheduled {
		fmt.Fprintf(stdout, "The upgrade (operation %d) is scheduled for %s; follow it on the instance's page.\n", op.ID, slot.UTC().Format("2006-01-02 15:04 UTC"))
		return nil
	}
	return follow(ctx, c, rf, []console.Operation{op}, stdout)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
