package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

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

// clinicalQuery reads a study's clinical data in file order: occurrences
// by seq, each with its values by seq (an occurrence without values as one
// row of NULLs), the occurrence's id and container detail on each of its
// rows. Both engines sort only the values of one occurrence at a time
// ("LAST TERM OF ORDER BY" on SQLite, an incremental sort on PostgreSQL),
// so the first row comes at once and memory stays flat. The bench
// (bench/odmdb) runs the same query for its baseline.
const clinicalQuery = `SELECT g.subject_key, g.event_oid, g.event_repeat, g.form_oid, g.form_repeat, g.group_oid, g.group_repeat,
		d.item_oid, d.value, COALESCE(d.is_null, FALSE), d.item_detail, g.container_detail, g.id
	FROM item_group_data g LEFT JOIN item_data d ON d.study_id = g.study_id AND d.group_data = g.id
	WHERE g.study_id = ? ORDER BY g.seq, d.seq`

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
	var id, lastID int64
	dest := []any{&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &isNull, &k[9], &k[10], &id}
	eq := func(b sql.RawBytes, s string) bool { return string(b) == s }
	differs := func(b1, b2 sql.RawBytes, oid, repeat string) bool { return !eq(b1, oid) || !eq(b2, repeat) }
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read clinical data: %w", err)
		}
		// Container details belong to the first row of an occurrence.
		var det *containerDetail
		if id != lastID {
			lastID = id
			if det, err = decodeDetail(k[10]); err != nil {
				return err
			}
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
