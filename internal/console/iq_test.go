package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// TestIQIsIssuedOnlyForRunningVALAndPRODInstancesThatPassEveryCheck runs a
// Sandbox and a PROD pair for real on both engines: the Sandbox is refused
// with the rule, the go-live IQ step waits for a document, PROD Main gets
// IQ-ACME-0001 with every check passing, a PROD Test whose audit trail was
// edited behind the trail's back gets nothing, and a stopped one is
// refused.
func TestIQIsIssuedOnlyForRunningVALAndPRODInstancesThatPassEveryCheck(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			dana, _ := signers(t, c)
			as := console.Signer{SessionUserID: dana.ID, Username: dana.Username, Password: signPassword}
			mustOrg(t, c, "acme")
			_, sandboxOps := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox})
			_, migrationOps := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Migration})
			_, prodOps := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Prod})
			for _, op := range append(append(sandboxOps, migrationOps...), prodOps...) {
				consoletest.Wait(t, c, op, console.OpDone)
			}

			_, err := c.IssueIQ(ctx, alice, "acme/sandbox/main")
			refused(t, "an IQ for a Sandbox", err, "Only VAL and PROD environments get an IQ document.")
			_, err = c.IssueIQ(ctx, alice, "acme/migration/main")
			refused(t, "an IQ for the Migration instance", err, "Only VAL and PROD environments get an IQ document.")

			// The go-live step «IQ document issued» waits for a document.
			for _, step := range []string{"source-dump", "configuration"} {
				_, err := console.SignGoLiveStep(ctx, c.DB, as, "acme", step, "done")
				allowed(t, "signing "+step, err)
			}
			allowed(t, "the customer's sign-off", console.RecordMilestone(ctx, c.DB, alice, "acme", console.MigrationSignedOff, "signed off"))
			for _, step := range []string{"migration-run", "prod-populated"} {
				_, err := console.SignGoLiveStep(ctx, c.DB, as, "acme", step, "done")
				allowed(t, "signing "+step, err)
			}
			_, err = console.SignGoLiveStep(ctx, c.DB, as, "acme", "iq", "issued")
			refused(t, "the IQ step before any IQ document", err,
				"«IQ document issued» cannot be signed off yet: No IQ document has been issued for acme/prod/main since it was created; issue one first (cohort iq issue acme/prod/main).")

			doc, err := c.IssueIQ(ctx, alice, "acme/prod/main")
			if err != nil {
				t.Fatalf("IQ of PROD Main: %v", err)
			}
			if doc.Number != "IQ-ACME-0001" || doc.Instance != "acme/prod/main" || doc.IssuedBy != "alice" || doc.Content.Title != "Installation Qualification" {
				t.Errorf("IQ document: %+v", doc)
			}
			names := map[string]console.IQCheck{}
			for _, ch := range doc.Content.Checks {
				names[ch.Name] = ch
				if !ch.Passed {
					t.Errorf("check %s failed: expected %s, found %s", ch.Name, ch.Expected, ch.Found)
				}
			}
			for _, name := range []string{"URL path", "Build binary SHA-256", "Readiness (/readyz)", "Build reported by the instance",
				"Database engine", "Database schema version", "Audit trail", "Active users", "Sites", "Volunteers"} {
				if _, ok := names[name]; !ok {
					t.Errorf("the IQ has no check %q", name)
				}
			}
			if sum := fileHash(t, binary); doc.Content.Build.SHA256 != sum {
				t.Errorf("the IQ records SHA-256 %s, the binary hashes to %s", doc.Content.Build.SHA256, sum)
			}
			if !strings.HasPrefix(names["Database engine"].Found, string(e)+" ") || !strings.Contains(names["Audit trail"].Found, "entries verified") {
				t.Errorf("engine %q, audit trail %q", names["Database engine"].Found, names["Audit trail"].Found)
			}
			if doc.Content.SchemaVersion == 0 || doc.Content.SchemaVersion != doc.Content.Build.SchemaVersion {
				t.Errorf("schema version %d, the build's %d", doc.Content.SchemaVersion, doc.Content.Build.SchemaVersion)
			}
			stored, err := console.GetIQDocument(ctx, c.DB, "iq-acme-0001")
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(stored.JSON); hex.EncodeToString(sum[:]) != stored.SHA256 || stored.SHA256 != doc.SHA256 || !stored.Intact() {
				t.Errorf("stored SHA-256 %s does not match its content (%x)", stored.SHA256, sum)
			}
			if !strings.HasPrefix(string(stored.JSON), `{"number":"IQ-ACME-0001","title":"Installation Qualification"`) {
				t.Errorf("stored content is not the canonical JSON: %.80s", stored.JSON)
			}
			if n := auditCount(t, c.DB, "issue", "sha256"); n != 1 {
				t.Errorf("%d IQ issues audited, want 1", n)
			}
			if _, err := c.DB.Exec(ctx, "UPDATE iq_document SET sha256 = 'x'"); err == nil {
				t.Error("an issued IQ document was changed")
			}
			if _, err := c.DB.Exec(ctx, "DELETE FROM iq_document"); err == nil {
				t.Error("an issued IQ document was removed")
			}
			_, err = console.SignGoLiveStep(ctx, c.DB, as, "acme", "iq", "IQ-ACME-0001")
			allowed(t, "the IQ step after IQ-ACME-0001", err)

			// An audit trail edited behind its back fails the IQ: nothing is issued.
			test := instance(t, c, "acme/prod/test")
			tdb, err := store.Open(ctx, c.Places.DSN(test))
			if err != nil {
				t.Fatal(err)
			}
			if e == store.SQLite {
				storetest.MustExec(t, tdb, "DROP TRIGGER audit_entry_no_update")
			} else {
				storetest.MustExec(t, tdb, "ALTER TABLE audit_entry DISABLE TRIGGER USER")
			}
			storetest.MustExec(t, tdb, "UPDATE audit_entry SET new_value = 'tampered' WHERE seq = 1")
			tdb.Close()
			_, err = c.IssueIQ(ctx, alice, "acme/prod/test")
			var failed *console.IQFailed
			if !errors.As(err, &failed) || !strings.Contains(err.Error(), "Audit trail (expected hash chain intact, found entry 1 does not match its hash") ||
				!strings.HasPrefix(err.Error(), "No IQ document was issued for acme/prod/test: ") {
				t.Errorf("IQ of a tampered instance: %v", err)
			}
			if n := auditCount(t, c.DB, "issue_failed", "Audit trail"); n != 1 {
				t.Errorf("the failed IQ left %d audit entries for its audit-trail check, want 1", n)
			}
			docs, err := console.IQDocuments(ctx, c.DB, "acme")
			if err != nil || len(docs) != 1 || docs[0].Number != "IQ-ACME-0001" {
				t.Errorf("after a failed IQ the organisation has %d documents (%v)", len(docs), err)
			}

			// A stopped instance is refused.
			op, err := c.Request(ctx, alice, console.OpStop, "acme/prod/test", "maintenance", "")
			if err != nil {
				t.Fatal(err)
			}
			consoletest.Wait(t, c, op, console.OpDone)
			_, err = c.IssueIQ(ctx, alice, "acme/prod/test")
			refused(t, "an IQ for a stopped instance", err, "An IQ document is issued only for a running instance; acme/prod/test is stopped.")
		})
	}
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
