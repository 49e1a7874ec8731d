package bundle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// configuration are the categories added after roles, sites and settings.
var configuration = []string{"medical-dictionaries", "devices", "labs", "barcode-labels", "configure-lists"}

func only(categories ...string) bundle.ExportOptions {
	return bundle.ExportOptions{Categories: categories, Instance: "Sandbox Main", At: at}
}

func importBundle(t *testing.T, db *store.DB, data []byte, reason string) *bundle.Plan {
	t.Helper()
	plan, err := bundle.Import(context.Background(), db, admin, decode(t, data), bundle.ImportOptions{Reason: reason})
	must(t, err)
	return plan
}

func categoryPlan(t *testing.T, p *bundle.Plan, name string) bundle.CategoryPlan {
	t.Helper()
	for _, c := range p.Categories {
		if c.Category == name {
			return c
		}
	}
	t.Fatalf("the plan has no category %s", name)
	return bundle.CategoryPlan{}
}

// record returns a pointer to a record of a decoded bundle.
func record(t *testing.T, b *bundle.Bundle, category, key string) *bundle.Record {
	t.Helper()
	for i := range b.Content {
		if b.Content[i].Category != category {
			continue
		}
		for j := range b.Content[i].Records {
			if b.Content[i].Records[j].Key == key {
				return &b.Content[i].Records[j]
			}
		}
	}
	t.Fatalf("the bundle has no %s record %s", category, key)
	return nil
}

func keys(records []bundle.Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Key)
	}
	return out
}

func changedKeys(changes []bundle.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Key)
	}
	return out
}

// fieldChange returns the change of one field of one changed record.
func fieldChange(t *testing.T, c bundle.CategoryPlan, key, field string) bundle.FieldChange {
	t.Helper()
	for _, ch := range c.Changed {
		if ch.Key != key {
			continue
		}
		for _, f := range ch.Fields {
			if f.Field == field {
				return f
			}
		}
		t.Fatalf("%s %s changes %+v, not %s", c.Category, key, ch.Fields, field)
	}
	t.Fatalf("%s: %s is not changed (%s)", c.Category, key, c.Summary())
	return bundle.FieldChange{}
}

func ignoredWhy(c bundle.CategoryPlan, key string) string {
	for _, ig := range c.Ignored {
		if ig.Key == key {
			return ig.Why
		}
	}
	return ""
}

// parseRelease reads a dictionary release from the dictionary package's
// synthetic test files, under another release name when rename is given.
func parseRelease(t *testing.T, dir, rename string) *dictionary.Version {
	t.Helper()
	v, err := dictionary.Parse(context.Background(), os.DirFS("../dictionary/testdata/"+dir))
	must(t, err)
	if rename != "" {
		v.Release = rename
	}
	return v
}

