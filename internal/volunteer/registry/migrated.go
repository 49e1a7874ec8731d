package registry

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// StoreMigrated stores volunteers brought in by the migration program, in
// the caller's transaction, with the same bulk inserts as Import: numbers
// kept when the record carries one (its counter moves past it) or drawn
// from the instance's pattern, and one "import" audit entry per volunteer
// holding the whole record, with reason. The caller has already checked the
// records (volunteer.Validate, CheckCodes) and resolved duplicates. On
// return vs holds the numbers and ids given.
func StoreMigrated(ctx context.Context, tx *store.Tx, by audit.Actor, vs []volunteer.Volunteer, reason string) error {
	if len(vs) == 0 {
		return nil
	}
	num, err := newNumberer(ctx, tx)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Number != "" {
			if err := num.claim(ctx, tx, v.Number); err != nil {
				return err
			}
		}
	}
	if err := insertNumbered(ctx, tx, num, by, vs); err != nil {
		return err
	}
	for _, v := range vs {
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: Entity, EntityID: v.Number,
			Reason: reason, Changes: []audit.Change{{Field: RecordField, New: encodeRecord(trailValues(v))}}}); err != nil {
			return err
		}
	}
	return nil
}
