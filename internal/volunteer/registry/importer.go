package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
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
	im := &importer{by: by, mapping: opts.Mapping, reason: strings.TrimSpace(opts.DuplicateReason), rejects: rejects, res: &res}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		lists, err := LoadLists(ctx, tx, true)
		if err != nil {
			return err
		}
		if im.num, err = newNumberer(ctx, tx); err != nil {
			return err
		}
		cfg := volunteer.ImportConfig{Mapping: opts.Mapping, DateFormats: opts.DateFormats, Lists: lists,
			DefaultCallingCode: opts.DefaultCallingCode, NumberPattern: im.num.pattern, PHIQuestions: lists.PHIQuestions, Comma: opts.Comma}
		rows := 0
		rep, err := volunteer.Import(ctx, r, cfg, func(row volunteer.ImportedRow) error {
			rows++
			if opts.Progress != nil && rows%1000 == 0 {
				opts.Progress(rows)
			}
			row.Header = im.header(row.Header)
			row.Record = slices.Clone(row.Record) // the reader reuses it
			im.chunk = append(im.chunk, row)
			if len(im.chunk) < importChunk {
				return nil
			}
			return im.flush(ctx, tx)
		})
		if err == nil {
			err = im.flush(ctx, tx)
		}
		res.Report = mergeReport(rep, im.extra, im.extraRows)
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
	if err != nil {
		res.Imported = 0
		if errors.Is(err, errRollback) {
			err = nil
		}
	}
	return res, err
}

// importChunk is how many rows are checked and stored together: a few
// queries and multi-row INSERTs per chunk instead of a dozen statements
// per row.
const importChunk = 500

// importer checks and stores the rows of one import, a chunk at a time.
type importer struct {
	by      audit.Actor
	num     *numberer
	mapping map[string]string
	reason  string
	rejects *volunteer.RejectWriter
	res     *ImportResult
	// chunk holds the rows read since the last flush, accepted or not.
	chunk []volunteer.ImportedRow
	// hdr is the file's header, kept once for every buffered row.
	hdr []string
	// extra are the problems found while storing rows the reader had
	// accepted; extraRows counts those rows.
	extra     []volunteer.Problem
	extraRows int
}

func (im *importer) header(h []string) []string {
	if im.hdr == nil {
		im.hdr = slices.Clone(h)
	}
	return im.hdr
}

