package demo

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// Volunteers is how many synthetic volunteers the demo clinic starts with:
// enough to search, page and find duplicates in, few enough to seed in a
// moment.
const Volunteers = 200

// VolunteerSeed makes the demo volunteers the same in every new instance.
const VolunteerSeed = 1

// seedVolunteers adds the demo volunteers, generated for the demo
// clinic's sites and Configure lists. They need both.
func seedVolunteers(ctx context.Context, db *store.DB) error {
	if _, err := registry.Populate(ctx, db, audit.System, registry.PopulateOptions{Count: Volunteers, Seed: VolunteerSeed}); err != nil {
		return fmt.Errorf("seed demo volunteers: %w", err)
	}
	return nil
}
