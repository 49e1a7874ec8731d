package demo

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/dictionary/demodata"
	"github.com/cohort-clinical/cohort/internal/store"
)

// demoDictionaries are the folders of demodata.DemoFS the demo imports:
// synthetic releases in the real layouts, so a prospect can code without a
// MedDRA or WHODrug licence.
var demoDictionaries = []string{"meddra/27.1", "whodrug/GLOBALB3Mar26"}

// seedDictionaries imports the synthetic MedDRA and WHODrug releases. Each
// is the first version of its dictionary, so it is active at once.
func seedDictionaries(ctx context.Context, db *store.DB) error {
	for _, dir := range demoDictionaries {
		sub, err := fs.Sub(demodata.DemoFS, dir)
		if err != nil {
			return fmt.Errorf("seed demo dictionary %s: %w", dir, err)
		}
		if _, err := dictionary.ImportFS(ctx, db, audit.System, sub, "", "demo data ("+dir+")"); err != nil {
			return fmt.Errorf("seed demo dictionary %s: %w", dir, err)
		}
	}
	return nil
}
