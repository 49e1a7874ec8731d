package bundle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var (
	admin = audit.Actor{ID: 1, Name: "admin"}
	// at is the export time the tests pass, so that bytes can be compared.
	at      = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sandbox = bundle.ExportOptions{Instance: "Sandbox Main", At: at}
)

// seedSource makes the configuration of a Sandbox: the default roles plus
// a local one, two active sites and an archived one, promotable and
// integration-specific settings.
func seedSource(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	must(t, access.SeedRoles(ctx, db))
	must(t, access.CreateRole(ctx, db, admin, access.Role{Code: "lab-tech", Name: "Lab technician", Description: "Runs the <lab> & samples.",
		Permissions: access.Set{access.ConfigView: true, access.SiteView: true}}))
	for _, s := range []site.Site{
		{Code: "AMS", Name: "Amsterdam Phase I Unit", Address: "Meibergdreef 9", TimeZone: "Europe/Amsterdam"},
		{Code: "LDN", Name: "London Unit", TimeZone: "Europe/London"},
		{Code: "OLD", Name: "Closed ward", TimeZone: "Europe/Amsterdam"},
	} {
		if _, err := site.Create(ctx, db, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	must(t, site.Archive(ctx, db, admin, "OLD", 1, "ward closed"))
	must(t, setting.Save(ctx, db, admin, setting.General, "", map[string]string{
		"org.name": "Leiden CRU", "branding.colour": "#336699", "sso.enabled": "true",
		"sso.issuer_url": "https://login.sandbox.example", "sso.client_secret": "s3cret-value", "lab.interface_url": "https://lab.sandbox.example/in",
	}, "set up sandbox"))
	must(t, setting.Save(ctx, db, admin, setting.System, "", map[string]string{"session.idle_minutes": "20"}, "set up sandbox"))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func export(t *testing.T, db *store.DB, opts bundle.ExportOptions) (*bundle.Bundle, []byte) {
	t.Helper()
	b, data, err := bundle.Export(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b, data
}

func decode(t *testing.T, data []byte) *bundle.Bundle {
	t.Helper()
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func auditCount(t *testing.T, db *store.DB) int {
	t.Helper()
	_, n, err := audit.List(context.Background(), db, audit.Filter{})
	must(t, err)
	return n
}

// reseal recomputes a bundle's hash the way the package documents it —
// SHA-256 of the document encoded (two-space indent, no HTML escaping)
// without its hash — independently of the package's own code, for bundles
// a test changes on purpose.
func reseal(t *testing.T, b *bundle.Bundle) []byte {
	t.Helper()
	enc := func() []byte {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		e.SetIndent("", "  ")
		must(t, e.Encode(b))
		return buf.Bytes()
	}
	b.Manifest.SHA256 = ""
	sum := sha256.Sum256(enc())
	b.Manifest.SHA256 = hex.EncodeToString(sum[:])
	return enc()
}

func TestExportIsDeterministicAndExcludesWhatNeverMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedSource(t, db)
		b1, first := export(t, db, sandbox)
		_, second := export(t, db, sandbox)
		if !bytes.Equal(first, second) {
			t.Fatalf("two exports of the same data with the same export time differ:\n%s\n---\n%s", first, second)
		}
		// The hash is the documented one: an independent recomputation gives
		// the very same bytes.
		if again := reseal(t, decode(t, first)); !bytes.Equal(again, first) {
			t.Fatalf("the bundle's hash is not SHA-256 of the document without its hash:\n%s", again)
		}
		// The export time is the one input that is not data: a later export
		// differs in it (and so in its hash), and in nothing else.
		later, laterBytes := export(t, db, bundle.ExportOptions{Instance: "Sandbox Main", At: at.Add(time.Hour)})
		if bytes.Equal(first, laterBytes) || later.Manifest.SHA256 == b1.Manifest.SHA256 {
			t.Fatal("the export time is not part of the sealed manifest")
		}
		c1, _ := json.Marshal(b1.Content)
		c2, _ := json.Marshal(later.Content)
		if !bytes.Equal(c1, c2) {
			t.Fatal("exports at two times of the same data hold different content")
		}

		text := string(first)
		m := b1.Manifest
		if m.Format != bundle.FormatName || m.FormatVersion != bundle.FormatVersion || m.SchemaVersion < 1 ||
			m.Source.Organisation != "Leiden CRU" || m.Source.Instance != "Sandbox Main" || !m.ExportedAt.Equal(at) || len(m.SHA256) != 64 {
			t.Fatalf("manifest: %+v", m)
		}
		if got := strings.Join(m.Categories, ","); got != "roles,sites,general-settings,system-settings,medical-dictionaries,devices,labs,barcode-labels" {
			t.Fatalf("categories %s, want the promotable ones in the fixed order", got)
		}
		for _, s := range b1.Content {
			for i := 1; i < len(s.Records); i++ {
				if s.Records[i-1].Key >= s.Records[i].Key {
					t.Fatalf("%s records not sorted: %s before %s", s.Category, s.Records[i-1].Key, s.Records[i].Key)
				}
			}
		}
		// Fixed layout: two-space indentation, field names sorted, no HTML
		// escaping, a final newline.
		for _, want := range []string{
			"{\n  \"manifest\": {\n    \"format\": \"cohort-configuration-bundle\",\n",
			`"exported_at": "2026-03-01T10:00:00Z"`,
			"\"key\": \"lab-tech\",\n          \"fields\": {\n            \"description\": \"Runs the <lab> & samples.\",\n            \"name\": \"Lab technician\",\n            \"permissions\": [\n              \"config.view\",\n              \"site.view\"\n            ]",
			"\"key\": \"session.idle_minutes\",\n          \"fields\": {\n            \"value\": \"20\"",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the bundle lacks %q", want)
			}
		}
		if !strings.HasSuffix(text, "}\n") {
			t.Error("the bundle does not end with a newline")
		}
		for _, never := range []string{`"OLD"`, "Closed ward", "sso.", "s3cret", "lab.interface_url", "login.sandbox"} {
			if strings.Contains(text, never) {
				t.Errorf("the bundle holds %q, which is never exported", never)
			}
		}
		sites, _ := b1.Section("sites")
		if len(sites.Records) != 2 || sites.Records[0].Key != "AMS" || sites.Records[1].Key != "LDN" {
			t.Errorf("sites exported: %+v", sites.Records)
		}

		// Asking for categories by name gives exactly those, in the fixed
		// order whatever order they were asked in.
		only, _ := export(t, db, bundle.ExportOptions{Categories: []string{"system-settings", "roles"}, At: at})
		if got := strings.Join(only.Manifest.Categories, ","); got != "roles,system-settings" {
			t.Fatalf("chosen categories: %s", got)
		}
		if _, _, err := bundle.Export(context.Background(), db, bundle.ExportOptions{Categories: []string{"roles", "teleporters"}}); err == nil ||
			!strings.Contains(err.Error(), `no configuration category "teleporters"`) {
			t.Fatalf("unknown category on export: %v", err)
		}
	})
}

func TestRoundTripIntoAnEmptyInstanceIsExactAndIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, first := export(t, db, sandbox)

		target := storetest.Open(t, db.Engine)
		if roles, _ := access.ListRoles(ctx, target); len(roles) != 0 {
			t.Fatalf("a freshly migrated instance has %d roles", len(roles))
		}
		b := decode(t, first)
		plan, err := bundle.Import(ctx, target, admin, b, bundle.ImportOptions{Reason: "Promote Sandbox configuration to VAL"})
		must(t, err)
		// 6 roles, 2 sites, the general settings that differ from the
		// defaults are stored (org.name, colour; the rest already match), 1
		// system setting.
		var added, changed int
		for _, c := range plan.Categories {
			added += len(c.Added)
			changed += len(c.Changed)
		}
		if added != 8 || changed != 3 || plan.Changes() != 11 {
			t.Fatalf("plan: %d added, %d changed: %+v", added, changed, plan.Categories)
		}
		_, roundTrip := export(t, target, sandbox)
		if !bytes.Equal(first, roundTrip) {
			t.Fatalf("export → import → export is not byte-identical:\n%s\n---\n%s", first, roundTrip)
		}
		v, _ := setting.Load(ctx, target)
		if v.Get("org.name") != "Leiden CRU" || v.Bool("sso.enabled") || v.Get("sso.client_secret") != "" || v.Get("lab.interface_url") != "" {
			t.Fatal("the target's settings are not the source's promotable ones")
		}

		// The same bundle again: nothing to change, nothing recorded.
		before := auditCount(t, target)
		again, err := bundle.Import(ctx, target, admin, b, bundle.ImportOptions{Reason: "again"})
		must(t, err)
		if again.Changes() != 0 || auditCount(t, target) != before {
			t.Fatalf("a second import changed %d records and wrote %d audit entries", again.Changes(), auditCount(t, target)-before)
		}
		for _, c := range again.Categories {
			if s, _ := b.Section(c.Category); len(s.Records) > 0 && c.Unchanged == 0 {
				t.Errorf("%s: a second import found nothing unchanged: %s", c.Category, c.Summary())
			}
		}
	})
}

