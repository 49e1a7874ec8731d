package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// OpUpgrade swaps an instance's build for another while the console's
// proxy holds its requests, and rolls back by itself when anything fails.
const OpUpgrade OpKind = "upgrade"

// OpScheduled is an operation waiting for its agreed slot: the worker
// queues it when the slot comes. It holds its instance meanwhile, so
// nothing else changes the instance before its upgrade.
const OpScheduled OpState = "scheduled"

// UpgradeOutcome is where an upgrade stands, as its history shows it.
type UpgradeOutcome string

// The upgrade outcomes.
const (
	UpgradeScheduled UpgradeOutcome = "scheduled"   // waiting for its slot
	UpgradeQueued    UpgradeOutcome = "queued"      // waiting for a worker
	UpgradeRunning   UpgradeOutcome = "running"     // being carried out
	Upgraded         UpgradeOutcome = "upgraded"    // the instance runs the new build
	UpgradeRefused   UpgradeOutcome = "refused"     // a pre-check failed; nothing was touched
	RolledBack       UpgradeOutcome = "rolled-back" // failed; the old build serves the restored data again
	UpgradeFailed    UpgradeOutcome = "failed"      // failed and the rollback too: the instance is failed
	UpgradeCancelled UpgradeOutcome = "cancelled"   // a scheduled upgrade called off before its slot
)

// UpgradeRecord is one requested upgrade of an instance and what came of it.
type UpgradeRecord struct {
	ID          int64
	OperationID int64
	InstanceID  int64
	Instance    string
	From, To    Build
	// Slot is the agreed time; not valid for "now".
	Slot        sql.NullTime
	Reason      string
	RequestedBy string
	RequestedAt time.Time
	// ValidatedBy names the upgrade VAL environment whose sign-off allowed
	// a PROD upgrade.
	ValidatedBy string
	Outcome     UpgradeOutcome
	FromSchema  sql.NullInt64
	ToSchema    sql.NullInt64
	// Backup is the copy of the database taken while requests were held
	// (a file under the data directory, or a PostgreSQL database name).
	Backup string
	// HeldMS is how long new requests were held, in milliseconds.
	HeldMS sql.NullInt64
	// FailedRequests counts the requests to the instance that failed
	// during the upgrade, as the proxy saw them; not valid when the console
	// has no proxy that counts them.
	FailedRequests sql.NullInt64
	StartedAt      sql.NullTime
	FinishedAt     sql.NullTime
	// Log is the upgrade operation's log.
	Log string
}

// Lines returns the upgrade's log line by line.
func (u UpgradeRecord) Lines() []string { return Operation{Log: u.Log}.Lines() }

// Finished reports whether the upgrade has ended one way or another.
func (u UpgradeRecord) Finished() bool {
	switch u.Outcome {
	case Upgraded, UpgradeRefused, RolledBack, UpgradeFailed, UpgradeCancelled:
		return true
	}
	return false
}

// FailureMeter is a Gate that also counts an instance's failed requests:
// the console's proxy implements it, so an upgrade records how many
// requests it cost (the goal is none).
type FailureMeter interface {
	// Failures counts the requests to the instance that arrived between
	// from and to and failed (the proxy's own errors, the instance's 5xx).
	Failures(key string, from, to time.Time) int
}

// BuildSchemas is implemented by a release catalog that knows the schema
// version each build needs; without it an upgrade asks the build itself by
// preparing a throwaway empty database with it.
type BuildSchemas interface {
	SchemaVersion(ctx context.Context, b Build) (int64, error)
}

// upgradeFailed is an upgrade that failed while its instance kept, or got
// back, its old build and data: the operation failed, the instance did not.
type upgradeFailed struct{ err error }

func (e *upgradeFailed) Error() string { return e.err.Error() }
func (e *upgradeFailed) Unwrap() error { return e.err }

// keepsInstance reports whether a failed operation left its instance
// serving as before, so it is not marked failed.
func keepsInstance(err error) bool {
	var u *upgradeFailed
	return errors.As(err, &u)
}

