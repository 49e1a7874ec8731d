package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// ImportMode says what happens to a file with rejected rows.
type ImportMode string

// The import modes.
const (
	// AllOrNothing stores the file only when every row is accepted; one
	// transaction, so a refused file leaves nothing behind.
	AllOrNothing ImportMode = "all-or-nothing"
	// ValidRows stores the accepted rows and hands back the rejected ones.
	ValidRows ImportMode = "valid-rows"
)

// ParseImportMode reads an import mode as typed on a command line.
func ParseImportMode(s string) (ImportMode, error) {
	switch m := ImportMode(strings.ToLower(strings.TrimSpace(s))); m {
	case AllOrNothing, ValidRows:
		return m, nil
	}
	return "", fmt.Errorf("The import mode %q is not known; use %q or %q.", s, AllOrNothing, ValidRows)
}

// ImportOptions say how to import a CSV file of volunteers.
type ImportOptions struct {
	// Mapping maps CSV headers to volunteer fields (see
	// volunteer.ImportConfig.Mapping and volunteer.ImportFields).
	Mapping map[string]string
	// DateFormats are the Go layouts of the file's dates; none means
	// 2006-01-02.
	DateFormats []string
	// DefaultCallingCode completes phone numbers without a country code.
	DefaultCallingCode string
	// Comma is the separator; zero means ','.
	Comma rune
	Mode  ImportMode
	// DryRun checks the file as the import would, duplicates included,
	// and stores nothing.
	DryRun bool
	// DuplicateReason imports rows that look like volunteers already in the
	// database (or earlier in the file); it is recorded as the reason of
	// each such row's audit entry. Without it such rows are rejected.
	DuplicateReason string
	// Rejects, if set, receives the rejected rows as CSV with a problem
	// column (volunteer.RejectWriter), ready to fix and import again.
	Rejects io.Writer
	// Progress, if set, is called every 1000 rows with the rows read.
	Progress func(rows int)
}

// ImportResult is the outcome of an import: the row-by-row report and what
// was stored.
type ImportResult struct {
	volunteer.Report
	// Imported counts the volunteers stored: zero after a dry run or an
	// all-or-nothing import that was refused.
	Imported int
	// Duplicates counts rows that look like volunteers already known.
	Duplicates int
}

// errRollback ends the import's transaction without storing anything.
var errRollback = errors.New("roll back")

