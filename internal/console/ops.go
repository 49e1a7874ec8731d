package console

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// provision makes a requested (or failed) instance: an empty database, or a
// copy of the source's; obfuscated when the source is PROD; prepared by the
// instance's own build; started. Every step can be repeated: a retry starts
// again from an empty target.
func (c *Console) provision(ctx context.Context, op Operation, inst Instance) error {
	// An instance found provisioning is this operation's own earlier run,
	// cut short by a console that stopped: the operation holds its lock, so
	// nobody else could have moved it there. It starts over.
	if inst.State != Provisioning {
		if err := CheckOperation(op.Kind, inst.Key(), inst.State); err != nil {
			return err
		}
	}
	spec, err := c.beginProvisioning(ctx, op, &inst)
	if err != nil {
		return err
	}
	prep := Preparation{By: op.RequestedBy}
	if op.Kind == OpClone {
		src, err := instanceByID(ctx, c.DB, op.SourceID)
		if err != nil {
			return err
		}
		if err := CheckClonable(src.Key(), src.State); err != nil {
			return err
		}
		c.progress(ctx, op, "copy", 10, "Copying the database of "+src.Key()+".")
		if err := c.copyDatabase(ctx, src, inst, c.note(ctx, op)); err != nil {
			return err
		}
		if src.Kind == Prod {
			if c.Obfuscate == nil {
				return refuse("Volunteer PHI never leaves PROD unscrambled: a copy of PROD needs the obfuscation step, which this console does not have yet.")
			}
			srcSpec, err := c.Spec(src)
			if err != nil {
				return err
			}
			c.progress(ctx, op, "obfuscate", 40, "Obfuscating volunteer PHI in the copy.")
			if err := c.obfuscateCopy(ctx, inst, srcSpec, spec, c.note(ctx, op)); err != nil {
				return err
			}
		}
		prep.ClonedFrom = src.Key()
	} else {
		c.progress(ctx, op, "database", 10, fmt.Sprintf("Creating an empty %s database.", inst.Engine))
		if err := c.freshDatabase(ctx, inst); err != nil {
			return err
		}
		prep.Demo = inst.Kind == Demo && inst.Role == Main
	}
	c.progress(ctx, op, "prepare", 50, "Preparing the database with build "+inst.Build.String()+".")
	prepared, err := c.Runtime.Prepare(ctx, spec, prep)
	if err != nil {
		return fmt.Errorf("prepare %s: %w", inst.Key(), err)
	}
	c.announce(inst, prepared, c.note(ctx, op))
	return c.launch(ctx, op, &inst, spec, 70)
}

// launch starts the instance's process and waits for it to be ready.
func (c *Console) launch(ctx context.Context, op Operation, inst *Instance, spec Spec, pct int) error {
	c.progress(ctx, op, "start", pct, "Starting the instance on "+spec.Addr+".")
	if err := c.Runtime.Start(ctx, spec); err != nil {
		if tail := c.logTail(spec); tail != "" {
			return fmt.Errorf("start %s: %w\n%s", inst.Key(), err, tail)
		}
		return fmt.Errorf("start %s: %w", inst.Key(), err)
	}
	c.note(ctx, op)("Ready at " + inst.BasePath + "/ (process on " + spec.Addr + ").")
	return c.move(ctx, inst, Running, op)
}

func (c *Console) start(ctx context.Context, op Operation, inst Instance) error {
	if err := CheckOperation(OpStart, inst.Key(), inst.State); err != nil {
		return err
	}
	if err := c.ensurePort(ctx, &inst); err != nil {
		return err
	}
	spec, err := c.Spec(inst)
	if err != nil {
		return err
	}
	return c.launch(ctx, op, &inst, spec, 20)
}

func (c *Console) stop(ctx context.Context, op Operation, inst Instance) error {
	if err := CheckOperation(OpStop, inst.Key(), inst.State); err != nil {
		return err
	}
	spec, err := c.Spec(inst)
	if err != nil {
		return err
	}
	c.progress(ctx, op, "stop", 20, "Stopping the instance; requests in flight finish first.")
	if err := c.Runtime.Stop(ctx, spec); err != nil {
		return fmt.Errorf("stop %s: %w", inst.Key(), err)
	}
	return c.move(ctx, &inst, Stopped, op)
}

