package console

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Build identifies a release build an instance runs.
type Build struct {
	Version string
	Number  string
}

// String writes the build as pages show it: 26.1 (build 42).
func (b Build) String() string { return b.Version + " (build " + b.Number + ")" }

// Organisation is a customer (or prospect) of the console.
type Organisation struct {
	ID        int64
	Code      string
	Name      string
	CreatedAt time.Time
	CreatedBy string
}

// Environment is one environment of an organisation, with its instances.
type Environment struct {
	ID          int64
	Org         string
	Code        string
	Kind        Kind
	Purpose     Purpose
	MadeFrom    string
	CreatedAt   time.Time
	CreatedBy   string
	DestroyedAt sql.NullTime
	Instances   []Instance
}

// Rule is the environment's row of the rules table.
func (e Environment) Rule() KindRule {
	r, _ := RuleOf(e.Kind)
	return r
}

// Live reports whether the environment has not been destroyed.
func (e Environment) Live() bool { return !e.DestroyedAt.Valid }

// Instance is one instance of an environment as the registry records it.
type Instance struct {
	ID       int64
	EnvID    int64
	Org      string
	Env      string
	Kind     Kind
	Purpose  Purpose
	Role     Role
	State    State
	Build    Build
	Engine   store.Engine
	Database string
	Port     int
	BasePath string
	// Source is the key of the instance this one was cloned from, or "".
	Source         string
	Failure        string
	Archive        string
	CreatedAt      time.Time
	StateChangedAt time.Time
	UpdatedBy      string
	Version        int
}

// Key names the instance: organisation/environment/role.
func (i Instance) Key() string { return InstanceKey(i.Org, i.Env, i.Role) }

// IsTest reports whether this is the Test instance of a pair.
func (i Instance) IsTest() bool { return i.Role == Test }

// InstanceKey joins the parts of an instance's name.
func InstanceKey(org, env string, role Role) string { return org + "/" + env + "/" + string(role) }

// BasePathOf is the URL path the console's proxy serves an instance under.
func BasePathOf(key string) string { return "/i/" + key }

// ParseKey splits organisation/environment/role; the role defaults to main.
func ParseKey(key string) (org, env string, role Role, err error) {
	parts := strings.Split(strings.Trim(strings.TrimSpace(key), "/"), "/")
	if len(parts) == 2 {
		parts = append(parts, string(Main))
	}
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || (parts[2] != string(Main) && parts[2] != string(Test)) {
		return "", "", "", fmt.Errorf("%q does not name an instance; write organisation/environment/role, e.g. demo-cru/sandbox/test.", key)
	}
	return parts[0], parts[1], Role(parts[2]), nil
}

const instanceColumns = `i.id, i.environment_id, o.code, e.code, e.kind, e.purpose, i.role, i.state, i.build_version, i.build_number,
	i.engine, i.database_name, i.port, i.base_path, COALESCE(so.code || '/' || se.code || '/' || si.role, ''), i.failure, i.archive,
	i.created_at, i.state_changed_at, i.updated_by, i.version`

const instanceFrom = ` FROM instance i
	JOIN environment e ON e.id = i.environment_id
	JOIN organisation o ON o.id = e.organisation_id
	LEFT JOIN instance si ON si.id = i.source_id
	LEFT JOIN environment se ON se.id = si.environment_id
	LEFT JOIN organisation so ON so.id = se.organisation_id`

func scanInstance(r interface{ Scan(...any) error }) (Instance, error) {
	var i Instance
	var kind, purpose, role, state, engine string
	err := r.Scan(&i.ID, &i.EnvID, &i.Org, &i.Env, &kind, &purpose, &role, &state, &i.Build.Version, &i.Build.Number,
		&engine, &i.Database, &i.Port, &i.BasePath, &i.Source, &i.Failure, &i.Archive,
		&i.CreatedAt, &i.StateChangedAt, &i.UpdatedBy, &i.Version)
	i.Kind, i.Purpose, i.Role, i.State, i.Engine = Kind(kind), Purpose(purpose), Role(role), State(state), store.Engine(engine)
	return i, err
}

