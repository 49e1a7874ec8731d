package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/cohort-clinical/cohort/internal/store"
)

// insertBatch is how many occurrences, and how many values, a batch holds
// on SQLite: few statements, and well under its limit on statement
// parameters. A power of two, so that a full batch is one statement (see
// exec).
const insertBatch = 512

// copyBatch is how many values one COPY stores on PostgreSQL, and how many
// occurrences one INSERT: each round costs the server a fixed setup that a
// batch of 500 would pay ten times as often.
const copyBatch = 5000

// batchSize is how many occurrences, or values, a batch holds on e.
func batchSize(e store.Engine) int {
	if e == store.Postgres {
		return copyBatch
	}
	return insertBatch
}

// pendingGroup is an item_group_data row waiting in the current batch.
// Container details are added to it when its containers close, which may
// be after later rows were read.
type pendingGroup struct {
	studyID, id, seq int64
	keys             [7]string
	containers       *containerDetail // until the batch is sent
	containerJSON    []byte           // after
}

// pendingItem is an item_data row waiting in the current batch.
type pendingItem struct {
	studyID, group, seq int64
	item, value         string
	isNull              bool
	detail              []byte
}

// clinicalBatch is what one round of the inserter stores: occurrences
// first, then the values that point at them.
type clinicalBatch struct {
	groups []pendingGroup
	items  []pendingItem
}

func (b *clinicalBatch) empty() bool { return len(b.groups) == 0 && len(b.items) == 0 }

// pending returns occurrence id when it is still in the batch, or nil. A
// batch holds consecutive ids.
func (b *clinicalBatch) pending(id int64) *pendingGroup {
	if len(b.groups) == 0 || id < b.groups[0].id || id-b.groups[0].id >= int64(len(b.groups)) {
		return nil
	}
	g := &b.groups[id-b.groups[0].id]
	if g.id != id {
		return nil
	}
	return g
}

// inFlight is how many batches may wait for the inserter while the loader
// fills the next: enough to ride out the moments one side is slower (a
// b-tree split, a garbage collection) without either waiting.
const inFlight = 4

// errDuplicateItem is the inserter's error for a batch that gave the same
// item twice in one occurrence.
var errDuplicateItem = errors.New("the same item twice in one item group occurrence")

// inserter stores batches on its own goroutine, so that reading the file
// (one core) and storing rows (another) overlap. A file may give an
// occurrence again after others (the same keys in a second ItemGroupData):
// the inserter then stores its values under the first, and remembers the
// provisional id it was given so that later values and details find it.
type inserter struct {
	ctx     context.Context
	tx      *store.Tx
	stmts   map[statementKey]*sql.Stmt
	work    chan *clinicalBatch
	free    chan *clinicalBatch
	exited  chan struct{}
	pending sync.WaitGroup
	mu      sync.Mutex
	err     error           // the first error; later batches are dropped
	again   map[int64]int64 // provisional occurrence id → the id stored first with its keys
	args    []any
}

func newInserter(ctx context.Context, tx *store.Tx) *inserter {
	in := &inserter{ctx: ctx, tx: tx, work: make(chan *clinicalBatch, inFlight), free: make(chan *clinicalBatch, inFlight+1),
		exited: make(chan struct{}), again: map[int64]int64{}, stmts: map[statementKey]*sql.Stmt{}}
	for range inFlight {
		in.free <- in.empty()
	}
	go in.run()
	return in
}

// empty returns a batch to fill.
func (in *inserter) empty() *clinicalBatch {
	n := batchSize(in.tx.Engine)
	return &clinicalBatch{groups: make([]pendingGroup, 0, n), items: make([]pendingItem, 0, n)}
}

// full reports whether b holds as much as one round stores.
func (in *inserter) full(b *clinicalBatch) bool {
	n := batchSize(in.tx.Engine)
	return len(b.groups) == n || len(b.items) == n
}

// send queues a batch and returns an empty one to fill next.
func (in *inserter) send(b *clinicalBatch) (*clinicalBatch, error) {
	for i := range b.groups {
		g := &b.groups[i]
		if g.containers != nil {
			j, err := encodeDetail(g.containers)
			if err != nil {
				return b, err
			}
			g.containerJSON, g.containers = j, nil
		}
	}
	in.pending.Add(1)
	in.work <- b
	next := <-in.free
	in.mu.Lock()
	defer in.mu.Unlock()
	return next, in.err
}

// wait waits until the queued batches are stored.
func (in *inserter) wait() error {
	in.pending.Wait()
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

// resolve returns the stored id of an occurrence the loader gave id;
// call it after wait.
func (in *inserter) resolve(id int64) int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	if first, ok := in.again[id]; ok {
		return first
	}
	return id
}

