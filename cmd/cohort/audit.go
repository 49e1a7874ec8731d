package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"say verify or export"}
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	var out, entity, user, from, to *string
	if args[0] == "export" {
		out = fs.String("o", "-", "file to write the CSV to; - for standard output")
		entity = fs.String("entity", "", "only this record type")
		user = fs.String("user", "", "only this user")
		from = fs.String("from", "", "from this day (YYYY-MM-DD, UTC)")
		to = fs.String("to", "", "up to and including this day")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "verify":
		res, err := audit.Verify(ctx, db)
		if err != nil {
			return err
		}
		if !res.OK() {
			b := res.Broken
			fmt.Fprintf(stdout, "TAMPERED: %s\n  entry %d at %s by %s: %s %s %s field %q\n", res.Problem, b.Seq,
				b.At.Format(time.RFC3339), b.Actor, b.Action, b.Entity, b.EntityID, b.Field)
			return errSilentFailure
		}
		fmt.Fprintf(stdout, "audit trail intact: %d entries verified\n", res.Checked)
		return nil
	case "export":
		f := audit.Filter{Entity: *entity, Actor: *user}
		if *from != "" {
			if f.From, err = time.Parse("2006-01-02", *from); err != nil {
				return usageError{"--from: use a date like 2026-01-31"}
			}
		}
		if *to != "" {
			t, err := time.Parse("2006-01-02", *to)
			if err != nil {
				return usageError{"--to: use a date like 2026-01-31"}
			}
			f.To = t.AddDate(0, 0, 1)
		}
		w := stdout
		if *out != "-" {
			file, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		return audit.WriteCSV(ctx, db, f, "cohort audit export ("+os.Getenv("USER")+")", w)
	}
	return usageError{fmt.Sprintf("unknown audit command %q: say verify or export", args[0])}
}