// TestEachCategoryRoundTripsOnItsOwn exports each configuration category of
// the demo alone, imports it into an instance that has none of it (but has
// the sites devices need), and exports it again: the same bytes, and a
// second preview finds every record unchanged.
func TestEachCategoryRoundTripsOnItsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		target := storetest.Open(t, db.Engine)
		_, sites := export(t, db, only("sites"))
		importBundle(t, target, sites, "sites first")

		for _, name := range configuration {
			start := time.Now()
			b, first := export(t, db, only(name))
			exported := time.Since(start)
			s, _ := b.Section(name)
			if len(s.Records) == 0 {
				t.Fatalf("the demo exports no %s", name)
			}
			start = time.Now()
			plan := importBundle(t, target, first, "promote "+name)
			t.Logf("%s %s: %d records, %d bytes; export %v, import %v", db.Engine, name, len(s.Records), len(first),
				exported.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			if c := categoryPlan(t, plan, name); len(c.Added) != len(s.Records) || c.Changes() != len(s.Records) {
				t.Errorf("%s into an instance without any: %s", name, c.Summary())
			}
			_, second := export(t, target, only(name))
			if !bytes.Equal(first, second) {
				t.Fatalf("%s: export → import → export is not byte-identical:\n%s", name, firstDifference(first, second))
			}
			again, err := bundle.Preview(ctx, target, decode(t, first))
			must(t, err)
			if c := categoryPlan(t, again, name); c.Changes() != 0 || c.Unchanged != len(s.Records) || len(c.Ignored) != 0 {
				t.Errorf("%s previewed again: %s", name, c.Summary())
			}
		}

		// Configure lists come from the migration: never in a default
		// export, there when asked for.
		def, _ := export(t, db, bundle.ExportOptions{At: at})
		if slices.Contains(def.Manifest.Categories, "configure-lists") || !slices.Contains(def.Manifest.Categories, "devices") {
			t.Fatalf("default export holds %v", def.Manifest.Categories)
		}

		// Retired devices stay behind; the deactivated list entry and the
		// deactivated state travel.
		b, _ := export(t, db, only("devices", "configure-lists"))
		devices, _ := b.Section("devices")
		retired, _ := device.List(ctx, db, device.Filter{Status: device.Retired})
		if len(retired) == 0 || slices.Contains(keys(devices.Records), "device/"+retired[0].AssetTag) {
			t.Fatalf("retired device %v exported", retired)
		}
		if r := record(t, b, "configure-lists", "recruitment_source/NEWSPAPER"); r.Fields["active"] != false {
			t.Fatalf("deactivated entry exported as %v", r.Fields)
		}
		e, err := configlist.Get(ctx, target, configlist.RecruitmentSource, "NEWSPAPER")
		if err != nil || e.Active || e.Label != "Newspaper advertisement" {
			t.Fatalf("deactivated entry imported as %+v, %v", e, err)
		}
	})
}

