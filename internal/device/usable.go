package device

import (
	"context"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Problem names why a device cannot be used.
type Problem string

// The reasons a device cannot be picked for use.
const (
	ProblemRetired           Problem = "retired"
	ProblemOutOfService      Problem = "out_of_service"
	ProblemOutOfCalibration  Problem = "out_of_calibration"
	ProblemNoCalibrationDate Problem = "no_calibration_date"
)

// NotUsable is the error Usable returns: which device, why, and since when
// for a calibration that has lapsed. Its message is a sentence for the
// person holding the device.
type NotUsable struct {
	AssetTag string
	Problem  Problem
	// Since is the calibration due date that has passed.
	Since time.Time
}

// Error says in one sentence why the device cannot be used, naming it, e.g.
// "ECG-0003 is out of calibration since 2026-10-01.".
func (e *NotUsable) Error() string {
	switch e.Problem {
	case ProblemRetired:
		return fmt.Sprintf("%s is retired and can no longer be used.", e.AssetTag)
	case ProblemOutOfService:
		return fmt.Sprintf("%s is out of service.", e.AssetTag)
	case ProblemOutOfCalibration:
		return fmt.Sprintf("%s is out of calibration since %s.", e.AssetTag, dateText(e.Since))
	case ProblemNoCalibrationDate:
		return fmt.Sprintf("%s needs calibration but has no calibration due date recorded.", e.AssetTag)
	}
	return fmt.Sprintf("%s cannot be used.", e.AssetTag)
}

// Usable returns nil when d may be used on the calendar date of today (taken
// in today's own location, which should be the device's site's), or a
// *NotUsable saying why not. The due date is the last day of use: a device
// due on 1 October may still be used that day, and not after.
func Usable(d Device, today time.Time) error {
	switch {
	case d.Status == Retired:
		return &NotUsable{AssetTag: d.AssetTag, Problem: ProblemRetired}
	case d.Status != InService:
		return &NotUsable{AssetTag: d.AssetTag, Problem: ProblemOutOfService}
	case !d.CalibrationDue.IsZero() && Day(today).After(d.CalibrationDue):
		// A recorded due date counts even when the type does not demand
		// calibration: someone decided this device needs it.
		return &NotUsable{AssetTag: d.AssetTag, Problem: ProblemOutOfCalibration, Since: d.CalibrationDue}
	case d.CalibrationRequired && d.CalibrationDue.IsZero():
		return &NotUsable{AssetTag: d.AssetTag, Problem: ProblemNoCalibrationDate}
	}
	return nil
}

// DueSoonDays is how many days ahead a coming calibration is flagged, so the
// unit can book the engineer before the device becomes unusable.
const DueSoonDays = 30

// DaysUntilDue returns how many days remain until d's calibration is due
// (0 on the due date itself) and whether that is within DueSoonDays. A
// device without a due date, or already past it, is not "due soon".
func DaysUntilDue(d Device, today time.Time) (days int, soon bool) {
	if d.CalibrationDue.IsZero() {
		return 0, false
	}
	days = int(d.CalibrationDue.Sub(Day(today)).Hours() / 24)
	return days, days >= 0 && days <= DueSoonDays
}

// Unpickable is a device a picker shows but does not let anyone choose,
// with the reason.
type Unpickable struct {
	Device Device
	Reason *NotUsable
}

// Picks are the devices a data-collection picker offers: the usable ones,
// and separately the unusable ones with their reasons, so the person at the
// bedside sees why the device in their hand is not in the list.
type Picks struct {
	Usable   []Device
	Unusable []Unpickable
}

// Pickable returns the devices of one type (all types when typeCode is
// empty) at one site, split by whether they may be used on today.
func Pickable(ctx context.Context, q store.Querier, siteID int64, typeCode string, today time.Time) (Picks, error) {
	conds, args := []string{"d.site_id = ?"}, []any{siteID}
	if typeCode != "" {
		conds, args = append(conds, "t.code = ?"), append(args, typeCode)
	}
	devices, err := query(ctx, q, conds, args)
	if err != nil {
		return Picks{}, err
	}
	var p Picks
	for _, d := range devices {
		if err := Usable(d, today); err != nil {
			p.Unusable = append(p.Unusable, Unpickable{Device: d, Reason: err.(*NotUsable)})
			continue
		}
		p.Usable = append(p.Usable, d)
	}
	return p, nil
}
