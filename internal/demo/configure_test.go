package demo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestDemoConfiguration checks that a demo instance shows what the
// configuration pages are for: full Configure lists with one deactivated
// entry, questions of every answer type, and devices at every site with
// some due soon, one out of calibration, one out of service and one retired.
func TestDemoConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := demo.Seed(ctx, db); err != nil {
			t.Fatal(err)
		}
		minimum := map[string]int{configlist.MedicalHistory: 20, configlist.Medications: 20, configlist.SubstanceUse: 5,
			configlist.RecruitmentSource: 8, configlist.Ethnicity: 2, configlist.Race: 5, configlist.Question: 3}
		for _, k := range configlist.Kinds {
			entries, err := configlist.Entries(ctx, db, k.Code, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) < minimum[k.Code] {
				t.Errorf("demo list %s has %d active entries, want at least %d", k.Code, len(entries), minimum[k.Code])
			}
		}
		lookup, err := configlist.LoadLookup(ctx, db, false)
		if err != nil {
			t.Fatal(err)
		}
		if lookup.Has(configlist.RecruitmentSource, "NEWSPAPER") || !lookup.Has(configlist.MedicalHistory, "ASTHMA") {
			t.Error("the demo's deactivated recruitment source is offered, or asthma is missing")
		}
		answers := map[configlist.AnswerType]bool{}
		questions, _ := configlist.Entries(ctx, db, configlist.Question, false)
		for _, q := range questions {
			answers[q.AnswerType] = true
		}
		if len(answers) != len(configlist.AnswerTypes) {
			t.Errorf("demo questions cover answer types %v, want all of %v", answers, configlist.AnswerTypes)
		}

		devices, err := device.List(ctx, db, device.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		today := time.Now()
		problems := map[device.Problem]int{}
		sites := map[string]bool{}
		var soon int
		for _, d := range devices {
			sites[d.SiteCode] = true
			var nu *device.NotUsable
			if err := device.Usable(d, today); errors.As(err, &nu) {
				problems[nu.Problem]++
			} else if _, s := device.DaysUntilDue(d, today); s {
				soon++
			}
		}
		if len(sites) != len(demo.Sites) || soon < 2 || problems[device.ProblemOutOfCalibration] != 1 ||
			problems[device.ProblemRetired] != 1 || problems[device.ProblemOutOfService] != 1 || len(problems) != 3 {
			t.Fatalf("demo devices: sites %v, %d due soon, problems %v", sites, soon, problems)
		}
	})
}
