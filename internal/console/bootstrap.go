package console

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Roles are the console's own roles: its users are the people who run
// environments for customers, not a clinic's staff.
func Roles() []access.Role {
	set := func(ps ...access.Permission) access.Set {
		s := access.Set{}
		for _, p := range ps {
			s[p] = true
		}
		return s
	}
	return []access.Role{
		{Code: "console-admin", Name: "Console administrator",
			Description: "Creates, clones, starts, stops and destroys environments; reviews the console's audit trail.",
			Permissions: set(access.ConsoleView, access.ConsoleManage, access.AuditView, access.AuditExport)},
		{Code: "console-observer", Name: "Console observer",
			Description: "Sees organisations, environments, instances and their logs; changes nothing.",
			Permissions: set(access.ConsoleView)},
	}
}

// Bootstrap gives an empty console its roles and first administrator, with
// the given password or a generated one-time password (returned), and
// reports whether it did.
func Bootstrap(ctx context.Context, db *store.DB, password string) (created bool, pw string, err error) {
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM app_user").Scan(&n); err != nil {
		return false, "", fmt.Errorf("bootstrap the console administrator: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	existing, err := access.ListRoles(ctx, db)
	if err != nil {
		return false, "", err
	}
	have := map[string]bool{}
	for _, r := range existing {
		have[r.Code] = true
	}
	for _, r := range Roles() {
		if !have[r.Code] {
			if err := access.CreateRole(ctx, db, audit.System, r); err != nil {
				return false, "", fmt.Errorf("seed console role %s: %w", r.Code, err)
			}
		}
	}
	mustChange := password == ""
	if password == "" {
		password = account.GeneratePassword()
	}
	_, err = account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
		Username: "admin", DisplayName: "Console administrator", Password: password, MustChange: mustChange,
		Grants: []access.Grant{{RoleCode: "console-admin", SiteID: access.Everywhere}}})
	if err != nil {
		return false, "", fmt.Errorf("bootstrap the console administrator: %w", err)
	}
	return true, password, nil
}

// DemoOrganisation is the fictional customer a new console starts with, so a
// newcomer sees the lifecycle at once.
var DemoOrganisation = Organisation{Code: "demo-cru", Name: "Demo Clinical Research Unit"}

// SeedDemo gives an empty registry the demo customer with a Demo
// environment, queued to be provisioned with the demo clinic and started.
// A registry that has any organisation is left alone.
func (c *Console) SeedDemo(ctx context.Context) ([]Operation, error) {
	var n int
	if err := c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisation").Scan(&n); err != nil {
		return nil, fmt.Errorf("seed the demo organisation: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	if _, err := CreateOrganisation(ctx, c.DB, audit.System, DemoOrganisation.Code, DemoOrganisation.Name); err != nil {
		return nil, fmt.Errorf("seed the demo organisation: %w", err)
	}
	_, ops, err := c.CreateEnvironment(ctx, audit.System, NewEnvironment{Org: DemoOrganisation.Code, Kind: Demo,
		Reason: "the demo customer every new console starts with"})
	if err != nil {
		return nil, fmt.Errorf("seed the demo environment: %w", err)
	}
	return ops, nil
}
