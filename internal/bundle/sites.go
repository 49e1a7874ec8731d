package bundle

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

// siteCategory carries the active sites, keyed by site code. Archived sites
// are never exported, and never imported: a record marked archived, or a
// site archived in this instance, is ignored. A site this instance has and
// the bundle lacks is left as it is — an import never archives a site,
// because sites carry history (visits, devices) that only this instance
// can judge; archive it by hand if it should go.
type siteCategory struct{}

type siteFields struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	TimeZone string `json:"time_zone"`
	// Archived is never written by an export; a hand-made bundle that sets
	// it has the record ignored.
	Archived bool `json:"archived,omitempty"`
}

func (siteCategory) Name() string     { return "sites" }
func (siteCategory) Promotable() bool { return true }

func (siteCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	sites, err := site.List(ctx, q, false)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(sites))
	for _, s := range sites {
		rec, err := NewRecord(s.Code, siteFields{Name: s.Name, Address: s.Address, TimeZone: s.TimeZone})
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (siteCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	all, err := site.List(ctx, q, true)
	if err != nil {
		return nil, err
	}
	archivedHere := map[string]bool{}
	for _, s := range all {
		archivedHere[s.Code] = s.Archived
	}
	skip := map[string]string{}
	for _, rec := range incoming {
		var f siteFields
		if err := rec.Decode(&f); err != nil {
			return nil, recordError("sites", rec.Key, err)
		}
		switch {
		case f.Archived:
			skip[rec.Key] = "archived in the bundle: archived sites are never promoted"
		case archivedHere[rec.Key]:
			skip[rec.Key] = "archived in this instance: an import never brings back an archived site"
		}
	}
	return skip, nil
}

func (siteCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, rec := range records {
		var f siteFields
		if err := rec.Decode(&f); err != nil {
			return recordError("sites", rec.Key, err)
		}
		s := site.Site{Code: rec.Key, Name: f.Name, Address: f.Address, TimeZone: f.TimeZone}
		if err := site.Import(ctx, tx, by, s, reason); err != nil {
			return recordError("sites", rec.Key, err)
		}
	}
	return nil
}
