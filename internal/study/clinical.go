package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Clinical data lives in two tables (migration 00012): item_group_data
// holds each occurrence of a container chain — subject, event and repeat,
// form and repeat, item group and repeat — once, with the details of the
// containers that start at it; item_data holds the values, each pointing
// at its occurrence by id. An occurrence without values stands for a
// container without ItemData.

// keyColumns are item_group_data's key columns, outermost first; a
// container at level lv is identified by the first keyCount[lv] of them.
var keyColumns = [7]string{"subject_key", "event_oid", "event_repeat", "form_oid", "form_repeat", "group_oid", "group_repeat"}

var keyCount = [nLevels]int{0, 1, 3, 5, 7}

// openContainer is a container of the file the loader is inside.
type openContainer struct {
	ptr        any   // as the Reader shares it between the rows of the container
	firstGroup int64 // the occurrence the container starts at
	p          *plannedStudy
	keys       [7]string
}

// clinicalLoader streams the clinical data of a file into item_group_data
// and item_data.
type clinicalLoader struct {
	ctx     context.Context
	tx      *store.Tx
	by      audit.Actor
	reason  string
	studies map[string]*plannedStudy // by Study OID
	rep     *ImportReport

	batch     *clinicalBatch
	ins       *inserter
	duplicate bool  // reported
	lastID    int64 // last occurrence id given out
	seq       int64 // last seq given out, to occurrences and values alike
	group     int64 // the occurrence the next values belong to
	items     int64 // ItemData read for a known study
	open      [nLevels]openContainer

	noStudy, notKept map[string]bool
	mdvWarned        map[string]bool
	grown            map[int64]bool // existing studies that got new occurrences
	added, updated   map[int64]int64
}