// TestPreviewShowsWhatEachCategoryChanges previews the demo's configuration
// into an instance that has diverged from it in every category: records
// added at the source, records changed at the target (field, old → new),
// records only the target has (left as is).
func TestPreviewShowsWhatEachCategoryChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		target := storetest.Open(t, db.Engine)
		seedDemo(t, target)

		// At the source: one new record in each category.
		_, err := device.Create(ctx, db, admin, device.Device{AssetTag: "ECG-0099", SerialNumber: "NEW-1", TypeCode: "ECG", SiteCode: "AMS",
			CalibrationDue: time.Now().AddDate(0, 6, 0)})
		must(t, err)
		_, err = lab.CreateTest(ctx, db, admin, lab.Test{Code: "TSH", Name: "Thyrotropin", LOINC: "3016-3", Specimen: lab.Serum,
			ResultType: lab.Numeric, Unit: "m[IU]/L", DecimalPlaces: 2, Ranges: []lab.ReferenceRange{{Sex: lab.AnySex, AgeFrom: 18, Low: ptr(0.4), High: ptr(4.0)}}})
		must(t, err)
		tube := label.DemoTemplates()[0]
		tube.Code, tube.Name = "PD-TUBE-50X25", "PD sample tube 50×25 mm"
		_, err = label.Create(ctx, db, admin, tube)
		must(t, err)
		_, err = configlist.Create(ctx, db, admin, configlist.Entry{List: configlist.MedicalHistory, Code: "GOUT", Label: "Gout"})
		must(t, err)
		_, err = dictionary.Import(ctx, db, admin, parseRelease(t, "meddra/27.0", ""), "testdata")
		must(t, err)

		// At the target: a change and a record of its own in each category.
		d, _ := device.Get(ctx, target, "ECG-0001")
		d.Notes = "Lead II cable replaced."
		must(t, device.Update(ctx, target, admin, d.AssetTag, d.Version, d, "repair"))
		_, err = device.Create(ctx, target, admin, device.Device{AssetTag: "ECG-0500", SerialNumber: "VAL-1", TypeCode: "ECG", SiteCode: "LDN",
			CalibrationDue: time.Now().AddDate(0, 6, 0)})
		must(t, err)
		k, _ := lab.GetTest(ctx, target, "K")
		k.Ranges[0].High = ptr(5.3)
		k.Name = "Potassium (serum)"
		must(t, lab.UpdateTest(ctx, target, admin, "K", k.Version, k.Test, "local lab's range"))
		_, err = lab.CreatePanel(ctx, target, admin, lab.Panel{Code: "LFT", Name: "Liver function", Tests: []string{"ALT", "AST", "ALP", "GGT", "BILI"}})
		must(t, err)
		crf, _ := label.Get(ctx, target, "CRF-VOL-100X50")
		crf.Template.Name = "CRF label (VAL)"
		crf.Template.Fields[1].FontHeightMM = 4
		must(t, label.Update(ctx, target, admin, crf.Template.Code, crf.Version, crf.Template, "bigger"))
		own := label.DemoTemplates()[1]
		own.Code = "VAL-ONLY"
		_, err = label.Create(ctx, target, admin, own)
		must(t, err)
		asthma, _ := configlist.Get(ctx, target, configlist.MedicalHistory, "ASTHMA")
		asthma.Label = "Asthma (any)"
		must(t, configlist.Update(ctx, target, admin, asthma.List, asthma.Code, asthma.Version, asthma, "wording"))
		_, err = configlist.Create(ctx, target, admin, configlist.Entry{List: configlist.MedicalHistory, Code: "LOCAL-1", Label: "Local condition"})
		must(t, err)
		_, err = dictionary.Import(ctx, target, admin, parseRelease(t, "whodrug/GLOBALB3Mar26", "GLOBALB3Sep25"), "older release")
		must(t, err)

		_, data := export(t, db, only(everything()...))
		before := auditCount(t, target)
		plan, err := bundle.Preview(ctx, target, decode(t, data))
		must(t, err)
		if auditCount(t, target) != before {
			t.Fatal("the preview wrote to the audit trail")
		}

		dicts := categoryPlan(t, plan, "medical-dictionaries")
		if strings.Join(keys(dicts.Added), ",") != "meddra/27.0" || dicts.Added[0].Display("terms") == "" || len(dicts.Changed) != 0 ||
			strings.Join(dicts.Absent, ",") != "whodrug/GLOBALB3Sep25" || dicts.Unchanged != 2 {
			t.Errorf("medical-dictionaries: %s %v", dicts.Summary(), keys(dicts.Added))
		}
		if got := dicts.Added[0].Display("terms"); !strings.HasSuffix(got, " entries") {
			t.Errorf("a dictionary's terms are displayed as %.80q…", got)
		}
		devs := categoryPlan(t, plan, "devices")
		if strings.Join(keys(devs.Added), ",") != "device/ECG-0099" || strings.Join(changedKeys(devs.Changed), ",") != "device/ECG-0001" ||
			strings.Join(devs.Absent, ",") != "device/ECG-0500" {
			t.Errorf("devices: %s", devs.Summary())
		}
		if f := fieldChange(t, devs, "device/ECG-0001", "notes"); f.Old != "Lead II cable replaced." || f.New != "" {
			t.Errorf("device notes change %+v", f)
		}
		labs := categoryPlan(t, plan, "labs")
		if strings.Join(keys(labs.Added), ",") != "test/TSH" || strings.Join(changedKeys(labs.Changed), ",") != "test/K" ||
			strings.Join(labs.Absent, ",") != "panel/LFT" {
			t.Errorf("labs: %s", labs.Summary())
		}
		if f := fieldChange(t, labs, "test/K", "name"); f.Old != "Potassium (serum)" || f.New != "Potassium" {
			t.Errorf("lab test name change %+v", f)
		}
		if f := fieldChange(t, labs, "test/K", "ranges"); !strings.Contains(f.Old, `"high":"5.3"`) || !strings.Contains(f.New, `"high":"5.1"`) {
			t.Errorf("lab test range change %+v", f)
		}
		labels := categoryPlan(t, plan, "barcode-labels")
		if strings.Join(keys(labels.Added), ",") != "PD-TUBE-50X25" || strings.Join(changedKeys(labels.Changed), ",") != "CRF-VOL-100X50" ||
			strings.Join(labels.Absent, ",") != "VAL-ONLY" {
			t.Errorf("barcode-labels: %s", labels.Summary())
		}
		if f := fieldChange(t, labels, "CRF-VOL-100X50", "name"); f.Old != "CRF label (VAL)" || f.New != "CRF / volunteer label 100×50 mm" {
			t.Errorf("label name change %+v", f)
		}
		if f := fieldChange(t, labels, "CRF-VOL-100X50", "fields"); !strings.Contains(f.Old, `"font_height_mm":"4"`) || !strings.Contains(f.New, `"font_height_mm":"4.5"`) {
			t.Errorf("label fields change %+v", f)
		}
		lists := categoryPlan(t, plan, "configure-lists")
		if strings.Join(keys(lists.Added), ",") != "medical_history/GOUT" || strings.Join(changedKeys(lists.Changed), ",") != "medical_history/ASTHMA" ||
			strings.Join(lists.Absent, ",") != "medical_history/LOCAL-1" {
			t.Errorf("configure-lists: %s", lists.Summary())
		}
		if f := fieldChange(t, lists, "medical_history/ASTHMA", "label"); f.Old != "Asthma (any)" || f.New != "Asthma" {
			t.Errorf("list entry change %+v", f)
		}

		// The import does what the preview showed, leaves what is not in the
		// bundle alone, and audits with the bundle named.
		b := decode(t, data)
		_, err = bundle.Import(ctx, target, admin, b, bundle.ImportOptions{Reason: "promote", Previewed: plan.Fingerprint()})
		must(t, err)
		if d, _ := device.Get(ctx, target, "ECG-0001"); d.Notes != "" {
			t.Error("the device change was not applied")
		}
		if _, err := device.Get(ctx, target, "ECG-0500"); err != nil {
			t.Error("a device not in the bundle was removed")
		}
		if k, _ := lab.GetTest(ctx, target, "K"); k.Name != "Potassium" || *k.Ranges[0].High != 5.1 {
			t.Errorf("lab test after import: %+v", k)
		}
		if p, err := lab.GetPanel(ctx, target, "LFT"); err != nil || !p.Active {
			t.Error("a panel not in the bundle was removed or deactivated")
		}
		if s, err := label.Get(ctx, target, "VAL-ONLY"); err != nil || !s.Active {
			t.Error("a label template not in the bundle was removed or deactivated")
		}
		if e, err := configlist.Get(ctx, target, configlist.MedicalHistory, "LOCAL-1"); err != nil || !e.Active {
			t.Error("a list entry not in the bundle was removed or deactivated")
		}
		if v, _ := dictionary.ActiveVersion(ctx, target, dictionary.MedDRA); v.Release != "27.1" {
			t.Errorf("active MedDRA after import: %s", v.Release)
		}
		reason := bundle.AuditReason("promote", b)
		for _, f := range []audit.Filter{
			{Entity: "device", EntityID: "ECG-0001"}, {Entity: "device", EntityID: "ECG-0099"}, {Entity: "lab_test", EntityID: "K"},
			{Entity: "lab_test", EntityID: "TSH"}, {Entity: label.AuditEntity, EntityID: "CRF-VOL-100X50"},
			{Entity: "config_list_entry", EntityID: "medical_history/GOUT"}, {Entity: "dictionary_version", EntityID: "MedDRA 27.0"},
		} {
			entries, _, err := audit.List(ctx, target, f)
			must(t, err)
			if len(entries) == 0 || entries[0].Reason != reason || entries[0].Actor != admin.Name {
				t.Errorf("%s %s: newest audit entry %+v, want the bundle's reason", f.Entity, f.EntityID, entries)
			}
		}
		if res, err := audit.Verify(ctx, target); err != nil || !res.OK() {
			t.Fatalf("audit chain after import: %v %+v", err, res)
		}
	})
}

