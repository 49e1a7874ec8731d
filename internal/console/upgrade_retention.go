package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
)

// BackupsKept is the console setting that says how many pre-upgrade
// backups each instance keeps: those of its last N successful upgrades.
// It is stored in the console's setting table like the console's other
// settings, but is the console's own, so it is not among the instance
// settings of setting.Definitions.
var BackupsKept = setting.Definition{Key: "upgrade.backups_kept", Scope: setting.System, Kind: setting.Integer,
	Label:   "Pre-upgrade backups kept per instance",
	Help:    "The backups of this many latest successful upgrades are kept; older ones are removed after the next successful upgrade. Backups of failed or rolled-back upgrades are always kept.",
	Default: "3", Min: 1, Max: 100}

// actionPrune is the audit action of a backup removed by the retention rule.
const actionPrune audit.Action = "prune"

// BackupsKeptSetting reads how many successful upgrades' backups each
// instance keeps (the default when never set).
func BackupsKeptSetting(ctx context.Context, q store.Querier) (int, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM setting WHERE key = ?", BackupsKept.Key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		v = BackupsKept.Default
	} else if err != nil {
		return 0, fmt.Errorf("read the setting %s: %w", BackupsKept.Key, err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < BackupsKept.Min {
		n, _ = strconv.Atoi(BackupsKept.Default)
	}
	return n, nil
}

// SetBackupsKept changes how many successful upgrades' backups each
// instance keeps, audited with its reason. It takes effect at the next
// successful upgrade of each instance.
func (c *Console) SetBackupsKept(ctx context.Context, by audit.Actor, value, reason string) error {
	fe := check.FieldErrors{}
	v, err := BackupsKept.Normalize(value)
	if err != nil {
		fe.Add("keep", "%s.", err.Error())
	}
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why the number of backups kept changes; the reason is kept in the console's audit trail.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		old, err := BackupsKeptSetting(ctx, tx)
		if err != nil {
			return err
		}
		if strconv.Itoa(old) == v {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO setting (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
			updated_by = excluded.updated_by, version = setting.version + 1`, BackupsKept.Key, v, time.Now().UTC(), by.Name); err != nil {
			return fmt.Errorf("save the setting %s: %w", BackupsKept.Key, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "setting", EntityID: BackupsKept.Key, Reason: reason,
			Changes: []audit.Change{{Field: "value", Old: strconv.Itoa(old), New: v}}})
	})
}

// pruneBackups removes the backups of the instance's successful upgrades
// older than the last BackupsKept, each removal audited and its upgrade
// record cleared of the backup's name. The backups of failed, rolled-back
// or unfinished upgrades are never touched: they are the evidence of what
// went wrong and, for an unfinished one, its rollback point. It returns
// the backups it removed.
func (c *Console) pruneBackups(ctx context.Context, inst Instance, note func(string)) ([]string, error) {
	keep, err := BackupsKeptSetting(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	done, err := queryUpgrades(ctx, c.DB, "WHERE u.instance_id = ? AND u.outcome = ? ORDER BY u.id DESC", inst.ID, string(Upgraded))
	if err != nil {
		return nil, err
	}
	var pruned []string
	why := fmt.Sprintf("the backups of the last %d successful upgrades of %s are kept (%s)", keep, inst.Key(), BackupsKept.Key)
	for i, u := range done {
		if i < keep || u.Backup == "" {
			continue
		}
		if err := c.dropBackup(ctx, inst, u, why); err != nil {
			return pruned, err
		}
		note(fmt.Sprintf("Removed the backup %s of the upgrade to %s (operation %d): %s.", u.Backup, u.To, u.OperationID, why))
		pruned = append(pruned, u.Backup)
	}
	return pruned, nil
}

// dropBackup removes the backup of upgrade u of inst and records that it
// did: the upgrade record no longer names it, and the audit trail says
// which backup went and why.
func (c *Console) dropBackup(ctx context.Context, inst Instance, u UpgradeRecord, why string) error {
	if err := c.removeBackup(ctx, inst, u.Backup); err != nil {
		return fmt.Errorf("remove the backup %s of upgrade %d: %w", u.Backup, u.ID, err)
	}
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE upgrade SET backup = '' WHERE id = ? AND backup = ?", u.ID, u.Backup); err != nil {
			return fmt.Errorf("record the removal of backup %s: %w", u.Backup, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: worker, Action: actionPrune, Entity: "upgrade_backup", EntityID: inst.Key(), Reason: why,
			Changes: []audit.Change{{Field: "backup", Old: u.Backup}, {Field: "upgrade", Old: fmt.Sprintf("%d: %s → %s", u.OperationID, u.From, u.To)}}})
	})
}

// sweepUpgradeVALBackups removes the upgrade backups of destroyed upgrade
// VALs' instances: a temporary VAL's database is gone with it, so the
// copies taken when it was upgraded serve nothing, and no later upgrade of
// that instance would ever prune them. The worker calls it at every poll;
// it finds nothing almost always.
func (c *Console) sweepUpgradeVALBackups(ctx context.Context) {
	left, err := queryUpgrades(ctx, c.DB, "WHERE u.backup <> '' AND i.state = ? AND e.purpose = ?", string(Destroyed), string(Upgrade))
	if err != nil {
		if ctx.Err() == nil {
			c.logger().Error("look for backups of destroyed upgrade VALs", "err", err)
		}
		return
	}
	for _, u := range left {
		inst, err := instanceByID(ctx, c.DB, u.InstanceID)
		if err == nil {
			err = c.dropBackup(ctx, inst, u, "the upgrade VAL "+inst.Org+"/"+inst.Env+" was destroyed, and its upgrade backups with it")
		}
		if err != nil && ctx.Err() == nil {
			// Tried again at every poll, but said once.
			if _, said := sweepFailed.LoadOrStore(u.Backup, true); !said {
				c.logger().Error("remove a backup of a destroyed upgrade VAL", "backup", u.Backup, "err", err)
			}
		}
	}
}

// sweepFailed remembers the backups whose removal failed and was logged.
var sweepFailed sync.Map

// removeBackup deletes one pre-upgrade backup of the instance: a copy
// under upgrades/ for SQLite, a database named after the instance's for
// PostgreSQL. Anything else is refused, so a wrong record never removes
// the live database.
func (c *Console) removeBackup(ctx context.Context, inst Instance, backup string) error {
	if inst.Engine == store.SQLite {
		path := filepath.Clean(c.Places.path(backup))
		if !strings.HasPrefix(path, c.Places.path("upgrades")+string(filepath.Separator)) || path == filepath.Clean(c.Places.DSN(inst)) {
			return fmt.Errorf("%s is not an upgrade backup of %s", backup, inst.Key())
		}
		return removeSQLite(path)
	}
	if backup == inst.Database || !strings.Contains(backup, "_upgrade") {
		return fmt.Errorf("%s is not an upgrade backup of %s", backup, inst.Key())
	}
	if _, err := c.DB.Raw().ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(backup)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", backup, err)
	}
	return nil
}
