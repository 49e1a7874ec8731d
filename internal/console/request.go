package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

const codeRule = "Use 2–32 lower-case letters, digits or -, starting with a letter (it becomes part of the instance's address)."

// reservedCodes are the words an organisation's own console addresses use
// (/o/ORG/golive, /o/ORG/iq/…); an environment with one of them as its
// code would hide that page or be hidden by it.
var reservedCodes = []string{"environments", "golive", "iq", "migration-runs", "new", "pair", "promote", "timeline", "upgrade-vals"}

// checkEnvironmentCode checks a code chosen for a new environment; empty
// lets the console pick one.
func checkEnvironmentCode(code string) error {
	if code == "" {
		return nil
	}
	if !codePattern.MatchString(code) {
		return check.FieldErrors{"code": codeRule}
	}
	if slices.Contains(reservedCodes, code) {
		return check.FieldErrors{"code": fmt.Sprintf("%q is a word the console's own pages use; choose another code.", code)}
	}
	return nil
}

// CreateOrganisation adds a customer (or prospect) to the registry.
func CreateOrganisation(ctx context.Context, db *store.DB, by audit.Actor, code, name string) (Organisation, error) {
	o := Organisation{Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)}
	fe := check.FieldErrors{}
	if !codePattern.MatchString(o.Code) {
		fe.Add("code", codeRule)
	}
	switch {
	case o.Name == "":
		fe.Add("name", "This field is required.")
	case len(o.Name) > 200:
		fe.Add("name", "Keep the name under 200 characters.")
	}
	if err := fe.Err(); err != nil {
		return o, err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO organisation (code, name, created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?)`, o.Code, o.Name, now, by.Name, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"code": fmt.Sprintf("An organisation with code %s already exists.", o.Code)}
		}
		if err != nil {
			return fmt.Errorf("create organisation %s: %w", o.Code, err)
		}
		o.ID, o.CreatedAt, o.CreatedBy = id, now, by.Name
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "organisation", EntityID: o.Code,
			Changes: []audit.Change{{Field: "code", New: o.Code}, {Field: "name", New: o.Name}}})
	})
	return o, err
}

// NewEnvironment is a request for a new environment.
type NewEnvironment struct {
	Org  string
	Kind Kind
	// Code names the environment in addresses; empty picks the kind's name,
	// numbered when it is taken (val, val-2, …).
	Code string
	// Purpose says why a VAL exists; go-live when empty.
	Purpose Purpose
	// From is the instance both new instances are cloned from; empty makes
	// them empty.
	From string
	// TestFrom, with From, is the instance the Test instance is cloned
	// from instead (an upgrade VAL clones PROD Test into its Test).
	TestFrom string
	Reason   string
	// RequestKey makes a repeated request (a double-click, a retried CLI
	// call) return the first one's result instead of doing it twice.
	RequestKey string
}

// CreateEnvironment checks the request against the rules, records the
// environment and its instances (Main, and Test for a pair) as requested,
// and queues one provision or clone operation per instance.
func (c *Console) CreateEnvironment(ctx context.Context, by audit.Actor, req NewEnvironment) (Environment, []Operation, error) {
	if env, ops, found, err := c.repeatedRequest(ctx, req.RequestKey); err != nil || found {
		return env, ops, err
	}
	rule, ok := RuleOf(req.Kind)
	if !ok {
		return Environment{}, nil, check.FieldErrors{"kind": "Choose the kind of environment."}
	}
	req.Code = strings.TrimSpace(req.Code)
	if err := checkEnvironmentCode(req.Code); err != nil {
		return Environment{}, nil, err
	}
	switch {
	case req.Kind != VAL:
		req.Purpose = ""
	case req.Purpose == "":
		req.Purpose = GoLive
	case req.Purpose != GoLive && req.Purpose != Upgrade:
		return Environment{}, nil, check.FieldErrors{"purpose": "A VAL environment is for a go-live or for an upgrade."}
	}
	var env Environment
	var ops []Operation
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		org, err := GetOrganisation(ctx, tx, req.Org)
		if err != nil {
			return err
		}
		if err := checkEnvironmentLimit(ctx, tx, org, req.Kind); err != nil {
			return err
		}
		var source *Instance
		var origin *Origin
		madeFrom := "empty"
		if req.From != "" {
			src, err := GetInstance(ctx, tx, req.From)
			if errors.Is(err, check.ErrNotFound) {
				return check.FieldErrors{"from": fmt.Sprintf("There is no instance %s to clone.", req.From)}
			}
			if err != nil {
				return err
			}
			if err := lockRow(ctx, tx, src.ID); err != nil {
				return err
			}
			if err := checkSourceFree(ctx, tx, src); err != nil {
				return err
			}
			source, origin, madeFrom = &src, &Origin{Key: src.Key(), Kind: src.Kind, Org: src.Org}, "clone of "+src.Key()
		}
		if err := CheckMadeFrom(req.Kind, org.Code, origin, c.Obfuscate != nil); err != nil {
			return err
		}
		var testSource *Instance
		if req.TestFrom != "" && source != nil {
			if testSource, err = c.testCloneSource(ctx, tx, req.TestFrom, req.Kind, org.Code); err != nil {
				return err
			}
		}
		if req.Code == "" {
			if req.Code, err = freeCode(ctx, tx, org.ID, string(req.Kind)); err != nil {
				return err
			}
		}
		envID, err := insertEnvironment(ctx, tx, by, org, req.Code, req.Kind, string(req.Purpose), madeFrom, time.Now().UTC())
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "environment", EntityID: org.Code + "/" + req.Code,
			Reason: req.Reason, Changes: []audit.Change{{Field: "kind", New: rule.Label}, {Field: "made_from", New: madeFrom}, {Field: "purpose", New: string(req.Purpose)}}}); err != nil {
			return err
		}
		build := Operation{Kind: OpProvision, Reason: req.Reason}
		if source != nil {
			build.Kind, build.SourceID, build.Source = OpClone, source.ID, source.Key()
		}
		if ops, err = c.queueClones(ctx, tx, by, envID, org.Code, req.Code, rule.Shape.Roles(), source, testSource, build, req.RequestKey); err != nil {
			return err
		}
		env, err = GetEnvironment(ctx, tx, org.Code, req.Code)
		return err
	})
	if err != nil {
		return Environment{}, nil, err
	}
	c.notify()
	return env, ops, nil
}

// repeated answers a repeated environment request with what the first one
// made.
func (c *Console) repeated(ctx context.Context, first Operation) (Environment, []Operation, error) {
	org, envCode, _, err := ParseKey(first.Instance)
	if err != nil {
		return Environment{}, nil, err
	}
	env, err := GetEnvironment(ctx, c.DB, org, envCode)
	if err != nil {
		return env, nil, err
	}
	var ops []Operation
	for _, in := range env.Instances {
		list, err := OperationsOf(ctx, c.DB, in.ID, 1000)
		if err != nil {
			return env, nil, err
		}
		if len(list) > 0 {
			ops = append(ops, list[len(list)-1])
		}
	}
	return env, ops, nil
}

// freeCode is the kind's name, numbered when an earlier environment (even a
// destroyed one) has it.
func freeCode(ctx context.Context, tx *store.Tx, orgID int64, base string) (string, error) {
	for n := 1; n < 1000; n++ {
		code := base
		if n > 1 {
			code = base + "-" + strconv.Itoa(n)
		}
		var taken int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM environment WHERE organisation_id = ? AND code = ?", orgID, code).Scan(&taken); err != nil {
			return "", fmt.Errorf("choose an environment code: %w", err)
		}
		if taken == 0 {
			return code, nil
		}
	}
	return "", errors.New("choose an environment code: every numbered code is taken")
}

func (c *Console) insertInstance(ctx context.Context, tx *store.Tx, by audit.Actor, envID int64, org, env string, role Role, source *Instance) (Instance, error) {
	key := InstanceKey(org, env, role)
	now := time.Now().UTC()
	var src any
	if source != nil {
		src = source.ID
	}
	id, err := tx.InsertID(ctx, `INSERT INTO instance (environment_id, role, state, build_version, build_number, engine, database_name,
		base_path, source_id, created_at, state_changed_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		envID, string(role), string(Requested), c.Build.Version, c.Build.Number, string(c.Places.Engine()), "", BasePathOf(key), src, now, now, by.Name)
	if err != nil {
		return Instance{}, fmt.Errorf("create instance %s: %w", key, err)
	}
	name := c.Places.databaseName(id, key)
	if _, err := tx.Exec(ctx, "UPDATE instance SET database_name = ? WHERE id = ?", name, id); err != nil {
		return Instance{}, fmt.Errorf("create instance %s: %w", key, err)
	}
	inst, err := instanceByID(ctx, tx, id)
	if err != nil {
		return inst, err
	}
	changes := []audit.Change{{Field: "state", New: string(Requested)}, {Field: "build", New: c.Build.String()},
		{Field: "database", New: string(inst.Engine) + ":" + name}, {Field: "url_path", New: inst.BasePath}}
	if source != nil {
		changes = append(changes, audit.Change{Field: "source", New: source.Key()})
	}
	return inst, audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "instance", EntityID: key, Changes: changes})
}

