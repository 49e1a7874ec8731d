package study

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// oldItemRow is a row of item_data as schema version 11 kept it: one row
// per value with its container keys, container details on the first row
// of a container, item_oid ” for a container without values.
type oldItemRow struct {
	seq                  int64
	keys                 [7]string
	item, value          string
	isNull               bool
	itemDetail, contents string
}

// TestMigrationSplitsItemData moves clinical data stored in the one-table
// layout to item_group_data and item_data (migration 00012) and back, on
// both engines: values, nulls, details, empty containers and the export
// order all survive, and the way down gives back the rows it started from.
func TestMigrationSplitsItemData(t *testing.T) {
	storetest.EachEmpty(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.MigrateTo(ctx, 11); err != nil {
			t.Fatal(err)
		}
		s, err := Create(ctx, db, audit.Actor{Name: "test"}, Study{Code: "MIG", Title: "Migration"})
		if err != nil {
			t.Fatal(err)
		}
		subject := mustJSON(t)(encodeDetail(&containerDetail{Subject: &odm.SubjectData{TransactionType: "Insert"}}))
		group := mustJSON(t)(encodeDetail(&containerDetail{Group: &odm.ItemGroupData{TransactionType: "Upsert"}}))
		item := mustJSON(t)(itemDetail(&odm.ItemData{ItemOID: "I.2", TransactionType: "Update"}))
		visit := func(repeat string) [7]string { return [7]string{"S1", "SE.A", "", "F.1", "", "IG.1", repeat} }
		old := []oldItemRow{
			{seq: 1, keys: visit("1"), item: "I.1", value: "5", contents: subject},
			{seq: 2, keys: visit("1"), item: "I.2", value: "7", itemDetail: item},
			{seq: 3, keys: visit("2"), item: "I.1", isNull: true, contents: group},
			{seq: 4, keys: visit("2"), item: "I.2", value: "x<y"},
			{seq: 5, keys: [7]string{"S2"}},
			{seq: 6, keys: [7]string{"S3", "SE.A", "", "F.1", "", "IG.2"}, item: "I.9", value: "1"},
		}
		for _, r := range old {
			storetest.MustExec(t, db, `INSERT INTO item_data (study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat,
					group_oid, group_repeat, item_oid, value, is_null, item_detail, container_detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				s.ID, r.seq, r.keys[0], r.keys[1], r.keys[2], r.keys[3], r.keys[4], r.keys[5], r.keys[6], r.item, r.value, r.isNull,
				nullable([]byte(r.itemDetail)), nullable([]byte(r.contents)))
		}

		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := ItemDataCount(ctx, db, "MIG"); err != nil || n != 5 {
			t.Fatalf("after the migration the study holds %d values (%v), want 5", n, err)
		}
		// The study has no design: its clinical data is written as
		// Export writes it, under a design version named here.
		var out bytes.Buffer
		w := odm.NewWriter(&out, odm.WriteOptions{})
		if err := w.Begin(ctx, odm.NewDocument("MIG", odm.Snapshot, time.Now())); err != nil {
			t.Fatal(err)
		}
		if err := writeClinical(ctx, db, s.ID, s.OID, "MDV.1", w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got := clinicalLines(out.String())
		want := []string{
			`<SubjectData SubjectKey="S1" TransactionType="Insert">`,
			`<StudyEventData StudyEventOID="SE.A">`, `<FormData FormOID="F.1">`,
			`<ItemGroupData ItemGroupOID="IG.1" ItemGroupRepeatKey="1">`,
			`<ItemData ItemOID="I.1" Value="5"/>`, `<ItemData ItemOID="I.2" TransactionType="Update" Value="7"/>`, `</ItemGroupData>`,
			`<ItemGroupData ItemGroupOID="IG.1" ItemGroupRepeatKey="2" TransactionType="Upsert">`,
			`<ItemData ItemOID="I.1" IsNull="Yes"/>`, `<ItemData ItemOID="I.2" Value="x&lt;y"/>`, `</ItemGroupData>`,
			`</FormData>`, `</StudyEventData>`, `</SubjectData>`,
			`<SubjectData SubjectKey="S2"/>`,
			`<SubjectData SubjectKey="S3">`, `<StudyEventData StudyEventOID="SE.A">`, `<FormData FormOID="F.1">`,
			`<ItemGroupData ItemGroupOID="IG.2">`, `<ItemData ItemOID="I.9" Value="1"/>`,
		}
		if !containsInOrder(got, want) {
			t.Fatalf("export after the migration:\n%s\nwant, in this order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		if err := db.MigrateTo(ctx, 11); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(ctx, `SELECT seq, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat,
				item_oid, value, is_null, COALESCE(item_detail, ''), COALESCE(container_detail, '') FROM item_data WHERE study_id = ? ORDER BY seq`, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var back []oldItemRow
		for rows.Next() {
			var r oldItemRow
			k := &r.keys
			if err := rows.Scan(&r.seq, &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &r.item, &r.value, &r.isNull, &r.itemDetail, &r.contents); err != nil {
				t.Fatal(err)
			}
			back = append(back, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, old) {
			t.Fatalf("after migrating down, item_data holds\n%+v\nwant\n%+v", back, old)
		}
	})
}

// mustJSON takes a detail's JSON as encodeDetail and itemDetail return it.
func mustJSON(t *testing.T) func([]byte, error) string {
	return func(b []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// clinicalLines are the trimmed lines of an export from the first
// SubjectData on.
func clinicalLines(doc string) []string {
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "<SubjectData") || len(lines) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// containsInOrder reports whether want appears in got as a contiguous run.
func containsInOrder(got, want []string) bool {
	return strings.Contains("\n"+strings.Join(got, "\n")+"\n", fmt.Sprintf("\n%s\n", strings.Join(want, "\n")))
}
