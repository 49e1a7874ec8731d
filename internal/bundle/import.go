package bundle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ImportOptions carry what an import needs besides the bundle.
type ImportOptions struct {
	// Reason is the reason for change; the audit trail records it with the
	// bundle's id and source.
	Reason string
	// Previewed, when set, is the Fingerprint of the plan the user was
	// shown; the import is refused if it would now do something else.
	Previewed string
}

// ErrStale refuses an import whose effect differs from the preview the
// user approved, because this instance changed in between.
var ErrStale = errors.New("This instance's configuration changed after the preview was made, so the import would not do what the preview showed. Nothing was imported; preview the bundle again.")

// errPreviewOnly rolls back the transaction a preview runs in.
var errPreviewOnly = errors.New("preview only")

// Preview returns what importing b would change, without changing
// anything. It runs the whole import in a transaction that it rolls back,
// so a bundle that would fail (an invalid value, an unknown permission) is
// refused here with the same sentence the import would give; the plan
// returned with such an error covers the categories up to the failing one.
func Preview(ctx context.Context, db *store.DB, b *Bundle) (*Plan, error) {
	return run(ctx, db, audit.System, b, "preview of configuration bundle "+b.ID(), "", false)
}

// Import applies b to the instance in one transaction: it adds and changes
// records so that every category in the bundle matches it, never removing,
// archiving or deactivating anything, and audits every change with a reason
// that names the bundle. Any failure leaves the instance as it was. A
// bundle already imported changes nothing and records nothing.
func Import(ctx context.Context, db *store.DB, by audit.Actor, b *Bundle, opts ImportOptions) (*Plan, error) {
	if strings.TrimSpace(opts.Reason) == "" {
		return nil, check.FieldErrors{"reason": "Say why you are importing this bundle (reason for change)."}
	}
	return run(ctx, db, by, b, AuditReason(opts.Reason, b), opts.Previewed, true)
}

// AuditReason is the reason recorded for every change an import makes: the
// user's reason followed by the bundle's id and source.
func AuditReason(reason string, b *Bundle) string {
	return fmt.Sprintf("%s [configuration bundle %s from %s, exported %s]", strings.TrimSpace(reason), b.ID(),
		b.Manifest.Source, b.Manifest.ExportedAt.UTC().Format("2006-01-02T15:04:05Z"))
}

func run(ctx context.Context, db *store.DB, by audit.Actor, b *Bundle, reason, previewed string, commit bool) (*Plan, error) {
	_, newest, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if b.Manifest.SchemaVersion > newest {
		return nil, fmt.Errorf("The bundle was exported from a database at schema version %d; this build of cohort knows schema versions up to %d. Upgrade this instance before importing it.",
			b.Manifest.SchemaVersion, newest)
	}
	plan := &Plan{Bundle: b.Manifest}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range b.Content {
			c, ok := Lookup(s.Category)
			if !ok {
				return fmt.Errorf("The bundle holds the category %q, which this build of cohort does not know.", s.Category)
			}
			cp, err := applyCategory(ctx, tx, c, by, reason, s.Records)
			plan.Categories = append(plan.Categories, cp)
			if err != nil {
				return err
			}
		}
		if previewed != "" && plan.Fingerprint() != previewed {
			return ErrStale
		}
		if !commit {
			return errPreviewOnly
		}
		if plan.Changes() == 0 {
			return nil
		}
		return recordImport(ctx, tx, by, b, reason, plan)
	})
	if errors.Is(err, errPreviewOnly) {
		err = nil
	}
	return plan, err
}

// applyCategory diffs one category against the bundle inside tx, applies
// what differs and checks that the category now matches the bundle.
func applyCategory(ctx context.Context, tx *store.Tx, c Category, by audit.Actor, reason string, incoming []Record) (CategoryPlan, error) {
	current, err := exportCategory(ctx, tx, c)
	if err != nil {
		return CategoryPlan{Category: c.Name()}, err
	}
	skip := map[string]string{}
	if s, ok := c.(Skipper); ok {
		if skip, err = s.Skip(ctx, tx, incoming); err != nil {
			return CategoryPlan{Category: c.Name()}, fmt.Errorf("check %s: %w", c.Name(), err)
		}
	}
	plan, apply := diff(c.Name(), current, incoming, skip)
	if len(apply) == 0 {
		return plan, nil
	}
	if err := c.Apply(ctx, tx, by, reason, apply); err != nil {
		return plan, err
	}
	// A category that stores something other than what the bundle says
	// would make imports inexact and never idempotent: refuse it here.
	after, err := exportCategory(ctx, tx, c)
	if err != nil {
		return plan, err
	}
	if left, _ := diff(c.Name(), after, apply, nil); left.Changes() > 0 {
		return plan, inexact(left)
	}
	return plan, nil
}

// inexact explains a record that an import could not store as the bundle
// has it — usually a hand-edited bundle not in the form cohort writes.
func inexact(p CategoryPlan) error {
	if len(p.Added) > 0 {
		return fmt.Errorf("The bundle's %s record %q cannot be imported exactly: it is missing after the import. Nothing was imported.", p.Category, p.Added[0].Key)
	}
	c := p.Changed[0]
	f := c.Fields[0]
	return fmt.Errorf("The bundle's %s record %q cannot be imported exactly: its %s would not be stored as the bundle has it, so the bundle is not in the form cohort writes. Nothing was imported; export the bundle again from its source.",
		p.Category, c.Key, f.Field)
}

// recordImport adds one audit entry per changed category for the import as
// a whole, so the trail shows which bundle came in, from where and when.
func recordImport(ctx context.Context, tx *store.Tx, by audit.Actor, b *Bundle, reason string, plan *Plan) error {
	changes := []audit.Change{{Field: "sha256", New: b.Manifest.SHA256}}
	for _, c := range plan.Categories {
		if c.Changes() > 0 {
			changes = append(changes, audit.Change{Field: c.Category, New: fmt.Sprintf("%d added, %d changed", len(c.Added), len(c.Changed))})
		}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: "config_bundle", EntityID: b.ID(), Reason: reason, Changes: changes})
}
