package console

import (
	"context"
	"errors"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// testCloneSource resolves NewEnvironment.TestFrom inside the request's
// transaction: the instance a new pair's Test instance is cloned from, by
// the same rules as From (it exists, may be read now, and may be cloned
// into the new environment's kind).
func (c *Console) testCloneSource(ctx context.Context, tx *store.Tx, key string, kind Kind, org string) (*Instance, error) {
	src, err := GetInstance(ctx, tx, key)
	if errors.Is(err, check.ErrNotFound) {
		return nil, check.FieldErrors{"from": fmt.Sprintf("There is no instance %s to clone.", key)}
	}
	if err != nil {
		return nil, err
	}
	if err := lockRow(ctx, tx, src.ID); err != nil {
		return nil, err
	}
	if err := checkSourceFree(ctx, tx, src); err != nil {
		return nil, err
	}
	if err := CheckMadeFrom(kind, org, &Origin{Key: src.Key(), Kind: src.Kind, Org: src.Org}, c.Obfuscate != nil); err != nil {
		return nil, err
	}
	return &src, nil
}

// queueClones records a new environment's instances and queues their
// builds: every role cloned from source, except Test, cloned from
// testSource when there is one (an upgrade VAL previews PROD Test as PROD
// Test is, not as a second copy of PROD Main).
func (c *Console) queueClones(ctx context.Context, tx *store.Tx, by audit.Actor, envID int64, org, env string, roles []Role, source, testSource *Instance, build Operation, requestKey string) ([]Operation, error) {
	if testSource == nil || source == nil {
		return c.queueEnvironmentBuild(ctx, tx, by, envID, org, env, roles, source, build, requestKey)
	}
	var ops []Operation
	for _, role := range roles {
		from, op := source, build
		if role == Test {
			from, op.SourceID, op.Source = testSource, testSource.ID, testSource.Key()
		}
		queued, err := c.queueEnvironmentBuild(ctx, tx, by, envID, org, env, []Role{role}, from, op, requestKey)
		if err != nil {
			return nil, err
		}
		ops = append(ops, queued...)
	}
	return ops, nil
}
