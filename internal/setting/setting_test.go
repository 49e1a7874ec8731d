package setting_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestEveryDefaultIsValid(t *testing.T) {
	for _, d := range setting.Definitions {
		if d.Default == "" && d.Optional {
			continue
		}
		if _, err := d.Normalize(d.Default); err != nil {
			t.Errorf("default of %s (%q): %v", d.Key, d.Default, err)
		}
	}
}

func TestIntegrationSpecificFlag(t *testing.T) {
	for _, key := range []string{"sso.enabled", "sso.issuer_url", "sso.client_secret", "lab.interface_url"} {
		if d, _ := setting.Lookup(key); !d.IntegrationSpecific {
			t.Errorf("%s must be integration-specific", key)
		}
	}
	if d, _ := setting.Lookup("org.name"); d.IntegrationSpecific {
		t.Error("org.name must be promotable")
	}
}

func TestSaveValidatesAuditsAndRefusesStaleForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin := audit.Actor{ID: 1, Name: "admin"}
		v, _ := setting.Load(ctx, db)
		fp := v.Fingerprint(setting.System)
		err := setting.Save(ctx, db, admin, setting.System, fp, map[string]string{"password.min_length": "3", "lockout.threshold": "x"}, "tighten")
		fe, ok := check.AsFieldErrors(err)
		if !ok || fe["password.min_length"] == "" || fe["lockout.threshold"] == "" {
			t.Fatalf("invalid values: %v", err)
		}
		if err := setting.Save(ctx, db, admin, setting.System, fp, map[string]string{"password.min_length": "14"}, "tighten"); err != nil {
			t.Fatal(err)
		}
		err = setting.Save(ctx, db, admin, setting.System, fp, map[string]string{"lockout.threshold": "3"}, "stale form")
		var conflict *check.Conflict
		if !errors.As(err, &conflict) {
			t.Fatalf("stale fingerprint accepted: %v", err)
		}
		if err := setting.Save(ctx, db, admin, setting.General, "", map[string]string{"sso.client_secret": "s3cret"}, "configure sso"); err != nil {
			t.Fatal(err)
		}
		v, _ = setting.Load(ctx, db)
		if v.Int("password.min_length") != 14 || v.Get("sso.client_secret") != "s3cret" {
			t.Fatalf("stored values: %d %q", v.Int("password.min_length"), v.Get("sso.client_secret"))
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "setting"})
		for _, e := range entries {
			if e.New == "s3cret" {
				t.Fatal("a secret reached the audit trail")
			}
		}
		if len(entries) != 2 {
			t.Fatalf("want 2 setting audit entries, got %d", len(entries))
		}
	})
}