// Import reads a CSV file of volunteers (volunteer.Import: mapping,
// encoding, dates, codes, rules; every problem names its row and column)
// and stores the accepted rows in one transaction, each with a volunteer
// number (its own, if the file has one, or the next from the pattern) and
// an "import" audit entry. Rows that look like volunteers already stored,
// or earlier in the file, are rejected unless opts.DuplicateReason is
// given. In AllOrNothing mode one rejected row leaves the database as it
// was; in ValidRows mode the accepted rows are stored and the rejected ones
// written to opts.Rejects. Codes are checked against the lists including
// deactivated entries and archived sites, because imports bring history.
// A file that cannot be read as a whole returns an error wrapping a
// *volunteer.FileError, whose problems are also in the result's report.
func Import(ctx context.Context, db *store.DB, by audit.Actor, r io.Reader, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	if opts.Mode == "" {
		opts.Mode = AllOrNothing
	}
	if _, err := ParseImportMode(string(opts.Mode)); err != nil {
		return res, err
	}
	var rejects *volunteer.RejectWriter
	if opts.Rejects != nil {
		rejects = volunteer.NewRejectWriter(opts.Rejects)
	}
	reason := strings.TrimSpace(opts.DuplicateReason)
	var extra []volunteer.Problem
	extraRows := 0
	err := db.InTx(ctx, func(tx *store.Tx) error {
		lists, err := LoadLists(ctx, tx, true)
		if err != nil {
			return err
		}
		num, err := newNumberer(ctx, tx)
		if err != nil {
			return err
		}
		cfg := volunteer.ImportConfig{Mapping: opts.Mapping, DateFormats: opts.DateFormats, Lists: lists,
			DefaultCallingCode: opts.DefaultCallingCode, NumberPattern: num.pattern, PHIQuestions: lists.PHIQuestions, Comma: opts.Comma}
		rows := 0
		rep, err := volunteer.Import(ctx, r, cfg, func(row volunteer.ImportedRow) error {
			rows++
			if opts.Progress != nil && rows%1000 == 0 {
				opts.Progress(rows)
			}
			if row.OK() {
				problems, dup, err := importRow(ctx, tx, by, num, row, opts.Mapping, reason)
				if err != nil {
					return err
				}
				if dup {
					res.Duplicates++
				}
				if len(problems) > 0 {
					row.Problems = problems
					extra = append(extra, problems...)
					extraRows++
				} else {
					res.Imported++
				}
			}
			if !row.OK() && rejects != nil {
				return rejects.Write(row)
			}
			return nil
		})
		res.Report = mergeReport(rep, extra, extraRows)
		if err != nil {
			return err
		}
		if rejects != nil {
			if err := rejects.Flush(); err != nil {
				return err
			}
		}
		if opts.DryRun || opts.Mode == AllOrNothing && res.Rejected > 0 {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
		res.Imported = 0
	}
	if err != nil {
		res.Imported = 0
	}
	return res, err
}

// importRow stores one accepted row, or returns the problems that reject
// it after all: a number already taken, or a possible duplicate without a
// reason to import it anyway.
func importRow(ctx context.Context, tx *store.Tx, by audit.Actor, num *numberer, row volunteer.ImportedRow,
	mapping map[string]string, reason string) (problems []volunteer.Problem, dup bool, err error) {
	v := row.Volunteer
	problem := func(field, msg string) {
		problems = append(problems, volunteer.Problem{Row: row.Row, Line: row.Line, Column: columnOf(mapping, row.Header, field), Field: field, Message: msg})
	}
	if v.Number != "" {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM volunteer WHERE number = ?", v.Number).Scan(&one)
		switch {
		case err == nil:
			problem(volunteer.FieldNumber, "The volunteer number "+v.Number+" is already in the database (or earlier in the file).")
		case !errors.Is(err, sql.ErrNoRows):
			return nil, false, fmt.Errorf("check volunteer number %s: %w", v.Number, err)
		}
	}
	cands, err := FindDuplicates(ctx, tx, v, 0)
	if err != nil {
		return nil, false, err
	}
	if len(cands) > 0 && reason == "" {
		problem(volunteer.FieldFamilyName, "This volunteer may already be registered as "+describeCandidates(cands)+
			"; give a reason for importing possible duplicates to import the row anyway.")
	}
	if len(problems) > 0 {
		return problems, len(cands) > 0, nil
	}
	if v.Number == "" {
		if v.Number, err = num.next(ctx, tx, v.PreferredSite); err != nil {
			var fe interface{ Fields() map[string]string }
			if errors.As(err, &fe) {
				for f, msg := range fe.Fields() {
					problem(f, msg)
				}
				return problems, false, nil
			}
			return nil, false, err
		}
	} else if err := num.claim(ctx, tx, v.Number); err != nil {
		return nil, false, err
	}
	if _, err := insert(ctx, tx, by, v); err != nil {
		return nil, false, fmt.Errorf("row %d: %w", row.Row, err)
	}
	changes := []audit.Change{{Field: RecordField, New: encodeRecord(trailValues(v))}}
	why := ""
	if len(cands) > 0 {
		why = reason
		changes = append(changes, audit.Change{Field: "possible_duplicates", New: describeCandidates(cands)})
	}
	err = audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: Entity, EntityID: v.Number, Reason: why, Changes: changes})
	return nil, len(cands) > 0, err
}

// columnOf returns the file's header mapped to field, for naming the
// column of a problem found after reading.
func columnOf(mapping map[string]string, header []string, field string) string {
	for _, h := range header {
		for m, f := range mapping {
			if f == field && strings.EqualFold(strings.TrimSpace(m), strings.TrimSpace(h)) {
				return h
			}
		}
	}
	return ""
}

// mergeReport adds the problems found while storing (in rows the reader had
// accepted) to the reader's report, in row order.
func mergeReport(rep volunteer.Report, extra []volunteer.Problem, rows int) volunteer.Report {
	if len(extra) == 0 {
		return rep
	}
	rep.Accepted -= rows
	rep.Rejected += rows
	rep.Problems = append(rep.Problems, extra...)
	slices.SortStableFunc(rep.Problems, func(a, b volunteer.Problem) int { return a.Row - b.Row })
	const max = 1000
	if len(rep.Problems) > max {
		rep.Omitted += len(rep.Problems) - max
		rep.Problems = rep.Problems[:max]
	}
	return rep
}
