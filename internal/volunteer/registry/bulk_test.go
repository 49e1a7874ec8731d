package registry_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

func TestPopulateStoresBatchesAndStopsCleanly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		var progress []int
		n, err := registry.Populate(ctx, db, audit.System, registry.PopulateOptions{Count: 250, Seed: 7, BatchSize: 100,
			Progress: func(done int) { progress = append(progress, done) }})
		if err != nil || n != 250 || count(t, db) != 250 {
			t.Fatalf("populate: %d %v (stored %d)", n, err, count(t, db))
		}
		if len(progress) != 3 || progress[2] != 250 {
			t.Fatalf("progress: %v", progress)
		}
		last, err := registry.Get(ctx, db, "V000250")
		if err != nil || last.PreferredSite == "" {
			t.Fatalf("last volunteer: %+v %v", last.Volunteer, err)
		}
		// Generated volunteers are findable like any other.
		if last.Status != volunteer.StatusPrivacyRemoved {
			res, err := registry.Search(ctx, db, registry.Query{Name: last.FamilyName + " " + last.GivenName, BirthDate: last.BirthDate.String()}, true)
			if err != nil || len(res.Rows) == 0 {
				t.Fatalf("search for a generated volunteer: %v %v", res, err)
			}
		}
		// One audit entry per batch.
		batches, _, _ := audit.List(ctx, db, audit.Filter{Entity: registry.Entity, Limit: 1000})
		if len(batches) != 3 || !strings.Contains(batches[0].New, "V000201 to V000250") {
			t.Fatalf("batch entries: %+v", batches)
		}

		// Cancelled after the first batch: what was committed stays, the
		// batch in progress is rolled back.
		cctx, cancel := context.WithCancel(ctx)
		n, err = registry.Populate(cctx, db, audit.System, registry.PopulateOptions{Count: 1000, Seed: 8, BatchSize: 100,
			Progress: func(done int) {
				if done >= 100 {
					cancel()
				}
			}})
		if !errors.Is(err, context.Canceled) || n != 100 || count(t, db) != 350 {
			t.Fatalf("cancelled populate: %d %v (stored %d)", n, err, count(t, db))
		}
		// The numbers go on from where the committed ones stopped.
		if next := c.create(t, person("Next", "Person", day(1999, 9, 9))); next.Number != "V000351" {
			t.Fatalf("number after a cancelled load: %s", next.Number)
		}
	})
}

func TestExportIsMaskedUnlessPermittedAndAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		v := person("Jan", "de Vries", day(1984, 5, 12))
		v.Phones = []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+31612345678"}}
		v.MedicalHistory = []volunteer.CodedEntry{{Code: "ASTHMA", Start: volunteer.Date{Year: 2001}}}
		c.create(t, v)
		c.create(t, person("Anna", "Jansen", day(1990, 1, 2)))

		var masked, full bytes.Buffer
		n, err := registry.Export(ctx, db, c.bob, registry.Query{Name: "vries"}, false, &masked)
		if err != nil || n != 1 {
			t.Fatalf("masked export: %d %v", n, err)
		}
		if _, err := registry.Export(ctx, db, c.alice, registry.Query{}, true, &full); err != nil {
			t.Fatal(err)
		}
		read := func(b *bytes.Buffer) [][]string {
			r := csv.NewReader(b)
			r.FieldsPerRecord = -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		m := read(&masked)
		if !strings.HasPrefix(m[0][0], "UNCONTROLLED COPY") || !strings.Contains(m[0][0], "masked") || m[1][1] != volunteer.FieldGivenName {
			t.Fatalf("masked export head: %v", m[:2])
		}
		text := strings.Join(m[2], ",")
		if strings.Contains(text, "Jan,") || strings.Contains(text, "Vries") || strings.Contains(text, "612345678") || strings.Contains(text, "1984-05-12") ||
			!strings.Contains(text, "J***") || !strings.Contains(text, "1984-**-**") || !strings.Contains(text, "ASTHMA@2001") {
			t.Fatalf("masked export row: %s", text)
		}
		f := read(&full)
		if len(f) != 4 || !strings.Contains(strings.Join(f[2], ","), "de Vries") || !strings.Contains(strings.Join(f[2], ","), "+31612345678") {
			t.Fatalf("full export: %v", f)
		}
		// Both exports are in the trail, saying what was searched and
		// whether the file was masked; the searched name is PHI itself.
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: registry.Entity, EntityID: "search"})
		var sawMasked, sawFull bool
		for _, e := range entries {
			sawMasked = sawMasked || e.Action == audit.Export && e.Actor == "bob" && e.Field == "masked" && e.New == "yes"
			sawFull = sawFull || e.Action == audit.Export && e.Actor == "alice" && e.Field == "masked" && e.New == "no"
		}
		if !sawMasked || !sawFull {
			t.Fatalf("exports not audited: %+v", entries)
		}
		if err := registry.MaskTrail(ctx, db, entries, false); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Field == "search.name" && e.New != "v***" {
				t.Fatalf("the searched name shows in the trail: %q", e.New)
			}
		}
	})
}
