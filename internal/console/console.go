package console

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Console is the lifecycle console: its registry database, where instances
// live, the build new instances get, and — in the running console, not in
// the CLI — the runtime that runs them.
type Console struct {
	DB     *store.DB
	Places Places
	// Build is the release build new instances get: for now always the
	// console's own. Binary is that build's cohort binary.
	Build  Build
	Binary string
	// Catalog finds the binaries of the other registered builds; nil when
	// only the console's own build is installed.
	Catalog BuildCatalog
	// Runtime runs instances. The CLI leaves it nil: it only records
	// requests, which the running console's worker carries out.
	Runtime Runtime
	// Gate holds an instance's requests while its process is switched.
	Gate   Gate
	Logger *slog.Logger
	// Obfuscate scrambles volunteer PHI in a fresh copy (target) before
	// anyone sees it, then scans the copy for every PHI value of the
	// database it came from (source); one hit fails it. While it is nil
	// every copy of PROD is refused.
	Obfuscate func(ctx context.Context, source, target Spec, note func(string)) error
	// Announce, when set, hears what preparing each new instance produced
	// (its one-time passwords), e.g. to print the demo's once at start-up.
	Announce func(key string, p Prepared)
	// Workers is how many operations run at once (never two on one
	// instance); 4 when zero.
	Workers int
	// HeartbeatEvery and StaleAfter pace the heartbeat that tells the CLI
	// and a second console that this one is running.
	HeartbeatEvery time.Duration
	StaleAfter     time.Duration

	wakeOnce sync.Once
	wake     chan struct{}
	mu       sync.Mutex
	copying  map[int64]*sync.Mutex
	owner    string
}

// notify wakes the worker at once instead of at its next poll.
func (c *Console) notify() {
	select {
	case c.wakeup() <- struct{}{}:
	default:
	}
}

func (c *Console) wakeup() chan struct{} {
	c.wakeOnce.Do(func() { c.wake = make(chan struct{}, 1) })
	return c.wake
}

func (c *Console) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// sourceMutex serialises copies from one source inside this console: a
// PostgreSQL copy stops its source for a moment, and two copies must not
// stop and start it under each other.
func (c *Console) sourceMutex(id int64) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copying == nil {
		c.copying = map[int64]*sync.Mutex{}
	}
	m := c.copying[id]
	if m == nil {
		m = &sync.Mutex{}
		c.copying[id] = m
	}
	return m
}

// BuildCatalog finds the binary of a registered release build, so several
// builds run side by side. The release catalog implements it.
type BuildCatalog interface {
	Binary(ctx context.Context, b Build) (string, error)
}

// Spec is how the runtime runs an instance on the build it was given.
func (c *Console) Spec(inst Instance) (Spec, error) {
	return c.SpecOn(context.Background(), inst, inst.Build)
}

// SpecOn is how the runtime runs an instance on build b: its own build, or
// another one during an upgrade. The console's own build needs no catalog;
// any other must be registered in it.
func (c *Console) SpecOn(ctx context.Context, inst Instance, b Build) (Spec, error) {
	binary := c.Binary
	if b != c.Build {
		if c.Catalog == nil {
			return Spec{}, fmt.Errorf("Build %s of %s is not installed on this console; only %s is.", b, inst.Key(), c.Build)
		}
		var err error
		if binary, err = c.Catalog.Binary(ctx, b); err != nil {
			return Spec{}, fmt.Errorf("build %s of %s: %w", b, inst.Key(), err)
		}
	}
	return Spec{Key: inst.Key(), Binary: binary, DSN: c.Places.DSN(inst), Addr: fmt.Sprintf("127.0.0.1:%d", inst.Port),
		BasePath: inst.BasePath, Test: inst.IsTest(), Dir: c.Places.Dir(inst.Key()), ReadOnly: CheckEdit(inst.Kind) != nil}, nil
}
