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
		// already (rare) is sent again as the INSERT SQLite runs, which
		// leaves them out.
		if _, err := in.tx.Exec(in.ctx, "SAVEPOINT occurrences"); err != nil {
			return 0, err
		}
		n, err := in.tx.CopyFrom(in.ctx, occurrenceTable.name, occurrenceTable.columns, &copyRows{n: len(groups), i: -1, row: func(dst []any, i int) []any { return groups[i].appendValues(dst) }})
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
	}
	args := in.args[:0]
	for i := range groups {
		args = groups[i].appendValues(args)
	}
	return in.exec(occurrenceTable, args)
}

// storeItems inserts values.
func (in *inserter) storeItems(items []pendingItem) error {
	if in.tx.Engine == store.Postgres {
		_, err := in.tx.CopyFrom(in.ctx, valueTable.name, valueTable.columns, &copyRows{n: len(items), i: -1, row: func(dst []any, i int) []any { return items[i].appendValues(dst) }})
		return err
	}
	args := in.args[:0]
	for i := range items {
		args = items[i].appendValues(args)
	}
	_, err := in.exec(valueTable, args)
	return err
}

// insertTable is a table the inserter fills: its columns in the order of
// a row's values, and what an INSERT of it adds after the rows.
type insertTable struct {
	name    string
	columns []string
	tail    string
}

var (
	occurrenceTable = insertTable{name: "item_group_data",
		columns: append(append([]string{"study_id", "id", "seq"}, keyColumns[:]...), "container_detail"),
		tail:    " ON CONFLICT DO NOTHING"}
	valueTable = insertTable{name: "item_data",
		columns: []string{"study_id", "group_data", "item_oid", "seq", "value", "is_null", "item_detail"}}
)

// appendValues appends the occurrence's row of item_group_data to dst.
func (g *pendingGroup) appendValues(dst []any) []any {
	k := &g.keys
	return append(dst, g.studyID, g.id, g.seq, k[0], k[1], k[2], k[3], k[4], k[5], k[6], nullable(g.containerJSON))
}

// appendValues appends the value's row of item_data to dst.
func (it *pendingItem) appendValues(dst []any) []any {
	return append(dst, it.studyID, it.group, it.item, it.seq, it.value, it.isNull, nullable(it.detail))
}

// copyRows hands the n rows of a batch to COPY one at a time, in one
// reused slice.
type copyRows struct {
	n, i int
	row  func(dst []any, i int) []any
	buf  []any
}

func (r *copyRows) Next() bool { r.i++; return r.i < r.n }

func (r *copyRows) Values() ([]any, error) {
	r.buf = r.row(r.buf[:0], r.i)
	return r.buf, nil
}

func (r *copyRows) Err() error { return nil }

// exec runs multi-row INSERTs into t of the rows in args and returns how
// many it stored. It goes in chunks of a power of two rows, largest first,
// so that every statement it runs is one of a few prepared once: preparing
// a statement per batch would cost as much as storing it.
func (in *inserter) exec(t insertTable, args []any) (int64, error) {
	in.args = args
	defer clear(args)
	columns := len(t.columns)
	var stored int64
	for rows := len(args) / columns; rows > 0; rows = len(args) / columns {
		n := 1 << (bits.Len(uint(rows)) - 1)
		st, err := in.statement(t, n)
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

// statementKey names a prepared INSERT: its table and how many rows.
type statementKey struct {
	table string
	rows  int
}

// statement returns the prepared INSERT of rows rows into t, preparing it
// the first time.
func (in *inserter) statement(t insertTable, rows int) (*sql.Stmt, error) {
	k := statementKey{t.name, rows}
	if st := in.stmts[k]; st != nil {
		return st, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES ")
	row := "(" + strings.Repeat("?,", len(t.columns)-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(t.tail)
	st, err := in.tx.Prepare(in.ctx, b.String())
	if err != nil {
		return nil, err
	}
	in.stmts[k] = st
	return st, nil
}
