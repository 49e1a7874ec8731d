package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Create stores a new device and audits it. Its type must be active and its
// site must be an active site; a device whose type needs calibration needs a
// calibration due date. A due date in the past is accepted: the device is
// then recorded as it is, out of calibration, and Usable refuses it.
func Create(ctx context.Context, db *store.DB, by audit.Actor, d Device) (Device, error) {
	d = d.tidy()
	if d.Status == "" {
		d.Status = InService
	}
	if err := d.Validate(); err != nil {
		return d, err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		typeID, siteID, err := resolve(ctx, tx, d, Device{})
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		_, err = tx.InsertID(ctx, `INSERT INTO device (asset_tag, serial_number, model, manufacturer, type_id, site_id,
			calibration_due, last_calibrated, status, notes, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.AssetTag, d.SerialNumber, d.Model, d.Manufacturer, typeID, siteID, nullDate(d.CalibrationDue),
			nullDate(d.LastCalibrated), string(d.Status), d.Notes, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"asset_tag": fmt.Sprintf("A device with asset tag %s already exists (it may be retired).", d.AssetTag)}
		}
		if err != nil {
			return fmt.Errorf("create device %s: %w", d.AssetTag, err)
		}
		if d, err = Get(ctx, tx, d.AssetTag); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "device", EntityID: d.AssetTag,
			Changes: audit.Diff(deviceFields, nil, d.fields())})
	})
	return d, err
}

// resolve finds the ids of d's type and site and checks that d may be
// placed there. A deactivated type or archived site is refused only when it
// is newly chosen, so a device already there can still be edited or retired.
func resolve(ctx context.Context, tx *store.Tx, d, old Device) (typeID, siteID int64, err error) {
	fe := check.FieldErrors{}
	var typeActive, calibrate bool
	err = tx.QueryRow(ctx, "SELECT id, active, calibration_required FROM device_type WHERE code = ?", d.TypeCode).
		Scan(&typeID, &typeActive, &calibrate)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fe.Add("type", "There is no device type %s.", d.TypeCode)
	case err != nil:
		return 0, 0, fmt.Errorf("read device type %s: %w", d.TypeCode, err)
	case !typeActive && d.TypeCode != old.TypeCode:
		fe.Add("type", "The device type %s is deactivated; choose an active type.", d.TypeCode)
	}
	if calibrate && d.CalibrationDue.IsZero() && d.Status != Retired {
		fe.Add("calibration_due", "Devices of type %s need calibration; enter the date the next calibration is due.", d.TypeCode)
	}
	var archived bool
	err = tx.QueryRow(ctx, "SELECT id, archived FROM site WHERE code = ?", d.SiteCode).Scan(&siteID, &archived)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fe.Add("site", "There is no site %s.", d.SiteCode)
	case err != nil:
		return 0, 0, fmt.Errorf("read site %s: %w", d.SiteCode, err)
	case archived && d.SiteCode != old.SiteCode:
		fe.Add("site", "The site %s is archived; place the device at an active site.", d.SiteCode)
	}
	return typeID, siteID, fe.Err()
}

// Update saves changes to a device: serial number, model, manufacturer,
// type, site, calibration due date, status and notes. The asset tag never
// changes. Retiring a device, or bringing a retired one back, is recorded in
// the audit trail as a deactivation or reactivation.
func Update(ctx context.Context, db *store.DB, by audit.Actor, assetTag string, version int, d Device, reason string) error {
	return change(ctx, db, by, assetTag, version, reason, func(old Device) (Device, error) {
		d.ID, d.AssetTag, d.LastCalibrated = old.ID, old.AssetTag, old.LastCalibrated
		d = d.tidy()
		return d, d.Validate()
	})
}

// RecordCalibration records that the device was calibrated on the given
// date and sets its next due date from its type's calibration interval.
func RecordCalibration(ctx context.Context, db *store.DB, by audit.Actor, assetTag string, version int, on time.Time, reason string) error {
	return change(ctx, db, by, assetTag, version, reason, func(old Device) (Device, error) {
		if on.IsZero() {
			return old, check.FieldErrors{"calibrated_on": "Enter the date the device was calibrated."}
		}
		if Day(on).After(today(old.SiteTimeZone)) {
			return old, check.FieldErrors{"calibrated_on": fmt.Sprintf("%s is in the future; enter the date the calibration was done.", dateText(Day(on)))}
		}
		if old.Status == Retired {
			return old, fmt.Errorf("The device %s is retired; a retired device is not calibrated.", old.AssetTag)
		}
		if !old.CalibrationRequired || old.CalibrationIntervalDays == 0 {
			return old, fmt.Errorf("Devices of type %s have no calibration interval; set the device's next due date by editing it.", old.TypeCode)
		}
		old.LastCalibrated = Day(on)
		old.CalibrationDue = Day(on).AddDate(0, 0, old.CalibrationIntervalDays)
		return old, nil
	})
}

// today is the current date at a site, for checks that cannot take the date
// from their caller.
func today(timeZone string) time.Time {
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		loc = time.UTC
	}
	return Day(time.Now().In(loc))
}

func change(ctx context.Context, db *store.DB, by audit.Actor, assetTag string, version int, reason string,
	apply func(Device) (Device, error)) error {
	if err := requireReason(reason); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, assetTag)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "device", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		d, err := apply(old)
		if err != nil {
			return err
		}
		typeID, siteID, err := resolve(ctx, tx, d, old)
		if err != nil {
			return err
		}
		changes := audit.Diff(deviceFields, old.fields(), d.fields())
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, `UPDATE device SET serial_number = ?, model = ?, manufacturer = ?, type_id = ?, site_id = ?,
			calibration_due = ?, last_calibrated = ?, status = ?, notes = ?, updated_at = ?, updated_by = ?, version = version + 1
			WHERE id = ? AND version = ?`,
			d.SerialNumber, d.Model, d.Manufacturer, typeID, siteID, nullDate(d.CalibrationDue), nullDate(d.LastCalibrated),
			string(d.Status), d.Notes, time.Now().UTC(), by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("save device %s: %w", assetTag, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return &check.Conflict{Entity: "device", By: "another user", At: time.Now().UTC()}
		}
		action := audit.Update
		switch {
		case d.Status == Retired && old.Status != Retired:
			action = audit.Deactivate
		case old.Status == Retired && d.Status != Retired:
			action = audit.Reactivate
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "device", EntityID: assetTag, Reason: reason, Changes: changes})
	})
}
