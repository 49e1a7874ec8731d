package bundle

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// roleCategory carries roles with their permissions, keyed by role code.
// A role this instance has and the bundle lacks is left as it is; grants of
// roles to users are never part of a bundle.
type roleCategory struct{}

type roleFields struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

func (roleCategory) Name() string     { return "roles" }
func (roleCategory) Promotable() bool { return true }

func (roleCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	roles, err := access.ListRoles(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(roles))
	for _, r := range roles {
		perms := []string{}
		for _, p := range r.Permissions.Sorted() {
			perms = append(perms, string(p))
		}
		rec, err := NewRecord(r.Code, roleFields{Name: r.Name, Description: r.Description, Permissions: perms})
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (roleCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	for _, rec := range records {
		var f roleFields
		if err := rec.Decode(&f); err != nil {
			return recordError("roles", rec.Key, err)
		}
		role := access.Role{Code: rec.Key, Name: f.Name, Description: f.Description, Permissions: access.Set{}}
		for _, p := range f.Permissions {
			role.Permissions[access.Permission(p)] = true
		}
		if err := access.ImportRole(ctx, tx, by, role, reason); err != nil {
			return recordError("roles", rec.Key, err)
		}
	}
	return nil
}