func ptr(v float64) *float64 { return &v }

// TestDictionaryVersionsKeepOneActive: the active flag travels, the version
// active before steps down, a release already here with the same content is
// unchanged and with other content is refused, and a retired version is
// never brought back.
func TestDictionaryVersionsKeepOneActive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		_, err := dictionary.Import(ctx, db, admin, parseRelease(t, "meddra/27.0", ""), "testdata") // inactive: 27.1 is active
		must(t, err)
		_, data := export(t, db, only("medical-dictionaries"))

		// The target codes with MedDRA 27.0 and an older WHODrug.
		target := storetest.Open(t, db.Engine)
		_, err = dictionary.Import(ctx, target, admin, parseRelease(t, "meddra/27.0", ""), "testdata")
		must(t, err)
		_, err = dictionary.Import(ctx, target, admin, parseRelease(t, "whodrug/GLOBALB3Mar26", "GLOBALB3Sep25"), "testdata")
		must(t, err)
		plan, err := bundle.Preview(ctx, target, decode(t, data))
		must(t, err)
		c := categoryPlan(t, plan, "medical-dictionaries")
		if strings.Join(keys(c.Added), ",") != "meddra/27.1,whodrug/GLOBALB3Mar26-SYNTHETIC" || strings.Join(c.Absent, ",") != "whodrug/GLOBALB3Sep25" {
			t.Fatalf("plan: %s", c.Summary())
		}
		if f := fieldChange(t, c, "meddra/27.0", "active"); f.Old != "true" || f.New != "false" || len(c.Changed[0].Fields) != 1 {
			t.Fatalf("27.0 changes %+v", c.Changed)
		}
		importBundle(t, target, data, "new releases")
		for kind, want := range map[dictionary.Kind]string{dictionary.MedDRA: "27.1", dictionary.WHODrug: "GLOBALB3Mar26-SYNTHETIC"} {
			if v, err := dictionary.ActiveVersion(ctx, target, kind); err != nil || v.Release != want {
				t.Errorf("active %s: %s, want %s (%v)", kind, v.Release, want, err)
			}
		}
		entries, _, _ := audit.List(ctx, target, audit.Filter{Entity: "dictionary_version", EntityID: "WHODrug GLOBALB3Sep25"})
		if len(entries) == 0 || entries[0].Field != "active" || entries[0].New != "no" || !strings.Contains(entries[0].Reason, "configuration bundle") {
			t.Errorf("the WHODrug version that stepped down: %+v", entries)
		}
		_, back := export(t, target, only("medical-dictionaries"))
		src := decode(t, data)
		got := decode(t, back)
		for _, key := range []string{"meddra/27.0", "meddra/27.1", "whodrug/GLOBALB3Mar26-SYNTHETIC"} {
			a, _ := json.Marshal(record(t, src, "medical-dictionaries", key).Fields)
			b, _ := json.Marshal(record(t, got, "medical-dictionaries", key).Fields)
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs after the import", key)
			}
		}

		// Again: unchanged, nothing recorded.
		before := auditCount(t, target)
		if again := importBundle(t, target, data, "again"); again.Changes() != 0 || auditCount(t, target) != before ||
			categoryPlan(t, again, "medical-dictionaries").Unchanged != 3 {
			t.Fatalf("second import: %s", categoryPlan(t, again, "medical-dictionaries").Summary())
		}

		// A version retired here is ignored, and a hand-made bundle that
		// would leave MedDRA without an active version is ignored too.
		v27, _ := findVersion(t, target, dictionary.MedDRA, "27.0")
		must(t, dictionary.Retire(ctx, target, admin, v27.ID, v27.Version, "superseded"))
		b := decode(t, data)
		for i := range b.Content[0].Records {
			if b.Content[0].Records[i].Key == "meddra/27.1" {
				b.Content[0].Records[i].Fields["active"] = false
			}
		}
		plan, err = bundle.Preview(ctx, target, decode(t, reseal(t, b)))
		must(t, err)
		c = categoryPlan(t, plan, "medical-dictionaries")
		if why := ignoredWhy(c, "meddra/27.0"); !strings.Contains(why, "retired in this instance") {
			t.Errorf("retired version: ignored because %q", why)
		}
		if why := ignoredWhy(c, "meddra/27.1"); !strings.Contains(why, "no other MedDRA version active") {
			t.Errorf("deactivating the active version: ignored because %q (%s)", why, c.Summary())
		}

		// A release already here with other content is refused, and the
		// import leaves everything as it was.
		other := storetest.Open(t, db.Engine)
		_, err = dictionary.Import(ctx, other, admin, parseRelease(t, "meddra/27.0", "27.1"), "mislabelled")
		must(t, err)
		before = auditCount(t, other)
		_, err = bundle.Import(ctx, other, admin, decode(t, data), bundle.ImportOptions{Reason: "promote"})
		if err == nil || !strings.Contains(err.Error(), `medical-dictionaries record "meddra/27.1" cannot be imported: this instance already has MedDRA 27.1 with other content: its terms differ`) {
			t.Fatalf("a release with other content: %v", err)
		}
		if vs, _ := dictionary.Versions(ctx, other); len(vs) != 1 || auditCount(t, other) != before {
			t.Fatalf("a refused import left %d versions", len(vs))
		}
	})
}

