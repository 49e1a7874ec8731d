package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cohort-clinical/cohort/internal/release"
)

const releaseUsage = `cohort release — the console's release catalog

  register BINARY [--notes notes.md]
                               add a build: runs BINARY version --json, checks its
                               SHA-256, keeps a copy in the releases directory
  list                         every registered build, newest first
  show VERSION[+NUMBER]        one build with its release notes
  verify                       check every stored binary against its SHA-256
  hotfixes ORG/ENV/ROLE        the hotfixes offered to an instance
  accept ORG/ENV/ROLE VERSION[+NUMBER] --reason R [--at TIME]
                               accept a hotfix: requests the instance's upgrade
  decline ORG/ENV/ROLE VERSION[+NUMBER] --reason R
                               decline a hotfix (recorded; it stays offered)

Every command takes --data-dir and --database like cohort serve; --json prints JSON.`

func runRelease(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, releaseUsage)
		return nil
	}
	rest := args[1:]
	switch args[0] {
	case "register":
		return runReleaseRegister(ctx, rest, stdout, stderr)
	case "list":
		return runReleaseList(ctx, rest, stdout, stderr)
	case "show":
		return runReleaseShow(ctx, rest, stdout, stderr)
	case "verify":
		return runReleaseVerify(ctx, rest, stdout, stderr)
	case "hotfixes", "accept", "decline":
		return runReleaseHotfix(ctx, args[0], rest, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown release command %q; run `cohort release help`", args[0])}
}

// buildJSON is a catalog build as the CLI prints it.
type buildJSON struct {
	Version       string    `json:"version"`
	Build         string    `json:"build"`
	Base          string    `json:"base_release,omitempty"`
	Time          string    `json:"time"`
	Revision      string    `json:"revision"`
	SHA256        string    `json:"sha256"`
	SchemaVersion int64     `json:"schema_version"`
	File          string    `json:"file"`
	RegisteredAt  time.Time `json:"registered_at"`
	RegisteredBy  string    `json:"registered_by"`
	Notes         string    `json:"notes,omitempty"`
}

func toJSON(b release.Build, withNotes bool) buildJSON {
	j := buildJSON{Version: b.Version, Build: b.Number, Base: b.Base, Time: b.Time, Revision: b.Revision, SHA256: b.SHA256,
		SchemaVersion: b.SchemaVersion, File: b.File, RegisteredAt: b.RegisteredAt.UTC(), RegisteredBy: b.RegisteredBy}
	if withNotes {
		j.Notes = b.Notes
	}
	return j
}

// printJSON writes v as indented JSON, the form every --json listing of
// the CLI uses, so scripts read one shape whichever command they call.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runReleaseRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	notesFile := fs.String("notes", "", "release notes in Markdown (sections: Features, Fixes, Known issues)")
	asJSON := fs.Bool("json", false, "print the registered build as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name one binary: cohort release register BINARY [--notes notes.md]"}
	}
	var notes string
	if *notesFile != "" {
		data, err := os.ReadFile(*notesFile)
		if err != nil {
			return fmt.Errorf("read the release notes: %w", err)
		}
		notes = string(data)
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	b, added, err := release.For(c).Register(ctx, cliActor(), release.Registration{Binary: pos[0], Notes: notes})
	if err != nil {
		return flagError(err, "notes")
	}
	if *asJSON {
		return printJSON(stdout, toJSON(b, false))
	}
	if !added {
		fmt.Fprintf(stdout, "Build %s was already registered with this binary (SHA-256 %s); nothing changed.\n", b, b.SHA256)
		return nil
	}
	fmt.Fprintf(stdout, "Registered build %s: built %s from revision %s, schema %d, SHA-256 %s.\n", b, or(b.Time, "at an unknown time"), or(b.Revision, "unknown"), b.SchemaVersion, b.SHA256)
	if b.IsHotfix() {
		fmt.Fprintf(stdout, "It is a hotfix of release %s: it is offered to every instance running %s; nothing is installed until a customer accepts it.\n", b.Base, b.Base)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func runReleaseList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, asJSON, err := openForListing(ctx, "release list", args, stderr)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	list, err := release.List(ctx, c.DB)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]buildJSON, 0, len(list))
		for _, b := range list {
			out = append(out, toJSON(b, false))
		}
		return printJSON(stdout, out)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "The release catalog is empty; the console registers its own build when it starts.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tBUILD\tBUILT\tREVISION\tSCHEMA\tSHA-256\tREGISTERED")
	for _, b := range list {
		v := b.Version
		if b.IsHotfix() {
			v += " (hotfix of " + b.Base + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s by %s\n", v, b.Number, or(b.Time, "-"), or(b.Revision, "-"), b.SchemaVersion, b.SHA256[:16],
			b.RegisteredAt.UTC().Format("2006-01-02 15:04"), b.RegisteredBy)
	}
	return tw.Flush()
}

func runReleaseShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name one build: cohort release show VERSION[+NUMBER], e.g. 26.2 or 26.2+7"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	b, err := release.Resolve(ctx, c.DB, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, toJSON(b, true))
	}
	fmt.Fprintf(stdout, "cohort %s\n", b)
	if b.IsHotfix() {
		fmt.Fprintf(stdout, "  hotfix of:      %s\n", b.Base)
	}
	fmt.Fprintf(stdout, "  built:          %s\n  revision:       %s\n  schema version: %d\n  SHA-256:        %s\n  stored as:      %s\n  registered:     %s by %s\n",
		or(b.Time, "-"), or(b.Revision, "-"), b.SchemaVersion, b.SHA256, b.File, b.RegisteredAt.UTC().Format("2006-01-02 15:04 UTC"), b.RegisteredBy)
	if b.Notes != "" {
		fmt.Fprintf(stdout, "\n%s\n", b.Notes)
	}
	return nil
}

func runReleaseVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	cat := release.For(c)
	list, err := release.List(ctx, c.DB)
	if err != nil {
		return err
	}
	bad, err := cat.Verify(ctx)
	if err != nil {
		return err
	}
	if len(bad) == 0 {
		fmt.Fprintf(stdout, "All %d stored binaries match their registered SHA-256.\n", len(list))
		return nil
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintln(stdout, bad[k])
	}
	fmt.Fprintf(stdout, "%d of %d stored binaries failed the check.\n", len(bad), len(list))
	return errSilentFailure
}
