package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func volunteers(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM volunteer").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoVolunteersAndImportWithTheBinary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dsn := dsnOf(t, db)
		out, errOut, code := cohortRun(t, "demo", "volunteers", "--count", "300", "--seed", "3", "--batch", "100", "--database", dsn)
		if code != 0 || !strings.Contains(out, "Added 300 synthetic volunteers (seed 3)") || !strings.Contains(errOut, "100% 300/300") {
			t.Fatalf("demo volunteers: exit %d\n%s\n%s", code, out, errOut)
		}
		// The empty instance got the demo clinic (and its 200 volunteers) first.
		if n := volunteers(t, db); n != 500 {
			t.Fatalf("%d volunteers after demo volunteers, want 200 + 300", n)
		}

		dir := t.TempDir()
		file := filepath.Join(dir, "members.csv")
		os.WriteFile(file, []byte("Voornaam;Achternaam;Geboren;Locatie\n"+
			"Ilse;Brouwer;03/02/1993;AMS\n"+
			"Otto;Dekker;31/02/1994;AMS\n"+ // no such day
			"Fenna;Mulder;04/05/1995;MARS\n"), 0o600) // unknown site
		mapping := filepath.Join(dir, "mapping.txt")
		os.WriteFile(mapping, []byte("# old system → cohort\nVoornaam=given_name\nAchternaam=family_name\nGeboren=birth_date\nLocatie=preferred_site\n"), 0o600)
		common := []string{"volunteer", "import", file, "--mapping", mapping, "--separator", ";", "--date-format", "DD/MM/YYYY", "--database", dsn}

		out, _, code = cohortRun(t, common...)
		if code != 1 || !strings.Contains(out, `Row 3, column "Geboren"`) || !strings.Contains(out, `Row 4, column "Locatie": The site MARS`) ||
			!strings.Contains(out, "Nothing was stored") || volunteers(t, db) != 500 {
			t.Fatalf("all-or-nothing with bad rows: exit %d, %d volunteers\n%s", code, volunteers(t, db), out)
		}
		rejects := filepath.Join(dir, "rejected.csv")
		out, _, code = cohortRun(t, append(common, "--mode", "valid-rows", "--rejects", rejects)...)
		if code != 0 || !strings.Contains(out, "1 volunteer imported") || volunteers(t, db) != 501 {
			t.Fatalf("valid rows: exit %d, %d volunteers\n%s", code, volunteers(t, db), out)
		}
		f, _ := os.Open(rejects)
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) != 3 || rows[0][4] != "problem" || rows[1][0] != "Otto" {
			t.Fatalf("rejected rows: %v %v", rows, err)
		}
		// Inline pairs, and the same row again is a possible duplicate.
		out, _, code = cohortRun(t, "volunteer", "import", file, "--separator", ";", "--date-format", "DD/MM/YYYY", "--database", dsn,
			"--mapping", "Voornaam=given_name,Achternaam=family_name,Geboren=birth_date", "--dry-run")
		if code != 0 || !strings.Contains(out, "may already be registered") || !strings.Contains(out, "Dry run") {
			t.Fatalf("inline mapping, dry run: exit %d\n%s", code, out)
		}
		// A file in the wrong encoding names the row and column.
		latin1 := filepath.Join(dir, "latin1.csv")
		os.WriteFile(latin1, []byte("given_name,family_name,birth_date\nRen\xe9,Dupont,1980-01-01\n"), 0o600)
		out, _, code = cohortRun(t, "volunteer", "import", latin1, "--database", dsn)
		if code != 1 || !strings.Contains(out, `Row 2, column "given_name"`) || !strings.Contains(out, "UTF-8") || !strings.Contains(out, "nothing was stored") {
			t.Fatalf("windows-1252 file: exit %d\n%s", code, out)
		}
	})
}

// TestDemoVolunteersStopsCleanlyOnInterrupt interrupts a large load after
// its first batches and checks that what was committed stays, and nothing
// more.
func TestDemoVolunteersStopsCleanlyOnInterrupt(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	dsn := dsnOf(t, db)
	cmd := exec.Command(binary, "demo", "volunteers", "--count", "500000", "--batch", "500", "--database", dsn)
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	r := bufio.NewReader(stderr)
	progress := regexp.MustCompile(`\d+/500000`)
	seen := ""
	for !progress.MatchString(seen) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("no progress before the end of the output: %q", seen)
		}
		seen += string(b)
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for {
			if _, err := r.ReadByte(); err != nil {
				return
			}
		}
	}()
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit code %d after an interrupt, want 1\n%s", cmd.ProcessState.ExitCode(), stdout.String())
	}
	m := regexp.MustCompile(`Stopped: (\d+) synthetic volunteers were stored`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no summary after the interrupt:\n%s", stdout.String())
	}
	stored, _ := strconv.Atoi(m[1])
	if stored == 0 || stored%500 != 0 || stored >= 500000 {
		t.Fatalf("%d stored: not a whole number of batches short of the total", stored)
	}
	if n := volunteers(t, db); n != stored+200 {
		t.Fatalf("%d volunteers in the database, want the %d reported plus the 200 of the demo clinic", n, stored)
	}
}
