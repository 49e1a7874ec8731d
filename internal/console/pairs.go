package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
)

// The operations that make the instances of a VAL or PROD pair. Each one
// makes an empty database with the instance's build, promotes the chosen
// configuration into it, loads the migration output, and — for VAL —
// obfuscates volunteer PHI and scans the copy for leaks before anyone can
// open it.
const (
	OpMakeVAL  OpKind = "make-val"
	OpMakeProd OpKind = "make-prod"
)

// The pair operations are requested like a create: from a requested
// instance, or again (a retry) from a failed one.
func init() {
	opRules[OpMakeVAL] = opRule{from: []State{Requested, Failed}, verb: "made as VAL"}
	opRules[OpMakeProd] = opRule{from: []State{Requested, Failed}, verb: "made as PROD"}
}

// Predefined configurations a PROD pair may start with instead of a VAL's.
const (
	// PredefinedNone starts PROD with no configuration beyond the build's
	// defaults; the customer configures it and the checklist reviews it.
	PredefinedNone = "none"
	// PredefinedDemo starts PROD with the demo clinic's configuration
	// (roles, sites, settings, dictionaries, devices, labs, labels) — never
	// its staff accounts or data.
	PredefinedDemo = "demo"
)

// NewPair is a request for a VAL or PROD pair made from configuration and
// the migration output.
type NewPair struct {
	Org  string
	Kind Kind
	// Code names the environment; empty picks the kind's name, numbered.
	Code string
	// ConfigFrom is the instance whose configuration the pair gets: a
	// Sandbox or Pre-PROD Main for VAL, a go-live VAL Main for PROD.
	ConfigFrom string
	// Predefined, for PROD only, replaces ConfigFrom: none or demo.
	Predefined string
	// Run is the number of the migration run whose output fills the pair.
	// For VAL, 0 takes the latest successful run; PROD always takes the
	// signed-off run, and a different run is refused.
	Run        int
	Reason     string
	RequestKey string
}

// PairPlan is how a VAL or PROD pair was asked to be made.
type PairPlan struct {
	EnvID          int64
	ConfigSourceID int64
	ConfigSource   string
	Predefined     string
	// RunID is the migration run's id; RunNumber its number in the
	// organisation.
	RunID     int64
	RunNumber int
	// Informal VALs were made before the customer signed the migration
	// output off: early looks, never the formal validation.
	Informal   bool
	Obfuscated bool
	CreatedAt  time.Time
	CreatedBy  string
}

// Describe says where the pair came from, as the registry's "made from".
func (p PairPlan) Describe() string {
	var parts []string
	switch {
	case p.ConfigSource != "":
		parts = append(parts, "configuration of "+p.ConfigSource)
	case p.Predefined == PredefinedDemo:
		parts = append(parts, "the predefined demo configuration")
	default:
		parts = append(parts, "no configuration (predefined: none)")
	}
	parts = append(parts, "migration run "+strconv.Itoa(p.RunNumber))
	s := strings.Join(parts, " + ")
	if p.Obfuscated {
		s += ", volunteer PHI obfuscated"
	} else {
		s += ", not obfuscated"
	}
	if p.Informal {
		s += " (informal: made before the migration output was signed off)"
	}
	return s
}

// PairPlanOf returns how the environment (a VAL or PROD made by MakePair)
// was asked to be made; found is false for any other environment.
func PairPlanOf(ctx context.Context, q store.Querier, envID int64) (PairPlan, bool, error) {
	p := PairPlan{EnvID: envID}
	var src sql.NullInt64
	err := q.QueryRow(ctx, `SELECT config_source_id, predefined, migration_run_id, informal, obfuscated, created_at, created_by
		FROM pair_plan WHERE environment_id = ?`, envID).Scan(&src, &p.Predefined, &p.RunID, &p.Informal, &p.Obfuscated, &p.CreatedAt, &p.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read how environment %d is made: %w", envID, err)
	}
	if p.RunNumber, err = runNumber(ctx, q, p.RunID); err != nil {
		return p, false, err
	}
	if src.Valid {
		p.ConfigSourceID = src.Int64
		in, err := instanceByID(ctx, q, src.Int64)
		if err != nil {
			return p, false, err
		}
		p.ConfigSource = in.Key()
	}
	return p, true, nil
}

// liveMain returns the working Main instance of the organisation's live
// environment of a kind, if there is one.
func liveMain(envs []Environment, k Kind) (Instance, bool) {
	for _, e := range envs {
		if e.Kind != k || !e.Live() {
			continue
		}
		for _, in := range e.Instances {
			if in.Role == Main && (in.State == Running || in.State == Stopped) {
				return in, true
			}
		}
	}
	return Instance{}, false
}

