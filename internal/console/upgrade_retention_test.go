package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/store"
)

// TestUpgradeKeepsTheBackupsOfTheLastSuccessfulUpgrades gives an instance
// a history of earlier upgrades with their backups — three successful, one
// rolled back — keeps two successful upgrades' backups (the console
// setting, audited), and upgrades it for real: the new upgrade's backup and
// the latest earlier successful one's stay, the two older successful ones
// are removed (their records cleared, each removal audited), and the
// rolled-back upgrade's backup is kept.
func TestUpgradeKeepsTheBackupsOfTheLastSuccessfulUpgrades(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			r := newUpgradeRig(t, e, "up-keep")
			c := r.c
			if err := c.SetBackupsKept(ctx, audit.Actor{Name: "ops-lead"}, "0", "too few"); err == nil {
				t.Error("keeping no backup at all was accepted")
			}
			if err := c.SetBackupsKept(ctx, audit.Actor{Name: "ops-lead"}, "2", "disk budget for upgrade backups"); err != nil {
				t.Fatal(err)
			}
			if n, err := console.BackupsKeptSetting(ctx, c.DB); err != nil || n != 2 {
				t.Fatalf("backups kept: %d %v", n, err)
			}
			inst, err := console.GetInstance(ctx, c.DB, r.key)
			if err != nil {
				t.Fatal(err)
			}
			// The earlier history: oldest first.
			history := []console.UpgradeOutcome{console.Upgraded, console.Upgraded, console.RolledBack, console.Upgraded}
			backups := make([]string, len(history))
			for i, outcome := range history {
				backups[i] = seedUpgrade(t, c, inst, outcome, i)
			}
			op, err := c.RequestUpgrade(ctx, audit.Actor{Name: "release-engineer"}, r.key, buildTwo, time.Time{}, "release 26.2")
			if err != nil {
				t.Fatal(err)
			}
			done := consoletest.Wait(t, c, op, console.OpDone)
			u, err := console.UpgradeByOperation(ctx, c.DB, op.ID)
			if err != nil || u.Backup == "" {
				t.Fatalf("the upgrade recorded no backup: %v %+v", err, u)
			}
			want := map[string]bool{backups[0]: false, backups[1]: false, backups[2]: true, backups[3]: true, u.Backup: true}
			for b, kept := range want {
				if got := backupThere(t, c, inst, b); got != kept {
					t.Errorf("backup %s: there %v, want %v\n%s", b, got, kept, done.Log)
				}
			}
			hist, _ := console.UpgradesOf(ctx, c.DB, r.key)
			for _, h := range hist {
				if h.Backup != "" && !want[h.Backup] {
					t.Errorf("upgrade %d still names the removed backup %s", h.ID, h.Backup)
				}
			}
			rows, err := c.DB.Query(ctx, "SELECT old_value FROM audit_entry WHERE action = 'prune' AND entity = 'upgrade_backup' AND entity_id = ? AND field = 'backup'", r.key)
			if err != nil {
				t.Fatal(err)
			}
			audited := map[string]bool{}
			for rows.Next() {
				var b string
				rows.Scan(&b)
				audited[b] = true
			}
			rows.Close()
			if len(audited) != 2 || !audited[backups[0]] || !audited[backups[1]] {
				t.Errorf("audited removals: %v, want %s and %s", audited, backups[0], backups[1])
			}
		})
	}
}

// seedUpgrade records an earlier finished upgrade of inst with a backup
// that exists (a copy of the live SQLite file, or an empty PostgreSQL
// database), as the console would have left it; it returns the backup.
func seedUpgrade(t *testing.T, c *console.Console, inst console.Instance, outcome console.UpgradeOutcome, i int) string {
	t.Helper()
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Duration(10-i) * time.Hour)
	var opID int64
	err := c.DB.InTx(ctx, func(tx *store.Tx) (err error) {
		opID, err = tx.InsertID(ctx, `INSERT INTO operation (kind, instance_id, state, reason, requested_by, requested_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, string(console.OpUpgrade), inst.ID, string(console.OpDone), "earlier upgrade", "seed", at, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var backup string
	if inst.Engine == store.SQLite {
		backup = fmt.Sprintf("upgrades/seed_before-upgrade-%d.db", opID)
		path := filepath.Join(c.Places.DataDir, filepath.FromSlash(backup))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("an earlier backup"), 0o640); err != nil {
			t.Fatal(err)
		}
	} else {
		backup = fmt.Sprintf("%s_upgrade%d", inst.Database, opID)
		if _, err := c.DB.Raw().ExecContext(ctx, `CREATE DATABASE "`+backup+`"`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DB.Exec(ctx, `INSERT INTO upgrade (operation_id, instance_id, from_version, from_number, to_version, to_number, reason,
		requested_by, requested_at, outcome, backup, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		opID, inst.ID, "25.9", fmt.Sprint(i), "25.9", fmt.Sprint(i+1), "earlier upgrade", "seed", at, string(outcome), backup, at, at); err != nil {
		t.Fatal(err)
	}
	return backup
}

func backupThere(t *testing.T, c *console.Console, inst console.Instance, backup string) bool {
	t.Helper()
	if inst.Engine == store.SQLite {
		_, err := os.Stat(filepath.Join(c.Places.DataDir, filepath.FromSlash(backup)))
		return err == nil
	}
	var n int
	if err := c.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM pg_database WHERE datname = ?", backup).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
