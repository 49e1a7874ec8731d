package localproc

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
)

// pidOf reads the process id from a process file.
func pidOf(b []byte) int {
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// replaceOrphan stops the process an earlier console left running for this
// instance (it crashed without stopping its children), so the instance is
// supervised again from a clean start. A process file naming a process
// that is gone, or that is not this instance, is only removed.
func (r *Runtime) replaceOrphan(ctx context.Context, spec console.Spec) error {
	b, err := os.ReadFile(spec.PIDFile())
	if err != nil {
		return nil
	}
	pid := pidOf(b)
	if !alive(pid) || !isInstance(pid, spec.BasePath) {
		os.Remove(spec.PIDFile())
		return nil
	}
	r.opts.Logger.Info("replacing an instance process left by an earlier console", "instance", spec.Key, "pid", pid)
	appendLog(spec, fmt.Sprintf("console: replacing process %d left running by an earlier console", pid))
	sigterm(pid)
	deadline := time.Now().Add(r.opts.StopTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			sigkill(pid)
			deadline = time.Now().Add(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	os.Remove(spec.PIDFile())
	return nil
}