// close stops the inserter once the queued batches are done.
func (in *inserter) close() {
	close(in.work)
	<-in.exited
	for _, st := range in.stmts {
		st.Close()
	}
}

func (in *inserter) run() {
	defer close(in.exited)
	for b := range in.work {
		in.mu.Lock()
		failed := in.err != nil
		in.mu.Unlock()
		if !failed {
			if err := in.store(b); err != nil {
				in.mu.Lock()
				in.err = err
				in.mu.Unlock()
			}
		}
		clear(b.groups) // let go of the batch's strings
		clear(b.items)
		b.groups, b.items = b.groups[:0], b.items[:0]
		in.free <- b
		in.pending.Done()
	}
}

func (in *inserter) store(b *clinicalBatch) error {
	if len(b.groups) > 0 {
		stored, err := in.storeGroups(b.groups)
		if err != nil {
			return fmt.Errorf("store clinical data: %w", err)
		}
		if stored < int64(len(b.groups)) {
			if err := in.given(b.groups); err != nil {
				return fmt.Errorf("store clinical data: %w", err)
			}
		}
	}
	if len(b.items) == 0 {
		return nil
	}
	if len(in.again) > 0 {
		for i := range b.items {
			if first, ok := in.again[b.items[i].group]; ok {
				b.items[i].group = first
			}
		}
	}
	err := in.storeItems(b.items)
	if store.IsUniqueViolation(err) {
		return errDuplicateItem
	}
	if err != nil {
		return fmt.Errorf("store clinical data: %w", err)
	}
	return nil
}

