package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// insertBatch is how many ItemData one INSERT statement stores: few round
// trips, and well under both engines' limits on statement parameters.
const insertBatch = 500

const itemDataColumns = 14

// pendingRow is an item_data row waiting in the current INSERT batch.
// Container details are added to it when its containers close, which may
// be after later rows were read.
type pendingRow struct {
	studyID, seq  int64
	keys          [7]string // subject, event, event repeat, form, form repeat, group, group repeat
	item, value   string
	isNull        bool
	itemDetail    []byte
	containers    *containerDetail // until the batch is sent
	containerJSON []byte           // after
}

// openContainer is a container of the file the loader is inside.
type openContainer struct {
	ptr      any   // as the Reader shares it between the rows of the container
	firstSeq int64 // the row the container starts at
	p        *plannedStudy
	keys     [7]string
}

// clinicalLoader streams the clinical data of a file into item_data.
type clinicalLoader struct {
	ctx     context.Context
	tx      *store.Tx
	by      audit.Actor
	reason  string
	studies map[string]*plannedStudy // by Study OID
	rep     *ImportReport

	batch     []pendingRow
	ins       *inserter
	duplicate bool  // reported
	seq       int64 // last seq given out
	items     int64 // ItemData read for a known study
	open      [nLevels]openContainer

	noStudy, notKept map[string]bool
	mdvWarned        map[string]bool
	grown            map[int64]bool // existing studies that got new rows
	added, updated   map[int64]int64
}

// storeClinical streams the clinical data of r into item_data, batch by
// batch, for the studies of the file (by Study OID) and for studies of
// this instance the file sends data for (appended with audit, see
// docs/odm-profile.md). It returns the number of ItemData read for known
// studies. Problems go into rep.
func storeClinical(ctx context.Context, tx *store.Tx, r *odm.Reader, studies map[string]*plannedStudy, by audit.Actor, reason string, rep *ImportReport) (int64, error) {
	l := &clinicalLoader{ctx: ctx, tx: tx, by: by, reason: reason, studies: studies, rep: rep,
		batch: make([]pendingRow, 0, insertBatch), ins: newInserter(ctx, tx),
		noStudy: map[string]bool{}, notKept: map[string]bool{}, mdvWarned: map[string]bool{}, grown: map[int64]bool{},
		added: map[int64]int64{}, updated: map[int64]int64{}}
	defer l.ins.close()
	// Rows of studies that exist already go after those they hold.
	for _, p := range studies {
		if p.existing {
			if err := l.startAfter(p.id); err != nil {
				return 0, err
			}
		}
	}
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return l.items, err
		}
		if err := l.row(row); err != nil {
			return l.items, err
		}
	}
	if err := l.closeFrom(lvClinical); err != nil {
		return l.items, err
	}
	if err := l.flush(); err != nil {
		return l.items, err
	}
	return l.items, l.finishExisting()
}

// startAfter makes seq continue after the rows study id already has.
func (l *clinicalLoader) startAfter(id int64) error {
	var last int64
	if err := l.tx.QueryRow(l.ctx, "SELECT COALESCE(MAX(seq), 0) FROM item_data WHERE study_id = ?", id).Scan(&last); err != nil {
		return fmt.Errorf("read clinical data: %w", err)
	}
	l.seq = max(l.seq, last)
	return nil
}

func (l *clinicalLoader) note(what string) {
	if !l.notKept[what] {
		l.notKept[what] = true
		l.rep.add(odm.Diagnostic{Severity: odm.Info, Code: odm.CodeNotKept, Message: what})
	}
}