// storeClinical streams the clinical data of r into the database, batch
// by batch, for the studies of the file (by Study OID) and for studies of
// this instance the file sends data for (appended with audit, see
// docs/odm-profile.md). It returns the number of ItemData read for known
// studies. Problems go into rep.
func storeClinical(ctx context.Context, tx *store.Tx, r *odm.Reader, studies map[string]*plannedStudy, by audit.Actor, reason string, rep *ImportReport) (int64, error) {
	l := &clinicalLoader{ctx: ctx, tx: tx, by: by, reason: reason, studies: studies, rep: rep,
		ins:     newInserter(ctx, tx),
		noStudy: map[string]bool{}, notKept: map[string]bool{}, mdvWarned: map[string]bool{}, grown: map[int64]bool{},
		added: map[int64]int64{}, updated: map[int64]int64{}}
	l.batch = l.ins.empty()
	defer l.ins.close()
	// Occurrences and values of studies that exist already go after those
	// they hold.
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

// startAfter makes ids and seqs continue after those study id already has.
func (l *clinicalLoader) startAfter(id int64) error {
	var lastID, lastGroupSeq, lastItemSeq int64
	if err := l.tx.QueryRow(l.ctx, "SELECT COALESCE(MAX(id), 0), COALESCE(MAX(seq), 0) FROM item_group_data WHERE study_id = ?", id).Scan(&lastID, &lastGroupSeq); err != nil {
		return fmt.Errorf("read clinical data: %w", err)
	}
	if err := l.tx.QueryRow(l.ctx, "SELECT COALESCE(MAX(seq), 0) FROM item_data WHERE study_id = ?", id).Scan(&lastItemSeq); err != nil {
		return fmt.Errorf("read clinical data: %w", err)
	}
	l.lastID = max(l.lastID, lastID)
	l.seq = max(l.seq, lastGroupSeq, lastItemSeq)
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
	// The inserter must be idle: the transaction's connection serves one
	// statement at a time, and the reads below keep it for a while.
	if err := l.flush(); err != nil {
		return nil, err
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
	ptrs := [nLevels]any{row.Clinical, row.Subject, row.Event, row.Form, row.Group}
	changed := nLevels
	for lv := range nLevels {
		if l.open[lv].ptr != ptrs[lv] || l.open[lv].p != p {
			changed = lv
			break
		}
	}
	if changed < nLevels {
		// A container starts at this row, and with it an occurrence.
		if err := l.closeFrom(changed); err != nil {
			return err
		}
		keys := rowKeys(row)
		if l.group, err = l.occurrence(p, keys); err != nil {
			return err
		}
		for lv := changed; lv < nLevels; lv++ {
			l.open[lv] = openContainer{ptr: ptrs[lv], firstGroup: l.group, p: p, keys: prefix(keys, lv)}
		}
	}
	if row.Item == nil {
		return nil
	}
	l.items++
	it := pendingItem{studyID: p.id, group: l.group, item: row.Item.ItemOID, value: row.Item.Value, isNull: row.Item.IsNull}
	if it.detail, err = itemDetail(row.Item); err != nil {
		return err
	}
	return l.putItem(p, it)
}

// rowKeys are the keys of the containers of a row, as item_group_data
// holds them.
func rowKeys(row *odm.Row) [7]string {
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
	return keys
}

// prefix keeps the keys that identify a container at level lv.
func prefix(keys [7]string, lv int) [7]string {
	var k [7]string
	copy(k[:keyCount[lv]], keys[:keyCount[lv]])
	return k
}

// keyFilter is the SQL condition and arguments that find a study's
// occurrences of the container at level lv with these keys.
func keyFilter(studyID int64, keys [7]string, lv int) (string, []any) {
	var where strings.Builder
	where.WriteString("study_id = ?")
	args := []any{studyID}
	for i, col := range keyColumns[:keyCount[lv]] {
		where.WriteString(" AND " + col + " = ?")
		args = append(args, keys[i])
	}
	return where.String(), args
}

// occurrence returns the id of the occurrence of p with these keys: a new
// one, or for an existing study the one it has.
func (l *clinicalLoader) occurrence(p *plannedStudy, keys [7]string) (int64, error) {
	if p.existing {
		// What the file gave so far must be in the database to be found.
		if err := l.flush(); err != nil {
			return 0, err
		}
		where, args := keyFilter(p.id, keys, lvGroup)
		var id int64
		err := l.tx.QueryRow(l.ctx, "SELECT id FROM item_group_data WHERE "+where, args...).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("read clinical data of study %s: %w", p.study.Code, err)
		}
		l.grown[p.id] = true
	}
	l.lastID++
	l.seq++
	l.batch.groups = append(l.batch.groups, pendingGroup{studyID: p.id, id: l.lastID, seq: l.seq, keys: keys})
	if p.existing {
		return l.lastID, l.flush()
	}
	if l.ins.full(l.batch) {
		return l.lastID, l.send()
	}
	return l.lastID, nil
}

// putItem stores a value in the current occurrence: in the batch, or for
// an existing study at once, with audit, compared with what it holds.
func (l *clinicalLoader) putItem(p *plannedStudy, it pendingItem) error {
	if p.existing {
		if err := l.flush(); err != nil {
			return err
		}
		var (
			value  string
			isNull bool
			detail sql.NullString
		)
		err := l.tx.QueryRow(l.ctx, "SELECT value, is_null, item_detail FROM item_data WHERE study_id = ? AND group_data = ? AND item_oid = ?",
			p.id, it.group, it.item).Scan(&value, &isNull, &detail)
		switch {
		case err == nil:
			if value == it.value && isNull == it.isNull && detail.String == string(it.detail) {
				return nil
			}
			if _, err := l.tx.Exec(l.ctx, "UPDATE item_data SET value = ?, is_null = ?, item_detail = ? WHERE study_id = ? AND group_data = ? AND item_oid = ?",
				it.value, it.isNull, nullable(it.detail), p.id, it.group, it.item); err != nil {
				return fmt.Errorf("update clinical data of study %s: %w", p.study.Code, err)
			}
			l.updated[p.id]++
			changes := []audit.Change{}
			if value != it.value || isNull != it.isNull {
				changes = append(changes, audit.Change{Field: "value", Old: shownValue(value, isNull), New: shownValue(it.value, it.isNull)})
			}
			if detail.String != string(it.detail) {
				changes = append(changes, audit.Change{Field: "detail", Old: detail.String, New: string(it.detail)})
			}
			return audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Update, Entity: "item_data",
				EntityID: itemPath(p.study.Code, l.open[lvGroup].keys, it.item), Reason: l.reason, Changes: changes})
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read clinical data of study %s: %w", p.study.Code, err)
		}
		l.added[p.id]++
		if err := audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Create, Entity: "item_data",
			EntityID: itemPath(p.study.Code, l.open[lvGroup].keys, it.item), Reason: l.reason,
			Changes: []audit.Change{{Field: "value", New: shownValue(it.value, it.isNull)}}}); err != nil {
			return err
		}
	}
	l.seq++
	it.seq = l.seq
	l.batch.items = append(l.batch.items, it)
	if p.existing {
		return l.flush()
	}
	if l.ins.full(l.batch) {
		return l.send()
	}
	return nil
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
		if d == nil {
			continue // import adds and replaces details, never removes them
		}
		if err := l.attach(lv, oc, d); err != nil {
			return err
		}
	}
	return nil
}