// destroy stops the instance, keeps its final backup in the archive, and
// marks it destroyed; its registry record stays. The rules are checked
// again here: a milestone may have been withdrawn since the request.
func (c *Console) destroy(ctx context.Context, op Operation, inst Instance) error {
	if inst.State == Destroyed {
		return nil
	}
	if err := CheckOperation(OpDestroy, inst.Key(), inst.State); err != nil {
		return err
	}
	facts, err := factsOf(ctx, c.DB, inst.Org)
	if err != nil {
		return err
	}
	if err := CheckDestroy(inst.Kind, inst.Purpose, inst.Env, facts); err != nil {
		return err
	}
	spec, err := c.Spec(inst)
	if err != nil {
		return err
	}
	c.progress(ctx, op, "stop", 10, "Stopping the instance.")
	if err := c.Runtime.Stop(ctx, spec); err != nil {
		return fmt.Errorf("stop %s: %w", inst.Key(), err)
	}
	// The archive's name is recorded before it is made, so a retry finishes
	// the same archive instead of starting a second one.
	if inst.Archive == "" {
		inst.Archive = c.archiveName(inst, time.Now())
		if _, err := c.DB.Exec(ctx, "UPDATE instance SET archive = ? WHERE id = ?", inst.Archive, inst.ID); err != nil {
			return fmt.Errorf("record the archive of %s: %w", inst.Key(), err)
		}
	}
	c.progress(ctx, op, "archive", 40, "Keeping a final backup of the database.")
	if err := c.archiveDatabase(ctx, inst, inst.Archive, c.note(ctx, op)); err != nil {
		return err
	}
	if err := c.move(ctx, &inst, Destroyed, op); err != nil {
		return err
	}
	return c.closeEnvironment(ctx, inst.EnvID)
}

// closeEnvironment marks an environment destroyed once all its instances are.
func (c *Console) closeEnvironment(ctx context.Context, envID int64) error {
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		var live int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM instance WHERE environment_id = ? AND state <> ?", envID, string(Destroyed)).Scan(&live); err != nil {
			return fmt.Errorf("count live instances: %w", err)
		}
		if live > 0 {
			return nil
		}
		_, err := tx.Exec(ctx, "UPDATE environment SET destroyed_at = ? WHERE id = ? AND destroyed_at IS NULL", time.Now().UTC(), envID)
		return err
	})
}

// announce tells who needs it what preparing inst produced: its schema
// version and the one-time passwords of its first accounts. The operation
// log keeps the passwords for console managers; pages hide them from
// everyone else.
func (c *Console) announce(inst Instance, prepared Prepared, note func(string)) {
	note(fmt.Sprintf("Schema at version %d.", prepared.SchemaVersion))
	if c.Announce != nil {
		c.Announce(inst.Key(), prepared)
	}
	if prepared.AdminPassword != "" {
		note("Administrator account created: user name admin, one-time password " + prepared.AdminPassword + " (it must be changed at the first login).")
	}
	if prepared.DemoPassword != "" {
		note("Demo staff accounts (" + strings.Join(prepared.DemoUsers, ", ") + ") share the one-time password " + prepared.DemoPassword + ".")
	}
}

// obfuscateCopy runs the obfuscation step on a fresh copy. When it fails —
// a leak found, the step cut short — the copy may still hold the source's
// PHI, so its database is emptied at once rather than at the next retry or
// destroy: a failed copy never keeps unscrambled PHI lying around.
func (c *Console) obfuscateCopy(ctx context.Context, inst Instance, source, target Spec, note func(string)) error {
	err := c.Obfuscate(ctx, source, target, note)
	if err == nil {
		return nil
	}
	if werr := c.freshDatabase(context.WithoutCancel(ctx), inst); werr != nil {
		note("The copy could not be emptied after the failure (" + werr.Error() + "); destroy or retry it.")
	} else {
		note("The copy's database was emptied: it may have held unscrambled PHI.")
	}
	return err
}

var errNoRuntime = errors.New("the console needs a runtime to run instances")
