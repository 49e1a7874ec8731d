package consoleweb_test

import (
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestOneTimePasswordsAreForManagersOnly: a new instance's one-time
// passwords are in its operation's log; an observer who can read the log
// sees that they exist, not what they are.
func TestOneTimePasswordsAreForManagersOnly(t *testing.T) {
	f := newFixture(t, consoletest.New(t, store.SQLite, ""))
	storetest.MustExec(t, f.c.DB, `UPDATE operation SET log = log || ? WHERE id = (SELECT MIN(id) FROM operation)`,
		"10:00:00 Administrator account created: user name admin, one-time password Kx7-secret-Qm2 (it must be changed at the first login).\n")
	admin, _ := f.session(t, f.userIDs["console-admin"])
	observer, _ := f.session(t, f.userIDs["console-observer"])
	if page := f.do("GET", "/o/demo-cru/demo/main", admin, nil).Body.String(); !strings.Contains(page, "one-time password Kx7-secret-Qm2") {
		t.Errorf("a console administrator does not see the one-time password:\n%s", page)
	}
	page := f.do("GET", "/o/demo-cru/demo/main", observer, nil).Body.String()
	if strings.Contains(page, "Kx7-secret-Qm2") || !strings.Contains(page, "one-time password (hidden: only users with console.manage see it)") {
		t.Errorf("an observer's view of the operation log:\n%s", page)
	}
}
