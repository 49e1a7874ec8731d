package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Identity is what a build says about itself: `cohort version --json`.
type Identity struct {
	Version       string `json:"version"`
	Build         string `json:"build"`
	Time          string `json:"time"`
	Revision      string `json:"revision"`
	SHA256        string `json:"sha256,omitempty"`
	Go            string `json:"go,omitempty"`
	SchemaVersion int64  `json:"schema_version"`
}

// Inspect runs `BINARY version --json` as a child process and reads the
// identity it reports. The child gets none of cohort's own settings.
func Inspect(ctx context.Context, binary string) (Identity, error) {
	var id Identity
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "version", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHORT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if msg != "" {
			msg = ": " + msg
		}
		return id, fmt.Errorf("The file %s did not answer `version --json`, so it is not a cohort build that can be registered (%v%s).", binary, err, msg)
	}
	if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
		return id, fmt.Errorf("The file %s answered `version --json` with something that is not a cohort build identity (%v).", binary, err)
	}
	return id, nil
}
