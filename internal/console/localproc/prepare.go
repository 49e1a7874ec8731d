package localproc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"

	"github.com/cohort-clinical/cohort/internal/console"
)

// Prepare runs `cohort instance init` of the instance's build on its
// database: that build knows its own schema. Its JSON answer comes on
// standard output; its log lines go to the instance's log. The database URL
// and a first administrator's chosen password travel in the environment,
// never on the command line where any user of the machine could read them.
func (r *Runtime) Prepare(ctx context.Context, spec console.Spec, p console.Preparation) (console.Prepared, error) {
	var out console.Prepared
	logf, err := openLog(spec)
	if err != nil {
		return out, err
	}
	defer logf.Close()
	args := []string{"instance", "init"}
	if p.Demo {
		args = append(args, "--demo")
	}
	if p.ClonedFrom != "" {
		args = append(args, "--cloned-from", p.ClonedFrom)
	}
	if p.By != "" {
		args = append(args, "--by", p.By)
	}
	cmd := exec.CommandContext(ctx, spec.Binary, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, logf, append(childEnv(), "COHORT_DATABASE="+spec.DSN)
	if p.AdminPassword != "" {
		cmd.Env = append(cmd.Env, "COHORT_ADMIN_PASSWORD="+p.AdminPassword)
	}
	if err := cmd.Run(); err != nil {
		return out, fmt.Errorf("%s instance init: %w (see the instance's log)", spec.Binary, err)
	}
	if err := json.NewDecoder(strings.NewReader(stdout.String())).Decode(&out); err != nil {
		return out, fmt.Errorf("read the answer of instance init: %w", err)
	}
	return out, nil
}
