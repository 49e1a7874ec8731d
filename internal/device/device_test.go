package device_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 1, Name: "alice"}
var bob = audit.Actor{ID: 2, Name: "bob"}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// setup makes two sites (LDN archived) and two device types (ECG needs
// calibration every 365 days, SCALE does not).
func setup(t *testing.T, db *store.DB) (ams site.Site) {
	t.Helper()
	ctx := context.Background()
	ams, err := site.Create(ctx, db, alice, site.Site{Code: "AMS", Name: "Amsterdam", TimeZone: "Europe/Amsterdam"})
	if err != nil {
		t.Fatal(err)
	}
	ldn, err := site.Create(ctx, db, alice, site.Site{Code: "LDN", Name: "London", TimeZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.Archive(ctx, db, alice, "LDN", ldn.Version, "closed"); err != nil {
		t.Fatal(err)
	}
	for _, ty := range []device.Type{
		{Code: "ECG", Name: "12-lead ECG", CalibrationRequired: true, CalibrationIntervalDays: 365},
		{Code: "SCALE", Name: "Body weight scale"},
	} {
		if _, err := device.CreateType(ctx, db, alice, ty); err != nil {
			t.Fatal(err)
		}
	}
	return ams
}

func TestDeviceTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, err := device.CreateType(ctx, db, alice, device.Type{Code: "bad code!", CalibrationRequired: true})
		fe, _ := check.AsFieldErrors(err)
		if fe["code"] == "" || fe["name"] == "" || fe["calibration_interval_days"] == "" {
			t.Fatalf("invalid type: %v", err)
		}
		ty, err := device.CreateType(ctx, db, alice, device.Type{Code: "spiro", Name: "Spirometer", CalibrationIntervalDays: 30})
		if err != nil {
			t.Fatal(err)
		}
		if ty.Code != "SPIRO" || ty.CalibrationIntervalDays != 0 || ty.Version != 1 {
			t.Fatalf("created type: %+v", ty)
		}
		_, err = device.CreateType(ctx, db, alice, device.Type{Code: "SPIRO", Name: "Other"})
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["code"], "already exists") {
			t.Fatalf("duplicate type: %v", err)
		}
		change := device.Type{Name: "Spirometer", CalibrationRequired: true, CalibrationIntervalDays: 180}
		if err := device.UpdateType(ctx, db, alice, "SPIRO", 1, change, ""); err == nil {
			t.Fatal("a change without a reason was accepted")
		}
		if err := device.UpdateType(ctx, db, alice, "SPIRO", 1, change, "manufacturer's advice"); err != nil {
			t.Fatal(err)
		}
		var conflict *check.Conflict
		if err := device.UpdateType(ctx, db, bob, "SPIRO", 1, device.Type{Name: "Bob"}, "mine"); !errors.As(err, &conflict) || conflict.By != "alice" {
			t.Fatalf("stale edit: %v", err)
		}
		if err := device.DeactivateType(ctx, db, alice, "SPIRO", 2, "no spirometry studies"); err != nil {
			t.Fatal(err)
		}
		active, _ := device.ListTypes(ctx, db, false)
		all, _ := device.ListTypes(ctx, db, true)
		if len(active) != 0 || len(all) != 1 || all[0].Active {
			t.Fatalf("deactivated type: active=%v all=%v", active, all)
		}
		if err := device.ReactivateType(ctx, db, alice, "SPIRO", 3, "new study"); err != nil {
			t.Fatal(err)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "device_type", EntityID: "SPIRO"})
		var sawInterval, sawDeactivate bool
		for _, e := range entries {
			sawInterval = sawInterval || (e.Field == "calibration_interval_days" && e.Old == "0" && e.New == "180" && e.Reason == "manufacturer's advice")
			sawDeactivate = sawDeactivate || (e.Action == audit.Deactivate && e.Reason == "no spirometry studies")
		}
		if !sawInterval || !sawDeactivate {
			t.Fatalf("audit trail lacks interval change or deactivation: %+v", entries)
		}
	})
}

func TestDeviceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		setup(t, db)

		// Every problem is named by its field.
		_, err := device.Create(ctx, db, alice, device.Device{AssetTag: "ECG 1", Status: "broken"})
		fe, _ := check.AsFieldErrors(err)
		for _, f := range []string{"asset_tag", "serial_number", "type", "site", "status"} {
			if fe[f] == "" {
				t.Errorf("invalid device: no error for %s in %v", f, err)
			}
		}
		// Type and site must exist and be active; calibration needs a due date.
		_, err = device.Create(ctx, db, alice, device.Device{AssetTag: "ECG-0001", SerialNumber: "S1", TypeCode: "ECG", SiteCode: "LDN"})
		fe, _ = check.AsFieldErrors(err)
		if !strings.Contains(fe["site"], "LDN is archived") || !strings.Contains(fe["calibration_due"], "need calibration") {
			t.Fatalf("archived site and missing due date: %v", err)
		}
		_, err = device.Create(ctx, db, alice, device.Device{AssetTag: "ECG-0001", SerialNumber: "S1", TypeCode: "MRI", SiteCode: "NYC"})
		fe, _ = check.AsFieldErrors(err)
		if !strings.Contains(fe["type"], "no device type MRI") || !strings.Contains(fe["site"], "no site NYC") {
			t.Fatalf("unknown type and site: %v", err)
		}
		if list, _ := device.List(ctx, db, device.Filter{}); len(list) != 0 {
			t.Fatalf("refused devices were stored: %+v", list)
		}

		d, err := device.Create(ctx, db, alice, device.Device{AssetTag: " ecg-0001 ", SerialNumber: "MAC-5500-77", Model: "MAC 5500",
			Manufacturer: "GE", TypeCode: "ECG", SiteCode: "AMS", CalibrationDue: date("2026-10-01")})
		if err != nil {
			t.Fatal(err)
		}
		if d.AssetTag != "ECG-0001" || d.Status != device.InService || !d.CalibrationDue.Equal(date("2026-10-01")) ||
			d.TypeName != "12-lead ECG" || d.SiteTimeZone != "Europe/Amsterdam" || !d.CalibrationRequired {
			t.Fatalf("created device: %+v", d)
		}
		_, err = device.Create(ctx, db, alice, device.Device{AssetTag: "ECG-0001", SerialNumber: "X", TypeCode: "SCALE", SiteCode: "AMS"})
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["asset_tag"], "already exists") {
			t.Fatalf("duplicate asset tag: %v", err)
		}

		// Edits need a reason, keep the asset tag and refuse stale versions.
		edit := d
		edit.AssetTag, edit.Status, edit.Notes = "OTHER", device.OutOfService, "lead 4 broken"
		if err := device.Update(ctx, db, alice, "ECG-0001", 1, edit, " "); err == nil {
			t.Fatal("an edit without a reason was accepted")
		}
		if err := device.Update(ctx, db, alice, "ECG-0001", 1, edit, "sent for repair"); err != nil {
			t.Fatal(err)
		}
		var conflict *check.Conflict
		if err := device.Update(ctx, db, bob, "ECG-0001", 1, d, "mine"); !errors.As(err, &conflict) {
			t.Fatalf("stale edit: %v", err)
		}
		got, err := device.Get(ctx, db, "ECG-0001")
		if err != nil || got.Status != device.OutOfService || got.Notes != "lead 4 broken" || got.Version != 2 {
			t.Fatalf("after edit: %+v %v", got, err)
		}

		// A calibration moves the due date by the type's interval.
		err = device.RecordCalibration(ctx, db, alice, "ECG-0001", 2, time.Now().AddDate(0, 0, 3), "calibrated")
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["calibrated_on"], "in the future") {
			t.Fatalf("calibration in the future: %v", err)
		}
		if err := device.RecordCalibration(ctx, db, alice, "ECG-0001", 2, date("2026-01-15"), "annual calibration by GE"); err != nil {
			t.Fatal(err)
		}
		got, _ = device.Get(ctx, db, "ECG-0001")
		if !got.LastCalibrated.Equal(date("2026-01-15")) || !got.CalibrationDue.Equal(date("2027-01-15")) {
			t.Fatalf("after calibration: last %v due %v", got.LastCalibrated, got.CalibrationDue)
		}

		// Retiring is a deactivation in the trail; the device stays listed.
		got.Status = device.Retired
		if err := device.Update(ctx, db, alice, "ECG-0001", got.Version, got, "end of life"); err != nil {
			t.Fatal(err)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "device", EntityID: "ECG-0001"})
		want := map[string]bool{}
		for _, e := range entries {
			switch {
			case e.Action == audit.Create && e.Field == "calibration_due" && e.New == "2026-10-01":
				want["create"] = true
			case e.Action == audit.Update && e.Field == "status" && e.New == "out_of_service" && e.Reason == "sent for repair":
				want["out of service"] = true
			case e.Field == "calibration_due" && e.Old == "2026-10-01" && e.New == "2027-01-15" && e.Reason == "annual calibration by GE":
				want["calibration"] = true
			case e.Action == audit.Deactivate && e.Field == "status" && e.New == "retired" && e.Reason == "end of life":
				want["retire"] = true
			}
		}
		if len(want) != 4 {
			t.Fatalf("audit trail has only %v: %+v", want, entries)
		}
	})
}