func TestPreviewShowsAddedChangedAndNotInBundle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, data := export(t, db, sandbox)

		// The target already has some configuration of its own.
		target := storetest.Open(t, db.Engine)
		must(t, access.SeedRoles(ctx, target))
		crc, _ := access.GetRole(ctx, target, "crc")
		crc.Name = "Study coordinator"
		delete(crc.Permissions, access.VolunteerPHI)
		crc.Permissions[access.AuditView] = true
		must(t, access.UpdateRole(ctx, target, admin, "crc", crc.Version, crc, "local naming"))
		must(t, access.CreateRole(ctx, target, admin, access.Role{Code: "monitor", Name: "Monitor", Permissions: access.Set{access.StudyView: true}}))
		for _, s := range []site.Site{{Code: "LDN", Name: "London Unit", Address: "1 Clinical Way", TimeZone: "Europe/London"}, {Code: "VAL", Name: "Validation ward", TimeZone: "UTC"}} {
			if _, err := site.Create(ctx, target, admin, s); err != nil {
				t.Fatal(err)
			}
		}
		before := auditCount(t, target)

		plan, err := bundle.Preview(ctx, target, decode(t, data))
		must(t, err)
		byName := map[string]bundle.CategoryPlan{}
		for _, c := range plan.Categories {
			byName[c.Category] = c
		}
		roles := byName["roles"]
		if len(roles.Added) != 1 || roles.Added[0].Key != "lab-tech" || roles.Added[0].Display("permissions") != "config.view, site.view" {
			t.Errorf("roles added: %+v", roles.Added)
		}
		if len(roles.Changed) != 1 || roles.Changed[0].Key != "crc" {
			t.Fatalf("roles changed: %+v", roles.Changed)
		}
		var sawName, sawPerms bool
		for _, f := range roles.Changed[0].Fields {
			switch f.Field {
			case "name":
				sawName = f.Old == "Study coordinator" && f.New == "Clinical research coordinator"
			case "permissions":
				sawPerms = strings.Join(f.Added, ",") == "volunteer.view_phi" && strings.Join(f.Removed, ",") == "audit.view"
			}
		}
		if !sawName || !sawPerms {
			t.Errorf("crc changes: %+v", roles.Changed[0].Fields)
		}
		if strings.Join(roles.Absent, ",") != "monitor" || roles.Unchanged != 4 {
			t.Errorf("roles not in bundle %v, unchanged %d", roles.Absent, roles.Unchanged)
		}
		sites := byName["sites"]
		if len(sites.Added) != 1 || sites.Added[0].Key != "AMS" || len(sites.Changed) != 1 || sites.Changed[0].Key != "LDN" ||
			len(sites.Changed[0].Fields) != 1 || sites.Changed[0].Fields[0].Field != "address" || sites.Changed[0].Fields[0].Old != "1 Clinical Way" ||
			strings.Join(sites.Absent, ",") != "VAL" {
			t.Errorf("sites plan: %+v", sites)
		}
		if !strings.Contains(sites.Summary(), "1 not in bundle (left as is)") {
			t.Errorf("sites summary: %s", sites.Summary())
		}
		gen := byName["general-settings"]
		if len(gen.Changed) != 2 || gen.Changed[0].Key != "branding.colour" || gen.Changed[1].Key != "org.name" {
			t.Errorf("general settings changed: %+v", gen.Changed)
		}

		// A preview changes nothing.
		if auditCount(t, target) != before {
			t.Fatal("the preview wrote to the audit trail")
		}
		if got, _ := access.GetRole(ctx, target, "crc"); got.Name != "Study coordinator" {
			t.Fatal("the preview changed a role")
		}
		if _, err := access.GetRole(ctx, target, "lab-tech"); err == nil {
			t.Fatal("the preview created a role")
		}

		// Importing it does what the preview showed, and leaves what is not
		// in the bundle alone.
		if _, err := bundle.Import(ctx, target, admin, decode(t, data), bundle.ImportOptions{Reason: "promote", Previewed: plan.Fingerprint()}); err != nil {
			t.Fatal(err)
		}
		if got, _ := access.GetRole(ctx, target, "crc"); got.Name != "Clinical research coordinator" || got.Permissions.Has(access.AuditView) {
			t.Fatalf("crc after import: %+v", got)
		}
		if _, err := access.GetRole(ctx, target, "monitor"); err != nil {
			t.Fatal("a role not in the bundle was removed")
		}
		if s, err := site.Get(ctx, target, "VAL"); err != nil || s.Archived {
			t.Fatal("a site not in the bundle was archived or removed")
		}
	})
}

