package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// runInstancePromote promotes configuration from a Sandbox or Pre-PROD
// Main instance into a VAL or PROD instance: it prints the per-category
// difference and, unless --dry-run, applies it with the reason, exactly as
// the console's promotion page does.
func runInstancePromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instance promote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	from := fs.String("from", "", "the source instance: a Sandbox or Pre-PROD Main (ORG/ENV/main)")
	to := fs.String("to", "", "the target instance: a VAL or PROD instance (ORG/ENV/ROLE)")
	reason := fs.String("reason", "", "why, for the console's and the target's audit trails")
	dryRun := fs.Bool("dry-run", false, "only show what the promotion would change")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{"name both instances: cohort instance promote --from ORG/ENV/main --to ORG/ENV/ROLE --reason R"}
	}
	if !*dryRun && strings.TrimSpace(*reason) == "" {
		return usageError{"--reason: say why this configuration is promoted (or use --dry-run to look first)"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	p, err := c.PreviewPromotion(ctx, *from, *to)
	if err != nil {
		return err
	}
	if *dryRun {
		writePromotion(stdout, p, "would change")
		return nil
	}
	// The preview just shown is what is applied: a change in between is
	// refused rather than applied unseen.
	applied, err := c.Promote(ctx, cliActor(), *from, *to, *reason, p.Fingerprint, p.ExportedAt)
	if err != nil {
		return flagError(err, "reason")
	}
	writePromotion(stdout, applied, "changed")
	fmt.Fprintf(stdout, "Promoted: %d record(s) added or changed in %s; the console's and %s's audit trails record it.\n", applied.Changes(), applied.To.Key(), applied.To.Key())
	return nil
}

func writePromotion(w io.Writer, p *console.Promotion, verb string) {
	fmt.Fprintf(w, "Configuration bundle %s from %s → %s (%s):\n", p.Bundle.ID(), p.From.Key(), p.To.Key(), verb)
	for _, c := range p.Categories {
		fmt.Fprintf(w, "  %-22s %d added, %d changed, %d unchanged, %d left as is, %d never pass\n", c.Category,
			len(c.Added), len(c.Changed), c.Unchanged, len(c.Absent), len(c.NeverPasses))
		for _, r := range c.Added {
			fmt.Fprintf(w, "      + %s\n", r.Key)
		}
		for _, ch := range c.Changed {
			for _, f := range ch.Fields {
				fmt.Fprintf(w, "      ~ %s %s: %s → %s\n", ch.Key, f.Field, f.Old, f.New)
			}
		}
		for _, n := range c.NeverPasses {
			fmt.Fprintf(w, "      × %s (%s)\n", n.Key, n.Why)
		}
	}
	fmt.Fprintf(w, "  %-22s %s\n", "study libraries", console.StudyLibrariesRule)
}

// runInstancePair makes a VAL or PROD pair from configuration and the
// migration output, as the console's pair page does.
func runInstancePair(ctx context.Context, kind console.Kind, args []string, stdout, stderr io.Writer) error {
	name := strings.ToLower(kind.Label())
	fs := flag.NewFlagSet("instance "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, true)
	configFrom := fs.String("config-from", "", "the instance whose configuration the pair gets (VAL: a Sandbox or Pre-PROD Main; PROD: a VAL Main)")
	run := fs.Int("run", 0, "the migration run (VAL: default the latest successful; PROD: always the signed-off run)")
	reason := fs.String("reason", "", "why, for the console's audit trail")
	predefined := new(string)
	if kind == console.Prod {
		predefined = fs.String("predefined", "", "instead of --config-from: none, or demo (the demo clinic's configuration)")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("name the organisation (and optionally the environment): cohort instance %s ORG[/ENV] …", name)}
	}
	org, env, _ := strings.Cut(strings.Trim(pos[0], "/"), "/")
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	e, ops, err := c.MakePair(ctx, cliActor(), console.NewPair{Org: org, Kind: kind, Code: env, ConfigFrom: *configFrom,
		Predefined: *predefined, Run: *run, Reason: *reason})
	if fe, ok := check.AsFieldErrors(err); ok {
		for field, msg := range fe {
			return usageError{"--" + strings.ReplaceAll(field, "_", "-") + ": " + msg}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Requested %s environment %s/%s (%s).\n", kind.Label(), org, e.Code, e.MadeFrom)
	return follow(ctx, c, rf, ops, stdout)
}
