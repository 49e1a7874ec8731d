package audit

import (
	"context"
	"database/sql"
	"encoding/csv"

	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Filter selects entries for the viewer and the export. Zero fields match
// everything.
type Filter struct {
	Actor    string // user name, exact
	Entity   string
	EntityID string
	From     time.Time // inclusive
	To       time.Time // exclusive
	Limit    int
	Offset   int
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if f.Actor != "" {
		conds, args = append(conds, "actor = ?"), append(args, f.Actor)
	}
	if f.Entity != "" {
		conds, args = append(conds, "entity = ?"), append(args, f.Entity)
	}
	if f.EntityID != "" {
		conds, args = append(conds, "entity_id = ?"), append(args, f.EntityID)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, "at >= ?"), append(args, f.From.UTC().Format(timeLayout))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, "at < ?"), append(args, f.To.UTC().Format(timeLayout))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

const columns = "seq, at, actor_id, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash"

func scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at, action string
	err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.Actor, &action, &e.Entity, &e.EntityID,
		&e.Field, &e.Old, &e.New, &e.Reason, &e.PrevHash, &e.Hash)
	if err != nil {
		return e, err
	}
	e.Action = Action(action)
	e.At, err = time.Parse(timeLayout, at)
	if err != nil {
		return e, fmt.Errorf("entry %d has an unreadable time %q: %w", e.Seq, at, err)
	}
	return e, nil
}

// List returns the entries matching f, newest first, and the total count.
func List(ctx context.Context, db *store.DB, f Filter) ([]Entry, int, error) {
	where, args := f.where()
	var total int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit entries: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM audit_entry"+where+
		" ORDER BY seq DESC LIMIT "+strconv.Itoa(limit)+" OFFSET "+strconv.Itoa(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list audit entries: %w", err)
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// WriteCSV streams the entries matching f (oldest first, no limit) as CSV.
// The first line marks the file as an uncontrolled copy, as every exported
// controlled record must be.
func WriteCSV(ctx context.Context, db *store.DB, f Filter, exportedBy string, w io.Writer) error {
	return WriteCSVMasked(ctx, db, f, exportedBy, w, nil)
}

// WriteCSVMasked is WriteCSV with each entry passed through mask first, so
// a domain can hide values its reader may not see (volunteer PHI for a
// reader without volunteer.view_phi). A nil mask writes entries as stored.
// Masking changes only what is written, never the trail: the hashes are the
// stored ones, so a masked export cannot be verified, only read.
func WriteCSVMasked(ctx context.Context, db *store.DB, f Filter, exportedBy string, w io.Writer, mask func(context.Context, Entry) (Entry, error)) error {
	where, args := f.where()
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM audit_entry"+where+" ORDER BY seq", args...)
	if err != nil {
		return fmt.Errorf("export audit trail: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	cw.Write([]string{fmt.Sprintf("UNCONTROLLED COPY - audit trail exported by %s at %s UTC", exportedBy, now().Format(time.DateTime))})
	cw.Write([]string{"seq", "at_utc", "user_id", "user", "action", "entity", "entity_id", "field", "old_value", "new_value", "reason", "prev_hash", "hash"})
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := scan(rows)
		if err != nil {
			return fmt.Errorf("export audit trail: %w", err)
		}
		if mask != nil {
			if e, err = mask(ctx, e); err != nil {
				return fmt.Errorf("export audit trail: %w", err)
			}
		}
		cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(timeLayout), strconv.FormatInt(e.ActorID, 10),
			e.Actor, string(e.Action), e.Entity, e.EntityID, e.Field, e.Old, e.New, e.Reason, e.PrevHash, e.Hash})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export audit trail: %w", err)
	}
	return rows.Err()
}

// VerifyResult is the outcome of recomputing the chain.
type VerifyResult struct {
	Checked int64
	// Broken is the first entry that does not match, nil when the chain is intact.
	Broken *Entry
	// Problem says in a sentence what is wrong with Broken.
	Problem string
}

// OK reports whether the whole chain matched.
func (r VerifyResult) OK() bool { return r.Broken == nil }

// Verify recomputes every entry's hash in order and reports the first entry
// whose content, link to its predecessor, or sequence number does not match.
func Verify(ctx context.Context, db *store.DB) (VerifyResult, error) {
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM audit_entry ORDER BY seq")
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit trail: %w", err)
	}
	defer rows.Close()
	var res VerifyResult
	prev, want := genesis, int64(1)
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		e, err := scan(rows)
		if err != nil {
			return res, fmt.Errorf("verify audit trail: %w", err)
		}
		res.Checked++
		switch {
		case e.Seq != want:
			res.Problem = fmt.Sprintf("entry %d follows entry %d: entries are missing from the trail", e.Seq, want-1)
		case e.PrevHash != prev:
			res.Problem = fmt.Sprintf("entry %d does not link to the entry before it: an entry was changed, removed or inserted", e.Seq)
		case e.computeHash() != e.Hash:
			res.Problem = fmt.Sprintf("entry %d does not match its hash: its content was changed after it was written", e.Seq)
		}
		if res.Problem != "" {
			res.Broken = &e
			return res, nil
		}
		prev, want = e.Hash, e.Seq+1
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("verify audit trail: %w", err)
	}
	return res, nil
}

// Entities lists the record types that appear in the trail, for the
// viewer's filter; new modules show up without a code change.
func Entities(ctx context.Context, db *store.DB) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT DISTINCT entity FROM audit_entry ORDER BY entity")
	if err != nil {
		return nil, fmt.Errorf("list audited record types: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
