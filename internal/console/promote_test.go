package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

func TestPromotionRules(t *testing.T) {
	in := func(k console.Kind, r console.Role, org string) console.Instance {
		return console.Instance{Kind: k, Role: r, Org: org, Env: string(k)}
	}
	sandbox, preprod := in(console.Sandbox, console.Main, "acme"), in(console.PreProd, console.Main, "acme")
	for _, to := range []console.Instance{in(console.VAL, console.Main, "acme"), in(console.VAL, console.Test, "acme"), in(console.Prod, console.Main, "acme")} {
		allowed(t, "Sandbox → "+to.Key(), console.CheckPromote(sandbox, to))
		allowed(t, "Pre-PROD → "+to.Key(), console.CheckPromote(preprod, to))
	}
	refused(t, "into the Migration instance", console.CheckPromote(sandbox, in(console.Migration, console.Main, "acme")),
		"The Migration instance is rebuilt by every migration run; edits there are never preserved.")
	for what, pair := range map[string][2]console.Instance{
		"from the Demo":           {in(console.Demo, console.Main, "acme"), in(console.VAL, console.Main, "acme")},
		"from a Sandbox Test":     {in(console.Sandbox, console.Test, "acme"), in(console.VAL, console.Main, "acme")},
		"from VAL":                {in(console.VAL, console.Main, "acme"), in(console.Prod, console.Main, "acme")},
		"into a Sandbox":          {sandbox, in(console.Sandbox, console.Test, "acme")},
		"into Pre-PROD":           {sandbox, in(console.PreProd, console.Main, "acme")},
		"to another organisation": {sandbox, in(console.VAL, console.Main, "north")},
	} {
		refused(t, "promoting "+what, console.CheckPromote(pair[0], pair[1]), console.PromoteRule)
	}
}

