package console

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/bundle"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

// PromoteFrom and PromoteTo are the kinds configuration is promoted from
// and into (the design brief: from a chosen Sandbox or Pre-PROD into VAL
// and PROD).
var (
	PromoteFrom = []Kind{Sandbox, PreProd}
	PromoteTo   = []Kind{VAL, Prod}
)

// PromoteRule is the sentence that refuses any other promotion.
const PromoteRule = "Configuration is promoted from the Main instance of a Sandbox or Pre-PROD environment into a VAL or PROD instance of the same organisation."

// StudyLibrariesRule is what every promotion says about study designs:
// they never travel in a configuration bundle.
const StudyLibrariesRule = "Study libraries are never promoted: move study designs with ODM export/import."

// CheckPromote refuses a promotion the rules do not allow, with the rule's
// sentence: a source that is not a Sandbox or Pre-PROD Main instance, a
// target that is not VAL or PROD (the Migration instance refuses every
// edit with its own rule), or two organisations.
func CheckPromote(from, to Instance) error {
	if err := CheckEdit(to.Kind); err != nil {
		return err
	}
	if !slices.Contains(PromoteFrom, from.Kind) || from.Role != Main || !slices.Contains(PromoteTo, to.Kind) || from.Org != to.Org {
		return &Refusal{Rule: PromoteRule}
	}
	return nil
}

// NeverPass is one record of the source that a promotion never carries,
// with the reason.
type NeverPass struct {
	Key string
	Why string
}

// PromotedCategory is one category of a promotion's preview: what the
// target gains (added), what changes, what is already the same, what the
// target has that the source lacks (left as is), and what never passes.
type PromotedCategory struct {
	bundle.CategoryPlan
	// NeverPasses are the source's records the promotion leaves behind
	// (archived sites, integration-specific settings and secrets) and the
	// bundle records the target refuses.
	NeverPasses []NeverPass
}

// Promotion is the preview of promoting configuration from one instance
// into another: the bundle exported from the source and what importing it
// into the target would change, category by category.
type Promotion struct {
	From, To   Instance
	Bundle     *bundle.Bundle
	Plan       *bundle.Plan
	Categories []PromotedCategory
	// ExportedAt is the bundle's export time; applying the preview exports
	// again at this time, so an unchanged source gives the same bundle.
	ExportedAt time.Time
	// Fingerprint identifies the preview's effect; applying it refuses to
	// do anything else.
	Fingerprint string
}

// Changes counts the records the promotion adds or changes.
func (p *Promotion) Changes() int { return p.Plan.Changes() }

// promotionPair reads and checks a promotion's two instances.
func (c *Console) promotionPair(ctx context.Context, from, to string) (Instance, Instance, error) {
	src, err := GetInstance(ctx, c.DB, from)
	if errors.Is(err, check.ErrNotFound) {
		return src, Instance{}, check.FieldErrors{"from": fmt.Sprintf("There is no instance %s.", from)}
	}
	if err != nil {
		return src, Instance{}, err
	}
	dst, err := GetInstance(ctx, c.DB, to)
	if errors.Is(err, check.ErrNotFound) {
		return src, dst, check.FieldErrors{"to": fmt.Sprintf("There is no instance %s.", to)}
	}
	if err != nil {
		return src, dst, err
	}
	if err := CheckPromote(src, dst); err != nil {
		return src, dst, err
	}
	for _, in := range []Instance{src, dst} {
		if in.State != Running && in.State != Stopped {
			return src, dst, refuse("Configuration is promoted only between instances that hold a finished database; %s is %s.", in.Key(), in.State)
		}
	}
	if h, held, err := Holder(ctx, c.DB, dst.ID); err != nil {
		return src, dst, err
	} else if held {
		return src, dst, &Busy{Key: dst.Key(), Holder: h}
	}
	return src, dst, nil
}

// openInstance opens an instance's database directly: promotion reads the
// source and writes the target in their own transactions, beside their
// running processes (SQLite in WAL mode and PostgreSQL both allow it).
func (c *Console) openInstance(ctx context.Context, in Instance) (*store.DB, error) {
	db, err := store.Open(ctx, c.Places.DSN(in))
	if err != nil {
		return nil, fmt.Errorf("open the database of %s: %w", in.Key(), err)
	}
	return db, nil
}

// exportFrom exports the promotable configuration of src at the given
// time (zero: now).
func (c *Console) exportFrom(ctx context.Context, src Instance, at time.Time) (*bundle.Bundle, []NeverPass, []NeverPass, error) {
	db, err := c.openInstance(ctx, src)
	if err != nil {
		return nil, nil, nil, err
	}
	defer db.Close()
	b, _, err := bundle.Export(ctx, db, bundle.ExportOptions{Instance: src.Key(), At: at})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("export the configuration of %s: %w", src.Key(), err)
	}
	sites, err := site.List(ctx, db, true)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the sites of %s: %w", src.Key(), err)
	}
	var archived []NeverPass
	for _, s := range sites {
		if s.Archived {
			archived = append(archived, NeverPass{Key: s.Code, Why: "archived: archived sites are never promoted"})
		}
	}
	var integration []NeverPass
	for _, d := range setting.Definitions {
		switch {
		case d.IntegrationSpecific:
			integration = append(integration, NeverPass{Key: d.Key, Why: "integration-specific: it belongs to one instance"})
		case !d.Promotable():
			integration = append(integration, NeverPass{Key: d.Key, Why: "a secret: secrets are never promoted"})
		}
	}
	return b, archived, integration, nil
}

