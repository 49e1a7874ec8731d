package console

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Refusal is an operation the lifecycle rules forbid. Its message is the
// sentence of the rule that forbids it, so pages and the CLI show it as is.
type Refusal struct{ Rule string }

// Error is the rule's sentence.
func (r *Refusal) Error() string { return r.Rule }

func refuse(format string, args ...any) error {
	return &Refusal{Rule: fmt.Sprintf(format, args...)}
}

// IsRefusal reports whether err is a rule's refusal.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// Milestone is a dated fact on an organisation's timeline that a rule
// depends on.
type Milestone string

// The milestones the destroy rules read. The migration program records
// MigrationSignedOff, validation records ValidationDone and the go-live
// checklist records ProdLive; an upgrade records UpgradeDone for its VAL.
const (
	MigrationSignedOff Milestone = "migration-signed-off"
	ValidationDone     Milestone = "validation-done"
	ProdLive           Milestone = "prod-live"
)

// UpgradeDone is the milestone of the upgrade an upgrade VAL environment
// (its code) validated.
func UpgradeDone(envCode string) Milestone { return Milestone("upgrade-done/" + envCode) }

// Facts is what the rules need to know about an organisation's timeline:
// the milestones it has reached and when.
type Facts struct {
	Reached map[Milestone]time.Time
}

// Has reports whether the milestone has been reached.
func (f Facts) Has(m Milestone) bool {
	_, ok := f.Reached[m]
	return ok
}

// CheckRole refuses an instance role an environment of the kind does not
// have: single environments have only a Main instance.
func CheckRole(k Kind, role Role) error {
	r, ok := RuleOf(k)
	if !ok {
		return refuse("%q is not an environment kind.", k)
	}
	if !slices.Contains(r.Shape.Roles(), role) {
		return refuse("A %s environment has only a Main instance.", r.Label)
	}
	return nil
}

// CheckIQ refuses an Installation Qualification document for a kind the
// rules table gives none.
func CheckIQ(k Kind) error {
	if r, ok := RuleOf(k); ok && r.IQ {
		return nil
	}
	var with []string
	for _, r := range Rules {
		if r.IQ {
			with = append(with, r.Label)
		}
	}
	return refuse("Only %s environments get an IQ document.", strings.Join(with, " and "))
}

// CheckEdit refuses changes made by hand inside an environment that every
// migration run rebuilds. Promotion, configuration import and any other
// step that would write into an instance calls it first.
func CheckEdit(k Kind) error {
	if r, ok := RuleOf(k); ok && r.Rebuilt {
		return refuse("The %s instance is rebuilt by every migration run; edits there are never preserved.", r.Label)
	}
	return nil
}

// Origin is where a new instance's data comes from: nil for an empty
// instance, otherwise the instance it is cloned from.
type Origin struct {
	Key  string
	Kind Kind
	Org  string
}

// CheckMadeFrom refuses an origin the rules table does not allow for the
// target kind. A copy of PROD must be obfuscated, so it is refused unless an
// obfuscation step is installed (obfuscates).
func CheckMadeFrom(target Kind, targetOrg string, from *Origin, obfuscates bool) error {
	r, ok := RuleOf(target)
	if !ok {
		return refuse("%q is not an environment kind.", target)
	}
	if from == nil {
		if !r.Empty {
			return &Refusal{Rule: r.MadeFromRule}
		}
		return nil
	}
	if !slices.Contains(r.CloneFrom, from.Kind) || (r.SameOrganisation && from.Org != targetOrg) {
		return &Refusal{Rule: r.MadeFromRule}
	}
	if from.Kind == Prod && !obfuscates {
		return refuse("Volunteer PHI never leaves PROD unscrambled: a copy of PROD needs the obfuscation step, which this console does not have yet.")
	}
	return nil
}

// CheckLimit refuses one environment of a kind too many: live is how many
// live environments of the kind the organisation has, inConsole how many
// the whole console has.
func CheckLimit(k Kind, live, inConsole int) error {
	r, ok := RuleOf(k)
	if !ok {
		return refuse("%q is not an environment kind.", k)
	}
	if (r.PerOrganisation > 0 && live >= r.PerOrganisation) || (r.Console > 0 && inConsole >= r.Console) {
		return &Refusal{Rule: r.LimitRule}
	}
	return nil
}

// CheckDestroy refuses destroying an environment before the moment the
// rules table allows. Later steps (go-live, sign-off, upgrade) call it
// before they offer to tidy up, and every destroy request passes it.
func CheckDestroy(k Kind, p Purpose, envCode string, f Facts) error {
	r, ok := RuleOf(k)
	if !ok {
		return refuse("%q is not an environment kind.", k)
	}
	switch r.Destroy {
	case Never:
		if k == Prod {
			return refuse("PROD is never destroyed; it is upgraded in place.")
		}
		return refuse("The %s environment is never destroyed; it is shared by every customer.", r.Label)
	case AtGoLive:
		if !f.Has(ProdLive) {
			return refuse("A %s is destroyed only when PROD goes live, and PROD is not live yet.", r.Label)
		}
	case AfterSignOff:
		if !f.Has(MigrationSignedOff) {
			return refuse("The %s environment is destroyed only once the customer has signed its output off.", r.Label)
		}
	case AfterValidation:
		if p == Upgrade {
			if !f.Has(UpgradeDone(envCode)) {
				return refuse("An upgrade VAL is destroyed only once the upgrade it validates is done.")
			}
			return nil
		}
		if !f.Has(ValidationDone) || !f.Has(ProdLive) {
			return refuse("A %s environment is destroyed only after validation is done and PROD is live.", r.Label)
		}
	}
	return nil
}
