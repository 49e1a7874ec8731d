package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ImportType brings the device type with t's code to t's name, description
// and calibration rule inside tx: it creates the type — active or
// deactivated as t says, since deactivated types still name devices in
// service — when this instance has none with that code, and updates it
// otherwise, auditing either with reason. Configuration promotion uses it.
// It never changes whether an existing type is active: that is this
// instance's decision, so a type whose active flag differs is refused.
func ImportType(ctx context.Context, tx *store.Tx, by audit.Actor, t Type, reason string) error {
	t = t.tidy()
	if err := t.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this device type."}
	}
	old, err := GetType(ctx, tx, t.Code)
	now := time.Now().UTC()
	if errors.Is(err, check.ErrNotFound) {
		_, err := tx.InsertID(ctx, `INSERT INTO device_type (code, name, description, calibration_required, calibration_interval_days,
			active, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.Code, t.Name, t.Description, t.CalibrationRequired, t.CalibrationIntervalDays, t.Active, now, now, by.Name)
		if err != nil {
			return fmt.Errorf("import device type %s: %w", t.Code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "device_type", EntityID: t.Code,
			Reason: reason, Changes: audit.Diff(typeFields, nil, t.fields())})
	}
	if err != nil {
		return err
	}
	switch {
	case old.Active && !t.Active:
		return fmt.Errorf("The device type %s is active in this instance; an import never deactivates a device type.", t.Code)
	case !old.Active && t.Active:
		return fmt.Errorf("The device type %s is deactivated in this instance; an import never reactivates a device type.", t.Code)
	}
	changes := audit.Diff(typeFields, old.fields(), t.fields())
	if len(changes) == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, `UPDATE device_type SET name = ?, description = ?, calibration_required = ?,
		calibration_interval_days = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?`,
		t.Name, t.Description, t.CalibrationRequired, t.CalibrationIntervalDays, now, by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("import device type %s: %w", t.Code, err)
	}
	// On PostgreSQL another transaction may have saved the type since it
	// was read here; the import then must not overwrite that change.
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "device type", By: "another user", At: now}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "device_type", EntityID: t.Code, Reason: reason, Changes: changes})
}

// Import brings the device with d's asset tag to d's serial number, model,
// manufacturer, type, site, calibration dates, status and notes inside tx,
// creating it when this instance has none with that asset tag and updating
// it otherwise, auditing either with reason. Configuration promotion uses
// it. Its type must exist here (deactivated or not: a device already in
// service keeps a type that is no longer offered).
//
// The device is refused, with a sentence naming it and its site, when its
// site is missing here or archived here: devices are never placed at a site
// this instance does not run. Retired devices are never imported, and a
// device retired here is never brought back. The calibration dates are
// taken as the source has them — a lapsed or missing one included — because
// Usable judges them here exactly as it did there.
func Import(ctx context.Context, tx *store.Tx, by audit.Actor, d Device, reason string) error {
	d = d.tidy()
	if err := d.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this device."}
	}
	if d.Status == Retired {
		return fmt.Errorf("The device %s is retired; retired devices are never imported.", d.AssetTag)
	}
	var typeID int64
	err := tx.QueryRow(ctx, "SELECT id FROM device_type WHERE code = ?", d.TypeCode).Scan(&typeID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("The device %s is of type %s, which this instance does not have; import the bundle's device types with it.", d.AssetTag, d.TypeCode)
	}
	if err != nil {
		return fmt.Errorf("read device type %s: %w", d.TypeCode, err)
	}
	var siteID int64
	var archived bool
	err = tx.QueryRow(ctx, "SELECT id, archived FROM site WHERE code = ?", d.SiteCode).Scan(&siteID, &archived)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("The device %s is at site %s, which this instance does not have; import the bundle's sites with it, or create site %s first.", d.AssetTag, d.SiteCode, d.SiteCode)
	case err != nil:
		return fmt.Errorf("read site %s: %w", d.SiteCode, err)
	case archived:
		return fmt.Errorf("The device %s is at site %s, which is archived in this instance; a device is never placed at an archived site.", d.AssetTag, d.SiteCode)
	}

	now := time.Now().UTC()
	old, err := Get(ctx, tx, d.AssetTag)
	if errors.Is(err, check.ErrNotFound) {
		_, err = tx.InsertID(ctx, `INSERT INTO device (asset_tag, serial_number, model, manufacturer, type_id, site_id,
			calibration_due, last_calibrated, status, notes, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.AssetTag, d.SerialNumber, d.Model, d.Manufacturer, typeID, siteID, nullDate(d.CalibrationDue),
			nullDate(d.LastCalibrated), string(d.Status), d.Notes, now, now, by.Name)
		if err != nil {
			return fmt.Errorf("import device %s: %w", d.AssetTag, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "device", EntityID: d.AssetTag,
			Reason: reason, Changes: audit.Diff(deviceFields, nil, d.fields())})
	}
	if err != nil {
		return err
	}
	if old.Status == Retired {
		return fmt.Errorf("The device %s is retired in this instance; an import never brings back a retired device.", d.AssetTag)
	}
	changes := audit.Diff(deviceFields, old.fields(), d.fields())
	if len(changes) == 0 {
		return nil
	}
	res, err := tx.Exec(ctx, `UPDATE device SET serial_number = ?, model = ?, manufacturer = ?, type_id = ?, site_id = ?,
		calibration_due = ?, last_calibrated = ?, status = ?, notes = ?, updated_at = ?, updated_by = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		d.SerialNumber, d.Model, d.Manufacturer, typeID, siteID, nullDate(d.CalibrationDue), nullDate(d.LastCalibrated),
		string(d.Status), d.Notes, now, by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("import device %s: %w", d.AssetTag, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "device", By: "another user", At: now}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "device", EntityID: d.AssetTag, Reason: reason, Changes: changes})
}