func TestHandMadeBundleCannotCarryArchivedSitesOrIntegrationSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// The target has its own SSO, and a site it archived.
		must(t, setting.Save(ctx, db, admin, setting.General, "", map[string]string{"sso.enabled": "true", "sso.issuer_url": "https://login.prod.example"}, "PROD SSO"))
		if _, err := site.Create(ctx, db, admin, site.Site{Code: "GONE", Name: "Old unit", TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		must(t, site.Archive(ctx, db, admin, "GONE", 1, "closed"))

		rec := func(key string, fields map[string]any) bundle.Record { return bundle.Record{Key: key, Fields: fields} }
		b := &bundle.Bundle{Manifest: bundle.Manifest{SchemaVersion: 1, Source: bundle.Source{Organisation: "Hand made"}, ExportedAt: at}, Content: []bundle.Section{
			{Category: "sites", Records: []bundle.Record{
				rec("OLD", map[string]any{"name": "Closed ward", "address": "", "time_zone": "UTC", "archived": true}),
				rec("GONE", map[string]any{"name": "Old unit reopened", "address": "", "time_zone": "UTC"}),
				rec("NEW", map[string]any{"name": "New unit", "address": "", "time_zone": "UTC"}),
			}},
			{Category: "general-settings", Records: []bundle.Record{
				rec("sso.enabled", map[string]any{"value": "false"}),
				rec("sso.issuer_url", map[string]any{"value": "https://evil.example"}),
				rec("sso.client_secret", map[string]any{"value": "stolen"}),
				rec("lab.interface_url", map[string]any{"value": "https://evil.example/lab"}),
				rec("session.idle_minutes", map[string]any{"value": "5"}),
				rec("org.name", map[string]any{"value": "Hand made CRU"}),
			}},
		}}
		data, err := b.Encode()
		must(t, err)
		plan, err := bundle.Import(ctx, db, admin, decode(t, data), bundle.ImportOptions{Reason: "hand-made"})
		must(t, err)

		ignored := map[string]string{}
		for _, c := range plan.Categories {
			for _, ig := range c.Ignored {
				ignored[ig.Key] = ig.Why
			}
		}
		for key, why := range map[string]string{
			"OLD": "archived in the bundle", "GONE": "archived in this instance",
			"sso.enabled": "integration-specific", "sso.issuer_url": "integration-specific", "sso.client_secret": "integration-specific",
			"lab.interface_url": "integration-specific", "session.idle_minutes": "a system setting",
		} {
			if !strings.Contains(ignored[key], why) {
				t.Errorf("%s: ignored because %q, want %q", key, ignored[key], why)
			}
		}
		v, _ := setting.Load(ctx, db)
		if !v.Bool("sso.enabled") || v.Get("sso.issuer_url") != "https://login.prod.example" || v.Get("sso.client_secret") != "" ||
			v.Get("lab.interface_url") != "" || v.Int("session.idle_minutes") != 30 || v.Get("org.name") != "Hand made CRU" {
			t.Fatal("an ignored setting was imported, or a promotable one was not")
		}
		if _, err := site.Get(ctx, db, "OLD"); err == nil {
			t.Fatal("a site archived in the bundle was imported")
		}
		if s, _ := site.Get(ctx, db, "GONE"); !s.Archived || s.Name != "Old unit" {
			t.Fatalf("a site archived here was changed: %+v", s)
		}
		if _, err := site.Get(ctx, db, "NEW"); err != nil {
			t.Fatal("the valid site of the hand-made bundle was not imported")
		}
	})
}

