package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 7, Name: "alice"}

func record(t *testing.T, db *store.DB, ev audit.Event) {
	t.Helper()
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return audit.Record(context.Background(), tx, ev) }); err != nil {
		t.Fatalf("record: %v", err)
	}
}

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		record(t, db, audit.Event{Actor: alice, Action: audit.Create, Entity: "site", EntityID: "AMS",
			Changes: []audit.Change{{Field: "code", New: "AMS"}, {Field: "name", New: "Amsterdam"}}})
		record(t, db, audit.Event{Actor: alice, Action: audit.Update, Entity: "site", EntityID: "AMS", Reason: "typo",
			Changes: []audit.Change{{Field: "name", Old: "Amsterdam", New: "Amsterdam Zuid"}}})
		record(t, db, audit.Event{Actor: alice, Action: audit.Login, Entity: "user", EntityID: "alice"})

		res, err := audit.Verify(ctx, db)
		if err != nil || !res.OK() || res.Checked != 4 {
			t.Fatalf("intact chain: ok=%v checked=%d problem=%q err=%v", res.OK(), res.Checked, res.Problem, err)
		}

		// The trail refuses updates through SQL: the trigger is the first line of defence.
		if _, err := db.Raw().ExecContext(ctx, "UPDATE audit_entry SET new_value = 'x' WHERE seq = 2"); err == nil {
			t.Fatal("an UPDATE of the audit trail succeeded; it must be refused")
		}
		if _, err := db.Raw().ExecContext(ctx, "DELETE FROM audit_entry WHERE seq = 2"); err == nil {
			t.Fatal("a DELETE from the audit trail succeeded; it must be refused")
		}

		// A tamperer with full database access removes the guard and edits an entry;
		// the hash chain still names it.
		dropGuards(t, db)
		storetest.MustExec(t, db, "UPDATE audit_entry SET new_value = 'Rotterdam' WHERE seq = 2")
		res, err = audit.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() || res.Broken.Seq != 2 || !strings.Contains(res.Problem, "entry 2") {
			t.Fatalf("tampered entry 2: got broken=%v problem=%q", res.Broken, res.Problem)
		}
	})
}

func TestVerifyDetectsRemovedEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for i := 0; i < 3; i++ {
			record(t, db, audit.Event{Actor: alice, Action: audit.Login, Entity: "user", EntityID: "alice"})
		}
		dropGuards(t, db)
		storetest.MustExec(t, db, "DELETE FROM audit_entry WHERE seq = 2")
		res, err := audit.Verify(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() || res.Broken.Seq != 3 || !strings.Contains(res.Problem, "missing") {
			t.Fatalf("removed entry: got broken=%v problem=%q", res.Broken, res.Problem)
		}
	})
}

func dropGuards(t *testing.T, db *store.DB) {
	t.Helper()
	if db.Engine == store.SQLite {
		storetest.MustExec(t, db, "DROP TRIGGER audit_entry_no_update")
		storetest.MustExec(t, db, "DROP TRIGGER audit_entry_no_delete")
	} else {
		storetest.MustExec(t, db, "ALTER TABLE audit_entry DISABLE TRIGGER USER")
	}
}

func TestReasonRequiredForChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			return audit.Record(context.Background(), tx, audit.Event{Actor: alice, Action: audit.Archive, Entity: "site", EntityID: "AMS"})
		})
		if !errors.Is(err, audit.ErrReasonRequired) {
			t.Fatalf("archive without reason: got %v, want ErrReasonRequired", err)
		}
		_, total, _ := audit.List(context.Background(), db, audit.Filter{})
		if total != 0 {
			t.Fatalf("a refused event left %d entries", total)
		}
	})
}

func TestListFilterAndCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bob := audit.Actor{ID: 8, Name: "bob"}
		record(t, db, audit.Event{Actor: alice, Action: audit.Create, Entity: "site", EntityID: "AMS", Changes: []audit.Change{{Field: "name", New: "A, \"quoted\""}}})
		record(t, db, audit.Event{Actor: bob, Action: audit.Create, Entity: "role", EntityID: "crc"})
		got, total, err := audit.List(ctx, db, audit.Filter{Actor: "bob"})
		if err != nil || total != 1 || len(got) != 1 || got[0].Entity != "role" {
			t.Fatalf("filter by user: %v total=%d err=%v", got, total, err)
		}
		got, _, _ = audit.List(ctx, db, audit.Filter{Entity: "site"})
		if len(got) != 1 || got[0].New != "A, \"quoted\"" || got[0].Actor != "alice" {
			t.Fatalf("filter by entity: %+v", got)
		}
		var buf bytes.Buffer
		if err := audit.WriteCSV(ctx, db, audit.Filter{}, "carol", &buf); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.HasPrefix(out, "UNCONTROLLED COPY") || !strings.Contains(out, `"A, ""quoted"""`) || strings.Count(out, "\n") != 4 {
			t.Fatalf("csv export:\n%s", out)
		}
	})
}