// lockRow takes the instance's row lock for the rest of the transaction on
// PostgreSQL, so two requests touching one instance are decided one after
// the other; SQLite's single immediate writer already does that.
func lockRow(ctx context.Context, tx *store.Tx, id int64) error {
	if tx.Engine != store.Postgres {
		return nil
	}
	var got int64
	if err := tx.QueryRow(ctx, "SELECT id FROM instance WHERE id = ? FOR UPDATE", id).Scan(&got); err != nil {
		return fmt.Errorf("lock instance %d: %w", id, err)
	}
	return nil
}

// pinnedBy returns an unfinished clone that reads from the instance: the
// instance may not be stopped or destroyed under it.
func pinnedBy(ctx context.Context, tx *store.Tx, id int64) (Operation, bool, error) {
	var opID int64
	err := tx.QueryRow(ctx, "SELECT id FROM operation WHERE source_id = ? AND state IN (?, ?) ORDER BY id LIMIT 1",
		id, string(OpQueued), string(OpRunning)).Scan(&opID)
	if errors.Is(err, sql.ErrNoRows) {
		return Operation{}, false, nil
	}
	if err != nil {
		return Operation{}, false, fmt.Errorf("find clones of instance %d: %w", id, err)
	}
	op, err := GetOperation(ctx, tx, opID)
	return op, err == nil, err
}

