package console

import (
	"context"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// What every new environment goes through, whichever way it is asked for
// (CreateEnvironment for an empty or cloned environment, MakePair for a
// VAL or PROD built from configuration and the migration output): a
// repeated request answered with the first one's result, the kind's limit
// checked, the environment row, one instance per role with the operation
// that builds it, and that operation's first steps.

// checkEnvironmentLimit counts the kind's live environments in the
// organisation and in the whole console, and refuses one more past the
// kind's limit (CheckLimit).
func checkEnvironmentLimit(ctx context.Context, tx *store.Tx, org Organisation, kind Kind) error {
	var live, inConsole int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN organisation_id = ? THEN 1 ELSE 0 END), 0)
		FROM environment WHERE kind = ? AND destroyed_at IS NULL`, org.ID, string(kind)).Scan(&inConsole, &live); err != nil {
		return fmt.Errorf("count environments: %w", err)
	}
	return CheckLimit(kind, live, inConsole)
}

// insertEnvironment records a new environment of the organisation and
// returns its id. A code the organisation has had before, even for a
// destroyed environment, is the code field's problem: codes are part of
// addresses and audit entries, so they are never reused.
func insertEnvironment(ctx context.Context, tx *store.Tx, by audit.Actor, org Organisation, code string, kind Kind, purpose, madeFrom string, now time.Time) (int64, error) {
	envID, err := tx.InsertID(ctx, `INSERT INTO environment (organisation_id, code, kind, purpose, made_from, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, org.ID, code, string(kind), purpose, madeFrom, now, by.Name)
	if store.IsUniqueViolation(err) {
		return 0, check.FieldErrors{"code": fmt.Sprintf("%s already has an environment called %s (codes are never reused).", org.Code, code)}
	}
	if err != nil {
		return 0, fmt.Errorf("create environment %s/%s: %w", org.Code, code, err)
	}
	return envID, nil
}

// queueEnvironmentBuild records one instance per role of a new environment
// and queues, for each, a copy of build naming that instance: the
// operation (provision, clone, make-val, make-prod) that builds it. cloneOf
// is the instance the new ones are cloned from, nil when they start empty.
// A request key gets the role appended, so a repeated request finds every
// operation the first one queued.
func (c *Console) queueEnvironmentBuild(ctx context.Context, tx *store.Tx, by audit.Actor, envID int64, org, env string, roles []Role, cloneOf *Instance, build Operation, requestKey string) ([]Operation, error) {
	var ops []Operation
	for _, role := range roles {
		inst, err := c.insertInstance(ctx, tx, by, envID, org, env, role, cloneOf)
		if err != nil {
			return nil, err
		}
		op := build
		op.InstanceID, op.Instance = inst.ID, inst.Key()
		if requestKey != "" {
			op.RequestKey = requestKey + "#" + string(role)
		}
		queued, err := enqueue(ctx, tx, by, op, inst)
		if err != nil {
			return nil, err
		}
		ops = append(ops, queued)
	}
	return ops, nil
}

// repeatedRequest answers an environment request repeated under the same
// request key (a double-click, a retried CLI call) with what the first one
// made; found is false for a key not seen before, or no key.
func (c *Console) repeatedRequest(ctx context.Context, requestKey string) (env Environment, ops []Operation, found bool, err error) {
	if requestKey == "" {
		return Environment{}, nil, false, nil
	}
	first, found, err := opByRequestKey(ctx, c.DB, requestKey+"#main")
	if err != nil || !found {
		return Environment{}, nil, false, err
	}
	env, ops, err = c.repeated(ctx, first)
	return env, ops, true, err
}

// beginProvisioning moves a new instance to provisioning, gives it its
// port and returns how to run it: the first steps of every operation that
// builds an instance from an empty database (provision, clone, make-val,
// make-prod), after the operation has checked it may run.
func (c *Console) beginProvisioning(ctx context.Context, op Operation, inst *Instance) (Spec, error) {
	if err := c.move(ctx, inst, Provisioning, op); err != nil {
		return Spec{}, err
	}
	if err := c.ensurePort(ctx, inst); err != nil {
		return Spec{}, err
	}
	return c.Spec(*inst)
}
