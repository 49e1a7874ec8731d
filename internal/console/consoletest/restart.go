package consoletest

import (
	"context"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
)

// Successor returns a new console on c's registry and data directory, with
// a runtime of its own and no gate, as a console started again after c
// stopped or crashed. Its processes are stopped when the test ends.
func Successor(t testing.TB, c *console.Console) *console.Console {
	t.Helper()
	rt := localproc.New(localproc.Options{Logger: c.Logger, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, StopTimeout: 10 * time.Second})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rt.Close(ctx)
	})
	return &console.Console{DB: c.DB, Places: c.Places, Build: c.Build, Binary: c.Binary, Catalog: c.Catalog, Runtime: rt,
		Logger: c.Logger, Obfuscate: c.Obfuscate, Announce: c.Announce, Workers: c.Workers, HeartbeatEvery: c.HeartbeatEvery, StaleAfter: c.StaleAfter}
}

// RunUntilStopped runs the console's worker until stop is called (or the
// test ends); stop returns once the worker has returned, as a console's
// orderly shutdown does.
func RunUntilStopped(t testing.TB, c *console.Console) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console worker: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}