func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		setup(t, db)
		if _, err := site.Create(ctx, db, alice, site.Site{Code: "BOS", Name: "Boston", TimeZone: "America/New_York"}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []device.Device{
			{AssetTag: "ECG-0001", SerialNumber: "GE-100", TypeCode: "ECG", SiteCode: "AMS", CalibrationDue: date("2027-01-01")},
			{AssetTag: "ECG-0002", SerialNumber: "GE-200", TypeCode: "ECG", SiteCode: "BOS", CalibrationDue: date("2027-01-01"), Status: device.OutOfService},
			{AssetTag: "SCL-0001", SerialNumber: "SECA_1", TypeCode: "SCALE", SiteCode: "AMS"},
		} {
			if _, err := device.Create(ctx, db, alice, d); err != nil {
				t.Fatal(err)
			}
		}
		tags := func(f device.Filter) string {
			list, err := device.List(ctx, db, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range list {
				out = append(out, d.AssetTag)
			}
			return strings.Join(out, " ")
		}
		for f, want := range map[device.Filter]string{
			{}:                                   "ECG-0001 ECG-0002 SCL-0001",
			{SiteCode: "AMS"}:                    "ECG-0001 SCL-0001",
			{TypeCode: "ECG"}:                    "ECG-0001 ECG-0002",
			{Status: device.OutOfService}:        "ECG-0002",
			{SiteCode: "AMS", TypeCode: "ECG"}:   "ECG-0001",
			{Text: "ge-2"}:                       "ECG-0002",
			{Text: "scl"}:                        "SCL-0001",
			{Text: "_"}:                          "SCL-0001",
			{SiteCode: "BOS", TypeCode: "SCALE"}: "",
		} {
			if got := tags(f); got != want {
				t.Errorf("filter %+v: got %q, want %q", f, got, want)
			}
		}
	})
}

func TestUsable(t *testing.T) {
	today := date("2026-10-02")
	ecg := device.Device{AssetTag: "ECG-0003", Status: device.InService, CalibrationRequired: true}
	with := func(change func(*device.Device)) device.Device {
		d := ecg
		change(&d)
		return d
	}
	cases := []struct {
		name string
		d    device.Device
		want string
	}{
		{"calibration lapsed", with(func(d *device.Device) { d.CalibrationDue = date("2026-10-01") }), "ECG-0003 is out of calibration since 2026-10-01."},
		{"due today", with(func(d *device.Device) { d.CalibrationDue = date("2026-10-02") }), ""},
		{"due later", with(func(d *device.Device) { d.CalibrationDue = date("2027-01-01") }), ""},
		{"no due date", ecg, "ECG-0003 needs calibration but has no calibration due date recorded."},
		{"no calibration needed", with(func(d *device.Device) { d.CalibrationRequired = false }), ""},
		{"out of service", with(func(d *device.Device) { d.Status = device.OutOfService; d.CalibrationDue = date("2027-01-01") }), "ECG-0003 is out of service."},
		{"retired", with(func(d *device.Device) { d.Status = device.Retired }), "ECG-0003 is retired and can no longer be used."},
	}
	for _, c := range cases {
		err := device.Usable(c.d, today)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// today is read as a calendar date in its own location: late evening in
	// New York on the due date is still the due date.
	ny, _ := time.LoadLocation("America/New_York")
	evening := time.Date(2026, 10, 1, 23, 30, 0, 0, ny)
	if err := device.Usable(cases[0].d, evening); err != nil {
		t.Errorf("on the due date in New York: %v", err)
	}
	if days, soon := device.DaysUntilDue(with(func(d *device.Device) { d.CalibrationDue = date("2026-10-20") }), today); days != 18 || !soon {
		t.Errorf("due in 18 days: got %d, soon %v", days, soon)
	}
	if _, soon := device.DaysUntilDue(with(func(d *device.Device) { d.CalibrationDue = date("2027-10-20") }), today); soon {
		t.Error("a due date a year away is flagged as soon")
	}
}

func TestPickable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ams := setup(t, db)
		for _, d := range []device.Device{
			{AssetTag: "ECG-0001", SerialNumber: "1", TypeCode: "ECG", SiteCode: "AMS", CalibrationDue: date("2027-01-01")},
			{AssetTag: "ECG-0002", SerialNumber: "2", TypeCode: "ECG", SiteCode: "AMS", CalibrationDue: date("2026-09-30")},
			{AssetTag: "ECG-0003", SerialNumber: "3", TypeCode: "ECG", SiteCode: "AMS", CalibrationDue: date("2027-01-01"), Status: device.Retired},
			{AssetTag: "SCL-0001", SerialNumber: "4", TypeCode: "SCALE", SiteCode: "AMS"},
		} {
			if _, err := device.Create(ctx, db, alice, d); err != nil {
				t.Fatal(err)
			}
		}
		p, err := device.Pickable(ctx, db, ams.ID, "ECG", date("2026-10-02"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Usable) != 1 || p.Usable[0].AssetTag != "ECG-0001" {
			t.Fatalf("usable: %+v", p.Usable)
		}
		if len(p.Unusable) != 2 || p.Unusable[0].Reason.Problem != device.ProblemOutOfCalibration ||
			p.Unusable[0].Reason.Error() != "ECG-0002 is out of calibration since 2026-09-30." ||
			p.Unusable[1].Reason.Problem != device.ProblemRetired {
			t.Fatalf("unusable: %+v", p.Unusable)
		}
		all, err := device.Pickable(ctx, db, ams.ID, "", date("2026-10-02"))
		if err != nil || len(all.Usable) != 2 {
			t.Fatalf("all types: %+v %v", all, err)
		}
	})
}