// TestPromotionPreviewsAndAppliesTheDiff promotes a Sandbox cloned from the
// demo clinic into an empty VAL instance, with real instances on both
// engines: the preview shows the per-category diff and what never passes,
// applying it is audited in both trails, a second preview finds nothing to
// do, and a source changed after its preview is refused.
func TestPromotionPreviewsAndAppliesTheDiff(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			mustOrg(t, c, "acme")
			_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
			consoletest.Wait(t, c, ops[0], console.OpDone)
			_, ops = mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main", Reason: "try"})
			_, more := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.VAL, Reason: "validation"})
			for _, op := range append(ops, more...) {
				consoletest.Wait(t, c, op, console.OpDone)
			}
			// The Sandbox archives one site: it must never reach VAL.
			sb, err := store.Open(ctx, c.Places.DSN(instance(t, c, "acme/sandbox/main")))
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			sites, err := site.List(ctx, sb, false)
			if err != nil || len(sites) < 2 {
				t.Fatalf("the Sandbox's sites: %v %v", sites, err)
			}
			gone := sites[len(sites)-1]
			if err := site.Archive(ctx, sb, audit.System, gone.Code, gone.Version, "closed"); err != nil {
				t.Fatal(err)
			}

			_, err = c.PreviewPromotion(ctx, "acme/demo/main", "acme/val/main")
			refused(t, "promoting from the Demo", err, console.PromoteRule)
			p, err := c.PreviewPromotion(ctx, "acme/sandbox/main", "acme/val/main")
			if err != nil {
				t.Fatal(err)
			}
			cats := map[string]console.PromotedCategory{}
			for _, cp := range p.Categories {
				cats[cp.Category] = cp
			}
			if len(cats) != 8 || cats["configure-lists"].Category != "" {
				t.Errorf("promoted categories: %v (configure-lists come from the migration program)", p.Categories)
			}
			if n := len(cats["sites"].Added); n != len(sites)-1 {
				t.Errorf("sites to add: %d, want %d", n, len(sites)-1)
			}
			if !hasNever(cats["sites"], gone.Code, "archived") {
				t.Errorf("the archived site %s is not shown as never passing: %+v", gone.Code, cats["sites"].NeverPasses)
			}
			if !hasNever(cats["general-settings"], "sso.enabled", "integration-specific") || !hasNever(cats["general-settings"], "sso.client_secret", "") {
				t.Errorf("SSO settings are not shown as never passing: %+v", cats["general-settings"].NeverPasses)
			}
			if len(cats["medical-dictionaries"].Added) == 0 || len(cats["labs"].Added) == 0 || cats["roles"].Unchanged == 0 {
				t.Errorf("the preview of an empty VAL: dictionaries %s; labs %s; roles %s", cats["medical-dictionaries"].Summary(),
					cats["labs"].Summary(), cats["roles"].Summary())
			}
			before := auditCount(t, c.DB, "promote", "from")

			if _, err := c.Promote(ctx, alice, "acme/sandbox/main", "acme/val/main", " ", p.Fingerprint, p.ExportedAt); err == nil {
				t.Fatal("a promotion without a reason was applied")
			} else if fe, ok := check.AsFieldErrors(err); !ok || fe["reason"] == "" {
				t.Fatalf("a promotion without a reason: %v", err)
			}
			applied, err := c.Promote(ctx, alice, "acme/sandbox/main", "acme/val/main", "configuration agreed for validation", p.Fingerprint, p.ExportedAt)
			if err != nil {
				t.Fatal(err)
			}
			if applied.Changes() != p.Changes() || applied.Bundle.ID() != p.Bundle.ID() {
				t.Errorf("applied %d changes of bundle %s; the preview showed %d of %s", applied.Changes(), applied.Bundle.ID(), p.Changes(), p.Bundle.ID())
			}
			if n := auditCount(t, c.DB, "promote", "from"); n != before+1 {
				t.Errorf("the console's trail has %d promotions, want %d", n, before+1)
			}
			val, err := store.Open(ctx, c.Places.DSN(instance(t, c, "acme/val/main")))
			if err != nil {
				t.Fatal(err)
			}
			defer val.Close()
			var imports int
			if err := val.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry WHERE action = 'import' AND entity = 'config_bundle' AND field = 'sha256' AND actor = 'console:alice' AND reason LIKE 'promoted from acme/sandbox/main: configuration agreed%'").Scan(&imports); err != nil || imports != 1 {
				t.Errorf("the VAL's own trail records %d promotions (%v)", imports, err)
			}
			valSites, _ := site.List(ctx, val, true)
			for _, s := range valSites {
				if s.Code == gone.Code {
					t.Errorf("the archived site %s reached VAL", gone.Code)
				}
			}
			again, err := c.PreviewPromotion(ctx, "acme/sandbox/main", "acme/val/main")
			if err != nil || again.Changes() != 0 {
				t.Errorf("after the promotion a second preview changes %d records (%v)", again.Changes(), err)
			}

			// A source changed after the preview is refused, not applied unseen.
			stale, err := c.PreviewPromotion(ctx, "acme/sandbox/main", "acme/val/test")
			if err != nil {
				t.Fatal(err)
			}
			vals, _ := setting.Load(ctx, sb)
			if err := setting.Save(ctx, sb, audit.System, setting.General, vals.Fingerprint(setting.General), map[string]string{"org.name": "Acme Research Unit"}, "renamed"); err != nil {
				t.Fatal(err)
			}
			_, err = c.Promote(ctx, alice, "acme/sandbox/main", "acme/val/test", "late", stale.Fingerprint, stale.ExportedAt)
			refused(t, "a promotion whose source changed after its preview", err,
				"The configuration of acme/sandbox/main or of acme/val/test changed after the preview, so the promotion would not do what the preview showed. Nothing was promoted; preview it again.")
			if n := auditCount(t, c.DB, "promote", "from"); n != before+1 {
				t.Errorf("a refused promotion was audited as done")
			}
		})
	}
}

func hasNever(cp console.PromotedCategory, key, why string) bool {
	for _, n := range cp.NeverPasses {
		if n.Key == key && strings.Contains(n.Why, why) {
			return true
		}
	}
	return false
}
