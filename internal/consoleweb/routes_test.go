package consoleweb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
)

// TestEnvironmentCodesCannotHideOrganisationPages: every word an
// organisation's own pages use right after /o/ORG/ is refused as an
// environment code, so the console's list of reserved codes cannot fall
// behind a new page.
func TestEnvironmentCodesCannotHideOrganisationPages(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	words := map[string]bool{}
	for _, r := range f.srv.Routes() {
		rest, ok := strings.CutPrefix(r.Path, "/o/{org}/")
		if !ok {
			continue
		}
		word, _, _ := strings.Cut(rest, "/")
		if word != "" && !strings.HasPrefix(word, "{") {
			words[word] = true
		}
	}
	if len(words) < 5 {
		t.Fatalf("found only %v among the organisation's routes", words)
	}
	for word := range words {
		_, _, err := f.c.CreateEnvironment(context.Background(), audit.System, console.NewEnvironment{
			Org: "demo-cru", Kind: console.Sandbox, Code: word, Reason: "a code that is a page's word"})
		if fe, ok := check.AsFieldErrors(err); !ok || fe["code"] == "" {
			t.Errorf("an environment coded %q was not refused (it would hide /o/demo-cru/%s): %v", word, word, err)
		}
	}
}
