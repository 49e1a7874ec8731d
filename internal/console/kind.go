package console

import (
	"fmt"
	"strings"
)

// Kind is the kind of an environment.
type Kind string

// The environment kinds of the design brief.
const (
	Demo         Kind = "demo"
	Sandbox      Kind = "sandbox"
	Migration    Kind = "migration"
	VAL          Kind = "val"
	PreProd      Kind = "preprod"
	Prod         Kind = "prod"
	CommunityDev Kind = "community-dev"
)

// Label is the kind as people write it.
func (k Kind) Label() string {
	if r, ok := RuleOf(k); ok {
		return r.Label
	}
	return string(k)
}

// ParseKind reads a kind as typed by a person ("Pre-PROD", "preprod",
// "VAL", "Community Dev", …).
func ParseKind(s string) (Kind, error) {
	norm := strings.NewReplacer("-", "", " ", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, r := range Rules {
		if norm == strings.ReplaceAll(string(r.Kind), "-", "") {
			return r.Kind, nil
		}
	}
	labels := make([]string, len(Rules))
	for i, r := range Rules {
		labels[i] = r.Label
	}
	return "", fmt.Errorf("%q is not an environment kind; use one of %s.", s, strings.Join(labels, ", "))
}

// Role says which instance of an environment this is.
type Role string

// The two roles: every environment has a Main instance; pairs also have a
// Test instance, where a study design is tried before it runs in Main.
const (
	Main Role = "main"
	Test Role = "test"
)

// Label is the role as people write it.
func (r Role) Label() string {
	if r == Test {
		return "Test"
	}
	return "Main"
}

// Shape says which instances an environment of a kind has.
type Shape string

// The shapes of the rules table.
const (
	Single Shape = "single"
	Pair   Shape = "pair"
)

// Roles returns the instance roles of the shape, Main first.
func (s Shape) Roles() []Role {
	if s == Pair {
		return []Role{Main, Test}
	}
	return []Role{Main}
}

// DestroyWhen is the moment an environment of a kind may be destroyed.
type DestroyWhen string

// The destroy rules of the rules table.
const (
	// ByHand environments are destroyed whenever someone decides to.
	ByHand DestroyWhen = "by hand"
	// AtGoLive environments (Sandbox) go once PROD is live.
	AtGoLive DestroyWhen = "when PROD goes live"
	// AfterSignOff environments (Migration) go once the customer has signed
	// the migration output off.
	AfterSignOff DestroyWhen = "when the customer signs the migration output off"
	// AfterValidation environments (VAL) go once validation is done and PROD
	// is live — or, for an upgrade VAL, once the upgrade is done.
	AfterValidation DestroyWhen = "when validation is done and PROD is live (or the upgrade is done)"
	// Never: PROD is upgraded in place; Community Dev is shared by everyone.
	Never DestroyWhen = "never"
)

// Purpose says why a VAL environment exists, which decides when it may go.
type Purpose string

// The purposes of a VAL environment.
const (
	// GoLive VALs validate the configuration and migration before PROD.
	GoLive Purpose = "go-live"
	// Upgrade VALs validate a new release on a scrambled clone of PROD.
	Upgrade Purpose = "upgrade"
)

// KindRule is one row of the design brief's rules table, as data the checks
// and the pages read.
type KindRule struct {
	Kind  Kind
	Label string
	Shape Shape
	// MadeFrom is the rules table's sentence, shown on pages.
	MadeFrom string
	// Empty reports whether the environment may start empty (configured,
	// promoted into or migrated into later).
	Empty bool
	// CloneFrom lists the kinds an instance of this kind may be cloned from.
	CloneFrom []Kind
	// SameOrganisation requires a clone's source to belong to the same
	// customer (a Sandbox is a clone of the customer's own Demo).
	SameOrganisation bool
	// MadeFromRule is the sentence that refuses any other origin.
	MadeFromRule string
	Destroy      DestroyWhen
	IQ           bool
	// PerOrganisation limits how many live environments of the kind an
	// organisation has (0: no limit); Console limits the whole console.
	PerOrganisation int
	Console         int
	// LimitRule is the sentence that refuses one too many.
	LimitRule string
	// Rebuilt marks the Migration environment: every migration run rebuilds
	// it from scratch, so nothing may be edited there.
	Rebuilt bool
}

// Rules is the design brief's table of environment kinds, in timeline
// order. Every check in this package reads it; nothing else encodes a rule.
var Rules = []KindRule{
	{Kind: Demo, Label: "Demo", Shape: Single,
		MadeFrom: "empty or other demo data, branded for a prospect",
		Empty:    true, CloneFrom: []Kind{Demo},
		MadeFromRule: "A Demo environment is made empty or from other demo data.",
		Destroy:      ByHand},
	{Kind: Sandbox, Label: "Sandbox", Shape: Pair,
		MadeFrom: "empty, or a clone of the customer's Demo",
		Empty:    true, CloneFrom: []Kind{Demo}, SameOrganisation: true,
		MadeFromRule: "A Sandbox is made empty or as a clone of the customer's own Demo.",
		Destroy:      AtGoLive},
	{Kind: Migration, Label: "Migration", Shape: Single,
		MadeFrom:     "output of the migration program only; edits there are never preserved",
		Empty:        true,
		MadeFromRule: "A Migration environment is made only from the output of the migration program; it is never cloned.",
		Destroy:      AfterSignOff, PerOrganisation: 1,
		LimitRule: "An organisation has one Migration environment; every migration run rebuilds it.",
		Rebuilt:   true},
	{Kind: VAL, Label: "VAL", Shape: Pair,
		MadeFrom: "configuration of a chosen source (Sandbox or Pre-PROD) + migration output, volunteer PHI obfuscated; or, for an upgrade, a clone of PROD on the new build, PHI obfuscated",
		Empty:    true, CloneFrom: []Kind{Prod}, SameOrganisation: true,
		MadeFromRule: "A VAL environment is made from promoted configuration and the migration output, or for an upgrade as a clone of the customer's PROD with volunteer PHI obfuscated.",
		Destroy:      AfterValidation, IQ: true},
	{Kind: PreProd, Label: "Pre-PROD", Shape: Single,
		MadeFrom: "customer-configured", Empty: true,
		MadeFromRule: "A Pre-PROD environment is configured by the customer; it starts empty.",
		Destroy:      ByHand},
	{Kind: Prod, Label: "PROD", Shape: Pair,
		MadeFrom: "configuration from VAL or predefined + migration output", Empty: true,
		MadeFromRule: "A PROD environment is made from configuration promoted from VAL (or predefined) and the migration output, never by cloning.",
		Destroy:      Never, IQ: true, PerOrganisation: 1,
		LimitRule: "An organisation has one PROD environment; it is upgraded in place."},
	{Kind: CommunityDev, Label: "Community Dev", Shape: Single,
		MadeFrom: "latest release", Empty: true,
		MadeFromRule: "The Community Dev environment runs the latest release and starts empty.",
		Destroy:      Never, Console: 1,
		LimitRule: "There is one Community Dev environment, shared by every customer."},
}

// RuleOf returns the rule of a kind.
func RuleOf(k Kind) (KindRule, bool) {
	for _, r := range Rules {
		if r.Kind == k {
			return r, true
		}
	}
	return KindRule{}, false
}

// Timeline is the order a customer walks the environments in.
var Timeline = []Kind{Demo, Sandbox, Migration, VAL, Prod}