// given handles the occurrences of a batch that were not stored because
// the study holds their keys already: their values go to the stored one,
// and their container details are merged into its.
func (in *inserter) given(groups []pendingGroup) error {
	for _, g := range groups {
		where, args := keyFilter(g.studyID, g.keys, lvGroup)
		var id int64
		if err := in.tx.QueryRow(in.ctx, "SELECT id FROM item_group_data WHERE "+where, args...).Scan(&id); err != nil {
			return err
		}
		if id == g.id {
			continue
		}
		in.mu.Lock()
		in.again[g.id] = id
		in.mu.Unlock()
		d, err := decodeDetail(g.containerJSON)
		if err != nil {
			return err
		}
		for lv := range nLevels {
			if d.has(lv) {
				if _, _, err := mergeDetail(in.ctx, in.tx, g.studyID, id, lv, d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// storeGroups inserts occurrences, leaving out those whose keys the study
// holds already, and returns how many it stored.
func (in *inserter) storeGroups(groups []pendingGroup) (int64, error) {
	if in.tx.Engine == store.Postgres {
		// COPY, in a savepoint: a batch that gives keys the study holds
		// already (rare) is sent again as an INSERT that leaves them out.
		if _, err := in.tx.Exec(in.ctx, "SAVEPOINT occurrences"); err != nil {
			return 0, err
		}
		n, err := in.tx.CopyFrom(in.ctx, "item_group_data", groupColumns, &groupRows{groups: groups, i: -1})
		if err == nil {
			_, err = in.tx.Exec(in.ctx, "RELEASE SAVEPOINT occurrences")
			return n, err
		}
		if !store.IsUniqueViolation(err) {
			return 0, err
		}
		if _, err := in.tx.Exec(in.ctx, "ROLLBACK TO SAVEPOINT occurrences"); err != nil {
			return 0, err
		}
		n = int64(len(groups))
		ids, ids2, seqs := make([]int64, n), make([]int64, n), make([]int64, n)
		var keys [7][]string
		for i := range keys {
			keys[i] = make([]string, n)
		}
		details := make([]string, n)
		for i := range groups {
			g := &groups[i]
			ids[i], ids2[i], seqs[i], details[i] = g.studyID, g.id, g.seq, string(g.containerJSON)
			for k := range keys {
				keys[k][i] = g.keys[k]
			}
		}
		st, err := in.statement(groupArrayInsert, 0, 0)
		if err != nil {
			return 0, err
		}
		res, err := st.ExecContext(in.ctx, ids, ids2, seqs, keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], details)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	args := in.args[:0]
	for i := range groups {
		g := &groups[i]
		args = append(args, g.studyID, g.id, g.seq, g.keys[0], g.keys[1], g.keys[2], g.keys[3], g.keys[4], g.keys[5], g.keys[6], nullable(g.containerJSON))
	}
	return in.exec(groupValuesInsert, 11, args)
}

// storeItems inserts values.
func (in *inserter) storeItems(items []pendingItem) error {
	if in.tx.Engine == store.Postgres {
		_, err := in.tx.CopyFrom(in.ctx, "item_data", itemColumns, &itemRows{items: items, i: -1})
		return err
	}
	args := in.args[:0]
	for i := range items {
		it := &items[i]
		args = append(args, it.studyID, it.group, it.item, it.seq, it.value, it.isNull, nullable(it.detail))
	}
	_, err := in.exec(itemValuesInsert, 7, args)
	return err
}

var groupColumns = []string{"study_id", "id", "seq", "subject_key", "event_oid", "event_repeat", "form_oid", "form_repeat",
	"group_oid", "group_repeat", "container_detail"}

// groupRows hands a batch of occurrences to COPY.
type groupRows struct {
	groups []pendingGroup
	i      int
	row    [11]any
}

func (r *groupRows) Next() bool { r.i++; return r.i < len(r.groups) }

func (r *groupRows) Values() ([]any, error) {
	g := &r.groups[r.i]
	k := &g.keys
	r.row = [11]any{g.studyID, g.id, g.seq, k[0], k[1], k[2], k[3], k[4], k[5], k[6], nullable(g.containerJSON)}
	return r.row[:], nil
}

func (r *groupRows) Err() error { return nil }

var itemColumns = []string{"study_id", "group_data", "item_oid", "seq", "value", "is_null", "item_detail"}

// itemRows hands a batch of values to COPY, one row at a time in one
// reused slice.
type itemRows struct {
	items []pendingItem
	i     int
	row   [7]any
}

func (r *itemRows) Next() bool { r.i++; return r.i < len(r.items) }

func (r *itemRows) Values() ([]any, error) {
	it := &r.items[r.i]
	r.row = [7]any{it.studyID, it.group, it.item, it.seq, it.value, it.isNull, nullable(it.detail)}
	return r.row[:], nil
}

func (r *itemRows) Err() error { return nil }

// exec runs a multi-row INSERT on SQLite of the rows in args (columns
// values each) and returns how many it stored. It goes in chunks of a
// power of two rows, largest first, so that every statement it runs is one
// of a few prepared once: preparing a statement per batch would cost as
// much as storing it.
func (in *inserter) exec(head string, columns int, args []any) (int64, error) {
	in.args = args
	defer clear(args)
	var stored int64
	for rows := len(args) / columns; rows > 0; rows = len(args) / columns {
		n := 1 << (bits.Len(uint(rows)) - 1)
		st, err := in.statement(head, columns, n)
		if err != nil {
			return stored, err
		}
		res, err := st.ExecContext(in.ctx, args[:n*columns]...)
		if err != nil {
			return stored, err
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return stored, err
		}
		stored += affected
		args = args[n*columns:]
	}
	return stored, nil
}

// statementKey names a prepared statement: an INSERT's head and, for the
// multi-row ones, how many rows it stores.
type statementKey struct {
	head string
	rows int
}

// statement returns the prepared statement for head, followed by rows
// rows of columns placeholders when rows > 0 (see valuesStatement),
// preparing it the first time.
func (in *inserter) statement(head string, columns, rows int) (*sql.Stmt, error) {
	k := statementKey{head, rows}
	if st := in.stmts[k]; st != nil {
		return st, nil
	}
	q := head
	if rows > 0 {
		q = valuesStatement(head, columns, rows)
	}
	st, err := in.tx.Prepare(in.ctx, q)
	if err != nil {
		return nil, err
	}
	in.stmts[k] = st
	return st, nil
}

const (
	groupValuesInsert = `INSERT INTO item_group_data (study_id, id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, container_detail) VALUES `
	itemValuesInsert = `INSERT INTO item_data (study_id, group_data, item_oid, seq, value, is_null, item_detail) VALUES `
)

// valuesStatement is head followed by rows placeholders of columns each,
// and for occurrences the clause that leaves out keys already stored.
func valuesStatement(head string, columns, rows int) string {
	var b strings.Builder
	b.WriteString(head)
	row := "(" + strings.Repeat("?,", columns-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	if head == groupValuesInsert {
		b.WriteString(" ON CONFLICT DO NOTHING")
	}
	return b.String()
}

// On PostgreSQL a batch of occurrences that COPY refused goes as one array
// per column: a statement of a dozen parameters however many rows.
const (
	groupArrayInsert = `INSERT INTO item_group_data (study_id, id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, container_detail)
	SELECT s, i, q, k0, k1, k2, k3, k4, k5, k6, NULLIF(c, '')
	FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
		AS t(s, i, q, k0, k1, k2, k3, k4, k5, k6, c)
	ON CONFLICT DO NOTHING`
)
