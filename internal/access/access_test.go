package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var admin = audit.Actor{ID: 1, Name: "admin"}

func TestRolesAndSiteGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := access.SeedRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		// Seeding twice changes nothing.
		if err := access.SeedRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		roles, _ := access.ListRoles(ctx, db)
		if len(roles) != len(access.DefaultRoles()) {
			t.Fatalf("%d roles after seeding twice", len(roles))
		}

		err := access.CreateRole(ctx, db, admin, access.Role{Code: "Bad Code", Name: "", Permissions: access.Set{"no.such": true}})
		fe, _ := check.AsFieldErrors(err)
		if fe["code"] == "" || fe["name"] == "" || fe["permissions"] == "" {
			t.Fatalf("invalid role: %v", err)
		}
		lab := access.Role{Code: "lab-tech", Name: "Lab technician", Permissions: access.Set{access.ConfigView: true}}
		if err := access.CreateRole(ctx, db, admin, lab); err != nil {
			t.Fatal(err)
		}
		if err := access.CreateRole(ctx, db, admin, lab); err == nil {
			t.Fatal("duplicate role code accepted")
		}
		got, _ := access.GetRole(ctx, db, "lab-tech")
		lab.Permissions = access.Set{access.ConfigView: true, access.SiteView: true}
		if err := access.UpdateRole(ctx, db, admin, "lab-tech", got.Version, lab, "needs sites"); err != nil {
			t.Fatal(err)
		}
		var conflict *check.Conflict
		if err := access.UpdateRole(ctx, db, admin, "lab-tech", got.Version, lab, "stale"); !errors.As(err, &conflict) {
			t.Fatalf("stale role save: %v", err)
		}

		ams, _ := site.Create(ctx, db, admin, site.Site{Code: "AMS", Name: "Amsterdam", TimeZone: "Europe/Amsterdam"})
		ldn, _ := site.Create(ctx, db, admin, site.Site{Code: "LDN", Name: "London", TimeZone: "Europe/London"})
		u, err := account.Create(ctx, db, admin, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
			Username: "lt", DisplayName: "Lab Tech", Password: "password-1",
			Grants: []access.Grant{{RoleCode: "lab-tech", SiteID: ams.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := access.AuthorityOf(ctx, db, u.ID)
		if !a.Can(access.SiteView) || !a.CanAt(access.SiteView, ams.ID) || a.CanAt(access.SiteView, ldn.ID) || a.Can(access.UserManage) {
			t.Fatalf("site-scoped authority: %+v", a)
		}
		// A grant at an archived site is refused.
		site.Archive(ctx, db, admin, "LDN", ldn.Version, "closed")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return access.GrantRole(ctx, tx, admin, u.ID, "lab-tech", ldn.ID, "cover")
		})
		if fe, _ := check.AsFieldErrors(err); fe["site"] == "" {
			t.Fatalf("grant at archived site: %v", err)
		}
		if err := access.RevokeRole(ctx, db, admin, u.ID, "lab-tech", ams.ID, ""); err == nil {
			t.Fatal("revoke without a reason accepted")
		}
		if err := access.RevokeRole(ctx, db, admin, u.ID, "lab-tech", ams.ID, "moved to pharmacy"); err != nil {
			t.Fatal(err)
		}
		if a, _ := access.AuthorityOf(ctx, db, u.ID); a.Can(access.SiteView) {
			t.Fatal("revoked role still grants its permissions")
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "user_role"})
		if len(entries) != 2 || entries[0].Reason != "moved to pharmacy" {
			t.Fatalf("grant audit: %+v", entries)
		}
	})
}