// Request asks for an operation on one existing instance: start, stop or
// destroy. It is refused by the state machine, the destroy rules, or while
// another operation holds the instance (Busy).
func (c *Console) Request(ctx context.Context, by audit.Actor, kind OpKind, key, reason, requestKey string) (Operation, error) {
	if op, found, err := opByRequestKey(ctx, c.DB, requestKey); err != nil || found {
		return op, err
	}
	if kind != OpStart && kind != OpStop && kind != OpDestroy {
		return Operation{}, refuse("Use a new environment to create or clone an instance; %s is not an operation on an existing one.", kind)
	}
	var op Operation
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		inst, err := GetInstance(ctx, tx, key)
		if err != nil {
			return err
		}
		op, err = c.requestOn(ctx, tx, by, kind, inst, 0, reason, requestKey)
		return err
	})
	if err == nil {
		c.notify()
	}
	return op, err
}

func (c *Console) requestOn(ctx context.Context, tx *store.Tx, by audit.Actor, kind OpKind, inst Instance, source int64, reason, requestKey string) (Operation, error) {
	if err := lockRow(ctx, tx, inst.ID); err != nil {
		return Operation{}, err
	}
	// A busy instance says so first: its state is about to change anyway.
	if h, held, err := Holder(ctx, tx, inst.ID); err != nil {
		return Operation{}, err
	} else if held {
		return Operation{}, &Busy{Key: inst.Key(), Holder: h}
	}
	if opRules[kind].reason && strings.TrimSpace(reason) == "" {
		return Operation{}, check.FieldErrors{"reason": fmt.Sprintf("Say why %s is to be %s; the reason is kept in the console's audit trail.", inst.Key(), opRules[kind].verb)}
	}
	if err := CheckOperation(kind, inst.Key(), inst.State); err != nil {
		return Operation{}, err
	}
	if kind == OpDestroy {
		facts, err := factsOf(ctx, tx, inst.Org)
		if err != nil {
			return Operation{}, err
		}
		if err := CheckDestroy(inst.Kind, inst.Purpose, inst.Env, facts); err != nil {
			return Operation{}, err
		}
	}
	if kind == OpStop || kind == OpDestroy {
		if clone, pinned, err := pinnedBy(ctx, tx, inst.ID); err != nil {
			return Operation{}, err
		} else if pinned {
			return Operation{}, &Busy{Key: inst.Key(), Holder: clone}
		}
	}
	op := Operation{Kind: kind, InstanceID: inst.ID, Instance: inst.Key(), SourceID: source, Reason: strings.TrimSpace(reason), RequestKey: requestKey}
	if source != 0 {
		if err := lockRow(ctx, tx, source); err != nil {
			return op, err
		}
		src, err := instanceByID(ctx, tx, source)
		if err != nil {
			return op, err
		}
		if err := checkSourceFree(ctx, tx, src); err != nil {
			return op, err
		}
		op.Source = src.Key()
	}
	return enqueue(ctx, tx, by, op, inst)
}

