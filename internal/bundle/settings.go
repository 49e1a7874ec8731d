package bundle

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
)

// settingCategory carries the promotable settings of one scope, keyed by
// setting key, every one with its current value (defaults included, so the
// target ends with exactly the source's values). Integration-specific
// settings (single sign-on, lab interface) and secrets are never exported,
// and ignored if a bundle holds them.
type settingCategory struct {
	name  string
	scope setting.Scope
}

type settingFields struct {
	Value string `json:"value"`
}

func (c settingCategory) Name() string   { return c.name }
func (settingCategory) Promotable() bool { return true }

func (c settingCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	v, err := setting.Load(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, d := range setting.InScope(c.scope) {
		if !d.Promotable() {
			continue
		}
		rec, err := NewRecord(d.Key, settingFields{Value: v.Get(d.Key)})
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (c settingCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	skip := map[string]string{}
	for _, rec := range incoming {
		d, ok := setting.Lookup(rec.Key)
		switch {
		case !ok:
			skip[rec.Key] = "this build of cohort has no such setting"
		case d.Scope != c.scope:
			skip[rec.Key] = "a " + string(d.Scope) + " setting, not a " + string(c.scope) + " one"
		case d.IntegrationSpecific:
			skip[rec.Key] = "integration-specific: it belongs to one instance and is never imported"
		case !d.Promotable():
			skip[rec.Key] = "a secret: secrets are never imported"
		}
	}
	return skip, nil
}

func (c settingCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, rec := range records {
		var f settingFields
		if err := rec.Decode(&f); err != nil {
			return recordError(c.name, rec.Key, err)
		}
		if err := setting.Import(ctx, tx, by, c.scope, rec.Key, f.Value, reason); err != nil {
			return recordError(c.name, rec.Key, err)
		}
	}
	return nil
}