// PreviewPromotion exports the configuration of the source instance and
// shows what importing it into the target would change, changing nothing.
func (c *Console) PreviewPromotion(ctx context.Context, from, to string) (*Promotion, error) {
	src, dst, err := c.promotionPair(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return c.preview(ctx, src, dst, time.Time{})
}

func (c *Console) preview(ctx context.Context, src, dst Instance, at time.Time) (*Promotion, error) {
	b, archived, integration, err := c.exportFrom(ctx, src, at)
	if err != nil {
		return nil, err
	}
	db, err := c.openInstance(ctx, dst)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	plan, err := bundle.Preview(ctx, db, b)
	if err != nil {
		return nil, fmt.Errorf("preview the configuration of %s in %s: %w", src.Key(), dst.Key(), err)
	}
	return newPromotion(src, dst, b, plan, archived, integration), nil
}

func newPromotion(src, dst Instance, b *bundle.Bundle, plan *bundle.Plan, archived, integration []NeverPass) *Promotion {
	p := &Promotion{From: src, To: dst, Bundle: b, Plan: plan, ExportedAt: b.Manifest.ExportedAt, Fingerprint: plan.Fingerprint()}
	for _, cp := range plan.Categories {
		pc := PromotedCategory{CategoryPlan: cp}
		switch cp.Category {
		case "sites":
			pc.NeverPasses = append(pc.NeverPasses, archived...)
		case "general-settings", "system-settings":
			scope := setting.General
			if cp.Category == "system-settings" {
				scope = setting.System
			}
			for _, n := range integration {
				if d, ok := setting.Lookup(n.Key); ok && d.Scope == scope {
					pc.NeverPasses = append(pc.NeverPasses, n)
				}
			}
		}
		for _, ig := range cp.Ignored {
			pc.NeverPasses = append(pc.NeverPasses, NeverPass{Key: ig.Key, Why: ig.Why})
		}
		p.Categories = append(p.Categories, pc)
	}
	return p
}

// actionPromote is the console audit trail's action for a promotion.
const actionPromote audit.Action = "promote"

// Promote applies a previewed promotion: it exports the source again at the
// preview's export time and imports it into the target in one transaction,
// audited in the target's own trail (by bundle.Import, naming the bundle)
// and in the console's. previewed is the preview's Fingerprint; when the
// source or the target changed since, nothing is imported and the user is
// asked to preview again. An empty previewed applies whatever the export
// gives now (the command line without --dry-run first).
func (c *Console) Promote(ctx context.Context, by audit.Actor, from, to, reason, previewed string, exportedAt time.Time) (*Promotion, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, check.FieldErrors{"reason": "Say why this configuration is promoted; the reason is kept in both audit trails."}
	}
	src, dst, err := c.promotionPair(ctx, from, to)
	if err != nil {
		return nil, err
	}
	b, archived, integration, err := c.exportFrom(ctx, src, exportedAt)
	if err != nil {
		return nil, err
	}
	db, err := c.openInstance(ctx, dst)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The target's own trail names the console user who promoted.
	plan, err := bundle.Import(ctx, db, audit.Actor{ID: 0, Name: "console:" + by.Name}, b,
		bundle.ImportOptions{Reason: "promoted from " + src.Key() + ": " + strings.TrimSpace(reason), Previewed: previewed})
	if errors.Is(err, bundle.ErrStale) {
		return nil, refuse("The configuration of %s or of %s changed after the preview, so the promotion would not do what the preview showed. Nothing was promoted; preview it again.", src.Key(), dst.Key())
	}
	if err != nil {
		return nil, fmt.Errorf("promote the configuration of %s into %s: %w", src.Key(), dst.Key(), err)
	}
	p := newPromotion(src, dst, b, plan, archived, integration)
	changes := []audit.Change{{Field: "from", New: src.Key()}, {Field: "bundle", New: b.ID()}}
	for _, cp := range p.Categories {
		changes = append(changes, audit.Change{Field: cp.Category, New: cp.Summary()})
	}
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: actionPromote, Entity: "instance", EntityID: dst.Key(),
			Reason: strings.TrimSpace(reason), Changes: changes})
	})
	if err != nil {
		return p, fmt.Errorf("the configuration was promoted into %s, but the console's audit trail could not record it: %w", dst.Key(), err)
	}
	return p, nil
}

// PromotionCandidates lists an organisation's instances a promotion may
// read from and write into, for the promotion page's choices.
func PromotionCandidates(ctx context.Context, q store.Querier, org string) (sources, targets []Instance, err error) {
	envs, err := Environments(ctx, q, org)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range envs {
		for _, in := range e.Instances {
			if in.State != Running && in.State != Stopped {
				continue
			}
			if slices.Contains(PromoteFrom, in.Kind) && in.Role == Main {
				sources = append(sources, in)
			}
			if slices.Contains(PromoteTo, in.Kind) {
				targets = append(targets, in)
			}
		}
	}
	return sources, targets, nil
}
