package console

import (
	"context"
	"fmt"
	"time"
)

// progressHold is the progress an upgrade records when it begins to hold
// requests: an interrupted run that got this far may have stopped the old
// build or changed the database.
const progressHold = 40

// resumeUpgrade puts right what an earlier run of the upgrade left when
// its console stopped or crashed, before the operation starts over. It
// reports whether the upgrade is over, and how it ended.
//
// An upgrade whose earlier run had ended (its outcome was recorded before
// the console stopped) is not done again. One cut short before it held
// requests starts over: nothing was touched. One cut short after that is a
// failed upgrade, as issue 8 demands of any failure: its backup is
// restored, the old build restarted and the upgrade recorded rolled back;
// it is never retried unattended — the operator requests it again.
func (c *Console) resumeUpgrade(ctx context.Context, op Operation, inst Instance, u UpgradeRecord) (bool, error) {
	note := c.note(ctx, op)
	switch u.Outcome {
	case Upgraded, RolledBack, UpgradeRefused, UpgradeCancelled:
		// The instance is held by this operation, so no other start brings
		// it back after the restart: it is started here on its build.
		note("This upgrade had already ended " + string(u.Outcome) + " before the console stopped; " + inst.Key() + " is started on " + inst.Build.String() + ".")
		if err := c.startChecked(ctx, inst, inst.Build, -1); err != nil {
			return true, fmt.Errorf("start %s on %s after the console restarted: %w", inst.Key(), inst.Build, err)
		}
		if u.Outcome == Upgraded {
			return true, nil
		}
		return true, &upgradeFailed{fmt.Errorf("the upgrade of %s to %s had already ended %s", inst.Key(), u.To, u.Outcome)}
	case UpgradeFailed:
		return true, fmt.Errorf("the upgrade of %s to %s had already failed and could not be rolled back", inst.Key(), u.To)
	case UpgradeRunning:
	default:
		return false, nil
	}
	if inst.Build == u.To {
		// The new build was recorded: the upgrade had succeeded.
		note("An earlier run of this upgrade had already recorded " + u.To.String() + "; making sure it serves.")
		if err := c.startChecked(ctx, inst, u.To, -1); err != nil {
			return true, fmt.Errorf("start %s on %s after the interrupted upgrade: %w", inst.Key(), u.To, err)
		}
		c.setUpgrade(ctx, u.ID, "outcome = ?, finished_at = ?", string(Upgraded), time.Now().UTC())
		return true, nil
	}
	held := op.Progress >= progressHold || u.Backup != ""
	if held && c.Gate != nil {
		// Requests wait while the old build comes back, as during the upgrade.
		if release, err := c.Gate.Hold(ctx, inst.Key()); err == nil {
			defer release()
		}
	}
	if spec, err := c.SpecOn(ctx, inst, u.To); err == nil {
		// A process of the new build left by a crashed console, perhaps
		// still migrating, lets go of the database first.
		if err := c.Runtime.Stop(ctx, spec); err != nil {
			return true, fmt.Errorf("stop %s on %s after the interrupted upgrade: %w", inst.Key(), u.To, err)
		}
	}
	if !held {
		note("An earlier run of this upgrade was cut short before it held requests; nothing was changed, so it starts over.")
		if err := c.startChecked(ctx, inst, inst.Build, -1); err != nil {
			return true, fmt.Errorf("restart %s on %s after the interrupted upgrade: %w", inst.Key(), inst.Build, err)
		}
		return false, nil
	}
	note("The console stopped during this upgrade, after it began to hold requests; it is rolled back, not retried unattended.")
	fail := func(err error) (bool, error) {
		c.setUpgrade(ctx, u.ID, "outcome = ?, finished_at = ?", string(UpgradeFailed), time.Now().UTC())
		return true, err
	}
	if u.Backup != "" {
		// The instance may hold a half-migrated database: its backup is the truth.
		if err := c.restoreBackup(ctx, inst, u.Backup); err != nil {
			return fail(fmt.Errorf("restore the backup %s of the interrupted upgrade of %s: %w", u.Backup, inst.Key(), err))
		}
		note("Restored the backup " + u.Backup + ".")
	} else {
		note("The upgrade had made no backup yet, so the database was not changed.")
	}
	if err := c.startChecked(ctx, inst, inst.Build, -1); err != nil {
		return fail(fmt.Errorf("restart %s on %s after the interrupted upgrade: %w", inst.Key(), inst.Build, err))
	}
	note(inst.Key() + " serves again on " + inst.Build.String() + ".")
	c.setUpgrade(ctx, u.ID, "outcome = ?, finished_at = ?", string(RolledBack), time.Now().UTC())
	return true, &upgradeFailed{fmt.Errorf("the console stopped during the upgrade of %s to %s, so %s was rolled back to %s; request the upgrade again",
		inst.Key(), u.To, inst.Key(), inst.Build)}
}