// MakePair checks a VAL or PROD request against the rules and its
// preconditions, records the environment, its instances and how they are
// to be made, and queues one make operation per instance.
//
// Preconditions, refused with a sentence when missing:
//   - VAL: configuration from a working Sandbox or Pre-PROD Main of the
//     organisation; a successful migration run (the latest, or the one
//     chosen); a working Migration instance (the source the PHI-leak scan
//     searches for); and the obfuscation step. A VAL made before the
//     migration output is signed off is informal, and says so.
//   - PROD: the customer has signed the migration output off (PROD takes
//     the signed-off run and no other); configuration from a working
//     go-live VAL Main of the organisation, or predefined (none, demo).
//     PROD is not obfuscated. Validation need not be done yet: PROD is
//     populated before the go-live checklist's review, IQ and final QC.
func (c *Console) MakePair(ctx context.Context, by audit.Actor, req NewPair) (Environment, []Operation, error) {
	if env, ops, found, err := c.repeatedRequest(ctx, req.RequestKey); err != nil || found {
		return env, ops, err
	}
	opKind := OpMakeVAL
	switch req.Kind {
	case VAL:
	case Prod:
		opKind = OpMakeProd
	default:
		return Environment{}, nil, check.FieldErrors{"kind": "Choose VAL or PROD: only they are made from configuration and the migration output."}
	}
	rule, _ := RuleOf(req.Kind)
	req.Code = strings.TrimSpace(req.Code)
	if err := checkEnvironmentCode(req.Code); err != nil {
		return Environment{}, nil, err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return Environment{}, nil, check.FieldErrors{"reason": fmt.Sprintf("Say why this %s pair is made; the reason is kept in the console's audit trail.", rule.Label)}
	}
	req.ConfigFrom, req.Predefined = strings.TrimSpace(req.ConfigFrom), strings.TrimSpace(req.Predefined)
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
		if err := CheckMadeFrom(req.Kind, org.Code, nil, c.Obfuscate != nil); err != nil {
			return err
		}
		facts, err := factsOf(ctx, tx, org.Code)
		if err != nil {
			return err
		}
		envs, err := Environments(ctx, tx, org.Code)
		if err != nil {
			return err
		}
		plan := PairPlan{Predefined: req.Predefined, Obfuscated: req.Kind == VAL, Informal: req.Kind == VAL && !facts.Has(MigrationSignedOff)}
		var source *Instance
		if err := c.pairSource(ctx, tx, req, org.Code, &plan, &source); err != nil {
			return err
		}
		if req.Kind == Prod && !facts.Has(MigrationSignedOff) {
			return refuse("PROD is made from the migration output the customer signed off, and %s has not signed it off yet.", org.Code)
		}
		run, err := pairRun(ctx, tx, org.Code, req.Kind, req.Run)
		if err != nil {
			return err
		}
		plan.RunID, plan.RunNumber = run.ID, run.Number
		if req.Kind == VAL {
			if c.Obfuscate == nil {
				return refuse("A VAL's volunteer PHI is obfuscated, and this console has no obfuscation step installed; it cannot make a VAL.")
			}
			if _, ok := liveMain(envs, Migration); !ok {
				return refuse("A VAL is scanned for PHI leaked from the Migration instance, and %s has no working Migration instance.", org.Code)
			}
		}
		if req.Code == "" {
			if req.Code, err = freeCode(ctx, tx, org.ID, string(req.Kind)); err != nil {
				return err
			}
		}
		if source != nil {
			plan.ConfigSource = source.Key()
		}
		madeFrom := plan.Describe()
		now := time.Now().UTC()
		purpose := ""
		if req.Kind == VAL {
			purpose = string(GoLive)
		}
		envID, err := insertEnvironment(ctx, tx, by, org, req.Code, req.Kind, purpose, madeFrom, now)
		if err != nil {
			return err
		}
		var srcID any
		if source != nil {
			srcID = source.ID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pair_plan (environment_id, config_source_id, predefined, migration_run_id, informal, obfuscated, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, envID, srcID, plan.Predefined, plan.RunID, plan.Informal, plan.Obfuscated, now, by.Name); err != nil {
			return fmt.Errorf("record how %s/%s is made: %w", org.Code, req.Code, err)
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "environment", EntityID: org.Code + "/" + req.Code,
			Reason: req.Reason, Changes: []audit.Change{{Field: "kind", New: rule.Label}, {Field: "made_from", New: madeFrom}, {Field: "purpose", New: purpose},
				{Field: "migration_run", New: strconv.Itoa(plan.RunNumber)}, {Field: "informal", New: strconv.FormatBool(plan.Informal)}}}); err != nil {
			return err
		}
		// The pair's instances start empty: the configuration source is
		// only read when the operation runs, not cloned.
		build := Operation{Kind: opKind, Reason: req.Reason}
		if source != nil {
			build.SourceID, build.Source = source.ID, source.Key()
		}
		if ops, err = c.queueEnvironmentBuild(ctx, tx, by, envID, org.Code, req.Code, rule.Shape.Roles(), nil, build, req.RequestKey); err != nil {
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

// pairSource checks where a pair's configuration comes from.
func (c *Console) pairSource(ctx context.Context, tx *store.Tx, req NewPair, org string, plan *PairPlan, source **Instance) error {
	if req.Kind == VAL && req.Predefined != "" {
		return check.FieldErrors{"predefined": "A VAL takes the configuration of a Sandbox or Pre-PROD; only PROD may start from a predefined configuration."}
	}
	if req.Kind == Prod && req.Predefined != "" {
		if req.ConfigFrom != "" {
			return check.FieldErrors{"config_from": "Choose either an instance to take the configuration from or a predefined configuration, not both."}
		}
		if req.Predefined != PredefinedNone && req.Predefined != PredefinedDemo {
			return check.FieldErrors{"predefined": "The predefined configurations are none and demo."}
		}
		return nil
	}
	if req.ConfigFrom == "" {
		if req.Kind == VAL {
			return check.FieldErrors{"config_from": "Choose the Sandbox or Pre-PROD Main instance whose configuration the VAL gets."}
		}
		return check.FieldErrors{"config_from": "Choose the VAL Main instance whose configuration PROD gets, or a predefined configuration."}
	}
	src, err := GetInstance(ctx, tx, req.ConfigFrom)
	if errors.Is(err, check.ErrNotFound) {
		return check.FieldErrors{"config_from": fmt.Sprintf("There is no instance %s.", req.ConfigFrom)}
	}
	if err != nil {
		return err
	}
	rule, _ := RuleOf(req.Kind)
	allowed := PromoteFrom
	if req.Kind == Prod {
		allowed = []Kind{VAL}
	}
	if !slices.Contains(allowed, src.Kind) || src.Role != Main || src.Org != org || (src.Kind == VAL && src.Purpose == Upgrade) {
		return &Refusal{Rule: rule.MadeFromRule}
	}
	if err := CheckClonable(src.Key(), src.State); err != nil {
		return err
	}
	if err := lockRow(ctx, tx, src.ID); err != nil {
		return err
	}
	if h, held, err := Holder(ctx, tx, src.ID); err != nil {
		return err
	} else if held && (h.Kind == OpStop || h.Kind == OpDestroy) {
		return &Busy{Key: src.Key(), Holder: h}
	}
	plan.ConfigSourceID = src.ID
	*source = &src
	return nil
}

// makePair carries out a make-val or make-prod operation on one instance
// of the pair. Every step starts from an empty database, so a retry makes
// exactly what the first attempt would have; the configuration source and
// the Migration instance are only read.
func (c *Console) makePair(ctx context.Context, op Operation, inst Instance) (err error) {
	if inst.State != Provisioning {
		if err := CheckOperation(op.Kind, inst.Key(), inst.State); err != nil {
			return err
		}
	}
	plan, found, err := PairPlanOf(ctx, c.DB, inst.EnvID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s has no record of how it is to be made", inst.Key())
	}
	spec, err := c.beginProvisioning(ctx, op, &inst)
	if err != nil {
		return err
	}
	// A process started by an earlier attempt must not hold the database
	// this attempt replaces, and a failed attempt never leaves one running.
	c.Runtime.Stop(ctx, spec)
	defer func() {
		if err != nil {
			c.Runtime.Stop(context.WithoutCancel(ctx), spec)
		}
	}()
	note := c.note(ctx, op)
	c.progress(ctx, op, "database", 5, fmt.Sprintf("Creating an empty %s database.", inst.Engine))
	if err := c.freshDatabase(ctx, inst); err != nil {
		return err
	}
	c.progress(ctx, op, "prepare", 10, "Preparing the database with build "+inst.Build.String()+".")
	prepared, err := c.Runtime.Prepare(ctx, spec, Preparation{By: op.RequestedBy})
	if err != nil {
		return fmt.Errorf("prepare %s: %w", inst.Key(), err)
	}
	c.announce(inst, prepared, note)
	c.progress(ctx, op, "configuration", 25, "Promoting the configuration: "+plan.Describe()+".")
	if err := c.pairConfiguration(ctx, op, inst, plan, note); err != nil {
		return err
	}
	c.progress(ctx, op, "migration", 40, fmt.Sprintf("Loading the output of migration run %d.", plan.RunNumber))
	if err := c.LoadMigration(ctx, plan.RunID, spec, note); err != nil {
		return err
	}
	if plan.Obfuscated {
		if c.Obfuscate == nil {
			return refuse("A VAL's volunteer PHI is obfuscated, and this console has no obfuscation step installed; the VAL is not released.")
		}
		envs, err := Environments(ctx, c.DB, inst.Org)
		if err != nil {
			return err
		}
		mig, ok := liveMain(envs, Migration)
		if !ok {
			return refuse("A VAL is scanned for PHI leaked from the Migration instance, and %s has no working Migration instance; the VAL is not released.", inst.Org)
		}
		migSpec, err := c.Spec(mig)
		if err != nil {
			return err
		}
		c.progress(ctx, op, "obfuscate", 60, "Obfuscating volunteer PHI, then scanning the copy for every PHI value of "+mig.Key()+".")
		if err := c.obfuscateCopy(ctx, inst, migSpec, spec, note); err != nil {
			return fmt.Errorf("obfuscate %s: %w", inst.Key(), err)
		}
		note("The PHI-leak scan found no PHI value of " + mig.Key() + " in the copy.")
	}
	return c.launch(ctx, op, &inst, spec, 85)
}

// pairConfiguration imports the pair's configuration into the new
// instance's database, audited in its own trail.
func (c *Console) pairConfiguration(ctx context.Context, op Operation, inst Instance, plan PairPlan, note func(string)) error {
	var b *bundle.Bundle
	switch {
	case plan.ConfigSourceID != 0:
		src, err := instanceByID(ctx, c.DB, plan.ConfigSourceID)
		if err != nil {
			return err
		}
		if err := CheckClonable(src.Key(), src.State); err != nil {
			return err
		}
		if b, _, _, err = c.exportFrom(ctx, src, time.Time{}); err != nil {
			return err
		}
	case plan.Predefined == PredefinedDemo:
		var err error
		if b, err = c.demoConfiguration(ctx, inst); err != nil {
			return err
		}
	default:
		note("No configuration is promoted (predefined: none); the customer configures this instance.")
		return nil
	}
	db, err := c.openInstance(ctx, inst)
	if err != nil {
		return err
	}
	defer db.Close()
	result, err := bundle.Import(ctx, db, audit.Actor{ID: 0, Name: "console:" + op.RequestedBy}, b,
		bundle.ImportOptions{Reason: "configuration of the new " + inst.Kind.Label() + " instance " + inst.Key() + ": " + nonEmpty(op.Reason, string(op.Kind))})
	if err != nil {
		return fmt.Errorf("promote the configuration into %s: %w", inst.Key(), err)
	}
	for _, cp := range result.Categories {
		note(fmt.Sprintf("  %s: %s.", cp.Category, cp.Summary()))
	}
	note(fmt.Sprintf("Configuration bundle %s from %s imported (%d records). %s", b.ID(), b.Manifest.Source, result.Changes(), StudyLibrariesRule))
	return nil
}

// demoConfiguration exports the demo clinic's configuration from a
// scratch database made for the purpose, so no demo account or record
// ever reaches the instance.
func (c *Console) demoConfiguration(ctx context.Context, inst Instance) (*bundle.Bundle, error) {
	dir := c.Places.Dir(inst.Key())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("make a scratch directory: %w", err)
	}
	path := filepath.Join(dir, "predefined-demo.db")
	removeSQLite(path)
	defer removeSQLite(path)
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open the scratch database for the demo configuration: %w", err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("prepare the scratch database for the demo configuration: %w", err)
	}
	if _, err := demo.Seed(ctx, db); err != nil {
		return nil, fmt.Errorf("make the demo configuration: %w", err)
	}
	b, _, err := bundle.Export(ctx, db, bundle.ExportOptions{Instance: "predefined demo configuration"})
	if err != nil {
		return nil, fmt.Errorf("export the demo configuration: %w", err)
	}
	return b, nil
}
