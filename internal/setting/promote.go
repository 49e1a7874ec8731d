package setting

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Promotable reports whether the setting may move to another instance with
// its configuration. Integration-specific settings belong to one instance;
// secrets never leave the database they were typed into.
func (d Definition) Promotable() bool { return !d.IntegrationSpecific && d.Kind != Secret }

// Import sets one promotable setting of scope inside tx, auditing the
// change with reason; an unchanged value records nothing. Configuration
// promotion uses it. It refuses keys this build does not declare, keys of
// the other scope and settings that are not Promotable, so an instance's
// single sign-on or lab interface can never be overwritten by an import.
func Import(ctx context.Context, tx *store.Tx, by audit.Actor, scope Scope, key, value, reason string) error {
	d, ok := Lookup(key)
	switch {
	case !ok:
		return fmt.Errorf("This build of cohort has no setting %s.", key)
	case d.Scope != scope:
		return fmt.Errorf("Setting %s is a %s setting, not a %s one.", key, d.Scope, scope)
	case !d.Promotable():
		return fmt.Errorf("Setting %s belongs to this instance only and is never imported.", key)
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("Say why you are importing setting %s.", key)
	}
	v, err := d.Normalize(value)
	if err != nil {
		return fmt.Errorf("Setting %s cannot take the value %q: %s.", key, value, err)
	}
	cur, err := Load(ctx, tx)
	if err != nil {
		return err
	}
	old := cur.m[key]
	if old == v {
		return nil
	}
	if err := upsert(ctx, tx, key, v, time.Now().UTC(), by.Name); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "setting", EntityID: key, Reason: reason,
		Changes: []audit.Change{{Field: "value", Old: display(d, old), New: display(d, v)}}})
}