// Retry queues again the operation that left an instance failed: a create
// or clone starts over from an empty target, a start or stop is tried
// again. Every operation is idempotent, so a retry never doubles anything.
func (c *Console) Retry(ctx context.Context, by audit.Actor, key, reason, requestKey string) (Operation, error) {
	if op, found, err := opByRequestKey(ctx, c.DB, requestKey); err != nil || found {
		return op, err
	}
	var op Operation
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		inst, err := GetInstance(ctx, tx, key)
		if err != nil {
			return err
		}
		if inst.State != Failed {
			return refuse("%s is %s; only a failed instance is retried.", key, inst.State)
		}
		var kind string
		var source sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT kind, source_id FROM operation WHERE instance_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
			inst.ID, string(OpFailed)).Scan(&kind, &source)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse("%s has no failed operation to retry.", key)
		}
		if err != nil {
			return fmt.Errorf("find the failed operation of %s: %w", key, err)
		}
		if OpKind(kind) == OpUpgrade {
			// An upgrade that left its instance failed also failed to roll
			// back; repeating it blindly could make things worse.
			return refuse("The upgrade of %s failed and so did its rollback; its history says what happened. Start it again on the build it is recorded with, then request the upgrade anew.", key)
		}
		if reason == "" {
			reason = "retry of the failed " + kind
		}
		op, err = c.requestOn(ctx, tx, by, OpKind(kind), inst, source.Int64, reason, requestKey)
		return err
	})
	if err == nil {
		c.notify()
	}
	return op, err
}

// DestroyEnvironment queues the destruction of every live instance of an
// environment, after the destroy rule of its kind allows it.
func (c *Console) DestroyEnvironment(ctx context.Context, by audit.Actor, org, code, reason string) ([]Operation, error) {
	var ops []Operation
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		env, err := GetEnvironment(ctx, tx, org, code)
		if err != nil {
			return err
		}
		if !env.Live() {
			return refuse("%s/%s was destroyed on %s.", org, code, env.DestroyedAt.Time.UTC().Format("2006-01-02"))
		}
		facts, err := factsOf(ctx, tx, org)
		if err != nil {
			return err
		}
		if err := CheckDestroy(env.Kind, env.Purpose, env.Code, facts); err != nil {
			return err
		}
		for _, inst := range env.Instances {
			if inst.State == Destroyed {
				continue
			}
			op, err := c.requestOn(ctx, tx, by, OpDestroy, inst, 0, reason, "")
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		return nil
	})
	if err == nil {
		c.notify()
	}
	return ops, err
}

// checkSourceFree refuses a clone whose source cannot be read now: one that
// holds no finished database, or one being stopped or destroyed.
func checkSourceFree(ctx context.Context, tx *store.Tx, src Instance) error {
	if err := CheckClonable(src.Key(), src.State); err != nil {
		return err
	}
	if h, held, err := Holder(ctx, tx, src.ID); err != nil {
		return err
	} else if held && (h.Kind == OpStop || h.Kind == OpDestroy) {
		return &Busy{Key: src.Key(), Holder: h}
	}
	return nil
}
