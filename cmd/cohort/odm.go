package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/cohort-clinical/cohort/internal/study"
)

func runODM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"say import or export"}
	}
	switch args[0] {
	case "import":
		return runODMImport(ctx, args[1:], stdout, stderr)
	case "export":
		return runODMExport(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown odm command %q: say import or export", args[0])}
}

func runODMImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("odm import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	confirm := fs.Bool("confirm-warnings", false, "apply the file even though the report has warnings")
	reason := fs.String("reason", "", "reason for change recorded in the audit trail (default: names the file)")
	// Flags may follow the file name.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		return usageError{"say which ODM file to import: cohort odm import FILE [--confirm-warnings]"}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := study.Import(ctx, db, cliActor(), f, study.ImportOptions{ConfirmWarnings: *confirm, Reason: *reason})
	printReport(stdout, file, rep)
	if err != nil {
		if errors.Is(err, study.ErrImportRefused) {
			fmt.Fprintf(stderr, "cohort odm import: %v\n", err)
			return errSilentFailure
		}
		return err
	}
	if rep.NeedsConfirmation {
		fmt.Fprintf(stderr, "cohort odm import: the report has %d warnings; nothing was imported. Read them and run again with --confirm-warnings to apply.\n", rep.Warnings)
		return errSilentFailure
	}
	fmt.Fprintf(stdout, "imported: %d studies (%v), %d forms\n", len(rep.Studies)-len(rep.Existing), rep.Studies, rep.Forms)
	if len(rep.Existing) > 0 {
		fmt.Fprintf(stdout, "existing studies %v: design kept; %d clinical values added, %d changed\n", rep.Existing, rep.ValuesAdded, rep.ValuesChanged)
	}
	return nil
}

func printReport(w io.Writer, file string, rep *study.ImportReport) {
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "%s: %d errors, %d warnings, %d infos\n", file, rep.Errors, rep.Warnings, rep.Infos)
	if len(rep.Diagnostics) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tOID\tSEVERITY\tMESSAGE")
		for _, d := range rep.Diagnostics {
			line := "-"
			if d.Line > 0 {
				line = fmt.Sprint(d.Line)
			}
			oid := d.OID
			if oid == "" {
				oid = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", line, oid, d.Severity, d.Message)
		}
		tw.Flush()
	}
	if rep.Suppressed > 0 {
		fmt.Fprintf(w, "(%d more not listed)\n", rep.Suppressed)
	}
}

func runODMExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("odm export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	code := fs.String("study", "", "code of the study to export (required)")
	what := fs.String("what", "metadata", "metadata, clinical or both")
	out := fs.String("o", "-", "file to write; - for standard output")
	keep := fs.Bool("keep-extensions", false, "write vendor extensions back (the file is then not schema-valid ODM 1.3.2)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *code == "" {
		return usageError{"say which study: --study CODE"}
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := study.Get(ctx, db, *code); err != nil {
		return err
	}
	w := stdout
	var file *os.File
	if *out != "-" {
		// Write next to the target and rename, so a failed export leaves no
		// half-written file behind.
		file, err = os.CreateTemp(dirOf(*out), ".cohort-odm-*")
		if err != nil {
			return err
		}
		defer os.Remove(file.Name())
		defer file.Close()
		w = file
	}
	omitted, err := study.Export(ctx, db, *code, w, study.ExportOptions{What: *what, KeepExtensions: *keep})
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
		if err := os.Rename(file.Name(), *out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "exported study %s to %s\n", *code, *out)
	}
	if n := omitted.Attributes + omitted.Elements; n > 0 {
		fmt.Fprintf(stderr, "left out %d vendor extension attributes and %d elements (use --keep-extensions to keep them)\n", omitted.Attributes, omitted.Elements)
	}
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}