func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, data := export(t, db, sandbox)
		refused := func(what string, err error, want ...string) {
			t.Helper()
			if err == nil {
				t.Fatalf("%s: accepted", what)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %q does not say %q", what, err, w)
				}
			}
		}

		// One byte changed: the role name "Lab technician" becomes "Lab technicIan".
		i := bytes.Index(data, []byte("Lab technician"))
		tampered := bytes.Clone(data)
		tampered[i+11] = 'I'
		_, err := bundle.Decode(tampered)
		refused("tampered", err, "The bundle was changed after export: its content hash is ", ", the manifest says "+decode(t, data).Manifest.SHA256+".")

		newer := bytes.Replace(data, []byte(`"format_version": 1,`), []byte(`"format_version": 2,`), 1)
		_, err = bundle.Decode(newer)
		refused("newer format", err, "format version 2", "up to 1")

		b := decode(t, data)
		b.Manifest.SchemaVersion = 9999
		_, err = bundle.Preview(ctx, db, decode(t, reseal(t, b)))
		refused("newer schema", err, "schema version 9999", "Upgrade this instance")

		b = decode(t, data)
		b.Content[1].Category, b.Manifest.Categories[1] = "teleporters", "teleporters"
		_, err = bundle.Decode(reseal(t, b))
		refused("unknown category", err, `category "teleporters"`, "does not know")

		// Malformed JSON: a comma missing at the end of line 3.
		broken := bytes.Replace(data, []byte("\"cohort-configuration-bundle\",\n"), []byte("\"cohort-configuration-bundle\"\n"), 1)
		_, err = bundle.Decode(broken)
		refused("malformed", err, "not valid JSON at line 4, column 5")
		_, err = bundle.Decode(data[:len(data)/2])
		refused("cut short", err, "ends too early")
		_, err = bundle.Decode([]byte(`{"manifest": {"format": "something else"}}`))
		refused("not a bundle", err, "not a cohort configuration bundle")
		_, err = bundle.Decode(append(bytes.Clone(data), []byte("{}")...))
		refused("trailing data", err, "more after the end")

		// A field this build does not know, in a correctly sealed bundle.
		b = decode(t, data)
		b.Content[0].Records[0].Fields["colour"] = "red"
		_, err = bundle.Preview(ctx, db, decode(t, reseal(t, b)))
		refused("unknown field", err, `roles record "administrator"`, "field colour is not one this build of cohort knows")

		// Records out of order or twice.
		b = decode(t, data)
		recs := b.Content[0].Records
		recs[0], recs[1] = recs[1], recs[0]
		_, err = bundle.Decode(reseal(t, b))
		refused("unsorted", err, "not sorted by key")

		// A value the target cannot store exactly is refused, not half-taken.
		b = decode(t, data)
		b.Content[0].Records[0].Fields["permissions"] = nil
		_, err = bundle.Preview(ctx, db, decode(t, reseal(t, b)))
		refused("inexact", err, `roles record "administrator" cannot be imported exactly`)

		// An import needs a reason.
		_, err = bundle.Import(ctx, db, admin, decode(t, data), bundle.ImportOptions{})
		refused("no reason", err, "Say why")
	})
}

func TestImportIsOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, data := export(t, db, sandbox)
		// The last record of the last category this source has records in
		// holds a value no instance accepts (demo_test.go does the same with
		// every category filled).
		b := decode(t, data)
		last := &b.Content[3]
		if last.Category != "system-settings" {
			t.Fatalf("fourth category is %s", last.Category)
		}
		for i := range last.Records {
			if last.Records[i].Key == "session.idle_minutes" {
				last.Records[i].Fields["value"] = "9999"
			}
		}
		bad := reseal(t, b)

		target := storetest.Open(t, db.Engine)
		before := auditCount(t, target)
		plan, err := bundle.Import(ctx, target, admin, decode(t, bad), bundle.ImportOptions{Reason: "promote"})
		if err == nil || !strings.Contains(err.Error(), `system-settings record "session.idle_minutes" cannot be imported: setting session.idle_minutes cannot take the value "9999": use a number from 1 to 480.`) {
			t.Fatalf("import of a bad value: %v", err)
		}
		// The earlier categories were applied in the transaction before the
		// failure …
		if len(plan.Categories) != 4 || len(plan.Categories[0].Added) != 6 || len(plan.Categories[1].Added) != 2 || plan.Categories[2].Changes() != 2 {
			t.Fatalf("the failure did not come after the earlier categories were applied: %+v", plan.Categories)
		}
		// … and nothing of them was kept.
		roles, _ := access.ListRoles(ctx, target)
		sites, _ := site.List(ctx, target, true)
		v, _ := setting.Load(ctx, target)
		if len(roles) != 0 || len(sites) != 0 || v.Get("org.name") != setting.Defaults().Get("org.name") || auditCount(t, target) != before {
			t.Fatalf("a failed import left %d roles, %d sites, org.name %q, %d audit entries", len(roles), len(sites), v.Get("org.name"), auditCount(t, target)-before)
		}
	})
}

