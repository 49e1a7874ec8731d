package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// UpgradeVALState is where a temporary upgrade VAL stands.
type UpgradeVALState string

// The upgrade VAL states: its instances are cloned from PROD (and
// obfuscated) on PROD's build, then upgraded to the new build like PROD
// will be, then it waits for its sign-off.
const (
	VALCloning   UpgradeVALState = "cloning"
	VALUpgrading UpgradeVALState = "upgrading"
	VALReady     UpgradeVALState = "ready"
	VALFailed    UpgradeVALState = "failed"
)

// The sign-offs of an upgrade VAL.
const (
	SignedValidated = "validated"
	SignedRejected  = "rejected"
)

// UpgradeVAL is a temporary VAL environment previewing PROD on a new build.
type UpgradeVAL struct {
	Org         string
	Env         string
	To          Build
	State       UpgradeVALState
	RequestedBy string
	RequestedAt time.Time
	// SignedOff is "validated", "rejected" or empty.
	SignedOff  string
	SignedBy   string
	SignedAt   sql.NullTime
	SignReason string
	Destroyed  bool
}

// RequestUpgradeVAL makes a temporary VAL environment to validate build to
// before PROD is upgraded to it: its Main is cloned from the organisation's
// PROD Main and its Test from PROD Test (from PROD Main when PROD has no
// clonable Test), volunteer PHI obfuscated (so it is refused while the
// console has no obfuscation step), then — once they run — each
// is upgraded to the new build by the same operation PROD will go through,
// which migrates and health-checks it. A "validated" sign-off
// (SignOffUpgradeVAL) then allows the PROD upgrade.
func (c *Console) RequestUpgradeVAL(ctx context.Context, by audit.Actor, org string, to Build, reason string) (Environment, []Operation, error) {
	if strings.TrimSpace(reason) == "" {
		return Environment{}, nil, check.FieldErrors{"reason": "Say why this upgrade VAL is made; the reason is kept in the audit trail."}
	}
	if to.Version == "" || to.Number == "" {
		return Environment{}, nil, check.FieldErrors{"to": "Choose the build to validate."}
	}
	envs, err := Environments(ctx, c.DB, org)
	if err != nil {
		return Environment{}, nil, err
	}
	var prod, prodTest *Instance
	for _, e := range envs {
		if e.Kind != Prod || !e.Live() {
			continue
		}
		for i, in := range e.Instances {
			switch in.Role {
			case Main:
				prod = &e.Instances[i]
			case Test:
				prodTest = &e.Instances[i]
			}
		}
	}
	if prod == nil {
		return Environment{}, nil, refuse("%s has no PROD environment to preview an upgrade of.", org)
	}
	if prod.Build == to {
		return Environment{}, nil, refuse("PROD of %s already runs %s.", org, to)
	}
	if _, err := c.SpecOn(ctx, *prod, to); err != nil {
		return Environment{}, nil, refuse("%s is not installed on this console: %v", to, err)
	}
	// The VAL's Test previews PROD Test, with its own training data and
	// configuration; only without a clonable PROD Test is it a second
	// copy of PROD Main.
	testFrom := prod.Key()
	if prodTest != nil && CheckClonable(prodTest.Key(), prodTest.State) == nil {
		testFrom = prodTest.Key()
	}
	env, ops, err := c.CreateEnvironment(ctx, by, NewEnvironment{Org: org, Kind: VAL, Purpose: Upgrade, From: prod.Key(), TestFrom: testFrom,
		Reason: fmt.Sprintf("upgrade VAL for %s: %s", to, reason)})
	if err != nil {
		return env, ops, err
	}
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO upgrade_val (environment_id, to_version, to_number, state, requested_by, requested_at)
			VALUES (?, ?, ?, ?, ?, ?)`, env.ID, to.Version, to.Number, string(VALCloning), by.Name, time.Now().UTC()); err != nil {
			return fmt.Errorf("record the upgrade VAL %s/%s: %w", org, env.Code, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "upgrade_val", EntityID: org + "/" + env.Code,
			Reason: reason, Changes: []audit.Change{{Field: "to", New: to.String()}, {Field: "from", New: prod.Key() + " on " + prod.Build.String()},
				{Field: "test_from", New: testFrom}}})
	})
	return env, ops, err
}

// UpgradeVALs lists an organisation's upgrade VALs, newest first.
func UpgradeVALs(ctx context.Context, q store.Querier, org string) ([]UpgradeVAL, error) {
	rows, err := q.Query(ctx, `SELECT o.code, e.code, v.to_version, v.to_number, v.state, v.requested_by, v.requested_at, v.signed_off,
		v.signed_by, v.signed_at, v.sign_reason, e.destroyed_at IS NOT NULL
		FROM upgrade_val v JOIN environment e ON e.id = v.environment_id JOIN organisation o ON o.id = e.organisation_id
		WHERE o.code = ? ORDER BY e.id DESC`, org)
	if err != nil {
		return nil, fmt.Errorf("list the upgrade VALs of %s: %w", org, err)
	}
	defer rows.Close()
	var out []UpgradeVAL
	for rows.Next() {
		var v UpgradeVAL
		var state string
		if err := rows.Scan(&v.Org, &v.Env, &v.To.Version, &v.To.Number, &state, &v.RequestedBy, &v.RequestedAt, &v.SignedOff,
			&v.SignedBy, &v.SignedAt, &v.SignReason, &v.Destroyed); err != nil {
			return nil, fmt.Errorf("list the upgrade VALs of %s: %w", org, err)
		}
		v.State = UpgradeVALState(state)
		out = append(out, v)
	}
	return out, rows.Err()
}

// SignOffUpgradeVAL records the verdict on a ready upgrade VAL: validated
// (the PROD upgrade to its build may run) or rejected. Who, when and why
// are kept, and audited.
func (c *Console) SignOffUpgradeVAL(ctx context.Context, by audit.Actor, org, envCode string, validated bool, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say what was checked; the sign-off's reason is kept in the audit trail."}
	}
	verdict := SignedRejected
	if validated {
		verdict = SignedValidated
	}
	return c.DB.InTx(ctx, func(tx *store.Tx) error {
		env, err := GetEnvironment(ctx, tx, org, envCode)
		if err != nil {
			return err
		}
		var state, old string
		err = tx.QueryRow(ctx, "SELECT state, signed_off FROM upgrade_val WHERE environment_id = ?", env.ID).Scan(&state, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse("%s/%s is not an upgrade VAL.", org, envCode)
		}
		if err != nil {
			return fmt.Errorf("read the upgrade VAL %s/%s: %w", org, envCode, err)
		}
		if UpgradeVALState(state) != VALReady {
			return refuse("%s/%s is %s; it is signed off once it runs the new build.", org, envCode, state)
		}
		if !env.Live() {
			return refuse("%s/%s was destroyed.", org, envCode)
		}
		if _, err := tx.Exec(ctx, "UPDATE upgrade_val SET signed_off = ?, signed_by = ?, signed_at = ?, sign_reason = ? WHERE environment_id = ?",
			verdict, by.Name, time.Now().UTC(), strings.TrimSpace(reason), env.ID); err != nil {
			return fmt.Errorf("sign off %s/%s: %w", org, envCode, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "upgrade_val", EntityID: org + "/" + envCode,
			Reason: reason, Changes: []audit.Change{{Field: "signed_off", Old: old, New: verdict}}})
	})
}

// validatedFor finds the live upgrade VAL of the organisation signed off
// as validated on build to, and returns its code; a PROD upgrade needs one.
func validatedFor(ctx context.Context, q store.Querier, org string, to Build) (string, error) {
	var code string
	err := q.QueryRow(ctx, `SELECT e.code FROM upgrade_val v JOIN environment e ON e.id = v.environment_id
		JOIN organisation o ON o.id = e.organisation_id
		WHERE o.code = ? AND v.to_version = ? AND v.to_number = ? AND v.signed_off = ? AND e.destroyed_at IS NULL
		ORDER BY e.id DESC LIMIT 1`, org, to.Version, to.Number, SignedValidated).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", refuse("PROD of %s is upgraded to %s only after an upgrade VAL on that build is signed off as validated.", org, to)
	}
	if err != nil {
		return "", fmt.Errorf("find the validated upgrade VAL of %s: %w", org, err)
	}
	return code, nil
}

// advanceUpgradeVALs moves the upgrade VALs along: once both clones run,
// each instance is upgraded to the new build; once both run it, the VAL is
// ready for its sign-off. A failed clone or upgrade fails the VAL.
func (c *Console) advanceUpgradeVALs(ctx context.Context) {
	rows, err := c.DB.Query(ctx, `SELECT o.code, e.code, v.environment_id, v.to_version, v.to_number, v.state FROM upgrade_val v
		JOIN environment e ON e.id = v.environment_id JOIN organisation o ON o.id = e.organisation_id
		WHERE v.state IN (?, ?) AND e.destroyed_at IS NULL`, string(VALCloning), string(VALUpgrading))
	if err != nil {
		return
	}
	type pending struct {
		org, env string
		id       int64
		to       Build
		state    UpgradeVALState
	}
	var list []pending
	for rows.Next() {
		var p pending
		var state string
		if rows.Scan(&p.org, &p.env, &p.id, &p.to.Version, &p.to.Number, &state) == nil {
			p.state = UpgradeVALState(state)
			list = append(list, p)
		}
	}
	rows.Close()
	for _, p := range list {
		env, err := GetEnvironment(ctx, c.DB, p.org, p.env)
		if err != nil {
			continue
		}
		ready, busy, failed := true, false, ""
		for _, in := range env.Instances {
			if _, held, _ := Holder(ctx, c.DB, in.ID); held {
				busy = true
			}
			if in.State == Failed {
				failed = in.Key() + " failed"
			}
			if in.State != Running || in.Build != p.to {
				ready = false
			}
		}
		switch {
		case busy:
		case failed != "":
			c.setUpgradeVAL(ctx, p.id, VALFailed, failed)
		case p.state == VALCloning:
			for _, in := range env.Instances {
				if in.State != Running {
					continue
				}
				if _, err := c.RequestUpgrade(ctx, worker, in.Key(), p.to, time.Time{}, "upgrade VAL "+p.env+" previews "+p.to.String()); err != nil {
					c.setUpgradeVAL(ctx, p.id, VALFailed, err.Error())
					return
				}
			}
			c.setUpgradeVAL(ctx, p.id, VALUpgrading, "")
		case ready:
			c.setUpgradeVAL(ctx, p.id, VALReady, "")
		default:
			// Upgrades ended and an instance is not on the new build: the
			// upgrade was rolled back or refused.
			c.setUpgradeVAL(ctx, p.id, VALFailed, "an instance did not take the new build; see its upgrade history")
		}
	}
}

func (c *Console) setUpgradeVAL(ctx context.Context, envID int64, s UpgradeVALState, why string) {
	if why == "" {
		why = map[UpgradeVALState]string{VALUpgrading: "both copies of PROD run; upgrading them to the new build",
			VALReady: "both instances run the new build; ready for the sign-off"}[s]
	}
	err := c.DB.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		var code string
		tx.QueryRow(ctx, "SELECT e.code FROM environment e WHERE e.id = ?", envID).Scan(&code)
		if _, err := tx.Exec(ctx, "UPDATE upgrade_val SET state = ? WHERE environment_id = ?", string(s), envID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: worker, Action: audit.Update, Entity: "upgrade_val", EntityID: code, Reason: why,
			Changes: []audit.Change{{Field: "state", New: string(s)}}})
	})
	if err != nil {
		c.logger().Error("record the upgrade VAL's state", "environment", envID, "err", err)
	}
}
