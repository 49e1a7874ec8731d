package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cohort-clinical/cohort/internal/store"
)

// insertBatch is how many occurrences, and how many values, one INSERT
// statement stores at most: few round trips, and well under both
// engines' limits on statement parameters.
const insertBatch = 500

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
	groups  *sql.Stmt // a full batch of occurrences
	items   *sql.Stmt // a full batch of values
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
	in := &inserter{ctx: ctx, tx: tx, work: make(chan *clinicalBatch, 1), free: make(chan *clinicalBatch, 3),
		exited: make(chan struct{}), again: map[int64]int64{}}
	for range 2 {
		in.free <- &clinicalBatch{groups: make([]pendingGroup, 0, insertBatch), items: make([]pendingItem, 0, insertBatch)}
	}
	go in.run()
	return in
}

// empty returns a batch to fill.
func (in *inserter) empty() *clinicalBatch {
	return &clinicalBatch{groups: make([]pendingGroup, 0, insertBatch), items: make([]pendingItem, 0, insertBatch)}
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
	for _, st := range []*sql.Stmt{in.groups, in.items} {
		if st != nil {
			st.Close()
		}
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
	var res sql.Result
	var err error
	if in.tx.Engine == store.Postgres {
		n := len(groups)
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
		if in.groups == nil {
			if in.groups, err = in.tx.Prepare(in.ctx, groupArrayInsert); err != nil {
				return 0, err
			}
		}
		res, err = in.groups.ExecContext(in.ctx, ids, ids2, seqs, keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], details)
	} else {
		args := in.args[:0]
		for i := range groups {
			g := &groups[i]
			args = append(args, g.studyID, g.id, g.seq, g.keys[0], g.keys[1], g.keys[2], g.keys[3], g.keys[4], g.keys[5], g.keys[6], nullable(g.containerJSON))
		}
		res, err = in.exec(&in.groups, groupValuesInsert, 11, len(groups), args)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// storeItems inserts values.
func (in *inserter) storeItems(items []pendingItem) error {
	var err error
	if in.tx.Engine == store.Postgres {
		n := len(items)
		ids, groups, seqs := make([]int64, n), make([]int64, n), make([]int64, n)
		oids, values, details := make([]string, n), make([]string, n), make([]string, n)
		nulls := make([]bool, n)
		for i := range items {
			it := &items[i]
			ids[i], groups[i], seqs[i], oids[i], values[i], nulls[i], details[i] = it.studyID, it.group, it.seq, it.item, it.value, it.isNull, string(it.detail)
		}
		if in.items == nil {
			if in.items, err = in.tx.Prepare(in.ctx, itemArrayInsert); err != nil {
				return err
			}
		}
		_, err = in.items.ExecContext(in.ctx, ids, groups, oids, seqs, values, nulls, details)
		return err
	}
	args := in.args[:0]
	for i := range items {
		it := &items[i]
		args = append(args, it.studyID, it.group, it.item, it.seq, it.value, it.isNull, nullable(it.detail))
	}
	_, err = in.exec(&in.items, itemValuesInsert, 7, len(items), args)
	return err
}

// exec runs a multi-row INSERT on SQLite: a full batch with a statement
// prepared once, a shorter one as it comes.
func (in *inserter) exec(full **sql.Stmt, head string, columns, rows int, args []any) (sql.Result, error) {
	in.args = args
	defer clear(args)
	if rows == insertBatch {
		if *full == nil {
			var err error
			if *full, err = in.tx.Prepare(in.ctx, valuesStatement(head, columns, insertBatch)); err != nil {
				return nil, err
			}
		}
		return (*full).ExecContext(in.ctx, args...)
	}
	return in.tx.Exec(in.ctx, valuesStatement(head, columns, rows), args...)
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

// On PostgreSQL a batch goes as one array per column: a statement of a
// dozen parameters however many rows, which the server plans once and
// which the driver encodes without a parameter per value.
const (
	groupArrayInsert = `INSERT INTO item_group_data (study_id, id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, container_detail)
	SELECT s, i, q, k0, k1, k2, k3, k4, k5, k6, NULLIF(c, '')
	FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
		AS t(s, i, q, k0, k1, k2, k3, k4, k5, k6, c)
	ON CONFLICT DO NOTHING`
	itemArrayInsert = `INSERT INTO item_data (study_id, group_data, item_oid, seq, value, is_null, item_detail)
	SELECT s, g, i, q, v, n, NULLIF(d, '')
	FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::boolean[], ?::text[]) AS t(s, g, i, q, v, n, d)`
)
