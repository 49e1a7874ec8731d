package console

import (
	"slices"
	"strings"
)

// State is where an instance is in its life.
type State string

// The instance states: requested → provisioning → running ⇄ stopped →
// destroyed, or failed (with the failed step's log) from any working state.
const (
	Requested    State = "requested"
	Provisioning State = "provisioning"
	Running      State = "running"
	Stopped      State = "stopped"
	Destroyed    State = "destroyed"
	Failed       State = "failed"
)

// transitions is the state machine. A failed instance may be provisioned
// again (a retried create or clone), started (a retried start), or
// destroyed; a destroyed one never comes back.
var transitions = map[State][]State{
	Requested:    {Provisioning, Failed},
	Provisioning: {Running, Stopped, Failed},
	Running:      {Stopped, Destroyed, Failed},
	Stopped:      {Running, Destroyed, Failed},
	Failed:       {Provisioning, Running, Stopped, Destroyed},
	Destroyed:    {},
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to State) bool { return slices.Contains(transitions[from], to) }

// OpKind is the kind of an operation.
type OpKind string

// The operations the console carries out now. Promotion, migration runs,
// obfuscation, go-live and upgrades add theirs beside these.
const (
	OpProvision OpKind = "provision" // make an empty instance
	OpClone     OpKind = "clone"     // make an instance as a copy of another
	OpStart     OpKind = "start"
	OpStop      OpKind = "stop"
	OpDestroy   OpKind = "destroy"
)

// opRule says from which states an operation may be requested and what it
// is called in a refusal.
type opRule struct {
	from []State
	verb string
	// reason is true when a person must say why (it is audited).
	reason bool
}

var opRules = map[OpKind]opRule{
	OpProvision: {from: []State{Requested, Failed}, verb: "created"},
	OpClone:     {from: []State{Requested, Failed}, verb: "cloned into"},
	// Starting a running instance, or stopping a stopped one, is a no-op
	// that succeeds: a retried request is harmless.
	OpStart:   {from: []State{Stopped, Running, Failed}, verb: "started"},
	OpStop:    {from: []State{Running, Stopped, Failed}, verb: "stopped", reason: true},
	OpDestroy: {from: []State{Running, Stopped, Failed}, verb: "destroyed", reason: true},
}

// CheckOperation refuses an operation the instance's state does not allow,
// with a sentence naming the instance, its state and the states that would.
func CheckOperation(op OpKind, key string, s State) error {
	r, ok := opRules[op]
	if !ok {
		return refuse("%q is not an operation the console knows.", op)
	}
	if slices.Contains(r.from, s) {
		return nil
	}
	names := make([]string, len(r.from))
	for i, st := range r.from {
		names[i] = string(st)
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + list
	}
	return refuse("%s is %s, so it cannot be %s; only a %s instance can.", key, s, r.verb, list)
}

// CheckClonable refuses a clone source that holds no finished database.
func CheckClonable(key string, s State) error {
	if s == Running || s == Stopped {
		return nil
	}
	return refuse("Only a running or stopped instance can be cloned; %s is %s.", key, s)
}