// RequestUpgrade asks for an instance to be upgraded to build to, now (a
// zero at) or at the agreed slot at. The instance must be running on
// another build; to must be installed; a PROD instance needs an upgrade VAL
// on that build signed off as validated. The request is audited with its
// reason; the worker carries it out (see upgrade).
func (c *Console) RequestUpgrade(ctx context.Context, by audit.Actor, key string, to Build, at time.Time, reason string) (Operation, error) {
	reason = strings.TrimSpace(reason)
	fe := check.FieldErrors{}
	if to.Version == "" || to.Number == "" {
		fe.Add("to", "Choose the build to upgrade to.")
	}
	if reason == "" {
		fe.Add("reason", "Say why %s is to be upgraded; the reason is kept in the console's audit trail.", key)
	}
	if err := fe.Err(); err != nil {
		return Operation{}, err
	}
	inst, err := GetInstance(ctx, c.DB, key)
	if err != nil {
		return Operation{}, err
	}
	// The build must be installed now; the worker checks its binary again.
	if _, err := c.SpecOn(ctx, inst, to); err != nil {
		return Operation{}, refuse("%s cannot be upgraded to %s: %v", key, to, err)
	}
	now := time.Now().UTC()
	scheduled := !at.IsZero() && at.After(now.Add(5*time.Second))
	var op Operation
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		inst, err := GetInstance(ctx, tx, key)
		if err != nil {
			return err
		}
		if err := lockRow(ctx, tx, inst.ID); err != nil {
			return err
		}
		if h, held, err := Holder(ctx, tx, inst.ID); err != nil {
			return err
		} else if held {
			return &Busy{Key: inst.Key(), Holder: h}
		}
		if inst.State != Running {
			return refuse("%s is %s; only a running instance is upgraded (start it first).", key, inst.State)
		}
		if inst.Build == to {
			return refuse("%s already runs %s.", key, to)
		}
		var pending int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM upgrade WHERE instance_id = ? AND outcome IN (?, ?, ?)", inst.ID,
			string(UpgradeScheduled), string(UpgradeQueued), string(UpgradeRunning)).Scan(&pending); err != nil {
			return fmt.Errorf("look for pending upgrades of %s: %w", key, err)
		}
		if pending > 0 {
			return refuse("%s already has an upgrade scheduled or under way; call it off first to agree another.", key)
		}
		var validatedBy string
		if inst.Kind == Prod {
			if validatedBy, err = validatedFor(ctx, tx, inst.Org, to); err != nil {
				return err
			}
		}
		op, err = enqueue(ctx, tx, by, Operation{Kind: OpUpgrade, InstanceID: inst.ID, Instance: inst.Key(), Reason: reason}, inst)
		if err != nil {
			return err
		}
		outcome, slot := UpgradeQueued, sql.NullTime{}
		if scheduled {
			outcome, slot = UpgradeScheduled, sql.NullTime{Time: at.UTC(), Valid: true}
			if _, err := tx.Exec(ctx, "UPDATE operation SET state = ?, step = ?, log = ? WHERE id = ?", string(OpScheduled), "scheduled",
				stamp("Scheduled for the agreed slot "+at.UTC().Format("2006-01-02 15:04")+" UTC."), op.ID); err != nil {
				return fmt.Errorf("schedule the upgrade of %s: %w", key, err)
			}
			// Until its slot the upgrade does not hold the instance: it keeps
			// being started after a console restart, and may be stopped. The
			// lock is taken when the slot comes.
			if _, err := tx.Exec(ctx, "DELETE FROM instance_lock WHERE operation_id = ?", op.ID); err != nil {
				return fmt.Errorf("schedule the upgrade of %s: %w", key, err)
			}
			op.State, op.Step = OpScheduled, "scheduled"
		}
		if _, err := tx.InsertID(ctx, `INSERT INTO upgrade (operation_id, instance_id, from_version, from_number, to_version, to_number,
			slot, reason, requested_by, requested_at, validated_by, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			op.ID, inst.ID, inst.Build.Version, inst.Build.Number, to.Version, to.Number, slot, reason, by.Name, now, validatedBy, string(outcome)); err != nil {
			return fmt.Errorf("record the upgrade of %s: %w", key, err)
		}
		when := "now"
		if scheduled {
			when = at.UTC().Format(time.RFC3339)
		}
		changes := []audit.Change{{Field: "from", New: inst.Build.String()}, {Field: "to", New: to.String()}, {Field: "slot", New: when}}
		if validatedBy != "" {
			changes = append(changes, audit.Change{Field: "validated_by", New: inst.Org + "/" + validatedBy})
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionRequest, Entity: "upgrade", EntityID: key, Reason: reason, Changes: changes})
	})
	if err != nil {
		return Operation{}, err
	}
	c.notify()
	return op, nil
}

// CancelUpgrade calls off a scheduled upgrade before its slot; the
// instance is free again. A running upgrade cannot be cancelled: it
// finishes or rolls back by itself.
func (c *Console) CancelUpgrade(ctx context.Context, by audit.Actor, opID int64, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why the upgrade is called off; the reason is kept in the audit trail."}
	}
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		op, err := GetOperation(ctx, tx, opID)
		if err != nil {
			return err
		}
		if op.Kind != OpUpgrade {
			return refuse("Operation %d is a %s, not an upgrade.", opID, op.Kind)
		}
		if op.State != OpScheduled && op.State != OpQueued {
			return refuse("The upgrade of %s is %s; only a scheduled or queued upgrade can be called off.", op.Instance, op.State)
		}
		res, err := tx.Exec(ctx, "UPDATE operation SET state = ?, finished_at = ?, log = log || ? WHERE id = ? AND state = ?", string(OpFailed),
			time.Now().UTC(), stamp("Called off by "+by.Name+": "+reason), op.ID, string(op.State))
		if err != nil {
			return fmt.Errorf("call off the upgrade of %s: %w", op.Instance, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return refuse("The upgrade of %s has just started; it can no longer be called off.", op.Instance)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM instance_lock WHERE operation_id = ?", op.ID); err != nil {
			return fmt.Errorf("free %s: %w", op.Instance, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE upgrade SET outcome = ?, finished_at = ? WHERE operation_id = ?", string(UpgradeCancelled), time.Now().UTC(), op.ID); err != nil {
			return fmt.Errorf("call off the upgrade of %s: %w", op.Instance, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "upgrade", EntityID: op.Instance, Reason: reason,
			Changes: []audit.Change{{Field: "outcome", Old: string(op.State), New: string(UpgradeCancelled)}}})
	})
	return err
}

const upgradeColumns = `u.id, u.operation_id, u.instance_id, o.code || '/' || e.code || '/' || i.role, u.from_version, u.from_number,
	u.to_version, u.to_number, u.slot, u.reason, u.requested_by, u.requested_at, u.validated_by, u.outcome, u.from_schema, u.to_schema,
	u.backup, u.held_ms, u.failed_requests, u.started_at, u.finished_at, p.log`

const upgradeFrom = ` FROM upgrade u
	JOIN operation p ON p.id = u.operation_id
	JOIN instance i ON i.id = u.instance_id
	JOIN environment e ON e.id = i.environment_id
	JOIN organisation o ON o.id = e.organisation_id`

func queryUpgrades(ctx context.Context, q store.Querier, where string, args ...any) ([]UpgradeRecord, error) {
	rows, err := q.Query(ctx, "SELECT "+upgradeColumns+upgradeFrom+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list upgrades: %w", err)
	}
	defer rows.Close()
	var out []UpgradeRecord
	for rows.Next() {
		var u UpgradeRecord
		var outcome string
		if err := rows.Scan(&u.ID, &u.OperationID, &u.InstanceID, &u.Instance, &u.From.Version, &u.From.Number, &u.To.Version, &u.To.Number,
			&u.Slot, &u.Reason, &u.RequestedBy, &u.RequestedAt, &u.ValidatedBy, &outcome, &u.FromSchema, &u.ToSchema, &u.Backup,
			&u.HeldMS, &u.FailedRequests, &u.StartedAt, &u.FinishedAt, &u.Log); err != nil {
			return nil, fmt.Errorf("list upgrades: %w", err)
		}
		u.Outcome = UpgradeOutcome(outcome)
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpgradesOf is an instance's upgrade history, newest first: from → to,
// who, when, slot, held time, failed requests, outcome and log.
func UpgradesOf(ctx context.Context, q store.Querier, key string) ([]UpgradeRecord, error) {
	inst, err := GetInstance(ctx, q, key)
	if err != nil {
		return nil, err
	}
	return queryUpgrades(ctx, q, "WHERE u.instance_id = ? ORDER BY u.id DESC", inst.ID)
}

// UpgradeByOperation returns the upgrade an operation carries out.
func UpgradeByOperation(ctx context.Context, q store.Querier, opID int64) (UpgradeRecord, error) {
	list, err := queryUpgrades(ctx, q, "WHERE u.operation_id = ?", opID)
	if err != nil {
		return UpgradeRecord{}, err
	}
	if len(list) == 0 {
		return UpgradeRecord{}, fmt.Errorf("upgrade of operation %d: %w", opID, check.ErrNotFound)
	}
	return list[0], nil
}

// RecentUpgrades lists the console's latest upgrades, newest first.
func RecentUpgrades(ctx context.Context, q store.Querier, limit int) ([]UpgradeRecord, error) {
	if limit <= 0 {
		limit = 50
	}
	return queryUpgrades(ctx, q, "ORDER BY u.id DESC LIMIT "+strconv.Itoa(limit))
}

// promoteDue queues the scheduled upgrades whose slot has come, and moves
// the temporary upgrade VALs along. The worker calls it at every poll.
func (c *Console) promoteDue(ctx context.Context) {
	rows, err := c.DB.Query(ctx, "SELECT u.operation_id, u.instance_id, u.slot FROM upgrade u JOIN operation p ON p.id = u.operation_id WHERE p.state = ?", string(OpScheduled))
	if err != nil {
		if ctx.Err() == nil {
			c.logger().Error("read the scheduled upgrades", "err", err)
		}
		return
	}
	type slotted struct{ op, inst int64 }
	var due []slotted
	now := time.Now()
	for rows.Next() {
		var d slotted
		var slot sql.NullTime
		if rows.Scan(&d.op, &d.inst, &slot) == nil && (!slot.Valid || !slot.Time.After(now)) {
			due = append(due, d)
		}
	}
	rows.Close()
	for _, d := range due {
		// The slot has come: the upgrade takes its instance's lock, or — if
		// another operation holds it — waits for the next poll.
		err := c.DB.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO instance_lock (instance_id, operation_id, locked_at) VALUES (?, ?, ?)", d.inst, d.op, now.UTC()); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE operation SET state = ?, log = log || ? WHERE id = ? AND state = ?", string(OpQueued),
				stamp("The agreed slot has come; the upgrade is queued."), d.op, string(OpScheduled)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE upgrade SET outcome = ? WHERE operation_id = ?", string(UpgradeQueued), d.op)
			return err
		})
		if err != nil && !store.IsUniqueViolation(err) && ctx.Err() == nil {
			c.logger().Error("queue a scheduled upgrade", "operation", d.op, "err", err)
		}
	}
	c.advanceUpgradeVALs(ctx)
	c.sweepUpgradeVALBackups(ctx)
}

func (c *Console) setUpgrade(ctx context.Context, id int64, set string, args ...any) {
	if _, err := c.DB.Exec(context.WithoutCancel(ctx), "UPDATE upgrade SET "+set+" WHERE id = ?", append(args, id)...); err != nil {
		c.logger().Error("record the upgrade", "upgrade", id, "err", err)
	}
}
