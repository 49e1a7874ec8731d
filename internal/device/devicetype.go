// Package device keeps the unit's device types (ECG, vital-signs monitor,
// scale, …) and its devices: where each one is, whether it is in service and
// when its calibration is due. Data collection may only use a device that is
// in service and in calibration; Usable says why any other one cannot be
// picked. Device types are deactivated and devices retired, never deleted,
// so data collected with them keeps pointing at them.
package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Type is a kind of device, e.g. ECG or infusion pump, and its calibration
// rule.
type Type struct {
	ID          int64
	Code        string
	Name        string
	Description string
	// CalibrationRequired means a device of this type may only be used
	// while its calibration due date has not passed.
	CalibrationRequired bool
	// CalibrationIntervalDays is the time between calibrations, used to set
	// the next due date when a calibration is recorded.
	CalibrationIntervalDays int
	Active                  bool
	CreatedAt               time.Time
	UpdatedAt               time.Time
	UpdatedBy               string
	Version                 int
}

var typeCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,23}$`)

// maxIntervalDays is ten years: no instrument goes longer uncalibrated.
const maxIntervalDays = 3650

// Validate checks a device type's fields and returns FieldErrors naming each
// problem.
func (t Type) Validate() error {
	fe := check.FieldErrors{}
	switch {
	case strings.TrimSpace(t.Code) == "":
		fe.Add("code", "This field is required.")
	case !typeCodePattern.MatchString(t.Code):
		fe.Add("code", "Use 1–24 capital letters, digits, - or _ (for example ECG or VITALS).")
	}
	switch {
	case strings.TrimSpace(t.Name) == "":
		fe.Add("name", "This field is required.")
	case utf8.RuneCountInString(t.Name) > 200:
		fe.Add("name", "Keep the name under 200 characters.")
	}
	if utf8.RuneCountInString(t.Description) > 1000 {
		fe.Add("description", "Keep the description under 1000 characters.")
	}
	if t.CalibrationRequired && (t.CalibrationIntervalDays < 1 || t.CalibrationIntervalDays > maxIntervalDays) {
		fe.Add("calibration_interval_days", "Enter the number of days between calibrations, from 1 to %d.", maxIntervalDays)
	}
	return fe.Err()
}

func (t Type) tidy() Type {
	t.Code = strings.ToUpper(strings.TrimSpace(t.Code))
	t.Name = strings.TrimSpace(t.Name)
	t.Description = strings.TrimSpace(t.Description)
	// An interval without the requirement would never be applied; keeping
	// it would suggest otherwise.
	if !t.CalibrationRequired {
		t.CalibrationIntervalDays = 0
	}
	return t
}

func (t Type) fields() map[string]string {
	return map[string]string{"code": t.Code, "name": t.Name, "description": t.Description,
		"calibration_required": yesNo(t.CalibrationRequired), "calibration_interval_days": strconv.Itoa(t.CalibrationIntervalDays),
		"active": yesNo(t.Active)}
}

var typeFields = []string{"code", "name", "description", "calibration_required", "calibration_interval_days", "active"}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

const typeColumns = "id, code, name, description, calibration_required, calibration_interval_days, active, created_at, updated_at, updated_by, version"

type scanner interface{ Scan(...any) error }

func scanType(r scanner) (Type, error) {
	var t Type
	err := r.Scan(&t.ID, &t.Code, &t.Name, &t.Description, &t.CalibrationRequired, &t.CalibrationIntervalDays, &t.Active,
		&t.CreatedAt, &t.UpdatedAt, &t.UpdatedBy, &t.Version)
	return t, err
}

// ListTypes returns device types by name; deactivated ones only when
// includeInactive.
func ListTypes(ctx context.Context, q store.Querier, includeInactive bool) ([]Type, error) {
	query := "SELECT " + typeColumns + " FROM device_type"
	var args []any
	if !includeInactive {
		query += " WHERE active = ?"
		args = append(args, true)
	}
	rows, err := q.Query(ctx, query+" ORDER BY name, code", args...)
	if err != nil {
		return nil, fmt.Errorf("list device types: %w", err)
	}
	defer rows.Close()
	var out []Type
	for rows.Next() {
		t, err := scanType(rows)
		if err != nil {
			return nil, fmt.Errorf("list device types: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// GetType returns the device type with the given code.
func GetType(ctx context.Context, q store.Querier, code string) (Type, error) {
	t, err := scanType(q.QueryRow(ctx, "SELECT "+typeColumns+" FROM device_type WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("device type %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("read device type %s: %w", code, err)
	}
	return t, nil
}

// CreateType stores a new, active device type and audits it.
func CreateType(ctx context.Context, db *store.DB, by audit.Actor, t Type) (Type, error) {
	t = t.tidy()
	t.Active = true
	if err := t.Validate(); err != nil {
		return t, err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO device_type (code, name, description, calibration_required, calibration_interval_days,
			active, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.Code, t.Name, t.Description, t.CalibrationRequired, t.CalibrationIntervalDays, true, now, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("A device type with code %s already exists (it may be deactivated).", t.Code)}
		}
		if err != nil {
			return fmt.Errorf("create device type %s: %w", t.Code, err)
		}
		t.ID, t.CreatedAt, t.UpdatedAt, t.UpdatedBy, t.Version = id, now, now, by.Name, 1
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "device_type", EntityID: t.Code,
			Changes: audit.Diff(typeFields, nil, t.fields())})
	})
	return t, err
}

// UpdateType saves changes to a device type's name, description and
// calibration rule. Making calibration required leaves devices without a due
// date unusable until one is recorded, which is the point.
func UpdateType(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, t Type, reason string) error {
	return changeType(ctx, db, by, code, version, reason, audit.Update, func(old Type) (Type, error) {
		t.ID, t.Code, t.Active = old.ID, old.Code, old.Active
		t = t.tidy()
		return t, t.Validate()
	})
}

// DeactivateType stops a device type being offered for new devices; its
// devices stay as they are.
func DeactivateType(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string) error {
	return changeType(ctx, db, by, code, version, reason, audit.Deactivate, func(old Type) (Type, error) {
		if !old.Active {
			return old, fmt.Errorf("The device type %s is already deactivated.", code)
		}
		old.Active = false
		return old, nil
	})
}

// ReactivateType offers a deactivated device type again.
func ReactivateType(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string) error {
	return changeType(ctx, db, by, code, version, reason, audit.Reactivate, func(old Type) (Type, error) {
		if old.Active {
			return old, fmt.Errorf("The device type %s is already active.", code)
		}
		old.Active = true
		return old, nil
	})
}

func requireReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return nil
}

func changeType(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string,
	action audit.Action, apply func(Type) (Type, error)) error {
	if err := requireReason(reason); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := GetType(ctx, tx, code)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "device type", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		t, err := apply(old)
		if err != nil {
			return err
		}
		changes := audit.Diff(typeFields, old.fields(), t.fields())
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, `UPDATE device_type SET name = ?, description = ?, calibration_required = ?,
			calibration_interval_days = ?, active = ?, updated_at = ?, updated_by = ?, version = version + 1
			WHERE id = ? AND version = ?`,
			t.Name, t.Description, t.CalibrationRequired, t.CalibrationIntervalDays, t.Active, time.Now().UTC(), by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("save device type %s: %w", code, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return &check.Conflict{Entity: "device type", By: "another user", At: time.Now().UTC()}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "device_type", EntityID: code, Reason: reason, Changes: changes})
	})
}
