package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
)

const migrateUsage = `cohort migrate — the migration program (legacy clinic database → volunteers, Configure lists, archived studies)

  run --spec SPEC --source SOURCE --into DSN
        rebuild the instance database DSN from scratch (schema, administrator) and migrate into it
  run --spec SPEC --source SOURCE --org ORG [--reason R]
        ask the running console to rebuild ORG's Migration instance with this run, and follow it
  run --sample …                  the shipped sample (ClinBase 4 export of Harbourview CRU) instead of --spec/--source
  runs --org ORG                  the organisation's runs
  report ORG/N [--json] [--all]   a run's report: rows read/migrated/rejected per table, rejected rows, field statistics
  compare ORG/N M                 the figures that differ between runs N and M
  signoff ORG/N --user NAME --reason R
                                  sign the run's output off (the latest successful run only) with an electronic
                                  signature: the user's password is read from standard input

SOURCE is a directory of CSV files, a SQLite database file, or an .sql dump (PostgreSQL plain dumps are read
from their COPY blocks). The specification format is described in docs/migration-spec.md.`

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, migrateUsage)
		return nil
	}
	switch args[0] {
	case "run":
		return runMigrateRun(ctx, args[1:], stdout, stderr)
	case "runs":
		return runMigrateRuns(ctx, args[1:], stdout, stderr)
	case "report":
		return runMigrateReport(ctx, args[1:], stdout, stderr)
	case "compare":
		return runMigrateCompare(ctx, args[1:], stdout, stderr)
	case "signoff":
		return runMigrateSignOff(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown subcommand %q; run `cohort migrate help`", args[0])}
}

func runMigrateRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", "", "the Migration Specification (JSON)")
	sourcePath := fs.String("source", "", "the legacy source: CSV directory, SQLite file or .sql dump")
	useSample := fs.Bool("sample", false, "use the shipped sample specification and source")
	into := fs.String("into", "", "an instance database (SQLite file or postgres://… URL) to rebuild and migrate into")
	org := fs.String("org", "", "the organisation whose Migration instance the console rebuilds")
	reason := fs.String("reason", "", "why this run (kept in the audit trail)")
	reportFile := fs.String("report", "", "also write the report as JSON to this file")
	rf := addRegistryFlags(fs, true)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *useSample == (*specPath != "" || *sourcePath != "") {
		return usageError{"give --spec and --source, or --sample"}
	}
	if !*useSample && (*specPath == "" || *sourcePath == "") {
		return usageError{"give both --spec and --source"}
	}
	if (*into == "") == (*org == "") {
		return usageError{"say where to migrate: --into DSN or --org ORG"}
	}
	if *org != "" {
		return migrateThroughConsole(ctx, rf, *org, *useSample, *specPath, *sourcePath, *reason, *reportFile, stdout)
	}
	var spec *migration.Spec
	var src migration.Source
	var err error
	if *useSample {
		spec, err = sample.Spec()
		src = sample.Source()
	} else {
		f, ferr := os.Open(*specPath)
		if ferr != nil {
			return ferr
		}
		spec, err = migration.ParseSpec(f)
		f.Close()
		if err == nil {
			src, err = migration.OpenSource(ctx, *sourcePath)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", nonEmptyString(*specPath, "sample"), err)
	}
	defer src.Close()
	db, err := rebuildTarget(ctx, *into, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	name := nonEmptyString(*reason, "cohort migrate run "+time.Now().UTC().Format("2006-01-02 15:04:05"))
	start := time.Now()
	rep, err := migration.Run(ctx, db, spec, src, migration.Options{Run: name, Progress: func(p migration.Progress) {
		if p.Of > 0 {
			fmt.Fprintf(stderr, "\r%-6s %-20s %7d of %d   ", p.Phase, p.Table, p.Rows, p.Of)
		} else {
			fmt.Fprintf(stderr, "\r%-6s %-20s %7d rows   ", p.Phase, p.Table, p.Rows)
		}
	}})
	fmt.Fprintln(stderr)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted: nothing was stored (the run is one transaction)")
		}
		return err
	}
	fmt.Fprintf(stdout, "Migrated in %s.\n", time.Since(start).Round(time.Millisecond))
	printMigrationReport(stdout, rep, false)
	return writeReport(*reportFile, rep)
}

