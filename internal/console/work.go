package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// worker is the audit trail's name for the console carrying out a request.
var worker = audit.Actor{ID: 0, Name: "console"}

// Run is the running console's worker. It claims the registry (refusing if
// another live console holds it), picks up operations a stopped console
// left unfinished, starts every instance that should be running, and then
// carries out queued operations — from pages, or from the CLI in another
// process — until ctx ends. On the way out it stops supervising: the local
// runtime stops its processes, which the next console starts again.
func (c *Console) Run(ctx context.Context) error {
	if c.Runtime == nil {
		return errNoRuntime
	}
	if c.owner == "" {
		if err := c.Claim(ctx); err != nil {
			return err
		}
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := c.Runtime.Close(stop); err != nil {
			c.logger().Error("stop instances", "err", err)
		}
		c.release(stop)
	}()
	if _, err := c.DB.Exec(ctx, "UPDATE operation SET state = ?, log = log || ? WHERE state = ?",
		string(OpQueued), stamp("The console restarted; the operation starts over (every step is safe to repeat)."), string(OpRunning)); err != nil {
		return fmt.Errorf("resume unfinished operations: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if err := c.reconcile(ctx, &wg); err != nil {
		return err
	}
	workers := c.Workers
	if workers <= 0 {
		workers = 4
	}
	slots := make(chan struct{}, workers)
	beat := time.NewTicker(c.heartbeatEvery())
	defer beat.Stop()
	poll := time.NewTicker(500 * time.Millisecond)
	defer poll.Stop()
	for {
		c.promoteDue(ctx)
		c.dispatch(ctx, slots, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if err := c.beat(ctx); err != nil && ctx.Err() == nil {
				c.logger().Error("heartbeat", "err", err)
			}
		case <-poll.C:
		case <-c.wakeup():
		}
	}
}

// dispatch hands queued operations to free workers until either runs out.
func (c *Console) dispatch(ctx context.Context, slots chan struct{}, wg *sync.WaitGroup) {
	for {
		select {
		case slots <- struct{}{}:
		default:
			return // every worker is busy
		}
		op, ok, err := c.claimNext(ctx)
		if err != nil || !ok {
			<-slots
			if err != nil && ctx.Err() == nil {
				c.logger().Error("claim an operation", "err", err)
			}
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			c.execute(ctx, op)
		}()
	}
}

// reconcile starts every instance the registry says is running and no
// operation holds; the runtime takes over or replaces whatever an earlier
// console left behind.
func (c *Console) reconcile(ctx context.Context, wg *sync.WaitGroup) error {
	insts, err := InstancesIn(ctx, c.DB, Running)
	if err != nil {
		return err
	}
	for _, inst := range insts {
		if _, held, err := Holder(ctx, c.DB, inst.ID); err != nil || held {
			continue
		}
		if err := c.ensurePort(ctx, &inst); err != nil {
			return err
		}
		spec, err := c.Spec(inst)
		if err != nil {
			c.logger().Error("cannot start instance", "instance", inst.Key(), "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Runtime.Start(ctx, spec); err != nil && ctx.Err() == nil {
				c.logger().Error("instance did not come back", "instance", inst.Key(), "err", err)
			}
		}()
	}
	return nil
}

// claimNext marks the oldest queued operation as running, if there is one.
func (c *Console) claimNext(ctx context.Context) (Operation, bool, error) {
	rows, err := c.DB.Query(ctx, "SELECT id FROM operation WHERE state = ? ORDER BY id LIMIT 8", string(OpQueued))
	if err != nil {
		return Operation{}, false, fmt.Errorf("read the queue: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Operation{}, false, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		res, err := c.DB.Exec(ctx, "UPDATE operation SET state = ?, started_at = ? WHERE id = ? AND state = ?",
			string(OpRunning), time.Now().UTC(), id, string(OpQueued))
		if err != nil {
			return Operation{}, false, fmt.Errorf("claim operation %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			op, err := GetOperation(ctx, c.DB, id)
			return op, err == nil, err
		}
	}
	return Operation{}, false, nil
}

// RunOnce carries out the oldest queued operation, if any, and reports
// whether there was one — for tools and tests that drive the queue by hand.
func (c *Console) RunOnce(ctx context.Context) (bool, error) {
	if c.Runtime == nil {
		return false, errNoRuntime
	}
	op, ok, err := c.claimNext(ctx)
	if err != nil || !ok {
		return false, err
	}
	c.execute(ctx, op)
	return true, nil
}

func stamp(line string) string {
	return time.Now().UTC().Format("15:04:05") + " " + line + "\n"
}

// progress records the operation's step and progress and appends a line to
// its log, where the instance page and the CLI follow it.
func (c *Console) progress(ctx context.Context, op Operation, step string, pct int, line string) {
	if _, err := c.DB.Exec(context.WithoutCancel(ctx), "UPDATE operation SET step = ?, progress = ?, log = log || ? WHERE id = ?",
		step, pct, stamp(line), op.ID); err != nil {
		c.logger().Error("record progress", "operation", op.ID, "err", err)
	}
}

func (c *Console) note(ctx context.Context, op Operation) func(string) {
	return func(line string) {
		if _, err := c.DB.Exec(context.WithoutCancel(ctx), "UPDATE operation SET log = log || ? WHERE id = ?", stamp(line), op.ID); err != nil {
			c.logger().Error("record progress", "operation", op.ID, "err", err)
		}
	}
}

// execute carries one operation out and records how it ended. An operation
// cut short by the console stopping stays "running"; the next console
// starts it over.
func (c *Console) execute(ctx context.Context, op Operation) {
	c.progress(ctx, op, "start", 0, fmt.Sprintf("Started the %s of %s.", op.Kind, op.Instance))
	inst, err := instanceByID(ctx, c.DB, op.InstanceID)
	if err == nil {
		switch op.Kind {
		case OpProvision, OpClone:
			err = c.provision(ctx, op, inst)
		case OpStart:
			err = c.start(ctx, op, inst)
		case OpStop:
			err = c.stop(ctx, op, inst)
		case OpDestroy:
			err = c.destroy(ctx, op, inst)
		case OpUpgrade:
			err = c.upgrade(ctx, op, inst)
		case OpMakeVAL, OpMakeProd:
			err = c.makePair(ctx, op, inst)
		case OpMigrate:
			err = c.migrate(ctx, op, inst)
		default:
			err = fmt.Errorf("the console cannot carry out a %q operation", op.Kind)
		}
	}
	if err != nil && ctx.Err() != nil {
		c.note(ctx, op)("The console is stopping; the operation will start over when it runs again.")
		return
	}
	if ferr := c.finish(context.WithoutCancel(ctx), op, err); ferr != nil {
		c.logger().Error("record the end of an operation", "operation", op.ID, "err", ferr)
	}
}

// finish records the operation's end, frees its instance, and on failure
// marks the instance failed with the operation's log. A clone's source is
// never marked: a failed copy is the target's failure alone.
func (c *Console) finish(ctx context.Context, op Operation, failure error) error {
	state, line := OpDone, "Done."
	if failure != nil {
		state, line = OpFailed, "Failed: "+failure.Error()
		// The target's process, if one was started, must not hold its
		// unfinished database open.
		if inst, err := instanceByID(ctx, c.DB, op.InstanceID); err == nil && c.Runtime != nil && (op.Kind == OpProvision || op.Kind == OpClone) {
			if spec, err := c.Spec(inst); err == nil {
				c.Runtime.Stop(ctx, spec)
			}
		}
	}
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		pct := "progress"
		if state == OpDone {
			pct = "100"
		}
		if _, err := tx.Exec(ctx, "UPDATE operation SET state = ?, finished_at = ?, progress = "+pct+", log = log || ? WHERE id = ?",
			string(state), time.Now().UTC(), stamp(line), op.ID); err != nil {
			return fmt.Errorf("finish operation %d: %w", op.ID, err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM instance_lock WHERE operation_id = ?", op.ID); err != nil {
			return fmt.Errorf("free the instance of operation %d: %w", op.ID, err)
		}
		if failure != nil && !keepsInstance(failure) {
			inst, err := instanceByID(ctx, tx, op.InstanceID)
			if err != nil {
				return err
			}
			finished, err := GetOperation(ctx, tx, op.ID)
			if err != nil {
				return err
			}
			if inst.State != Failed {
				if err := moveTx(ctx, tx, inst, Failed, op, finished.Log); err != nil {
					return err
				}
			} else if _, err := tx.Exec(ctx, "UPDATE instance SET failure = ? WHERE id = ?", finished.Log, inst.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: worker, Action: audit.Update, Entity: "operation",
			EntityID: strconv.FormatInt(op.ID, 10), Reason: fmt.Sprintf("%s of %s requested by %s", op.Kind, op.Instance, op.RequestedBy),
			Changes: []audit.Change{{Field: "state", Old: string(OpRunning), New: string(state)}}})
	})
}

// move changes an instance's state in the registry, audited.
func (c *Console) move(ctx context.Context, inst *Instance, to State, op Operation) error {
	if inst.State == to {
		return nil
	}
	err := c.DB.InTx(ctx, func(tx *store.Tx) error { return moveTx(ctx, tx, *inst, to, op, "") })
	if err == nil {
		inst.State = to
	}
	return err
}

func moveTx(ctx context.Context, tx *store.Tx, inst Instance, to State, op Operation, failure string) error {
	if !CanMove(inst.State, to) {
		return fmt.Errorf("%s cannot move from %s to %s", inst.Key(), inst.State, to)
	}
	res, err := tx.Exec(ctx, `UPDATE instance SET state = ?, failure = ?, state_changed_at = ?, updated_by = ?, version = version + 1
		WHERE id = ? AND state = ?`, string(to), failure, time.Now().UTC(), op.RequestedBy, inst.ID, string(inst.State))
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", inst.Key(), to, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("move %s to %s: its state changed meanwhile", inst.Key(), to)
	}
	reason := fmt.Sprintf("operation %d: %s requested by %s", op.ID, op.Kind, op.RequestedBy)
	if op.Reason != "" {
		reason += " (" + op.Reason + ")"
	}
	return audit.Record(ctx, tx, audit.Event{Actor: worker, Action: audit.Update, Entity: "instance", EntityID: inst.Key(),
		Reason: reason, Changes: []audit.Change{{Field: "state", Old: string(inst.State), New: string(to)}}})
}

