package bundle

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

// deviceCategory carries device types and devices. Keys say which:
// "type/ECG" for a device type (every type, active or deactivated, since a
// deactivated type still names devices in service) and "device/ECG-0001"
// for a device, by asset tag. A device names its type and its site by code.
//
// Retired devices, and devices at an archived site, are never exported:
// they have left the unit, as archived sites never leave the instance.
// On import, types come before devices. A device is ignored, with the
// reason, when this instance has archived its site (as the sites category
// ignores that site) or retired the device, or when the bundle says it is
// retired. A device whose site this instance does not have at all — the
// bundle was exported without its sites, or the site was archived in the
// bundle — is refused with a sentence naming the device and the site, and
// nothing is imported: the bundle is incomplete, and leaving the device
// out silently would lose it. A device type whose active flag differs from
// this instance's is ignored (an import never deactivates or reactivates).
type deviceCategory struct{}

const (
	deviceTypeKind = "type"
	deviceKind     = "device"
)

type deviceTypeFields struct {
	Name                    string `json:"name"`
	Description             string `json:"description"`
	CalibrationRequired     bool   `json:"calibration_required"`
	CalibrationIntervalDays int    `json:"calibration_interval_days"`
	Active                  bool   `json:"active"`
}

type deviceFields struct {
	SerialNumber string `json:"serial_number"`
	Model        string `json:"model"`
	Manufacturer string `json:"manufacturer"`
	// Type and Site are codes.
	Type string `json:"type"`
	Site string `json:"site"`
	// CalibrationDue and LastCalibrated are YYYY-MM-DD, "" for none.
	CalibrationDue string `json:"calibration_due"`
	LastCalibrated string `json:"last_calibrated"`
	Status         string `json:"status"`
	Notes          string `json:"notes"`
}

func (deviceCategory) Name() string     { return "devices" }
func (deviceCategory) Promotable() bool { return true }

func (deviceCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	types, err := device.ListTypes(ctx, q, true)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, t := range types {
		rec, err := NewRecord(deviceTypeKind+"/"+t.Code, deviceTypeFields{Name: t.Name, Description: t.Description,
			CalibrationRequired: t.CalibrationRequired, CalibrationIntervalDays: t.CalibrationIntervalDays, Active: t.Active})
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	archived, err := archivedSites(ctx, q)
	if err != nil {
		return nil, err
	}
	devices, err := device.List(ctx, q, device.Filter{})
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		if d.Status == device.Retired || archived[d.SiteCode] {
			continue
		}
		rec, err := NewRecord(deviceKind+"/"+d.AssetTag, deviceFields{SerialNumber: d.SerialNumber, Model: d.Model,
			Manufacturer: d.Manufacturer, Type: d.TypeCode, Site: d.SiteCode, CalibrationDue: dateText(d.CalibrationDue),
			LastCalibrated: dateText(d.LastCalibrated), Status: string(d.Status), Notes: d.Notes})
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// archivedSites returns the codes of this instance's archived sites.
func archivedSites(ctx context.Context, q store.Querier) (map[string]bool, error) {
	sites, err := site.List(ctx, q, true)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, s := range sites {
		if s.Archived {
			out[s.Code] = true
		}
	}
	return out, nil
}

func (deviceCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	types, err := device.ListTypes(ctx, q, true)
	if err != nil {
		return nil, err
	}
	typeActive := map[string]bool{}
	for _, t := range types {
		typeActive[t.Code] = t.Active
	}
	archived, err := archivedSites(ctx, q)
	if err != nil {
		return nil, err
	}
	devices, err := device.List(ctx, q, device.Filter{})
	if err != nil {
		return nil, err
	}
	retired := map[string]bool{}
	for _, d := range devices {
		retired[d.AssetTag] = d.Status == device.Retired
	}
	skip := map[string]string{}
	for _, rec := range incoming {
		kind, code, _ := splitKey(rec.Key)
		switch kind {
		case deviceTypeKind:
			if here, ok := typeActive[code]; ok {
				if why := activeSkip("device type", here, activeField(rec)); why != "" {
					skip[rec.Key] = why
				}
			}
		case deviceKind:
			status, _ := rec.Fields["status"].(string)
			siteCode, _ := rec.Fields["site"].(string)
			switch {
			case status == string(device.Retired):
				skip[rec.Key] = "retired in the bundle: retired devices are never promoted"
			case retired[code]:
				skip[rec.Key] = "retired in this instance: an import never brings back a retired device"
			case archived[siteCode]:
				skip[rec.Key] = fmt.Sprintf("its site %s is archived in this instance: a device is never placed at an archived site", siteCode)
			}
		}
	}
	return skip, nil
}

func (deviceCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	// Types first: devices name them.
	for _, pass := range []string{deviceTypeKind, deviceKind} {
		for _, rec := range records {
			kind, code, ok := splitKey(rec.Key)
			if !ok || (kind != deviceTypeKind && kind != deviceKind) {
				return recordError("devices", rec.Key, fmt.Errorf("its key is neither type/CODE nor device/ASSET-TAG"))
			}
			if kind != pass {
				continue
			}
			var err error
			if kind == deviceTypeKind {
				err = applyDeviceType(ctx, tx, by, reason, code, rec)
			} else {
				err = applyDevice(ctx, tx, by, reason, code, rec)
			}
			if err != nil {
				return recordError("devices", rec.Key, err)
			}
		}
	}
	return nil
}

func applyDeviceType(ctx context.Context, tx *store.Tx, by audit.Actor, reason, code string, rec Record) error {
	var f deviceTypeFields
	if err := rec.Decode(&f); err != nil {
		return err
	}
	return device.ImportType(ctx, tx, by, device.Type{Code: code, Name: f.Name, Description: f.Description,
		CalibrationRequired: f.CalibrationRequired, CalibrationIntervalDays: f.CalibrationIntervalDays, Active: f.Active}, reason)
}

func applyDevice(ctx context.Context, tx *store.Tx, by audit.Actor, reason, code string, rec Record) error {
	var f deviceFields
	if err := rec.Decode(&f); err != nil {
		return err
	}
	due, err := parseDate("calibration_due", f.CalibrationDue)
	if err != nil {
		return err
	}
	last, err := parseDate("last_calibrated", f.LastCalibrated)
	if err != nil {
		return err
	}
	return device.Import(ctx, tx, by, device.Device{AssetTag: code, SerialNumber: f.SerialNumber, Model: f.Model,
		Manufacturer: f.Manufacturer, TypeCode: f.Type, SiteCode: f.Site, CalibrationDue: due, LastCalibrated: last,
		Status: device.Status(f.Status), Notes: f.Notes}, reason)
}
