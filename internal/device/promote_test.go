package device_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestImportTypesAndDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		setup(t, db) // AMS active, LDN archived; ECG and SCALE types
		in := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		count := func() int {
			_, n, err := audit.List(ctx, db, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// A deactivated type is created deactivated; an existing type's
		// rule is updated, but its active flag never changes.
		err := in(func(tx *store.Tx) error {
			return device.ImportType(ctx, tx, alice, device.Type{Code: "OLDBP", Name: "Aneroid sphygmomanometer"}, "bundle 1")
		})
		if err != nil {
			t.Fatal(err)
		}
		if ty, _ := device.GetType(ctx, db, "OLDBP"); ty.Active {
			t.Fatal("a deactivated type was created active")
		}
		err = in(func(tx *store.Tx) error {
			return device.ImportType(ctx, tx, alice, device.Type{Code: "SCALE", Name: "Body weight scale", CalibrationRequired: true, CalibrationIntervalDays: 180, Active: true}, "bundle 1")
		})
		if ty, _ := device.GetType(ctx, db, "SCALE"); err != nil || !ty.CalibrationRequired || ty.CalibrationIntervalDays != 180 {
			t.Fatalf("updated type: %+v, %v", ty, err)
		}
		err = in(func(tx *store.Tx) error {
			return device.ImportType(ctx, tx, alice, device.Type{Code: "ECG", Name: "12-lead ECG", CalibrationRequired: true, CalibrationIntervalDays: 365}, "bundle 1")
		})
		if err == nil || !strings.Contains(err.Error(), "never deactivates") {
			t.Fatalf("type deactivated by import: %v", err)
		}

		// A device of a deactivated type, with a lapsed due date, as the
		// source has it.
		d := device.Device{AssetTag: "BP-0001", SerialNumber: "A1", TypeCode: "OLDBP", SiteCode: "AMS", Status: device.InService,
			CalibrationDue: date("2020-01-31"), LastCalibrated: date("2019-01-31")}
		if err := in(func(tx *store.Tx) error { return device.Import(ctx, tx, alice, d, "bundle 1") }); err != nil {
			t.Fatal(err)
		}
		got, _ := device.Get(ctx, db, "BP-0001")
		if got.TypeCode != "OLDBP" || !got.CalibrationDue.Equal(date("2020-01-31")) || got.SiteCode != "AMS" {
			t.Fatalf("imported device: %+v", got)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "device", EntityID: "BP-0001"})
		if len(entries) == 0 || entries[0].Action != audit.Create || entries[0].Reason != "bundle 1" {
			t.Fatalf("device creation audit: %+v", entries)
		}
		// Unchanged: nothing written. Changed: audited.
		before := count()
		if err := in(func(tx *store.Tx) error { return device.Import(ctx, tx, alice, d, "bundle 2") }); err != nil || count() != before {
			t.Fatalf("unchanged device: %v, %d audit entries", err, count()-before)
		}
		d.Notes = "Kept for backup."
		if err := in(func(tx *store.Tx) error { return device.Import(ctx, tx, alice, d, "bundle 2") }); err != nil || count() != before+1 {
			t.Fatalf("changed device: %v, %d audit entries", err, count()-before)
		}

		// Refusals name the device and the site.
		for _, c := range []struct {
			d    device.Device
			want string
		}{
			{device.Device{AssetTag: "ECG-0007", SerialNumber: "X", TypeCode: "ECG", SiteCode: "UTR", Status: device.InService, CalibrationDue: date("2030-01-01")},
				"The device ECG-0007 is at site UTR, which this instance does not have"},
			{device.Device{AssetTag: "ECG-0007", SerialNumber: "X", TypeCode: "ECG", SiteCode: "LDN", Status: device.InService, CalibrationDue: date("2030-01-01")},
				"The device ECG-0007 is at site LDN, which is archived in this instance"},
			{device.Device{AssetTag: "ECG-0007", SerialNumber: "X", TypeCode: "MRI", SiteCode: "AMS", Status: device.InService},
				"The device ECG-0007 is of type MRI, which this instance does not have"},
			{device.Device{AssetTag: "ECG-0007", SerialNumber: "X", TypeCode: "ECG", SiteCode: "AMS", Status: device.Retired},
				"retired devices are never imported"},
		} {
			err := in(func(tx *store.Tx) error { return device.Import(ctx, tx, alice, c.d, "bundle 3") })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: %v, want %q", c.d, err, c.want)
			}
		}
		got, _ = device.Get(ctx, db, "BP-0001")
		got.Status = device.Retired
		if err := device.Update(ctx, db, alice, got.AssetTag, got.Version, got, "gone"); err != nil {
			t.Fatal(err)
		}
		if err := in(func(tx *store.Tx) error { return device.Import(ctx, tx, alice, d, "bundle 4") }); err == nil ||
			!strings.Contains(err.Error(), "never brings back a retired device") {
			t.Fatalf("retired here: %v", err)
		}
	})
}
