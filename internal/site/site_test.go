package site_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 1, Name: "alice"}
var bob = audit.Actor{ID: 2, Name: "bob"}

func TestSiteLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := site.Create(ctx, db, alice, site.Site{Code: "AMS", Name: "Amsterdam unit", TimeZone: "Europe/Amsterdam"})
		if err != nil {
			t.Fatal(err)
		}
		// Duplicate code is a field error, and nothing else is stored.
		_, err = site.Create(ctx, db, alice, site.Site{Code: "AMS", Name: "Other", TimeZone: "Europe/Amsterdam"})
		fe, ok := check.AsFieldErrors(err)
		if !ok || !strings.Contains(fe["code"], "already exists") {
			t.Fatalf("duplicate code: got %v", err)
		}
		// Invalid values: every bad field is named.
		_, err = site.Create(ctx, db, alice, site.Site{Code: "bad code", Name: "", TimeZone: "Mars/Base"})
		fe, _ = check.AsFieldErrors(err)
		if fe["code"] == "" || fe["name"] == "" || fe["time_zone"] == "" {
			t.Fatalf("invalid site: got %v", err)
		}

		// An edit needs a reason.
		err = site.Update(ctx, db, alice, "AMS", s.Version, site.Site{Name: "Amsterdam Zuid", TimeZone: "Europe/Amsterdam"}, "")
		if fe, _ := check.AsFieldErrors(err); fe["reason"] == "" {
			t.Fatalf("update without reason: %v", err)
		}
		if err := site.Update(ctx, db, alice, "AMS", s.Version, site.Site{Name: "Amsterdam Zuid", TimeZone: "Europe/Amsterdam"}, "renamed"); err != nil {
			t.Fatal(err)
		}
		// Bob opened version 1 too: his save is refused and names alice.
		err = site.Update(ctx, db, bob, "AMS", s.Version, site.Site{Name: "Bob's name", TimeZone: "Europe/Amsterdam"}, "mine")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) || conflict.By != "alice" || !strings.Contains(err.Error(), "changed by alice") {
			t.Fatalf("concurrent edit: got %v", err)
		}
		got, _ := site.Get(ctx, db, "AMS")
		if got.Name != "Amsterdam Zuid" || got.Version != 2 {
			t.Fatalf("after conflict: %+v", got)
		}

		if err := site.Archive(ctx, db, alice, "AMS", got.Version, "unit closed"); err != nil {
			t.Fatal(err)
		}
		active, _ := site.List(ctx, db, false)
		all, _ := site.List(ctx, db, true)
		if len(active) != 0 || len(all) != 1 || !all[0].Archived {
			t.Fatalf("archived site: active=%v all=%v", active, all)
		}

		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "site", EntityID: "AMS"})
		var sawArchive, sawRename bool
		for _, e := range entries {
			sawArchive = sawArchive || (e.Action == audit.Archive && e.Reason == "unit closed" && e.Old == "no" && e.New == "yes")
			sawRename = sawRename || (e.Field == "name" && e.Old == "Amsterdam unit" && e.New == "Amsterdam Zuid" && e.Reason == "renamed")
		}
		if !sawArchive || !sawRename {
			t.Fatalf("audit trail lacks rename or archive: %+v", entries)
		}
	})
}
