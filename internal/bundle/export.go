package bundle

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ExportOptions choose what a bundle holds and what its manifest says.
type ExportOptions struct {
	// Categories are the names of the categories to export; none means
	// every promotable category. Non-promotable ones (configure-lists) are
	// exported only when named.
	Categories []string
	// Instance names the source instance in the manifest, e.g. "Sandbox
	// Main" or its address; the organisation name comes from settings.
	Instance string
	// At is the export time written to the manifest, truncated to the
	// second; zero means now. Pass it to get byte-identical bundles from
	// identical data.
	At time.Time
}

// Export reads the chosen categories from the instance, all in one
// transaction so they reflect a single moment, and returns the sealed
// bundle and its bytes.
func Export(ctx context.Context, db *store.DB, opts ExportOptions) (*Bundle, []byte, error) {
	cats, err := selectCategories(opts.Categories)
	if err != nil {
		return nil, nil, err
	}
	schema, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	b := &Bundle{Manifest: Manifest{SchemaVersion: schema, ExportedAt: at.UTC().Truncate(time.Second)}}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := snapshot(ctx, tx); err != nil {
			return err
		}
		settings, err := setting.Load(ctx, tx)
		if err != nil {
			return err
		}
		b.Manifest.Source = Source{Organisation: settings.Get("org.name"), Instance: opts.Instance}
		for _, c := range cats {
			records, err := exportCategory(ctx, tx, c)
			if err != nil {
				return err
			}
			b.Content = append(b.Content, Section{Category: c.Name(), Records: records})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("export configuration: %w", err)
	}
	data, err := b.Encode()
	if err != nil {
		return nil, nil, err
	}
	return b, data, nil
}

// snapshot makes a PostgreSQL transaction read one consistent state, as
// SQLite's immediate transaction already does.
func snapshot(ctx context.Context, tx *store.Tx) error {
	if tx.Engine != store.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
	return err
}

// exportCategory returns a category's records sorted by key, refusing
// records without a key or with a key given twice.
func exportCategory(ctx context.Context, q store.Querier, c Category) ([]Record, error) {
	records, err := c.Export(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", c.Name(), err)
	}
	sort.SliceStable(records, func(i, j int) bool { return records[i].Key < records[j].Key })
	for i, r := range records {
		if r.Key == "" {
			return nil, fmt.Errorf("export %s: a record has no key", c.Name())
		}
		if i > 0 && records[i-1].Key == r.Key {
			return nil, fmt.Errorf("export %s: the key %q is used by two records", c.Name(), r.Key)
		}
		if r.Fields == nil {
			records[i].Fields = map[string]any{}
		}
	}
	if records == nil {
		records = []Record{}
	}
	return records, nil
}