func findVersion(t *testing.T, db *store.DB, kind dictionary.Kind, release string) (dictionary.StoredVersion, bool) {
	t.Helper()
	vs, err := dictionary.Versions(context.Background(), db)
	must(t, err)
	for _, v := range vs {
		if v.Kind == kind && v.Release == release {
			return v, true
		}
	}
	t.Fatalf("no %s %s", kind, release)
	return dictionary.StoredVersion{}, false
}

// TestDevicesNeedTheirSite: a device whose site this instance does not have
// is refused with a sentence naming both; one whose site is archived here,
// or that is retired here, is ignored with the reason.
func TestDevicesNeedTheirSite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		target := storetest.Open(t, db.Engine)
		for _, s := range []site.Site{{Code: "LDN", Name: "London", TimeZone: "Europe/London"}, {Code: "BOS", Name: "Boston", TimeZone: "America/New_York"}} {
			_, err := site.Create(ctx, target, admin, s)
			must(t, err)
		}
		must(t, site.Archive(ctx, target, admin, "LDN", 1, "closed before go-live"))

		// Devices without their sites: AMS is missing here.
		_, devicesOnly := export(t, db, only("devices"))
		before := auditCount(t, target)
		_, err := bundle.Import(ctx, target, admin, decode(t, devicesOnly), bundle.ImportOptions{Reason: "devices"})
		if err == nil || !strings.Contains(err.Error(), `devices record "device/CFG-0001" cannot be imported: the device CFG-0001 is at site AMS, which this instance does not have`) {
			t.Fatalf("device at a missing site: %v", err)
		}
		if types, _ := device.ListTypes(ctx, target, true); len(types) != 0 || auditCount(t, target) != before {
			t.Fatalf("a refused import left %d device types", len(types))
		}

		// With the sites: AMS comes, LDN is archived here, so its devices
		// stay out, as the site does.
		_, withSites := export(t, db, only("sites", "devices"))
		plan := importBundle(t, target, withSites, "sites and devices")
		if why := ignoredWhy(categoryPlan(t, plan, "sites"), "LDN"); !strings.Contains(why, "archived in this instance") {
			t.Fatalf("site LDN: %q", why)
		}
		atLDN, _ := device.List(ctx, db, device.Filter{SiteCode: "LDN"})
		devs := categoryPlan(t, plan, "devices")
		if len(atLDN) == 0 || len(devs.Ignored) != len(atLDN) {
			t.Fatalf("devices at LDN: %d, ignored %+v", len(atLDN), devs.Ignored)
		}
		if why := ignoredWhy(devs, "device/"+atLDN[0].AssetTag); why != "its site LDN is archived in this instance: a device is never placed at an archived site" {
			t.Errorf("device at an archived site: %q", why)
		}
		if here, _ := device.List(ctx, target, device.Filter{SiteCode: "LDN"}); len(here) != 0 {
			t.Fatalf("%d devices placed at an archived site", len(here))
		}
		if here, _ := device.List(ctx, target, device.Filter{SiteCode: "AMS"}); len(here) == 0 {
			t.Fatal("no devices at AMS")
		}

		// A device retired here is not brought back.
		d, _ := device.Get(ctx, target, "ECG-0001")
		d.Status = device.Retired
		must(t, device.Update(ctx, target, admin, d.AssetTag, d.Version, d, "dropped"))
		plan, err = bundle.Preview(ctx, target, decode(t, withSites))
		must(t, err)
		if why := ignoredWhy(categoryPlan(t, plan, "devices"), "device/ECG-0001"); !strings.Contains(why, "retired in this instance") {
			t.Errorf("device retired here: %q", why)
		}
	})
}

