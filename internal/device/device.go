package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Status is whether a device is in use.
type Status string

// The statuses of a device. A retired device has left the unit for good; an
// out-of-service one is expected back (repair, quarantine).
const (
	InService    Status = "in_service"
	OutOfService Status = "out_of_service"
	Retired      Status = "retired"
)

// Statuses lists the statuses in the order forms offer them.
var Statuses = []Status{InService, OutOfService, Retired}

// Label is the status as people say it.
func (s Status) Label() string {
	switch s {
	case InService:
		return "in service"
	case OutOfService:
		return "out of service"
	case Retired:
		return "retired"
	}
	return string(s)
}

func (s Status) known() bool {
	for _, k := range Statuses {
		if k == s {
			return true
		}
	}
	return false
}

// Device is one physical device of the unit. Type and site are named by
// their codes; the other Type* and Site* fields are read with the device so
// that callers can judge it without further queries.
type Device struct {
	ID           int64
	AssetTag     string
	SerialNumber string
	Model        string
	Manufacturer string
	TypeCode     string
	TypeName     string
	// CalibrationRequired and CalibrationIntervalDays come from the type.
	CalibrationRequired     bool
	CalibrationIntervalDays int
	SiteID                  int64
	SiteCode                string
	SiteName                string
	// SiteTimeZone is where "today" is decided for the device's calibration.
	SiteTimeZone string
	// CalibrationDue is the last day the device may be used before it is
	// calibrated again; zero when none is recorded.
	CalibrationDue time.Time
	// LastCalibrated is the date of the last recorded calibration; zero when
	// none is recorded.
	LastCalibrated time.Time
	Status         Status
	Notes          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	UpdatedBy      string
	Version        int
}

var assetTagPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_.-]{0,31}$`)

// Validate checks the fields a device carries by itself and returns
// FieldErrors naming each problem. Whether its type and site exist and are
// active is checked when it is saved.
func (d Device) Validate() error {
	fe := check.FieldErrors{}
	switch {
	case strings.TrimSpace(d.AssetTag) == "":
		fe.Add("asset_tag", "This field is required.")
	case !assetTagPattern.MatchString(d.AssetTag):
		fe.Add("asset_tag", "Use 1–32 capital letters, digits, -, _ or . (for example ECG-0003).")
	}
	switch {
	case strings.TrimSpace(d.SerialNumber) == "":
		fe.Add("serial_number", "This field is required.")
	case utf8.RuneCountInString(d.SerialNumber) > 100:
		fe.Add("serial_number", "Keep the serial number under 100 characters.")
	}
	if utf8.RuneCountInString(d.Model) > 200 {
		fe.Add("model", "Keep the model under 200 characters.")
	}
	if utf8.RuneCountInString(d.Manufacturer) > 200 {
		fe.Add("manufacturer", "Keep the manufacturer under 200 characters.")
	}
	if strings.TrimSpace(d.TypeCode) == "" {
		fe.Add("type", "Choose the device type.")
	}
	if strings.TrimSpace(d.SiteCode) == "" {
		fe.Add("site", "Choose the site the device is at.")
	}
	if !d.Status.known() {
		fe.Add("status", "Choose in service, out of service or retired.")
	}
	if utf8.RuneCountInString(d.Notes) > 2000 {
		fe.Add("notes", "Keep the notes under 2000 characters.")
	}
	return fe.Err()
}

func (d Device) tidy() Device {
	d.AssetTag = strings.ToUpper(strings.TrimSpace(d.AssetTag))
	d.SerialNumber = strings.TrimSpace(d.SerialNumber)
	d.Model = strings.TrimSpace(d.Model)
	d.Manufacturer = strings.TrimSpace(d.Manufacturer)
	d.TypeCode = strings.TrimSpace(d.TypeCode)
	d.SiteCode = strings.TrimSpace(d.SiteCode)
	d.Notes = strings.TrimSpace(d.Notes)
	d.CalibrationDue = Day(d.CalibrationDue)
	d.LastCalibrated = Day(d.LastCalibrated)
	return d
}

// Day returns t's calendar date (in t's own location) as midnight UTC, the
// form dates are stored and compared in; the zero time stays zero.
func Day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dateText is a date as the audit trail and messages show it.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func (d Device) fields() map[string]string {
	return map[string]string{"asset_tag": d.AssetTag, "serial_number": d.SerialNumber, "model": d.Model,
		"manufacturer": d.Manufacturer, "type": d.TypeCode, "site": d.SiteCode,
		"calibration_due": dateText(d.CalibrationDue), "last_calibrated": dateText(d.LastCalibrated),
		"status": string(d.Status), "notes": d.Notes}
}

var deviceFields = []string{"asset_tag", "serial_number", "model", "manufacturer", "type", "site", "calibration_due",
	"last_calibrated", "status", "notes"}

const deviceSelect = `SELECT d.id, d.asset_tag, d.serial_number, d.model, d.manufacturer,
	t.code, t.name, t.calibration_required, t.calibration_interval_days,
	s.id, s.code, s.name, s.time_zone, d.calibration_due, d.last_calibrated, d.status, d.notes,
	d.created_at, d.updated_at, d.updated_by, d.version
	FROM device d JOIN device_type t ON t.id = d.type_id JOIN site s ON s.id = d.site_id`

func scanDevice(r scanner) (Device, error) {
	var d Device
	var due, last sql.NullTime
	var status string
	err := r.Scan(&d.ID, &d.AssetTag, &d.SerialNumber, &d.Model, &d.Manufacturer,
		&d.TypeCode, &d.TypeName, &d.CalibrationRequired, &d.CalibrationIntervalDays,
		&d.SiteID, &d.SiteCode, &d.SiteName, &d.SiteTimeZone, &due, &last, &status, &d.Notes,
		&d.CreatedAt, &d.UpdatedAt, &d.UpdatedBy, &d.Version)
	d.Status = Status(status)
	if due.Valid {
		d.CalibrationDue = Day(due.Time.UTC())
	}
	if last.Valid {
		d.LastCalibrated = Day(last.Time.UTC())
	}
	return d, err
}

// nullDate stores the zero time as NULL.
func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return Day(t)
}

// Filter selects devices for the device list. Zero fields match everything.
type Filter struct {
	SiteCode string
	TypeCode string
	Status   Status
	// Text matches part of the asset tag or serial number, ignoring case.
	Text string
}

// List returns the devices matching f, by asset tag.
func List(ctx context.Context, q store.Querier, f Filter) ([]Device, error) {
	var conds []string
	var args []any
	if f.SiteCode != "" {
		conds, args = append(conds, "s.code = ?"), append(args, f.SiteCode)
	}
	if f.TypeCode != "" {
		conds, args = append(conds, "t.code = ?"), append(args, f.TypeCode)
	}
	if f.Status != "" {
		conds, args = append(conds, "d.status = ?"), append(args, string(f.Status))
	}
	if text := strings.TrimSpace(f.Text); text != "" {
		like := "%" + escapeLike(strings.ToLower(text)) + "%"
		conds = append(conds, `(LOWER(d.asset_tag) LIKE ? ESCAPE '\' OR LOWER(d.serial_number) LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	return query(ctx, q, conds, args)
}

func query(ctx context.Context, q store.Querier, conds []string, args []any) ([]Device, error) {
	sqlText := deviceSelect
	if len(conds) > 0 {
		sqlText += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := q.Query(ctx, sqlText+" ORDER BY d.asset_tag", args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// escapeLike makes % and _ in a search text match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Get returns the device with the given asset tag.
func Get(ctx context.Context, q store.Querier, assetTag string) (Device, error) {
	d, err := scanDevice(q.QueryRow(ctx, deviceSelect+" WHERE d.asset_tag = ?", assetTag))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %q: %w", assetTag, check.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read device %s: %w", assetTag, err)
	}
	return d, nil
}
