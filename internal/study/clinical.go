package study

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// insertBatch is how many ItemData one INSERT statement stores: few round
// trips, and well under both engines' limits on statement parameters.
const insertBatch = 500

const itemDataColumns = 12

// storeClinical streams the clinical data of r into item_data, batch by
// batch, for the studies of the file (by Study OID). It returns the number
// of ItemData stored. Problems go into rep.
func storeClinical(ctx context.Context, tx *store.Tx, r *odm.Reader, studies map[string]*plannedStudy, rep *ImportReport) (int64, error) {
	var (
		n        int64
		args     = make([]any, 0, insertBatch*itemDataColumns)
		rows     int
		noStudy  = map[string]bool{}
		notKept  = map[string]bool{}
		flush    func() error
		stmtFull = insertStatement(insertBatch)
	)
	flush = func() error {
		if rows == 0 {
			return nil
		}
		stmt := stmtFull
		if rows < insertBatch {
			stmt = insertStatement(rows)
		}
		if _, err := tx.Exec(ctx, stmt, args...); err != nil {
			if store.IsUniqueViolation(err) {
				rep.add(odm.Diagnostic{Severity: odm.Error, Code: odm.CodeDuplicate,
					Message: "The file gives the same item twice in one item group occurrence; nothing was imported."})
				return nil
			}
			return fmt.Errorf("store clinical data: %w", err)
		}
		args, rows = args[:0], 0
		return nil
	}
	note := func(what string) {
		if !notKept[what] {
			notKept[what] = true
			rep.add(odm.Diagnostic{Severity: odm.Info, Code: odm.CodeNotKept, Message: what})
		}
	}
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if row.Reference != nil {
			note("ReferenceData is not imported.")
			continue
		}
		if row.Item == nil {
			continue // an empty container: nothing to store
		}
		p := studies[row.Clinical.StudyOID]
		if p == nil {
			if !noStudy[row.Clinical.StudyOID] {
				noStudy[row.Clinical.StudyOID] = true
				rep.add(odm.Diagnostic{Line: row.Line, OID: row.Clinical.StudyOID, Severity: odm.Error, Code: odm.CodeDanglingReference,
					Message: fmt.Sprintf("ClinicalData for study %s, which the file does not define; data is imported only with its study's design.", row.Clinical.StudyOID)})
			}
			continue
		}
		if row.Item.AuditRecord != nil || row.Item.Signature != nil || len(row.Item.Annotations) > 0 {
			note("Audit records, signatures and annotations of ItemData are not imported; the values are.")
		}
		n++
		ev, evRepeat := "", ""
		if row.Event != nil {
			ev, evRepeat = row.Event.StudyEventOID, row.Event.StudyEventRepeatKey
		}
		var form, formRepeat, group, groupRepeat string
		if row.Form != nil {
			form, formRepeat = row.Form.FormOID, row.Form.FormRepeatKey
		}
		if row.Group != nil {
			group, groupRepeat = row.Group.ItemGroupOID, row.Group.ItemGroupRepeatKey
		}
		args = append(args, p.id, n, row.Subject.SubjectKey, ev, evRepeat, form, formRepeat, group, groupRepeat,
			row.Item.ItemOID, row.Item.Value, row.Item.IsNull)
		rows++
		if rows == insertBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

func insertStatement(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO item_data (study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
		group_oid, group_repeat, item_oid, value, is_null) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
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
	err = db.QueryRow(ctx, "SELECT COUNT(*) FROM item_data WHERE study_id = ?", s.ID).Scan(&n)
	return n, err
}

// writeClinical streams a study's clinical data from a database cursor
// into w, row by row in file order, reusing container values while their
// keys stay the same, so memory stays flat.
func writeClinical(ctx context.Context, db store.Querier, studyID int64, studyOID, mdvOID string, w *odm.Writer) error {
	rows, err := db.Query(ctx, `SELECT subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat,
		item_oid, value, is_null FROM item_data WHERE study_id = ? ORDER BY seq`, studyID)
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
	)
	// RawBytes avoid allocating strings for container keys that repeat on
	// every row; a string is made only when a key changes.
	var k [9]sql.RawBytes
	var isNull bool
	eq := func(b sql.RawBytes, s string) bool { return string(b) == s }
	for rows.Next() {
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &isNull); err != nil {
			return fmt.Errorf("read clinical data: %w", err)
		}
		if subj == nil || !eq(k[0], subj.SubjectKey) {
			subj, ev, form, group = &odm.SubjectData{SubjectKey: string(k[0])}, nil, nil, nil
		}
		if len(k[1]) > 0 && (ev == nil || !eq(k[1], ev.StudyEventOID) || !eq(k[2], ev.StudyEventRepeatKey)) {
			ev, form, group = &odm.StudyEventData{StudyEventOID: string(k[1]), StudyEventRepeatKey: string(k[2])}, nil, nil
		}
		if form == nil || !eq(k[3], form.FormOID) || !eq(k[4], form.FormRepeatKey) {
			form, group = &odm.FormData{FormOID: string(k[3]), FormRepeatKey: string(k[4])}, nil
		}
		if group == nil || !eq(k[5], group.ItemGroupOID) || !eq(k[6], group.ItemGroupRepeatKey) {
			group = &odm.ItemGroupData{ItemGroupOID: string(k[5]), ItemGroupRepeatKey: string(k[6])}
		}
		if item.ItemOID == "" || !eq(k[7], item.ItemOID) {
			item.ItemOID = string(k[7])
		}
		item.Value, item.IsNull = string(k[8]), isNull
		row := odm.Row{Clinical: cd, Subject: subj, Event: ev, Form: form, Group: group, Item: &item}
		if len(k[1]) == 0 {
			row.Event = nil
		}
		if err := w.WriteRow(ctx, &row); err != nil {
			return err
		}
	}
	return rows.Err()
}
