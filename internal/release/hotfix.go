package release

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
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Decision is a customer's answer to a hotfix offered to one instance.
type Decision struct {
	ID       int64
	Instance string
	Build    console.Build
	// Accepted is true for an acceptance, false for a refusal.
	Accepted  bool
	Reason    string
	By        string
	At        time.Time
	Operation int64
}

// Verb says what the customer did: accepted or declined.
func (d Decision) Verb() string {
	if d.Accepted {
		return "accepted"
	}
	return "declined"
}

// Offer is a hotfix offered to an instance, with the customer's latest
// answer when there is one.
type Offer struct {
	Instance console.Instance
	Build    Build
	Latest   *Decision
}

// Offered reports whether a hotfix build is offered to an instance running
// build running: it is a hotfix of the same base release and newer than
// what the instance runs (its base release or an earlier hotfix of it).
func Offered(hotfix Build, running console.Build) bool {
	h, err := ParseVersion(hotfix.Version)
	if err != nil || !h.IsHotfix() {
		return false
	}
	r, err := ParseVersion(running.Version)
	if err != nil || r.Base() != h.Base() {
		return false
	}
	return CompareBuilds(hotfix.Version, hotfix.Number, running.Version, running.Number) > 0
}

// Offers lists the hotfixes offered to one instance, newest first: for each
// newer hotfix version of its base release, that version's latest build.
// Destroyed instances are offered nothing.
func Offers(ctx context.Context, q store.Querier, key string) ([]Offer, error) {
	inst, err := console.GetInstance(ctx, q, key)
	if err != nil {
		return nil, err
	}
	if inst.State == console.Destroyed {
		return nil, nil
	}
	list, err := List(ctx, q)
	if err != nil {
		return nil, err
	}
	decisions, err := Decisions(ctx, q, key)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Offer
	for _, b := range list { // newest first, so the first build of a version is its latest
		if seen[b.Version] || !Offered(b, inst.Build) {
			continue
		}
		seen[b.Version] = true
		o := Offer{Instance: inst, Build: b}
		for i := range decisions {
			if decisions[i].Build == b.Ref() {
				o.Latest = &decisions[i]
				break
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// Decisions lists the hotfix decisions recorded for an instance, newest
// first.
func Decisions(ctx context.Context, q store.Querier, key string) ([]Decision, error) {
	inst, err := console.GetInstance(ctx, q, key)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT d.id, b.version, b.build_number, d.decision, d.reason, d.decided_by, d.decided_at, COALESCE(d.operation_id, 0)
		FROM hotfix_decision d JOIN release_build b ON b.id = d.build_id WHERE d.instance_id = ? ORDER BY d.id DESC`, inst.ID)
	if err != nil {
		return nil, fmt.Errorf("list the hotfix decisions of %s: %w", key, err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d := Decision{Instance: key}
		var what string
		if err := rows.Scan(&d.ID, &d.Build.Version, &d.Build.Number, &what, &d.Reason, &d.By, &d.At, &d.Operation); err != nil {
			return nil, fmt.Errorf("list the hotfix decisions of %s: %w", key, err)
		}
		d.Accepted = what == accepted
		out = append(out, d)
	}
	return out, rows.Err()
}

const (
	accepted = "accepted"
	declined = "declined"
)

// The audit actions of hotfix decisions.
const (
	ActionAcceptHotfix  audit.Action = "accept_hotfix"
	ActionDeclineHotfix audit.Action = "decline_hotfix"
)

// ErrNoUpgrades refuses an acceptance while the console cannot upgrade.
var ErrNoUpgrades = errors.New("This console cannot install a build yet: its upgrade operation is not available. The hotfix can be declined, or accepted once upgrades are available.")

// offerOf finds the offered hotfix ref names for an instance, refusing one
// that is not offered to it with a sentence saying why.
func offerOf(ctx context.Context, q store.Querier, key, ref string) (Offer, error) {
	b, err := Resolve(ctx, q, ref)
	if err != nil {
		return Offer{}, err
	}
	offers, err := Offers(ctx, q, key)
	if err != nil {
		return Offer{}, err
	}
	for _, o := range offers {
		if o.Build.ID == b.ID {
			return o, nil
		}
	}
	inst, err := console.GetInstance(ctx, q, key)
	if err != nil {
		return Offer{}, err
	}
	if !b.IsHotfix() {
		return Offer{}, fmt.Errorf("Build %s is a release, not a hotfix; a release is installed by an upgrade, not offered.", b)
	}
	return Offer{}, fmt.Errorf("Hotfix %s is not offered to %s, which runs %s: a hotfix is offered only to instances running its base release %s or an earlier hotfix of it.",
		b, key, inst.Build, b.Base)
}

// Accept records that a customer user accepts a hotfix for an instance and
// requests the instance's upgrade to it, now or at the agreed time at
// (zero: now). Nothing is installed without this acceptance. The reason is
// required and kept in the audit trail with who accepted and when.
func (c *Catalog) Accept(ctx context.Context, by audit.Actor, key, ref, reason string, at time.Time) (Decision, console.Operation, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Decision{}, console.Operation{}, check.FieldErrors{"reason": "Say why the hotfix is accepted; the reason is kept in the console's audit trail."}
	}
	o, err := offerOf(ctx, c.DB, key, ref)
	if err != nil {
		return Decision{}, console.Operation{}, err
	}
	if c.RequestUpgrade == nil {
		return Decision{}, console.Operation{}, ErrNoUpgrades
	}
	// The upgrade request is checked and queued by the console first (an
	// instance that is busy or not running refuses it); only a request the
	// console took is recorded as an acceptance.
	op, err := c.RequestUpgrade(ctx, by, key, o.Build.Ref(), at, "hotfix "+o.Build.String()+" accepted: "+reason)
	if err != nil {
		return Decision{}, op, err
	}
	d, err := c.decide(ctx, by, o, true, reason, op.ID)
	return d, op, err
}

// Decline records that a customer user declines a hotfix for an instance,
// with the reason. The hotfix stays offered: it can be accepted later.
func (c *Catalog) Decline(ctx context.Context, by audit.Actor, key, ref, reason string) (Decision, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Decision{}, check.FieldErrors{"reason": "Say why the hotfix is declined; the reason is kept in the console's audit trail."}
	}
	o, err := offerOf(ctx, c.DB, key, ref)
	if err != nil {
		return Decision{}, err
	}
	return c.decide(ctx, by, o, false, reason, 0)
}

func (c *Catalog) decide(ctx context.Context, by audit.Actor, o Offer, accept bool, reason string, opID int64) (Decision, error) {
	d := Decision{Instance: o.Instance.Key(), Build: o.Build.Ref(), Accepted: accept, Reason: reason, By: by.Name, At: time.Now().UTC(), Operation: opID}
	what, action := declined, ActionDeclineHotfix
	if accept {
		what, action = accepted, ActionAcceptHotfix
	}
	var op any
	if opID != 0 {
		op = opID
	}
	err := c.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.InsertID(ctx, `INSERT INTO hotfix_decision (instance_id, build_id, decision, reason, decided_by, decided_at, operation_id)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, o.Instance.ID, o.Build.ID, what, reason, by.Name, d.At, op)
		if err != nil {
			return fmt.Errorf("record the decision on hotfix %s for %s: %w", o.Build, d.Instance, err)
		}
		d.ID = id
		changes := []audit.Change{{Field: "hotfix", New: o.Build.String()}, {Field: "decision", New: what},
			{Field: "running", New: o.Instance.Build.String()}}
		if opID != 0 {
			changes = append(changes, audit.Change{Field: "upgrade_operation", New: strconv.FormatInt(opID, 10)})
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "instance", EntityID: d.Instance, Reason: reason, Changes: changes})
	})
	return d, err
}

// OffersEverywhere lists, per instance key, the hotfixes offered to every
// live instance: what the catalog page shows next to a new hotfix.
func OffersEverywhere(ctx context.Context, q store.Querier) (map[string][]Offer, error) {
	insts, err := console.Instances(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string][]Offer{}
	for _, in := range insts {
		if in.State == console.Destroyed {
			continue
		}
		offers, err := Offers(ctx, q, in.Key())
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if len(offers) > 0 {
			out[in.Key()] = offers
		}
	}
	return out, nil
}
