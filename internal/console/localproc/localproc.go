// Package localproc is the lifecycle console's local-process runtime: each
// instance runs as a child process of its release build's cohort binary
// (`cohort instance serve`) on its own loopback port with its own database.
// A supervisor goroutine per instance restarts it with backoff when it
// exits on its own; its standard output and error go straight to a log file
// per instance (so the instance outlives a console crash without a broken
// pipe), and a process file lets the next console find and replace what a
// crashed one left running.
package localproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
)

// Options tune the runtime; zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// ReadyTimeout bounds how long Start waits for /readyz (60 s).
	ReadyTimeout time.Duration
	// StopTimeout is how long a stopping instance gets to finish its
	// requests before it is killed (30 s).
	StopTimeout time.Duration
	// MinBackoff and MaxBackoff pace restarts after crashes (0.5 s, 30 s);
	// the backoff doubles per crash and resets after a minute of running.
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// Runtime runs instances as supervised child processes. It implements
// console.Runtime.
type Runtime struct {
	opts   Options
	client *http.Client
	mu     sync.Mutex
	procs  map[string]*proc
}

var _ console.Runtime = (*Runtime)(nil)

// New returns a runtime with no processes.
func New(o Options) *Runtime {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 30 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	return &Runtime{opts: o, client: &http.Client{Timeout: 2 * time.Second}, procs: map[string]*proc{}}
}

// Start starts the instance under supervision, first replacing any process
// an earlier console left running for it, and waits until its /readyz
// answers. Starting a supervised instance only waits for it to be ready.
func (r *Runtime) Start(ctx context.Context, spec console.Spec) error {
	if err := os.MkdirAll(spec.Dir, 0o750); err != nil {
		return fmt.Errorf("create the directory of %s: %w", spec.Key, err)
	}
	r.mu.Lock()
	p := r.procs[spec.Key]
	if p != nil && p.spec != spec {
		// Same instance, new address or build: replace the process.
		r.mu.Unlock()
		if err := r.Stop(ctx, p.spec); err != nil {
			return err
		}
		r.mu.Lock()
		p = r.procs[spec.Key]
	}
	if p == nil {
		if err := r.replaceOrphan(ctx, spec); err != nil {
			r.mu.Unlock()
			return err
		}
		p = newProc(spec)
		r.procs[spec.Key] = p
		go r.supervise(p)
	}
	r.mu.Unlock()
	return r.waitReady(ctx, p)
}

// waitReady waits for the instance's /readyz, failing early when the
// process exits before it is ready.
func (r *Runtime) waitReady(ctx context.Context, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ReadyTimeout)
	defer cancel()
	exits := p.snapshot().Restarts
	for {
		st := p.snapshot()
		if st.Process == console.Up {
			return nil
		}
		if st.Restarts > exits || p.stopped() {
			return fmt.Errorf("%s exited while starting (%s)", p.spec.Key, nonEmpty(st.LastExit, "stopped"))
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s was not ready within %s", p.spec.Key, r.opts.ReadyTimeout)
			}
			return ctx.Err()
		case <-p.changed():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends supervision and stops the process gracefully: SIGTERM lets
// requests in flight finish; after StopTimeout it is killed. Stopping an
// instance this runtime does not supervise stops a process an earlier
// console left behind, if there is one.
func (r *Runtime) Stop(ctx context.Context, spec console.Spec) error {
	r.mu.Lock()
	p := r.procs[spec.Key]
	r.mu.Unlock()
	if p == nil {
		return r.replaceOrphan(ctx, spec)
	}
	p.requestStop()
	select {
	case <-p.done:
	case <-time.After(r.opts.StopTimeout):
		p.kill()
		<-p.done
	case <-ctx.Done():
		p.kill()
		<-p.done
	}
	r.mu.Lock()
	if r.procs[spec.Key] == p {
		delete(r.procs, spec.Key)
	}
	r.mu.Unlock()
	return nil
}

// Status reports the instance's process now.
func (r *Runtime) Status(key string) console.Status {
	r.mu.Lock()
	p := r.procs[key]
	r.mu.Unlock()
	if p == nil {
		return console.Status{Process: console.Down}
	}
	return p.snapshot()
}

// Close stops every process, in parallel, when the console stops.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	specs := make([]console.Spec, 0, len(r.procs))
	for _, p := range r.procs {
		specs = append(specs, p.spec)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(specs))
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Stop(ctx, s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// childEnv is the console's environment without cohort's own settings: a
// COHORT_TEST_INSTANCE or COHORT_DATABASE meant for the console must not
// reach an instance, which gets everything it needs as flags.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHORT_") {
			env = append(env, kv)
		}
	}
	return env
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