// study finds the study a row's ClinicalData is for: one of the file, or
// one this instance has.
func (l *clinicalLoader) study(row *odm.Row) (*plannedStudy, error) {
	oid := row.Clinical.StudyOID
	if p := l.studies[oid]; p != nil {
		return p, nil
	}
	if l.noStudy[oid] {
		return nil, nil
	}
	s, err := Get(l.ctx, l.tx, CodeFor(oid))
	if err != nil || s.OID != oid {
		l.noStudy[oid] = true
		l.rep.add(odm.Diagnostic{Line: row.Line, OID: oid, Severity: odm.Error, Code: odm.CodeDanglingReference,
			Message: fmt.Sprintf("ClinicalData for study %s, which neither the file nor this instance defines; data is imported only with its study's design.", oid)})
		return nil, nil
	}
	p := &plannedStudy{study: s, id: s.ID, existing: true}
	if msg := lockedMessage(s); msg != "" {
		l.noStudy[oid] = true
		l.rep.add(odm.Diagnostic{Line: row.Line, OID: oid, Severity: odm.Error, Code: odm.CodeBadValue, Message: msg})
		return nil, nil
	}
	st, _, err := ODMStudy(l.ctx, l.tx, s.Code)
	if err != nil {
		return nil, err
	}
	if len(st.MetaDataVersions) > 0 {
		p.mdv = st.MetaDataVersions[0].OID
	}
	l.studies[oid] = p
	l.rep.Studies = append(l.rep.Studies, s.Code)
	l.rep.Existing = append(l.rep.Existing, s.Code)
	return p, l.startAfter(s.ID)
}

// lockedMessage says why a study's data cannot change, or "".
func lockedMessage(s Study) string {
	if s.Status == Locked || s.Status == Archived {
		return fmt.Sprintf("Study %s is %s, so its clinical data cannot change; unlock it first.", s.Code, s.Status)
	}
	return ""
}

func (l *clinicalLoader) row(row *odm.Row) error {
	if row.Reference != nil {
		l.note("ReferenceData is not imported.")
		return nil
	}
	if row.Subject == nil {
		return nil // an empty ClinicalData: no subject to keep it under
	}
	p, err := l.study(row)
	if err != nil || p == nil {
		return err
	}
	if p.existing && p.mdv != "" && row.Clinical.MetaDataVersionOID != p.mdv && !l.mdvWarned[p.study.OID] {
		l.mdvWarned[p.study.OID] = true
		l.rep.add(odm.Diagnostic{Line: row.Line, OID: row.Clinical.MetaDataVersionOID, Severity: odm.Warning, Code: odm.CodeDanglingReference,
			Message: fmt.Sprintf("The ClinicalData for study %s names design version %s; the study's data is kept under its design version %s.",
				p.study.Code, row.Clinical.MetaDataVersionOID, p.mdv)})
	}
	var keys [7]string
	keys[0] = row.Subject.SubjectKey
	if row.Event != nil {
		keys[1], keys[2] = row.Event.StudyEventOID, row.Event.StudyEventRepeatKey
	}
	if row.Form != nil {
		keys[3], keys[4] = row.Form.FormOID, row.Form.FormRepeatKey
	}
	if row.Group != nil {
		keys[5], keys[6] = row.Group.ItemGroupOID, row.Group.ItemGroupRepeatKey
	}
	ptrs := [nLevels]any{row.Clinical, row.Subject, row.Event, row.Form, row.Group}
	changed := nLevels
	for lv := range nLevels {
		if l.open[lv].ptr != ptrs[lv] || l.open[lv].p != p {
			changed = lv
			break
		}
	}
	if err := l.closeFrom(changed); err != nil {
		return err
	}
	pr := pendingRow{studyID: p.id, keys: keys}
	if row.Item != nil {
		l.items++
		pr.item, pr.value, pr.isNull = row.Item.ItemOID, row.Item.Value, row.Item.IsNull
		if pr.itemDetail, err = itemDetail(row.Item); err != nil {
			return err
		}
	}
	seq, err := l.put(p, pr, row.Item == nil)
	if err != nil {
		return err
	}
	for lv := changed; lv < nLevels; lv++ {
		l.open[lv] = openContainer{ptr: ptrs[lv], firstSeq: seq, p: p, keys: prefix(keys, lv)}
	}
	return nil
}

// prefix keeps the keys that identify a container at level lv.
func prefix(keys [7]string, lv int) [7]string {
	var k [7]string
	n := [nLevels]int{0, 1, 3, 5, 7}[lv]
	copy(k[:n], keys[:n])
	return k
}

