package console

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// OpState is where an operation is.
type OpState string

// The operation states.
const (
	OpQueued  OpState = "queued"
	OpRunning OpState = "running"
	OpDone    OpState = "done"
	OpFailed  OpState = "failed"
)

// Operation is one requested change to one instance, carried out by the
// console's worker, with its progress and log.
type Operation struct {
	ID          int64
	Kind        OpKind
	InstanceID  int64
	Instance    string
	SourceID    int64
	Source      string
	State       OpState
	Step        string
	Progress    int
	Log         string
	Reason      string
	RequestKey  string
	RequestedBy string
	RequestedAt time.Time
	StartedAt   sql.NullTime
	FinishedAt  sql.NullTime
}

// Finished reports whether the operation is done or failed.
func (o Operation) Finished() bool { return o.State == OpDone || o.State == OpFailed }

// Lines returns the operation's log line by line.
func (o Operation) Lines() []string {
	if o.Log == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(o.Log, "\n"), "\n")
}

// Busy refuses a second operation on an instance while one is unfinished:
// operations on one instance are serialised by refusing, not by waiting, so
// nobody's request sits silently behind another's.
type Busy struct {
	Key    string
	Holder Operation
}

// Error names the instance and the operation holding it, as a sentence.
func (b *Busy) Error() string {
	if b.Holder.ID == 0 {
		return fmt.Sprintf("%s is busy with another operation. Wait for it to finish, then try again.", b.Key)
	}
	return fmt.Sprintf("%s is busy: the %s requested by %s at %s UTC (operation %d) has not finished. Wait for it to finish, then try again.",
		b.Key, b.Holder.Kind, b.Holder.RequestedBy, b.Holder.RequestedAt.UTC().Format("2006-01-02 15:04:05"), b.Holder.ID)
}

const opColumns = `p.id, p.kind, p.instance_id, COALESCE(o.code || '/' || e.code || '/' || i.role, ''), COALESCE(p.source_id, 0),
	COALESCE(so.code || '/' || se.code || '/' || si.role, ''), p.state, p.step, p.progress, p.log, p.reason, COALESCE(p.request_key, ''),
	p.requested_by, p.requested_at, p.started_at, p.finished_at`

const opFrom = ` FROM operation p
	JOIN instance i ON i.id = p.instance_id
	JOIN environment e ON e.id = i.environment_id
	JOIN organisation o ON o.id = e.organisation_id
	LEFT JOIN instance si ON si.id = p.source_id
	LEFT JOIN environment se ON se.id = si.environment_id
	LEFT JOIN organisation so ON so.id = se.organisation_id`

func queryOps(ctx context.Context, q store.Querier, where string, args ...any) ([]Operation, error) {
	rows, err := q.Query(ctx, "SELECT "+opColumns+opFrom+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		var o Operation
		var kind, state string
		if err := rows.Scan(&o.ID, &kind, &o.InstanceID, &o.Instance, &o.SourceID, &o.Source, &state, &o.Step, &o.Progress, &o.Log,
			&o.Reason, &o.RequestKey, &o.RequestedBy, &o.RequestedAt, &o.StartedAt, &o.FinishedAt); err != nil {
			return nil, fmt.Errorf("list operations: %w", err)
		}
		o.Kind, o.State = OpKind(kind), OpState(state)
		out = append(out, o)
	}
	return out, rows.Err()
}

// GetOperation returns one operation.
func GetOperation(ctx context.Context, q store.Querier, id int64) (Operation, error) {
	ops, err := queryOps(ctx, q, "WHERE p.id = ?", id)
	if err != nil {
		return Operation{}, err
	}
	if len(ops) == 0 {
		return Operation{}, fmt.Errorf("operation %d: %w", id, check.ErrNotFound)
	}
	return ops[0], nil
}

// OperationsOf lists an instance's operations, newest first.
func OperationsOf(ctx context.Context, q store.Querier, instanceID int64, limit int) ([]Operation, error) {
	if limit <= 0 {
		limit = 20
	}
	return queryOps(ctx, q, "WHERE p.instance_id = ? ORDER BY p.id DESC LIMIT "+strconv.Itoa(limit), instanceID)
}

// Holder returns the unfinished operation that holds the instance, if any.
func Holder(ctx context.Context, q store.Querier, instanceID int64) (Operation, bool, error) {
	ops, err := queryOps(ctx, q, "WHERE p.id = (SELECT operation_id FROM instance_lock WHERE instance_id = ?)", instanceID)
	if err != nil || len(ops) == 0 {
		return Operation{}, false, err
	}
	return ops[0], true, nil
}

// opByRequestKey finds the operation an earlier identical request made.
func opByRequestKey(ctx context.Context, q store.Querier, key string) (Operation, bool, error) {
	if key == "" {
		return Operation{}, false, nil
	}
	ops, err := queryOps(ctx, q, "WHERE p.request_key = ?", key)
	if err != nil || len(ops) == 0 {
		return Operation{}, false, err
	}
	return ops[0], true, nil
}

// actionRequest is the audit action of a requested operation.
const actionRequest audit.Action = "request"

// enqueue records a requested operation and takes the lock rows of every
// instance it touches, in the caller's transaction. An instance already
// held refuses the request with Busy.
func enqueue(ctx context.Context, tx *store.Tx, by audit.Actor, op Operation, hold ...Instance) (Operation, error) {
	for _, in := range hold {
		if h, held, err := Holder(ctx, tx, in.ID); err != nil {
			return op, err
		} else if held {
			return op, &Busy{Key: in.Key(), Holder: h}
		}
	}
	now := time.Now().UTC()
	var src, key any
	if op.SourceID != 0 {
		src = op.SourceID
	}
	if op.RequestKey != "" {
		key = op.RequestKey
	}
	id, err := tx.InsertID(ctx, `INSERT INTO operation (kind, instance_id, source_id, state, reason, request_key, requested_by, requested_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, string(op.Kind), op.InstanceID, src, string(OpQueued), op.Reason, key, by.Name, now)
	if err != nil {
		return op, fmt.Errorf("queue %s of %s: %w", op.Kind, op.Instance, err)
	}
	for _, in := range hold {
		_, err := tx.Exec(ctx, "INSERT INTO instance_lock (instance_id, operation_id, locked_at) VALUES (?, ?, ?)", in.ID, id, now)
		if store.IsUniqueViolation(err) {
			// Another request took the lock between our check and our insert.
			return op, &Busy{Key: in.Key()}
		}
		if err != nil {
			return op, fmt.Errorf("lock %s: %w", in.Key(), err)
		}
	}
	changes := []audit.Change{{Field: "kind", New: string(op.Kind)}, {Field: "instance", New: op.Instance}}
	if op.Source != "" {
		changes = append(changes, audit.Change{Field: "source", New: op.Source})
	}
	if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionRequest, Entity: "operation",
		EntityID: strconv.FormatInt(id, 10), Reason: op.Reason, Changes: changes}); err != nil {
		return op, err
	}
	return GetOperation(ctx, tx, id)
}

// WaitOperation polls until the operation has finished or ctx ends, calling
// progress (if not nil) whenever its step or progress changes.
func WaitOperation(ctx context.Context, db *store.DB, id int64, progress func(Operation)) (Operation, error) {
	var last string
	for {
		op, err := GetOperation(ctx, db, id)
		if err != nil {
			return op, err
		}
		if now := fmt.Sprintf("%s %d %d", op.Step, op.Progress, len(op.Log)); now != last && progress != nil {
			last = now
			progress(op)
		}
		if op.Finished() {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