// flush checks the chunk's accepted rows against the database and each
// other (numbers taken, possible duplicates), stores those that pass, and
// hands the rejected ones to the reject writer in row order.
func (im *importer) flush(ctx context.Context, tx *store.Tx) error {
	rows := im.chunk
	im.chunk = im.chunk[:0]
	if len(rows) == 0 {
		return nil
	}
	var accepted []int
	var numbers []string
	var dates []string
	for i, row := range rows {
		if !row.OK() {
			continue
		}
		accepted = append(accepted, i)
		if n := row.Volunteer.Number; n != "" {
			numbers = append(numbers, n)
		}
		for _, d := range volunteer.DuplicateBirthDates(row.Volunteer.BirthDate) {
			if d.IsComplete() {
				dates = append(dates, d.String())
			}
		}
	}
	taken, err := takenNumbers(ctx, tx, numbers)
	if err != nil {
		return err
	}
	stored, err := volunteersBornOn(ctx, tx, dates)
	if err != nil {
		return err
	}
	// Decide row by row, in file order, so a row is compared with the rows
	// before it in the chunk that will be stored.
	type keep struct {
		row       int
		key       volunteer.MatchKey
		chunkDups []int // indexes into kept of earlier rows it may duplicate
		cands     []Candidate
	}
	var kept []keep
	for _, i := range accepted {
		row := &rows[i]
		v := row.Volunteer
		problem := func(field, msg string) {
			row.Problems = append(row.Problems, volunteer.Problem{Row: row.Row, Line: row.Line,
				Column: columnOf(im.mapping, row.Header, field), Field: field, Message: msg})
		}
		if v.Number != "" && taken[v.Number] {
			problem(volunteer.FieldNumber, "The volunteer number "+v.Number+" is already in the database (or earlier in the file).")
		}
		if v.Number == "" {
			if _, err := im.num.key(v.PreferredSite); err != nil {
				var fe interface{ Fields() map[string]string }
				if !errors.As(err, &fe) {
					return err
				}
				for f, msg := range fe.Fields() {
					problem(f, msg)
				}
			}
		}
		key := volunteer.NewMatchKey(v)
		var cands []Candidate
		for _, d := range volunteer.DuplicateBirthDates(v.BirthDate) {
			for _, s := range stored[d.String()] {
				if reason, ok := key.Match(volunteer.NewMatchKey(s.volunteer())); ok {
					cands = append(cands, Candidate{Summary: s, Reason: reason})
				}
			}
		}
		var chunkDups []int
		for j, k := range kept {
			if _, ok := key.Match(k.key); ok {
				chunkDups = append(chunkDups, j)
			}
		}
		dup := len(cands)+len(chunkDups) > 0
		if dup {
			im.res.Duplicates++
			if im.reason == "" {
				var also []string
				for _, j := range chunkDups {
					also = append(also, "row "+strconv.Itoa(rows[kept[j].row].Row))
				}
				where := describeCandidates(cands)
				if len(also) > 0 {
					where = strings.TrimPrefix(where+", "+strings.Join(also, ", ")+" of this file", ", ")
				}
				problem(volunteer.FieldFamilyName, "This volunteer may already be registered as "+where+
					"; give a reason for importing possible duplicates to import the row anyway.")
			}
		}
		if !row.OK() {
			im.extra = append(im.extra, row.Problems...)
			im.extraRows++
			continue
		}
		if v.Number != "" {
			taken[v.Number] = true
		}
		kept = append(kept, keep{row: i, key: key, chunkDups: chunkDups, cands: cands})
	}

	// Number the kept rows: imported numbers move their counters first,
	// so the numbers handed out after them never collide.
	vs := make([]volunteer.Volunteer, len(kept))
	for j, k := range kept {
		vs[j] = rows[k.row].Volunteer
		if vs[j].Number != "" {
			if err := im.num.claim(ctx, tx, vs[j].Number); err != nil {
				return err
			}
		}
	}
	if err := insertNumbered(ctx, tx, im.num, im.by, vs); err != nil {
		return err
	}
	for j, k := range kept {
		changes := []audit.Change{{Field: RecordField, New: encodeRecord(trailValues(vs[j]))}}
		why := ""
		if len(k.cands)+len(k.chunkDups) > 0 {
			why = im.reason
			var also []string
			for _, d := range k.chunkDups {
				also = append(also, vs[d].Number+" (earlier in the same file)")
			}
			changes = append(changes, audit.Change{Field: "possible_duplicates",
				New: strings.TrimPrefix(describeCandidates(k.cands)+", "+strings.Join(also, ", "), ", ")})
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: im.by, Action: audit.Import, Entity: Entity, EntityID: vs[j].Number,
			Reason: why, Changes: changes}); err != nil {
			return err
		}
		im.res.Imported++
	}
	if im.rejects != nil {
		for _, row := range rows {
			if !row.OK() {
				if err := im.rejects.Write(row); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// takenNumbers returns which of numbers are already stored.
func takenNumbers(ctx context.Context, tx *store.Tx, numbers []string) (map[string]bool, error) {
	taken := map[string]bool{}
	for start := 0; start < len(numbers); start += 1000 {
		part := numbers[start:min(start+1000, len(numbers))]
		args := make([]any, len(part))
		for i, n := range part {
			args[i] = n
		}
		rows, err := tx.Query(ctx, "SELECT number FROM volunteer WHERE number IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+")", args...)
		if err != nil {
			return nil, fmt.Errorf("check volunteer numbers: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, err
			}
			taken[n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return taken, nil
}

// volunteersBornOn returns the stored volunteers born on each of dates, by
// date, for duplicate detection.
func volunteersBornOn(ctx context.Context, tx *store.Tx, dates []string) (map[string][]Summary, error) {
	slices.Sort(dates)
	dates = slices.Compact(dates)
	out := map[string][]Summary{}
	for start := 0; start < len(dates); start += 1000 {
		part := dates[start:min(start+1000, len(dates))]
		args := make([]any, len(part))
		for i, d := range part {
			args[i] = d
		}
		rows, err := tx.Query(ctx, "SELECT "+summaryColumns+" FROM volunteer v WHERE v.birth_date IN ("+
			strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+")", args...)
		if err != nil {
			return nil, fmt.Errorf("look for duplicates: %w", err)
		}
		for rows.Next() {
			s, err := scanSummary(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[s.BirthDate.String()] = append(out[s.BirthDate.String()], s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
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