func TestAuditEntriesNameTheBundle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, data := export(t, db, sandbox)
		b := decode(t, data)
		target := storetest.Open(t, db.Engine)
		must(t, access.SeedRoles(ctx, target))
		crc, _ := access.GetRole(ctx, target, "crc")
		crc.Name = "Local name"
		must(t, access.UpdateRole(ctx, target, admin, "crc", crc.Version, crc, "local"))

		valAdmin := audit.Actor{ID: 7, Name: "val.admin"}
		_, err := bundle.Import(ctx, target, valAdmin, b, bundle.ImportOptions{Reason: "Promote to VAL for OQ"})
		must(t, err)
		want := "Promote to VAL for OQ [configuration bundle " + b.ID() + " from Leiden CRU (Sandbox Main), exported 2026-03-01T10:00:00Z]"
		if len(b.ID()) != 12 || want != bundle.AuditReason("Promote to VAL for OQ", b) {
			t.Fatalf("audit reason %q", bundle.AuditReason("Promote to VAL for OQ", b))
		}
		for _, f := range []audit.Filter{
			{Entity: "role", EntityID: "lab-tech"}, {Entity: "role", EntityID: "crc"}, {Entity: "site", EntityID: "AMS"},
			{Entity: "setting", EntityID: "org.name"}, {Entity: "setting", EntityID: "session.idle_minutes"},
		} {
			entries, _, err := audit.List(ctx, target, f)
			must(t, err)
			if len(entries) == 0 || entries[0].Reason != want || entries[0].Actor != "val.admin" {
				t.Errorf("%s %s: newest audit entry %+v, want reason %q by val.admin", f.Entity, f.EntityID, entries, want)
			}
		}
		entries, _, _ := audit.List(ctx, target, audit.Filter{Entity: "config_bundle", EntityID: b.ID()})
		fields := map[string]string{}
		for _, e := range entries {
			if e.Action != audit.Import || e.Reason != want {
				t.Errorf("bundle entry %+v", e)
			}
			fields[e.Field] = e.New
		}
		if fields["sha256"] != b.Manifest.SHA256 || fields["roles"] != "1 added, 1 changed" || fields["sites"] != "2 added, 0 changed" {
			t.Fatalf("the import itself is not in the trail as expected: %v", fields)
		}
		res, err := audit.Verify(ctx, target)
		if err != nil || !res.OK() {
			t.Fatalf("audit chain after import: %v %+v", err, res)
		}
	})
}

func TestImportRefusesWhenTheInstanceChangedAfterThePreview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedSource(t, db)
		_, data := export(t, db, sandbox)
		target := storetest.Open(t, db.Engine)
		plan, err := bundle.Preview(ctx, target, decode(t, data))
		must(t, err)
		// Someone adds a site the bundle also has, between preview and apply.
		if _, err := site.Create(ctx, target, admin, site.Site{Code: "AMS", Name: "Amsterdam (typed by hand)", TimeZone: "Europe/Amsterdam"}); err != nil {
			t.Fatal(err)
		}
		before := auditCount(t, target)
		_, err = bundle.Import(ctx, target, admin, decode(t, data), bundle.ImportOptions{Reason: "promote", Previewed: plan.Fingerprint()})
		if !errors.Is(err, bundle.ErrStale) || auditCount(t, target) != before {
			t.Fatalf("import after a change since the preview: %v", err)
		}
		if roles, _ := access.ListRoles(ctx, target); len(roles) != 0 {
			t.Fatal("a refused import left roles behind")
		}
	})
}