// attach stores the detail d of the container oc at level lv on the
// container's first occurrence.
func (l *clinicalLoader) attach(lv int, oc openContainer, d *containerDetail) error {
	if g := l.batch.pending(oc.firstGroup); g != nil && !oc.p.existing {
		if g.containers == nil {
			g.containers = &containerDetail{}
		}
		g.containers.set(lv, d)
		return nil
	}
	if err := l.flush(); err != nil {
		return err
	}
	id := l.ins.resolve(oc.firstGroup)
	if oc.p.existing {
		// The container may have started before this file: its first
		// occurrence is the earliest with its keys.
		where, args := keyFilter(oc.p.id, oc.keys, lv)
		if err := l.tx.QueryRow(l.ctx, "SELECT id FROM item_group_data WHERE "+where+" ORDER BY seq LIMIT 1", args...).Scan(&id); err != nil {
			return fmt.Errorf("read clinical data of study %s: %w", oc.p.study.Code, err)
		}
	}
	before, after, err := mergeDetail(l.ctx, l.tx, oc.p.id, id, lv, d)
	if err != nil {
		return fmt.Errorf("store clinical data of study %s: %w", oc.p.study.Code, err)
	}
	if !oc.p.existing || sameJSON(before, after) {
		return nil
	}
	return audit.Record(l.ctx, l.tx, audit.Event{Actor: l.by, Action: audit.Update, Entity: "item_data",
		EntityID: itemPath(oc.p.study.Code, oc.keys, ""), Reason: l.reason,
		Changes: []audit.Change{{Field: [nLevels]string{"ClinicalData", "SubjectData", "StudyEventData", "FormData", "ItemGroupData"}[lv] + " detail",
			Old: string(before), New: string(after)}}})
}

// mergeDetail sets level lv of the stored container detail of occurrence
// id to d's, and returns that level's detail before and after as JSON.
func mergeDetail(ctx context.Context, tx *store.Tx, studyID, id int64, lv int, d *containerDetail) (before, after []byte, err error) {
	var old sql.NullString
	if err := tx.QueryRow(ctx, "SELECT container_detail FROM item_group_data WHERE study_id = ? AND id = ?", studyID, id).Scan(&old); err != nil {
		return nil, nil, err
	}
	cur, err := decodeDetail([]byte(old.String))
	if err != nil {
		return nil, nil, err
	}
	if cur == nil {
		cur = &containerDetail{}
	}
	if cur.has(lv) {
		one := &containerDetail{}
		one.set(lv, cur)
		if before, err = encodeDetail(one); err != nil {
			return nil, nil, err
		}
	}
	if after, err = encodeDetail(d); err != nil {
		return nil, nil, err
	}
	if sameJSON(before, after) {
		return before, after, nil
	}
	cur.set(lv, d)
	body, err := encodeDetail(cur)
	if err != nil {
		return nil, nil, err
	}
	_, err = tx.Exec(ctx, "UPDATE item_group_data SET container_detail = ? WHERE study_id = ? AND id = ?", nullable(body), studyID, id)
	return before, after, err
}

// send hands the batch to the inserter, which stores it while the file
// is read on, and starts a new batch.
func (l *clinicalLoader) send() error {
	if l.batch.empty() {
		return nil
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
// the database holds all the file gave so far.
func (l *clinicalLoader) flush() error {
	if err := l.send(); err != nil {
		return err
	}
	return l.duplicates(l.ins.wait())
}

// finishExisting puts the occurrences added to existing studies next to
// those of their containers, and records what the import did to each.
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

// renumber gives a study's occurrences new seqs so that each container's
// occurrences are contiguous again, containers in the order they first
// appeared: the order export streams them in.
func renumber(ctx context.Context, tx *store.Tx, studyID int64) error {
	_, err := tx.Exec(ctx, `UPDATE item_group_data SET seq = o.rn FROM (
		SELECT id, ROW_NUMBER() OVER (ORDER BY ms, me, mf, seq) AS rn FROM (
			SELECT id, seq,
				MIN(seq) OVER (PARTITION BY subject_key) AS ms,
				MIN(seq) OVER (PARTITION BY subject_key, event_oid, event_repeat) AS me,
				MIN(seq) OVER (PARTITION BY subject_key, event_oid, event_repeat, form_oid, form_repeat) AS mf
			FROM item_group_data WHERE study_id = ?) AS x) AS o
		WHERE item_group_data.study_id = ? AND item_group_data.id = o.id`, studyID, studyID)
	return err
}
