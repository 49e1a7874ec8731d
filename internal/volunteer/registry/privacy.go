package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Erase returns v as privacy removal leaves it: every PHI field of the
// declaration emptied (volunteer.ErasePHI), the birth date reduced to its
// year, the status privacy-removed. The number, study participation,
// consents and coded history (without notes) stay, because the unit must
// keep what studies were run on whom.
func Erase(v volunteer.Volunteer) volunteer.Volunteer {
	year := v.BirthDate.Year
	v = volunteer.ErasePHI(v)
	v.BirthDate = volunteer.Date{Year: year}
	v.Status = volunteer.StatusPrivacyRemoved
	answers := v.Answers[:0]
	for _, a := range v.Answers {
		if a.Value != "" {
			answers = append(answers, a)
		}
	}
	v.Answers = answers
	return v
}

// RemovePersonalData carries out a volunteer's right to erasure: it
// irreversibly replaces the record with Erase of it, removes the
// volunteer from name and phone search, and records a PrivacyRemove entry
// whose old values are masked and whose new values are the erased ones, so
// the entry adds no personal data to the trail (and MaskTrail hides the
// earlier entries' values from then on). It needs the acting user's
// password, re-entered, and a reason; the caller checks the
// volunteer.privacy_remove permission.
func RemovePersonalData(ctx context.Context, db *store.DB, by audit.Actor, number string, version int, password, reason string) error {
	fe := check.FieldErrors{}
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why the personal data is removed, for example the date and reference of the volunteer's request.")
	}
	if password == "" {
		fe.Add("password", "Enter your password to confirm.")
	} else if err := account.CheckPassword(ctx, db, by.ID, password); errors.Is(err, account.ErrWrongPassword) {
		fe.Add("password", "This is not your password.")
	} else if err != nil {
		return err
	}
	if len(fe) > 0 {
		return fe
	}
	return change(ctx, db, number, version, func(tx *store.Tx, old Record) error {
		if err := volunteer.CheckStatusChange(old.Status, volunteer.StatusPrivacyRemoved); err != nil {
			return fmt.Errorf("%s", err.Error())
		}
		erased := Erase(old.Volunteer)
		if err := save(ctx, tx, by, old, erased, true); err != nil {
			return err
		}
		before, after := trailValues(old.Volunteer), trailValues(erased)
		var changes []audit.Change
		for _, f := range trailFields {
			if before[f] != after[f] {
				changes = append(changes, audit.Change{Field: f, Old: MaskTrailValue(f, before[f]), New: after[f]})
			}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: PrivacyRemove, Entity: Entity, EntityID: number, Reason: reason, Changes: changes})
	})
}
