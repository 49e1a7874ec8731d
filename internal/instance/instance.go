// Package instance prepares one clinical instance's database to be run by
// the lifecycle console: the schema of this build, then either the first
// administrator and (for a Demo) the demo clinic, or — for a copy of
// another instance — the end of the sessions copied with it and an entry in
// its own audit trail saying where the copy came from.
package instance

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Options say how to prepare the database.
type Options struct {
	// Demo adds the demo clinic to a new instance.
	Demo bool
	// ClonedFrom names the instance this database was copied from; empty
	// for a new instance.
	ClonedFrom string
	// By names who asked, in the instance's audit trail.
	By string
	// AdminPassword is the first administrator's password; empty generates
	// a one-time password that must be changed at the first login.
	AdminPassword string
	// Build names this build in a refusal, e.g. "26.1 (build 7)".
	Build string
}

// Result is what preparing produced; the console reads it as JSON.
type Result struct {
	SchemaVersion int64    `json:"schema_version"`
	AdminPassword string   `json:"admin_password,omitempty"`
	DemoPassword  string   `json:"demo_password,omitempty"`
	DemoUsers     []string `json:"demo_users,omitempty"`
}

// actionClone is the audit action that records an instance's origin.
const actionClone audit.Action = "clone"

// Prepare migrates the database to this build's schema and readies it.
// Preparing again is harmless: the administrator and the demo clinic are
// only added to an empty instance. A database whose schema is ahead of this
// build's is refused untouched (SchemaAheadError).
func Prepare(ctx context.Context, db *store.DB, o Options) (Result, error) {
	var r Result
	if err := CheckSchema(ctx, db, o.Build); err != nil {
		return r, err
	}
	v, err := db.Migrate(ctx)
	if err != nil {
		return r, err
	}
	r.SchemaVersion = v
	by := audit.Actor{Name: "console"}
	if o.By != "" {
		by.Name = "console: " + o.By
	}
	if o.ClonedFrom != "" {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			ended, err := account.EndAllSessions(ctx, tx)
			if err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionClone, Entity: "instance", EntityID: "this instance",
				Reason: "made by the lifecycle console as a copy", Changes: []audit.Change{
					{Field: "cloned_from", New: o.ClonedFrom}, {Field: "sessions_ended", New: fmt.Sprint(ended)}}})
		})
		return r, err
	}
	created, pw, err := account.Bootstrap(ctx, db, o.AdminPassword)
	if err != nil {
		return r, err
	}
	if created && o.AdminPassword == "" {
		r.AdminPassword = pw
	}
	if created && o.Demo {
		if r.DemoPassword, err = demo.Seed(ctx, db); err != nil {
			return r, err
		}
		for _, u := range demo.Users {
			r.DemoUsers = append(r.DemoUsers, u.Username)
		}
	}
	return r, nil
}