func nonEmptyString(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func writeReport(path string, rep *migration.Report) error {
	if path == "" || rep == nil {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// rebuildTarget empties the instance database at dsn and prepares it again
// (schema and administrator): a migration target is rebuilt from scratch.
// A database holding volunteers registered by people is refused.
func rebuildTarget(ctx context.Context, dsn string, stdout io.Writer) (*store.DB, error) {
	postgres := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	if db, err := store.Open(ctx, dsn); err == nil {
		var people int
		err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry WHERE entity = 'volunteer' AND actor <> 'migration'").Scan(&people)
		if err == nil && people > 0 {
			db.Close()
			return nil, fmt.Errorf("%s holds volunteers recorded by people (%d audit entries), so it is not a migration target; "+
				"migrate into a new database or the console's Migration instance", dsn, people)
		}
		if postgres {
			_, err = db.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
			db.Close()
			if err != nil {
				return nil, fmt.Errorf("clear %s: %w", dsn, err)
			}
		} else {
			db.Close()
		}
	}
	if !postgres {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(dsn + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("clear %s: %w", dsn, err)
			}
		}
		if dir := filepath.Dir(dsn); dir != "" {
			os.MkdirAll(dir, 0o750)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	res, err := instance.Prepare(ctx, db, instance.Options{By: "migration"})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", dsn, err)
	}
	fmt.Fprintf(stdout, "Rebuilt %s from scratch (schema version %d).\n", dsn, res.SchemaVersion)
	if res.AdminPassword != "" {
		fmt.Fprintf(stdout, "Administrator: user name admin, one-time password %s (change it at the first login).\n", res.AdminPassword)
	}
	return db, nil
}

func migrateThroughConsole(ctx context.Context, rf registryFlags, org string, useSample bool, specPath, sourcePath, reason, reportFile string, stdout io.Writer) error {
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	req := console.MigrationRequest{Org: org, Sample: useSample, Reason: reason}
	if !useSample {
		if req.SpecPath, err = filepath.Abs(specPath); err != nil {
			return err
		}
		if req.SourcePath, err = filepath.Abs(sourcePath); err != nil {
			return err
		}
	}
	run, err := c.StartMigration(ctx, cliActor(), req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Migration run %d of %s: specification sha256:%s, source sha256:%s.\n", run.Number, org, run.SpecSHA256, run.SourceSHA256)
	op, err := console.GetOperation(ctx, c.DB, run.OperationID)
	if err != nil {
		return err
	}
	ferr := follow(ctx, c, rf, []console.Operation{op}, stdout)
	if run, err = console.GetMigrationRun(ctx, c.DB, org, run.Number); err == nil && run.Report != nil {
		printMigrationReport(stdout, run.Report, false)
		err = writeReport(reportFile, run.Report)
	}
	return errors.Join(ferr, err)
}

// runRef reads ORG/N, or N with --org.
func runRef(arg, org string) (string, int, error) {
	if o, n, ok := strings.Cut(arg, "/"); ok {
		org, arg = o, n
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 || org == "" {
		return "", 0, usageError{fmt.Sprintf("name the run as ORG/N (for example harbourview/3), not %q", arg)}
	}
	return org, n, nil
}

// runArgs parses a migrate subcommand's flags and reads the want runs it
// names: the first as ORG/N, or N with --org (org, read after parsing);
// the others as N or ORG/N, of the first one's organisation.
func runArgs(fs *flag.FlagSet, args []string, org *string, want int, usage string) (string, []int, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != want {
		return "", nil, usageError{usage}
	}
	first, runs := *org, make([]int, want)
	for i, p := range pos {
		o, n, err := runRef(p, first)
		if err != nil {
			return "", nil, err
		}
		if i == 0 {
			first = o
		}
		runs[i] = n
	}
	return first, runs, nil
}

func runMigrateRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "the organisation")
	rf := addRegistryFlags(fs, false)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *org == "" {
		return usageError{"give --org ORG"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	runs, err := console.MigrationRuns(ctx, c.DB, *org)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "%s has no migration runs yet.\n", *org)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tREQUESTED\tBY\tSTATE\tREAD\tVOLUNTEERS\tREJECTED\tDUPLICATES\tSIGNED OFF")
	for _, r := range runs {
		read, vols, rej, dup := "", "", "", ""
		if r.Report != nil {
			read, vols, rej, dup = strconv.Itoa(r.Report.RowsRead()), strconv.Itoa(r.Report.Volunteers), strconv.Itoa(r.Report.Rejected()), strconv.Itoa(r.Report.Duplicates)
		}
		signed := ""
		if r.SignedOff() {
			signed = r.SignedOffBy + " " + r.SignedOffAt.Time.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.RequestedAt.UTC().Format("2006-01-02 15:04"), r.RequestedBy, r.State,
			read, vols, rej, dup, signed)
	}
	return tw.Flush()
}

func runMigrateReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "the organisation, when RUN is a number")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	all := fs.Bool("all", false, "list every rejected row, not the first 20 per table")
	rf := addRegistryFlags(fs, false)
	o, runs, err := runArgs(fs, args, org, 1, "name one run: cohort migrate report ORG/N")
	if err != nil {
		return err
	}
	n := runs[0]
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	run, err := console.GetMigrationRun(ctx, c.DB, o, n)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, run.Report)
	}
	fmt.Fprintf(stdout, "Migration run %d of %s: %s, requested by %s at %s UTC", run.Number, o, run.State, run.RequestedBy, run.RequestedAt.UTC().Format("2006-01-02 15:04:05"))
	if run.Reason != "" {
		fmt.Fprintf(stdout, " (%s)", run.Reason)
	}
	fmt.Fprintf(stdout, ".\nSpecification %q sha256:%s\nSource %s sha256:%s\n", run.SpecName, run.SpecSHA256, run.SourceLabel, run.SourceSHA256)
	if run.SignedOff() {
		fmt.Fprintf(stdout, "Signed off by %s at %s UTC: %s\n", run.SignedOffBy, run.SignedOffAt.Time.UTC().Format("2006-01-02 15:04:05"), run.SignOffNote)
	}
	if run.Failure != "" {
		fmt.Fprintf(stdout, "Failed: %s\n", run.Failure)
	}
	if run.Report != nil {
		printMigrationReport(stdout, run.Report, *all)
	}
	return nil
}