// put stores a row (in the batch, or at once for an existing study) and
// returns its seq.
func (l *clinicalLoader) put(p *plannedStudy, pr pendingRow, emptyContainer bool) (int64, error) {
	if p.existing {
		// Rows the file already gave are in the database, so that a key
		// given twice is found rather than stored twice.
		if err := l.flush(); err != nil {
			return 0, err
		}
		var (
			seq    int64
			value  string
			isNull bool
			detail sql.NullString
		)
		err := l.tx.QueryRow(l.ctx, `SELECT seq, value, is_null, item_detail FROM item_data WHERE study_id = ? AND subject_key = ? AND event_oid = ?
			AND event_repeat = ? AND form_oid = ? AND form_repeat = ? AND group_oid = ? AND group_repeat = ? AND item_oid = ?`,
			p.id, pr.keys[0], pr.keys[1], pr.keys[2], pr.keys[3], pr.keys[4], pr.keys[5], pr.keys[6], pr.item).Scan(&seq, &value, &isNull, &detail)
		switch {
		case err == nil:
			if emptyContainer || value == pr.value && isNull == pr.isNull && detail.String == string(pr.itemDetail) {
				return seq, nil
			}
			if _, err := l.tx.Exec(l.ctx, "UPDATE item_data SET value = ?, is_null = ?, item_detail = ? WHERE study_id = ? AND seq = ?",
				pr.value, pr.isNull, nullable(pr.itemDetail), p.id, seq); err != nil {
				return 0, fmt.Errorf("update clinical data of study %s: %w", p.study.Code, err)
			}
			l.updated[p.id]++
			changes := []audit.Change{}
			if value != pr.value || isNull != pr.isNull {
				changes = append(changes, audit.Change{Field: "value", Old: shownValue(value, isNull), New: shownValue(pr.value, pr.isNull)})
			}
			if detail.String != string(pr.itemDetail) {
				changes = append(changes, audit.Change{Field: "detail", Old: detail.String, New: string(pr.itemDetail)})
			}
			return seq, audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Update, Entity: "item_data",
				EntityID: itemPath(p.study.Code, pr.keys, pr.item), Reason: l.reason, Changes: changes})
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("read clinical data of study %s: %w", p.study.Code, err)
		}
		l.grown[p.id] = true
		if !emptyContainer {
			l.added[p.id]++
			if err := audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Create, Entity: "item_data",
				EntityID: itemPath(p.study.Code, pr.keys, pr.item), Reason: l.reason,
				Changes: []audit.Change{{Field: "value", New: shownValue(pr.value, pr.isNull)}}}); err != nil {
				return 0, err
			}
		}
	}
	l.seq++
	pr.seq = l.seq
	l.batch = append(l.batch, pr)
	if p.existing {
		return pr.seq, l.flush()
	}
	if len(l.batch) == insertBatch {
		return pr.seq, l.send()
	}
	return pr.seq, nil
}

// shownValue is a value as the audit trail shows it.
func shownValue(v string, isNull bool) string {
	if isNull {
		return "(null)"
	}
	return v
}

// itemPath names an ItemData in the audit trail.
func itemPath(code string, k [7]string, item string) string {
	var b strings.Builder
	b.WriteString(code)
	b.WriteString(" subject ")
	b.WriteString(k[0])
	for i, what := range []string{"event", "form", "group"} {
		if k[1+2*i] == "" {
			continue
		}
		b.WriteString(" " + what + " " + k[1+2*i])
		if k[2+2*i] != "" {
			b.WriteString("[" + k[2+2*i] + "]")
		}
	}
	if item != "" {
		b.WriteString(" item " + item)
	}
	return b.String()
}

// closeFrom closes the open containers at level from and deeper, storing
// the details of those that carry any.
func (l *clinicalLoader) closeFrom(from int) error {
	for lv := nLevels - 1; lv >= from; lv-- {
		oc := l.open[lv]
		l.open[lv] = openContainer{}
		if oc.p == nil {
			continue
		}
		d := detailOf(oc.ptr)
		if d == nil && !oc.p.existing {
			continue
		}
		if err := l.attach(lv, oc, d); err != nil {
			return err
		}
	}
	return nil
}

