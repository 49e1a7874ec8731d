package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

const odmSamples = "../../internal/odm/testdata/samples/"

// TestODMImportExportCommands runs `cohort odm import` and `cohort odm
// export` as a user would: the CDISC sample into an empty instance, its
// export validated with the official schema, the export into another empty
// instance, whose export must be the same file.
func TestODMImportExportCommands(t *testing.T) {
	sample := filepath.Join(odmSamples, "cdisc_MetaData_Dave_1_3_2_extra_languages.xml")
	if _, err := os.Stat(sample); err != nil {
		storetest.SkipOrFail(t, "sample: %v", err)
	}
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			dir := t.TempDir()
			a, b := storetest.NewDSN(t, e), storetest.NewDSN(t, e)
			run := func(wantCode int, args ...string) string {
				t.Helper()
				cmd := exec.Command(binary, args...)
				out, _ := cmd.CombinedOutput()
				if got := cmd.ProcessState.ExitCode(); got != wantCode {
					t.Fatalf("cohort %s exited %d, want %d:\n%s", strings.Join(args, " "), got, wantCode, out)
				}
				return string(out)
			}
			out := run(0, "odm", "import", sample, "--database", a)
			if !strings.Contains(out, "0 errors") || !strings.Contains(out, "imported: 1 studies") {
				t.Fatalf("import report:\n%s", out)
			}
			first := filepath.Join(dir, "a.xml")
			run(0, "odm", "export", "--study", "CES", "-o", first, "--database", a)
			validateFile(t, first)
			run(0, "odm", "import", first, "--database", b)
			second := filepath.Join(dir, "b.xml")
			run(0, "odm", "export", "--study", "CES", "-o", second, "--database", b)
			if x, y := normalized(t, first), normalized(t, second); x != y {
				t.Fatalf("export of the re-imported design differs from the first export")
			}
			// Importing the same file again changes nothing and says so.
			out = run(0, "odm", "import", sample, "--database", a)
			if !strings.Contains(out, "0 errors") || !strings.Contains(out, "same content") || !strings.Contains(out, "existing studies [CES]: design kept") {
				t.Fatalf("second import:\n%s", out)
			}
			// A changed design under the same version OID is refused with
			// the reason, exit status 1.
			src, err := os.ReadFile(sample)
			if err != nil {
				t.Fatal(err)
			}
			changed := filepath.Join(dir, "changed.xml")
			if err := os.WriteFile(changed, []byte(strings.Replace(string(src), "<ItemDef ", `<ItemDef Comment="changed" `, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			out = run(1, "odm", "import", changed, "--database", a)
			if !strings.Contains(out, "different content") || !strings.Contains(out, "nothing was imported") {
				t.Fatalf("import of a changed design:\n%s", out)
			}
			// A study that does not exist, a missing flag.
			run(1, "odm", "export", "--study", "NOPE", "--database", a)
			out = run(1, "odm", "export", "--study", "CES", "--what", "everything", "-o", filepath.Join(dir, "none.xml"), "--database", a)
			if !strings.Contains(out, "say metadata, clinical or both") {
				t.Fatalf("export of an unknown part:\n%s", out)
			}
			run(2, "odm", "export", "--database", a)
			if _, err := os.Stat(filepath.Join(dir, "none.xml")); err == nil {
				t.Fatal("a failed export left a file")
			}
		})
	}
}

// TestODMImportWarningsNeedConfirmation: the REDCap sample puts forms
// directly in subjects, which the reader warns about; the user must confirm
// the warning before anything is stored.
func TestODMImportWarningsNeedConfirmation(t *testing.T) {
	sample := filepath.Join(odmSamples, "redcap_repeating-instruments_project.xml")
	if _, err := os.Stat(sample); err != nil {
		storetest.SkipOrFail(t, "sample: %v", err)
	}
	dsn := storetest.NewDSN(t, store.SQLite)
	cmd := exec.Command(binary, "odm", "import", sample, "--database", dsn)
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "--confirm-warnings") ||
		!regexp.MustCompile(`(?m)^\d+\s+\S+\s+warning\s+FormData sits directly in SubjectData`).Match(out) {
		t.Fatalf("unconfirmed import (exit %d):\n%s", cmd.ProcessState.ExitCode(), out)
	}
	cmd = exec.Command(binary, "odm", "import", sample, "--confirm-warnings", "--database", dsn)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(string(out), "imported: 1 studies") {
		t.Fatalf("confirmed import (exit %d):\n%s", cmd.ProcessState.ExitCode(), out)
	}
}

func validateFile(t *testing.T, file string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		storetest.SkipOrFail(t, "xmllint is not installed: %v", err)
	}
	xsd, _ := filepath.Abs("../../internal/odm/testdata/odm1-3-2/ODM1-3-2.xsd")
	if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, file).CombinedOutput(); err != nil {
		t.Fatalf("%s does not validate: %v\n%s", file, err, out)
	}
}

// normalized reads an export without the attributes that name the file
// and its time.
func normalized(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(FileOID|CreationDateTime)="[^"]*"`).ReplaceAllString(string(b), "")
}
