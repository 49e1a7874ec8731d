package console

import (
	"context"
	"errors"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// pairRun picks the migration run a pair is filled from (see
// MigrationRuns): for VAL the run asked for by its number, which must have
// succeeded, or else the latest successful run; for PROD the run the
// customer signed off, refusing any other.
func pairRun(ctx context.Context, q store.Querier, org string, k Kind, asked int) (MigrationRun, error) {
	runs, err := MigrationRuns(ctx, q, org)
	if err != nil {
		return MigrationRun{}, err
	}
	if k == Prod {
		for _, r := range runs {
			if r.SignedOff() {
				if asked != 0 && asked != r.Number {
					return r, refuse("PROD is filled from the migration run the customer signed off (run %d), not run %d.", r.Number, asked)
				}
				return r, nil
			}
		}
		return MigrationRun{}, refuse("PROD is made from the migration output the customer signed off, and %s has no signed-off migration run.", org)
	}
	for _, r := range runs {
		switch {
		case asked != 0 && r.Number == asked && r.State != RunDone:
			return r, refuse("Migration run %d of %s is %s; a VAL is filled only from a successful run.", asked, org, r.State)
		case (asked == 0 || r.Number == asked) && r.State == RunDone:
			return r, nil
		}
	}
	if asked != 0 {
		return MigrationRun{}, check.FieldErrors{"run": fmt.Sprintf("%s has no migration run %d.", org, asked)}
	}
	return MigrationRun{}, refuse("%s has no successful migration run yet; a VAL needs the migration output. Run the migration program first.", org)
}

// runNumber is the number of a migration run, by its id, for the pages.
func runNumber(ctx context.Context, q store.Querier, id int64) (int, error) {
	r, err := MigrationRunByID(ctx, q, id)
	if errors.Is(err, check.ErrNotFound) {
		return 0, nil
	}
	return r.Number, err
}
