package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
)

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"say export or import"}
	}
	switch args[0] {
	case "export":
		return runConfigExport(ctx, args[1:], stdout, stderr)
	case "import":
		return runConfigImport(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown config command %q: say export or import", args[0])}
}

func runConfigExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("config export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	cats := fs.String("categories", "", "comma-separated categories (default: every promotable one: "+strings.Join(bundle.Promotable(), ",")+")")
	out := fs.String("o", "-", "file to write the bundle to; - for standard output")
	at := fs.String("at", "", "export time to record, RFC 3339 (default: now); the same data and --at give byte-identical bundles")
	// --instance chooses a console instance to read (addDatabaseFlags); the
	// name the manifest gives the source is its own flag.
	sourceName := fs.String("source-name", "", `names this instance in the manifest, e.g. "Sandbox Main" (default: the --instance given, if any)`)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"config export takes no arguments; use -o FILE"}
	}
	opts := bundle.ExportOptions{Instance: *sourceName}
	if opts.Instance == "" {
		opts.Instance = *dbf.instance
	}
	if *cats != "" {
		opts.Categories = strings.Split(*cats, ",")
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{"--at: use a time like 2026-03-01T10:00:00Z"}
		}
		opts.At = t
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	b, data, err := bundle.Export(ctx, db, opts)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote configuration bundle %s (%s) to %s\n", b.ID(), strings.Join(b.Manifest.Categories, ", "), *out)
	return nil
}

func runConfigImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("config import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	dryRun := fs.Bool("dry-run", false, "show what the import would change, change nothing")
	reason := fs.String("reason", "", "reason for change, recorded in the audit trail with the bundle's id (required unless --dry-run)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{"name one bundle file (- for standard input): cohort config import [--dry-run] [--reason TEXT] FILE"}
	}
	if !*dryRun && strings.TrimSpace(*reason) == "" {
		return usageError{`say why you are importing: --reason "…" (or look first with --dry-run)`}
	}
	var data []byte
	if files[0] == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(files[0])
	}
	if err != nil {
		return err
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return err
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if *dryRun {
		plan, err := bundle.Preview(ctx, db, b)
		if plan != nil {
			writePlan(stdout, plan)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nDry run: nothing was changed. Importing would add or change %d records.\n", plan.Changes())
		return nil
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	plan, err := bundle.Import(ctx, db, audit.Actor{ID: 0, Name: "cli:" + user}, b, bundle.ImportOptions{Reason: *reason})
	if err != nil {
		if strings.Contains(err.Error(), "Nothing was imported") {
			return err
		}
		return fmt.Errorf("%w Nothing was imported.", err)
	}
	writePlan(stdout, plan)
	if plan.Changes() == 0 {
		fmt.Fprintln(stdout, "\nNothing to import: this instance already matches the bundle.")
		return nil
	}
	fmt.Fprintf(stdout, "\nImported configuration bundle %s: %d records added or changed in one transaction.\n", b.ID(), plan.Changes())
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`import FILE --reason …`), which flag.Parse alone
// does not allow, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// writePlan prints what an import does, category by category.
func writePlan(w io.Writer, p *bundle.Plan) {
	m := p.Bundle
	id := m.SHA256
	if len(id) > 12 {
		id = id[:12]
	}
	fmt.Fprintf(w, "Configuration bundle %s from %s, exported %s (format %d, schema %d)\n", id, m.Source,
		m.ExportedAt.UTC().Format(time.RFC3339), m.FormatVersion, m.SchemaVersion)
	for _, c := range p.Categories {
		fmt.Fprintf(w, "\n%s: %s\n", c.Category, c.Summary())
		for _, r := range c.Added {
			var fields []string
			for _, f := range r.FieldNames() {
				fields = append(fields, fmt.Sprintf("%s %q", f, r.Display(f)))
			}
			fmt.Fprintf(w, "  + add %s: %s\n", r.Key, strings.Join(fields, ", "))
		}
		for _, ch := range c.Changed {
			fmt.Fprintf(w, "  ~ change %s\n", ch.Key)
			for _, f := range ch.Fields {
				if f.Added != nil || f.Removed != nil {
					fmt.Fprintf(w, "      %s: adds %s; removes %s\n", f.Field, orNone(f.Added), orNone(f.Removed))
					continue
				}
				fmt.Fprintf(w, "      %s: %q → %q\n", f.Field, f.Old, f.New)
			}
		}
		for _, k := range c.Absent {
			fmt.Fprintf(w, "  = %s: not in bundle, left as is\n", k)
		}
		for _, ig := range c.Ignored {
			fmt.Fprintf(w, "  ! %s: ignored, %s\n", ig.Key, ig.Why)
		}
	}
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
