package bundle

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
)

// configListCategory carries the volunteer database's Configure lists, one
// record per entry keyed "list/code" (e.g. "medical_history/ASTHMA"), every
// entry with its place in the list and whether it is active. The lists
// come from the migration program, not from promotion, so the category is
// exported only when asked for by name.
//
// Deactivated entries travel too: migrated volunteers' history still
// refers to them. A new entry is created active or deactivated as the
// bundle has it; an entry whose active flag differs from this instance's is
// ignored, because an import never deactivates and never reverses a
// deactivation made here.
type configListCategory struct{}

type listEntryFields struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	// SortOrder places the entry in its list, lower first.
	SortOrder int  `json:"sort_order"`
	Active    bool `json:"active"`
	// AnswerType, Options and PHI are set on custom questions only.
	AnswerType string   `json:"answer_type,omitempty"`
	Options    []string `json:"options,omitempty"`
	PHI        bool     `json:"phi,omitempty"`
}

func (configListCategory) Name() string     { return "configure-lists" }
func (configListCategory) Promotable() bool { return false }

func (configListCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	var out []Record
	for _, k := range configlist.Kinds {
		entries, err := configlist.Entries(ctx, q, k.Code, true)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			rec, err := NewRecord(e.List+"/"+e.Code, listEntryFields{Label: e.Label, Description: e.Description, SortOrder: e.SortOrder,
				Active: e.Active, AnswerType: string(e.AnswerType), Options: e.Options, PHI: e.PHI})
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

func (configListCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	lookup, err := configlist.LoadLookup(ctx, q, false)
	if err != nil {
		return nil, err
	}
	all, err := configlist.LoadLookup(ctx, q, true)
	if err != nil {
		return nil, err
	}
	skip := map[string]string{}
	for _, rec := range incoming {
		list, code, ok := splitKey(rec.Key)
		if !ok || !all.Has(list, code) {
			continue
		}
		if why := activeSkip("list entry", lookup.Has(list, code), activeField(rec)); why != "" {
			skip[rec.Key] = why
		}
	}
	return skip, nil
}

func (configListCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, rec := range records {
		list, code, ok := splitKey(rec.Key)
		if !ok {
			return recordError("configure-lists", rec.Key, fmt.Errorf("its key is not list/code, e.g. medical_history/ASTHMA"))
		}
		var f listEntryFields
		if err := rec.Decode(&f); err != nil {
			return recordError("configure-lists", rec.Key, err)
		}
		e := configlist.Entry{List: list, Code: code, Label: f.Label, Description: f.Description, SortOrder: f.SortOrder,
			Active: f.Active, AnswerType: configlist.AnswerType(f.AnswerType), Options: f.Options, PHI: f.PHI}
		if err := configlist.Import(ctx, tx, by, e, reason); err != nil {
			return recordError("configure-lists", rec.Key, err)
		}
	}
	return nil
}