// attach stores the detail d of the container oc at level lv on the
// container's first row.
func (l *clinicalLoader) attach(lv int, oc openContainer, d *containerDetail) error {
	seq := oc.firstSeq
	if oc.p.existing {
		if d == nil {
			return nil // import adds and replaces details, never removes them
		}
		// The container may have started before this file: its first
		// row is the earliest with its keys.
		if err := l.flush(); err != nil {
			return err
		}
		var where strings.Builder
		args := []any{oc.p.id}
		for i, col := range []string{"subject_key", "event_oid", "event_repeat", "form_oid", "form_repeat", "group_oid", "group_repeat"}[:[nLevels]int{0, 1, 3, 5, 7}[lv]] {
			where.WriteString(" AND " + col + " = ?")
			args = append(args, oc.keys[i])
		}
		if err := l.tx.QueryRow(l.ctx, "SELECT MIN(seq) FROM item_data WHERE study_id = ?"+where.String(), args...).Scan(&seq); err != nil {
			return fmt.Errorf("read clinical data of study %s: %w", oc.p.study.Code, err)
		}
	}
	if len(l.batch) > 0 && seq >= l.batch[0].seq {
		pr := &l.batch[seq-l.batch[0].seq]
		if pr.containers == nil {
			pr.containers = &containerDetail{}
		}
		pr.containers.set(lv, d)
		return nil
	}
	if err := l.flush(); err != nil {
		return err
	}
	var old sql.NullString
	if err := l.tx.QueryRow(l.ctx, "SELECT container_detail FROM item_data WHERE study_id = ? AND seq = ?", oc.p.id, seq).Scan(&old); err != nil {
		return fmt.Errorf("read clinical data of study %s: %w", oc.p.study.Code, err)
	}
	cur, err := decodeDetail([]byte(old.String))
	if err != nil {
		return err
	}
	if cur == nil {
		cur = &containerDetail{}
	}
	before, err := encodeDetail(&containerDetail{})
	if err != nil {
		return err
	}
	if cur.has(lv) {
		one := &containerDetail{}
		one.set(lv, cur)
		if before, err = encodeDetail(one); err != nil {
			return err
		}
	}
	after, err := encodeDetail(d)
	if err != nil {
		return err
	}
	if sameJSON(before, after) {
		return nil
	}
	cur.set(lv, d)
	body, err := encodeDetail(cur)
	if err != nil {
		return err
	}
	if _, err := l.tx.Exec(l.ctx, "UPDATE item_data SET container_detail = ? WHERE study_id = ? AND seq = ?", nullable(body), oc.p.id, seq); err != nil {
		return fmt.Errorf("store clinical data of study %s: %w", oc.p.study.Code, err)
	}
	if !oc.p.existing {
		return nil
	}
	return audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Update, Entity: "item_data",
		EntityID: itemPath(oc.p.study.Code, oc.keys, ""), Reason: l.reason,
		Changes: []audit.Change{{Field: [nLevels]string{"ClinicalData", "SubjectData", "StudyEventData", "FormData", "ItemGroupData"}[lv] + " detail",
			Old: string(before), New: string(after)}}})
}

// send hands the batch to the inserter, which stores it while the file
// is read on, and starts a new batch.
func (l *clinicalLoader) send() error {
	if len(l.batch) == 0 {
		return nil
	}
	for i := range l.batch {
		pr := &l.batch[i]
		if pr.containers != nil {
			b, err := encodeDetail(pr.containers)
			if err != nil {
				return err
			}
			pr.containerJSON, pr.containers = b, nil
		}
	}
	next, err := l.ins.send(l.batch)
	l.batch = next
	return l.duplicates(err)
}

// duplicates turns the inserter's finding of an item given twice into an
// error of the report; the import then applies nothing.
func (l *clinicalLoader) duplicates(err error) error {
	if !errors.Is(err, errDuplicateItem) {
		return err
	}
	if !l.duplicate {
		l.duplicate = true
		l.rep.add(odm.Diagnostic{Severity: odm.Error, Code: odm.CodeDuplicate,
			Message: "The file gives the same item twice in one item group occurrence; nothing was imported."})
	}
	return nil
}

