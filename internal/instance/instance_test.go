package instance_test

import (
	"context"
	"testing"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestPrepareANewInstanceAndACopy(t *testing.T) {
	storetest.EachEmpty(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		res, err := instance.Prepare(ctx, db, instance.Options{Demo: true, By: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if res.SchemaVersion == 0 || len(res.AdminPassword) < 12 || len(res.DemoPassword) < 12 || len(res.DemoUsers) != 5 {
			t.Fatalf("a new instance: %+v", res)
		}
		admin, err := account.GetByUsername(ctx, db, "admin")
		if err != nil || !admin.MustChangePassword {
			t.Fatalf("the first administrator must change the one-time password: %v %+v", err, admin)
		}
		// Preparing again adds nobody and no second clinic.
		again, err := instance.Prepare(ctx, db, instance.Options{Demo: true})
		if err != nil || again.AdminPassword != "" || again.DemoPassword != "" {
			t.Fatalf("a second preparation: %v %+v", err, again)
		}

		// The same database as a copy: copied sessions end, the origin is audited.
		if _, _, err := account.StartSession(ctx, db, admin.ID, ""); err != nil {
			t.Fatal(err)
		}
		res, err = instance.Prepare(ctx, db, instance.Options{ClonedFrom: "acme/demo/main", By: "alice"})
		if err != nil || res.AdminPassword != "" {
			t.Fatalf("a copy: %v %+v", err, res)
		}
		var sessions int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM user_session").Scan(&sessions); err != nil || sessions != 0 {
			t.Fatalf("sessions left in the copy: %d %v", sessions, err)
		}
		entries, _, err := audit.List(ctx, db, audit.Filter{Entity: "instance"})
		found := false
		for _, en := range entries {
			if en.Action == "clone" && en.Field == "cloned_from" && en.New == "acme/demo/main" && en.Actor == "console: alice" {
				found = true
			}
		}
		if err != nil || !found {
			t.Fatalf("the copy's origin is not in its audit trail: %v %+v", err, entries)
		}
		if v, err := audit.Verify(ctx, db); err != nil || !v.OK() {
			t.Fatalf("audit chain: %v %+v", err, v)
		}
	})
}
