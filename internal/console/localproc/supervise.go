package localproc

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
)

// proc is one supervised instance.
type proc struct {
	spec console.Spec
	done chan struct{} // closed when supervision has ended

	mu      sync.Mutex
	status  console.Status
	cmd     *exec.Cmd
	stop    bool
	changes chan struct{}
}

func newProc(spec console.Spec) *proc {
	return &proc{spec: spec, done: make(chan struct{}), changes: make(chan struct{}),
		status: console.Status{Process: console.Starting, Addr: spec.Addr, Since: time.Now()}}
}

func (p *proc) snapshot() console.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// changed returns a channel closed at the next status change.
func (p *proc) changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changes
}

func (p *proc) set(f func(*console.Status)) {
	p.mu.Lock()
	f(&p.status)
	close(p.changes)
	p.changes = make(chan struct{})
	p.mu.Unlock()
}

func (p *proc) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stop
}

// requestStop ends supervision and asks the process to finish.
func (p *proc) requestStop() {
	p.mu.Lock()
	first := !p.stop
	p.stop = true
	cmd := p.cmd
	p.mu.Unlock()
	if !first {
		return
	}
	p.set(func(s *console.Status) { s.Process, s.Since = console.Stopping, time.Now() })
	if cmd != nil && cmd.Process != nil {
		terminate(cmd.Process)
	}
}

func (p *proc) kill() {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
	}
}

// supervise runs the instance until it is stopped, restarting it with
// backoff whenever it exits by itself.
func (r *Runtime) supervise(p *proc) {
	defer close(p.done)
	backoff := r.opts.MinBackoff
	for {
		if p.stopped() {
			p.set(func(s *console.Status) { s.Process, s.PID, s.Since = console.Down, 0, time.Now() })
			return
		}
		started := time.Now()
		err := r.runOnce(p)
		if p.stopped() {
			p.set(func(s *console.Status) { s.Process, s.PID, s.Since = console.Down, 0, time.Now() })
			return
		}
		if time.Since(started) > time.Minute {
			backoff = r.opts.MinBackoff
		}
		exit := "exited"
		if err != nil {
			exit = err.Error()
		}
		r.opts.Logger.Warn("instance exited; restarting", "instance", p.spec.Key, "exit", exit, "backoff", backoff.String())
		appendLog(p.spec, fmt.Sprintf("console: the instance %s; restarting in %s", exit, backoff))
		p.set(func(s *console.Status) {
			s.Process, s.PID, s.Since, s.LastExit = console.Restarting, 0, time.Now(), exit
			s.Restarts++
		})
		select {
		case <-time.After(backoff):
		case <-p.changed():
			// requestStop changes the status; the loop notices p.stop.
		}
		backoff = min(backoff*2, r.opts.MaxBackoff)
	}
}

// runOnce starts the process, watches for readiness, and waits for it to
// exit.
func (r *Runtime) runOnce(p *proc) error {
	logf, err := openLog(p.spec)
	if err != nil {
		return err
	}
	defer logf.Close()
	// The database URL may hold a password: it travels in the environment,
	// where other users of the machine cannot read it, not on the command line.
	args := []string{"instance", "serve", "--addr", p.spec.Addr, "--base-path", p.spec.BasePath, "--no-demo"}
	if p.spec.Test {
		args = append(args, "--test-instance")
	}
	if p.spec.ReadOnly {
		args = append(args, "--read-only")
	}
	cmd := exec.Command(p.spec.Binary, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logf, logf, append(childEnv(), "COHORT_DATABASE="+p.spec.DSN)
	cmd.SysProcAttr = ownProcessGroup()
	p.mu.Lock()
	if p.stop {
		p.mu.Unlock()
		return nil
	}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("could not start: %w", err)
	}
	p.cmd = cmd
	p.mu.Unlock()
	pid := cmd.Process.Pid
	os.WriteFile(p.spec.PIDFile(), []byte(strconv.Itoa(pid)+"\n"+p.spec.BasePath+"\n"), 0o640)
	p.set(func(s *console.Status) { s.Process, s.PID, s.Since = console.Starting, pid, time.Now() })
	exited := make(chan struct{})
	go r.watchReady(p, pid, exited)
	err = cmd.Wait()
	close(exited)
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	if b, rerr := os.ReadFile(p.spec.PIDFile()); rerr == nil && pidOf(b) == pid {
		os.Remove(p.spec.PIDFile())
	}
	return err
}

// watchReady marks the process up once its /readyz answers 200.
func (r *Runtime) watchReady(p *proc, pid int, exited <-chan struct{}) {
	url := "http://" + p.spec.Addr + "/readyz"
	started := time.Now()
	for {
		// Polled often while an instance usually becomes ready, so an
		// upgrade's hold ends as soon as the new build answers.
		every := 50 * time.Millisecond
		if time.Since(started) < 5*time.Second {
			every = 10 * time.Millisecond
		}
		select {
		case <-exited:
			return
		case <-time.After(every):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := r.client.Do(req)
		cancel()
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			p.set(func(s *console.Status) {
				if s.PID == pid && s.Process == console.Starting {
					s.Process, s.Since = console.Up, time.Now()
				}
			})
			return
		}
	}
}