// flush stores the batch and waits until every batch is stored, so that
// the database holds all rows read so far.
func (l *clinicalLoader) flush() error {
	if err := l.send(); err != nil {
		return err
	}
	return l.duplicates(l.ins.wait())
}

// errDuplicateItem is the inserter's error for a batch that broke the
// uniqueness of ItemData.
var errDuplicateItem = errors.New("the same item twice in one item group occurrence")

// inserter stores batches of item_data rows on its own goroutine, so that
// reading the file (one core) and storing rows (another) overlap. It runs
// one full-batch INSERT prepared once.
type inserter struct {
	ctx     context.Context
	tx      *store.Tx
	full    *sql.Stmt
	work    chan []pendingRow
	free    chan []pendingRow
	exited  chan struct{}
	pending sync.WaitGroup
	mu      sync.Mutex
	err     error // the first error; later batches are dropped
}

func newInserter(ctx context.Context, tx *store.Tx) *inserter {
	in := &inserter{ctx: ctx, tx: tx, work: make(chan []pendingRow, 1), free: make(chan []pendingRow, 3), exited: make(chan struct{})}
	for range 2 {
		in.free <- make([]pendingRow, 0, insertBatch)
	}
	go in.run()
	return in
}

// send queues a batch and returns an empty one to fill next.
func (in *inserter) send(batch []pendingRow) ([]pendingRow, error) {
	in.pending.Add(1)
	in.work <- batch
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

// close stops the inserter once the queued batches are done.
func (in *inserter) close() {
	close(in.work)
	<-in.exited
	if in.full != nil {
		in.full.Close()
	}
}

func (in *inserter) run() {
	defer close(in.exited)
	args := make([]any, 0, insertBatch*itemDataColumns)
	for batch := range in.work {
		in.mu.Lock()
		failed := in.err != nil
		in.mu.Unlock()
		if !failed {
			if err := in.store(batch, args); err != nil {
				in.mu.Lock()
				in.err = err
				in.mu.Unlock()
			}
		}
		clear(batch) // let go of the batch's strings
		in.free <- batch[:0]
		in.pending.Done()
	}
}

func (in *inserter) store(batch []pendingRow, args []any) error {
	if in.tx.Engine == store.Postgres {
		return in.storeArrays(batch)
	}
	args = args[:0]
	for i := range batch {
		pr := &batch[i]
		args = append(args, pr.studyID, pr.seq, pr.keys[0], pr.keys[1], pr.keys[2], pr.keys[3], pr.keys[4], pr.keys[5], pr.keys[6],
			pr.item, pr.value, pr.isNull, nullable(pr.itemDetail), nullable(pr.containerJSON))
	}
	defer clear(args)
	var err error
	if len(batch) == insertBatch {
		if in.full == nil {
			if in.full, err = in.tx.Prepare(in.ctx, insertStatement(insertBatch)); err != nil {
				return fmt.Errorf("store clinical data: %w", err)
			}
		}
		_, err = in.full.ExecContext(in.ctx, args...)
	} else {
		_, err = in.tx.Exec(in.ctx, insertStatement(len(batch)), args...)
	}
	if store.IsUniqueViolation(err) {
		return errDuplicateItem
	}
	if err != nil {
		return fmt.Errorf("store clinical data: %w", err)
	}
	return nil
}

// finishExisting puts the rows added to existing studies next to the rows
// of their containers, and records what the import did to each.
func (l *clinicalLoader) finishExisting() error {
	for _, p := range l.studies {
		if !p.existing {
			continue
		}
		if l.grown[p.id] {
			if err := renumber(l.ctx, l.tx, p.id); err != nil {
				return fmt.Errorf("store clinical data of study %s: %w", p.study.Code, err)
			}
		}
		l.rep.ValuesAdded += l.added[p.id]
		l.rep.ValuesChanged += l.updated[p.id]
		if l.added[p.id]+l.updated[p.id] > 0 {
			if err := audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Import, Entity: "study", EntityID: p.study.Code, Reason: l.reason,
				Changes: []audit.Change{{Field: "clinical data", New: fmt.Sprintf("%d values added, %d changed", l.added[p.id], l.updated[p.id])}}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// renumber gives a study's rows new seqs so that each container's rows are
// contiguous again, containers in the order they first appeared: the order
// export streams them in.
func renumber(ctx context.Context, tx *store.Tx, studyID int64) error {
	if _, err := tx.Exec(ctx, "UPDATE item_data SET seq = -seq WHERE study_id = ?", studyID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE item_data SET seq = o.rn FROM (
		SELECT old, ROW_NUMBER() OVER (ORDER BY ms, me, mf, mg, pos) AS rn FROM (
			SELECT seq AS old, -seq AS pos,
				MIN(-seq) OVER (PARTITION BY subject_key) AS ms,
				MIN(-seq) OVER (PARTITION BY subject_key, event_oid, event_repeat) AS me,
				MIN(-seq) OVER (PARTITION BY subject_key, event_oid, event_repeat, form_oid, form_repeat) AS mf,
				MIN(-seq) OVER (PARTITION BY subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat) AS mg
			FROM item_data WHERE study_id = ?) AS x) AS o
		WHERE item_data.study_id = ? AND item_data.seq = o.old`, studyID, studyID)
	return err
}

// arrayInsert stores a batch on PostgreSQL as one array per column: a
// statement of 14 parameters however many rows, which the server plans
// once and which the driver encodes without a parameter per value.
const arrayInsert = `INSERT INTO item_data (study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, item_oid, value, is_null, item_detail, container_detail)
	SELECT s, q, k0, k1, k2, k3, k4, k5, k6, i, v, n, NULLIF(d, ''), NULLIF(c, '')
	FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
		?::text[], ?::text[], ?::boolean[], ?::text[], ?::text[]) AS t(s, q, k0, k1, k2, k3, k4, k5, k6, i, v, n, d, c)`

func (in *inserter) storeArrays(batch []pendingRow) error {
	n := len(batch)
	ids, seqs := make([]int64, n), make([]int64, n)
	var keys [7][]string
	for i := range keys {
		keys[i] = make([]string, n)
	}
	items, values, details, containers := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	nulls := make([]bool, n)
	for i := range batch {
		pr := &batch[i]
		ids[i], seqs[i] = pr.studyID, pr.seq
		for k := range keys {
			keys[k][i] = pr.keys[k]
		}
		items[i], values[i], nulls[i] = pr.item, pr.value, pr.isNull
		details[i], containers[i] = string(pr.itemDetail), string(pr.containerJSON)
	}
	var err error
	if in.full == nil {
		if in.full, err = in.tx.Prepare(in.ctx, arrayInsert); err != nil {
			return fmt.Errorf("store clinical data: %w", err)
		}
	}
	_, err = in.full.ExecContext(in.ctx, ids, seqs, keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6],
		items, values, nulls, details, containers)
	if store.IsUniqueViolation(err) {
		return errDuplicateItem
	}
	if err != nil {
		return fmt.Errorf("store clinical data: %w", err)
	}
	return nil
}

func insertStatement(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO item_data (study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, item_oid, value, is_null, item_detail, container_detail) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// ItemDataCount returns how many clinical values a study holds.
func ItemDataCount(ctx context.Context, db store.Querier, code string) (int64, error) {
	s, err := Get(ctx, db, code)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.QueryRow(ctx, "SELECT COUNT(*) FROM item_data WHERE study_id = ? AND item_oid <> ''", s.ID).Scan(&n)
	return n, err
}

// clinicalQuery reads a study's clinical data in file order. The bench
// (bench/odmdb) runs the same query for its baseline.
const clinicalQuery = `SELECT subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat,
		item_oid, value, is_null, item_detail, container_detail FROM item_data WHERE study_id = ? ORDER BY seq`

// ClinicalQuery is the query Export streams a study's clinical data with
// (one argument: the study's id), for benchmarks that compare against it.
func ClinicalQuery() string { return clinicalQuery }

// writeClinical streams a study's clinical data from a database cursor
// into w, row by row in file order, reusing container values while their
// keys stay the same, so memory stays flat.
func writeClinical(ctx context.Context, db store.Querier, studyID int64, studyOID, mdvOID string, w *odm.Writer) error {
	rows, err := db.Query(ctx, clinicalQuery, studyID)
	if err != nil {
		return fmt.Errorf("read clinical data: %w", err)
	}
	defer rows.Close()
	cd := &odm.ClinicalData{StudyOID: studyOID, MetaDataVersionOID: mdvOID}
	var (
		subj  *odm.SubjectData
		ev    *odm.StudyEventData
		form  *odm.FormData
		group *odm.ItemGroupData
		item  odm.ItemData // the writer is done with a row when WriteRow returns
		row   odm.Row
	)
	// RawBytes avoid allocating strings for container keys that repeat on
	// every row; a string is made only when a key changes.
	var k [11]sql.RawBytes
	var isNull bool
	dest := []any{&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &isNull, &k[9], &k[10]}
	eq := func(b sql.RawBytes, s string) bool { return string(b) == s }
	differs := func(b1, b2 sql.RawBytes, oid, repeat string) bool { return !eq(b1, oid) || !eq(b2, repeat) }
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read clinical data: %w", err)
		}
		det, err := decodeDetail(k[10])
		if err != nil {
			return err
		}
		if det.has(lvClinical) {
			cd.Extensions = det.Clinical.Extensions
		}
		// The first level whose container starts at this row.
		lv := nLevels
		switch {
		case subj == nil || !eq(k[0], subj.SubjectKey) || det.has(lvSubject):
			lv = lvSubject
		case (ev == nil) != (len(k[1]) == 0) || ev != nil && differs(k[1], k[2], ev.StudyEventOID, ev.StudyEventRepeatKey) || det.has(lvEvent):
			lv = lvEvent
		case (form == nil) != (len(k[3]) == 0) || form != nil && differs(k[3], k[4], form.FormOID, form.FormRepeatKey) || det.has(lvForm):
			lv = lvForm
		case (group == nil) != (len(k[5]) == 0) || group != nil && differs(k[5], k[6], group.ItemGroupOID, group.ItemGroupRepeatKey) || det.has(lvGroup):
			lv = lvGroup
		}
		if lv <= lvSubject {
			subj = &odm.SubjectData{}
			if det.has(lvSubject) {
				subj = det.Subject
			}
			subj.SubjectKey = string(k[0])
		}
		if lv <= lvEvent {
			ev = nil
			if len(k[1]) > 0 {
				ev = &odm.StudyEventData{}
				if det.has(lvEvent) {
					ev = det.Event
				}
				ev.StudyEventOID, ev.StudyEventRepeatKey = string(k[1]), string(k[2])
			}
		}
		if lv <= lvForm {
			form = nil
			if len(k[3]) > 0 {
				form = &odm.FormData{}
				if det.has(lvForm) {
					form = det.Form
				}
				form.FormOID, form.FormRepeatKey = string(k[3]), string(k[4])
			}
		}
		if lv <= lvGroup {
			group = nil
			if len(k[5]) > 0 {
				group = &odm.ItemGroupData{}
				if det.has(lvGroup) {
					group = det.Group
				}
				group.ItemGroupOID, group.ItemGroupRepeatKey = string(k[5]), string(k[6])
			}
		}
		row = odm.Row{Clinical: cd, Subject: subj, Event: ev, Form: form, Group: group}
		if len(k[7]) > 0 {
			if len(k[9]) > 0 {
				var it odm.ItemData
				if err := decode(k[9], &it); err != nil {
					return err
				}
				it.ItemOID, it.Value, it.IsNull = string(k[7]), string(k[8]), isNull
				row.Item = &it
			} else {
				if !eq(k[7], item.ItemOID) {
					item.ItemOID = string(k[7])
				}
				// The value is only borrowed: the writer copies it out
				// before WriteRow returns, and the next Scan reuses it.
				item.Value, item.IsNull = borrow(k[8]), isNull
				row.Item = &item
			}
		}
		if err := w.WriteRow(ctx, &row); err != nil {
			var ve *odm.ValidationError
			if errors.As(err, &ve) {
				// The message may hold the borrowed value: copy it.
				return errors.New(strings.Clone(err.Error()))
			}
			return err
		}
	}
	return rows.Err()
}

// borrow returns b as a string without copying it; the string is valid
// only until b is reused.
func borrow(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