// TestBadRecordInTheLastCategoryRollsBackEverything imports the whole demo
// configuration with one bad record in the last category into an empty
// instance: refused, naming the record, and nothing of the earlier
// categories is kept. Other bad records are refused with a sentence
// naming the record and the field.
func TestBadRecordInTheLastCategoryRollsBackEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		_, data := export(t, db, only(everything()...))
		target := storetest.Open(t, db.Engine)
		before := auditCount(t, target)

		b := decode(t, data)
		last := &b.Content[len(b.Content)-1]
		if last.Category != "configure-lists" {
			t.Fatalf("last category is %s", last.Category)
		}
		bad := &last.Records[len(last.Records)-1]
		bad.Fields["label"] = ""
		_, err := bundle.Import(ctx, target, admin, decode(t, reseal(t, b)), bundle.ImportOptions{Reason: "promote"})
		if err == nil || !strings.Contains(err.Error(), `configure-lists record "`+bad.Key+`" cannot be imported: label: This field is required.`) {
			t.Fatalf("bad last record: %v", err)
		}
		roleList, _ := access.ListRoles(ctx, target)
		roles := len(roleList)
		sites, _ := site.List(ctx, target, true)
		versions, _ := dictionary.Versions(ctx, target)
		types, _ := device.ListTypes(ctx, target, true)
		tests, _ := lab.ListTests(ctx, target, "", true)
		templates, _ := label.List(ctx, target, label.Filter{IncludeInactive: true})
		lookup, _ := configlist.LoadLookup(ctx, target, true)
		if roles+len(sites)+len(versions)+len(types)+len(tests)+len(templates) != 0 || lookup.Has(configlist.MedicalHistory, "ASTHMA") ||
			auditCount(t, target) != before {
			t.Fatalf("a failed import left %d roles, %d sites, %d dictionaries, %d device types, %d lab tests, %d templates, %d audit entries",
				roles, len(sites), len(versions), len(types), len(tests), len(templates), auditCount(t, target)-before)
		}

		for _, c := range []struct {
			category, key, field string
			value                any
			want                 string
		}{
			{"labs", "test/K", "unit", "mmol/litre", `labs record "test/K" cannot be imported: unit: `},
			{"labs", "test/HB", "ranges", []any{
				map[string]any{"sex": "any", "age_from": 18, "age_to": 0, "low": "12", "high": "17"},
				map[string]any{"sex": "female", "age_from": 30, "age_to": 50, "low": "11", "high": "16"}}, `labs record "test/HB" cannot be imported: ranges[1]: Range 2 (female, ages 30 to under 50) overlaps range 1`},
			{"labs", "test/CA", "ranges", []any{map[string]any{"sex": "any", "age_from": 18, "age_to": 0, "low": "2,15", "high": ""}}, `field ranges[0].low holds "2,15", which is not a decimal number`},
			{"labs", "panel/UA", "tests", []any{"U-PH", "U-XYZ"}, `labs record "panel/UA" cannot be imported: tests[1]: No active lab test has code "U-XYZ".`},
			{"devices", "device/ECG-0001", "calibration_due", "next spring", `field calibration_due holds "next spring", which is not a date`},
			{"devices", "device/ECG-0001", "type", "MRI", `the device ECG-0001 is of type MRI, which this instance does not have`},
			{"barcode-labels", "PK-TUBE-50X25", "dpi", 150, `barcode-labels record "PK-TUBE-50X25" cannot be imported: dpi: `},
			{"medical-dictionaries", "meddra/27.1", "links", []any{[]any{"SOC 91000010", "HLGT 99999999"}}, `HLGT 99999999 does not exist`},
			{"medical-dictionaries", "meddra/27.1", "terms", []any{[]any{"SOC", "91000010", "Cardiac disorders", "colour=red"}}, `"colour=red" is not a term attribute`},
		} {
			b := decode(t, data)
			record(t, b, c.category, c.key).Fields[c.field] = c.value
			_, err := bundle.Preview(ctx, target, decode(t, reseal(t, b)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s with %s %v: %v, want %q", c.category, c.key, c.field, c.value, err, c.want)
			}
		}
	})
}