func queryInstances(ctx context.Context, q store.Querier, where string, args ...any) ([]Instance, error) {
	rows, err := q.Query(ctx, "SELECT "+instanceColumns+instanceFrom+" "+where+" ORDER BY o.code, e.id, i.role", args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		i, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Instances lists every instance the registry knows, destroyed ones
// included, by organisation and environment.
func Instances(ctx context.Context, q store.Querier) ([]Instance, error) {
	return queryInstances(ctx, q, "")
}

// InstancesIn lists the instances in the given states.
func InstancesIn(ctx context.Context, q store.Querier, states ...State) ([]Instance, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = string(s)
	}
	return queryInstances(ctx, q, "WHERE i.state IN (?"+strings.Repeat(", ?", len(states)-1)+")", args...)
}

// GetInstance returns the instance named organisation/environment/role.
func GetInstance(ctx context.Context, q store.Querier, key string) (Instance, error) {
	org, env, role, err := ParseKey(key)
	if err != nil {
		return Instance{}, err
	}
	list, err := queryInstances(ctx, q, "WHERE o.code = ? AND e.code = ? AND i.role = ?", org, env, string(role))
	if err != nil {
		return Instance{}, err
	}
	if len(list) == 0 {
		return Instance{}, fmt.Errorf("instance %s: %w", key, check.ErrNotFound)
	}
	return list[0], nil
}

func instanceByID(ctx context.Context, q store.Querier, id int64) (Instance, error) {
	list, err := queryInstances(ctx, q, "WHERE i.id = ?", id)
	if err != nil {
		return Instance{}, err
	}
	if len(list) == 0 {
		return Instance{}, fmt.Errorf("instance %d: %w", id, check.ErrNotFound)
	}
	return list[0], nil
}

// Organisations lists every organisation by name.
func Organisations(ctx context.Context, q store.Querier) ([]Organisation, error) {
	rows, err := q.Query(ctx, "SELECT id, code, name, created_at, created_by FROM organisation ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	defer rows.Close()
	var out []Organisation
	for rows.Next() {
		var o Organisation
		if err := rows.Scan(&o.ID, &o.Code, &o.Name, &o.CreatedAt, &o.CreatedBy); err != nil {
			return nil, fmt.Errorf("list organisations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// GetOrganisation returns the organisation with the given code.
func GetOrganisation(ctx context.Context, q store.Querier, code string) (Organisation, error) {
	var o Organisation
	err := q.QueryRow(ctx, "SELECT id, code, name, created_at, created_by FROM organisation WHERE code = ?", code).
		Scan(&o.ID, &o.Code, &o.Name, &o.CreatedAt, &o.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organisation %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("read organisation %s: %w", code, err)
	}
	return o, nil
}

// Environments lists an organisation's environments in timeline order,
// each with its instances, destroyed ones included.
func Environments(ctx context.Context, q store.Querier, org string) ([]Environment, error) {
	rows, err := q.Query(ctx, `SELECT e.id, o.code, e.code, e.kind, e.purpose, e.made_from, e.created_at, e.created_by, e.destroyed_at
		FROM environment e JOIN organisation o ON o.id = e.organisation_id WHERE o.code = ? ORDER BY e.id`, org)
	if err != nil {
		return nil, fmt.Errorf("list environments of %s: %w", org, err)
	}
	var envs []Environment
	for rows.Next() {
		var e Environment
		var kind, purpose string
		if err := rows.Scan(&e.ID, &e.Org, &e.Code, &kind, &purpose, &e.MadeFrom, &e.CreatedAt, &e.CreatedBy, &e.DestroyedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list environments of %s: %w", org, err)
		}
		e.Kind, e.Purpose = Kind(kind), Purpose(purpose)
		envs = append(envs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	insts, err := queryInstances(ctx, q, "WHERE o.code = ?", org)
	if err != nil {
		return nil, err
	}
	for i := range envs {
		for _, in := range insts {
			if in.EnvID == envs[i].ID {
				envs[i].Instances = append(envs[i].Instances, in)
			}
		}
	}
	order := map[Kind]int{}
	for i, r := range Rules {
		order[r.Kind] = i
	}
	// Timeline order, then creation order within a kind.
	slices.SortStableFunc(envs, func(a, b Environment) int { return cmp.Compare(order[a.Kind], order[b.Kind]) })
	return envs, nil
}

// GetEnvironment returns one environment of an organisation.
func GetEnvironment(ctx context.Context, q store.Querier, org, code string) (Environment, error) {
	envs, err := Environments(ctx, q, org)
	if err != nil {
		return Environment{}, err
	}
	for _, e := range envs {
		if e.Code == code {
			return e, nil
		}
	}
	return Environment{}, fmt.Errorf("environment %s/%s: %w", org, code, check.ErrNotFound)
}