// printMigrationReport writes a run's report for people.
func printMigrationReport(w io.Writer, rep *migration.Report, all bool) {
	fmt.Fprintf(w, "\n%d volunteers, %d Configure list entries, %d archived studies, %d history entries, %d participations; %d possible duplicates; %d rows rejected.\n",
		rep.Volunteers, rep.ListEntries, rep.Studies, rep.Histories, rep.Participations, rep.Duplicates, rep.Rejected())
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "\n%s → %s: %d read, %d migrated, %d merged, %d rejected\n", t.Table, t.Target, t.Read, t.Migrated, t.Merged, t.Rejected)
		for _, rc := range t.Reasons() {
			fmt.Fprintf(w, "  rejected %-20s %6d\n", rc.Reason, rc.Count)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  field\tcolumn\tfilled\tempty\ttransformed\tdefaulted\tcleared\trejected\tdistinct\t")
		for _, f := range t.Fields {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", f.Field, f.Column, f.Filled, f.Empty, f.Transformed, f.Defaulted, f.Cleared, f.Rejected, f.Distinct)
		}
		tw.Flush()
		limit := 20
		if all {
			limit = len(t.Rejections)
		}
		for i, r := range t.Rejections {
			if i == limit {
				fmt.Fprintf(w, "  … %d more rejected rows (--all lists them)\n", t.Rejected-limit)
				break
			}
			key := ""
			if r.Key != "" {
				key = " (" + r.Key + ")"
			}
			fmt.Fprintf(w, "  row %d%s: %s [%s]\n", r.Row, key, r.Message, r.Reason)
		}
	}
}

func runMigrateCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "the organisation, when the runs are numbers")
	rf := addRegistryFlags(fs, false)
	o, runs, err := runArgs(fs, args, org, 2, "name two runs: cohort migrate compare ORG/N M")
	if err != nil {
		return err
	}
	a, b := runs[0], runs[1]
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	_, _, diffs, err := console.CompareMigrationRuns(ctx, c.DB, o, a, b)
	if err != nil {
		return err
	}
	if len(diffs) == 0 {
		fmt.Fprintf(stdout, "Runs %d and %d of %s have the same figures.\n", a, b, o)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TABLE\tFIELD\tFIGURE\tRUN %d\tRUN %d\tCHANGE\n", a, b)
	for _, d := range diffs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%+d\n", d.Table, d.Field, d.Figure, d.Before, d.After, d.Delta())
	}
	return tw.Flush()
}

func runMigrateSignOff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate signoff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "the organisation, when RUN is a number")
	reason := fs.String("reason", "", "why the output is signed off (required)")
	user := fs.String("user", "", "the console user who signs; the password is read from standard input")
	rf := addRegistryFlags(fs, false)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name one run: cohort migrate signoff ORG/N --user NAME --reason …"}
	}
	if *user == "" {
		return usageError{"--user: name the console user who signs (an electronic signature: the password is read from standard input)"}
	}
	o, n, err := runRef(pos[0], *org)
	if err != nil {
		return err
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	pw, err := readSignaturePassword(*user, stderr)
	if err != nil {
		return err
	}
	err = c.SignOffMigrationSigned(ctx, console.Signer{Username: *user, Password: pw}, o, n, *reason)
	if err != nil {
		return sentences(err)
	}
	fmt.Fprintf(stdout, "Migration run %d of %s signed off; the milestone \"Migration output signed off\" is recorded.\n", n, o)
	return nil
}