// ensurePort gives the instance a free loopback port, keeping the one it
// has unless something else took it.
func (c *Console) ensurePort(ctx context.Context, inst *Instance) error {
	if inst.Port != 0 {
		if c.Runtime.Status(inst.Key()).Process != Down {
			return nil
		}
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", inst.Port)); err == nil {
			ln.Close()
			return nil
		}
	}
	used := map[int]bool{}
	rows, err := c.DB.Query(ctx, "SELECT port FROM instance WHERE state <> ? AND id <> ?", string(Destroyed), inst.ID)
	if err != nil {
		return fmt.Errorf("read the ports in use: %w", err)
	}
	for rows.Next() {
		var p int
		rows.Scan(&p)
		used[p] = true
	}
	rows.Close()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if used[port] {
			continue
		}
		if _, err := c.DB.Exec(ctx, "UPDATE instance SET port = ? WHERE id = ?", port, inst.ID); err != nil {
			return fmt.Errorf("record the port of %s: %w", inst.Key(), err)
		}
		inst.Port = port
		return nil
	}
	return errors.New("find a free port: every port offered is in use")
}

// logTail is the end of an instance's log, added to a failed step's report.
func (c *Console) logTail(spec Spec) string {
	lines, err := c.Runtime.Logs(spec, 15)
	if err != nil || len(lines) == 0 {
		return ""
	}
	return "Last lines of the instance's log:\n  " + strings.Join(lines, "\n  ")
}
