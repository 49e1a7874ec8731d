package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Runtime runs instances. It is the only way the console touches a running
// instance: the local-process driver (package localproc) runs each one as a
// child process on a loopback port; a cluster driver would run a Deployment
// per instance. Every method is idempotent: starting a started instance or
// stopping a stopped one succeeds.
type Runtime interface {
	// Prepare readies a new instance's database with the instance's build:
	// applies its schema, then either creates the first administrator (and
	// the demo clinic when asked) or, for a clone, ends the copied sessions
	// and records where the copy came from.
	Prepare(ctx context.Context, spec Spec, p Preparation) (Prepared, error)
	// Start starts the instance (or takes over one left running by an
	// earlier console), supervises it, and returns once it is ready.
	Start(ctx context.Context, spec Spec) error
	// Stop stops the instance gracefully and ends its supervision.
	Stop(ctx context.Context, spec Spec) error
	// Status reports the instance's process as the runtime sees it now.
	Status(key string) Status
	// Logs returns the last lines of the instance's log.
	Logs(spec Spec, lines int) ([]string, error)
	// Close ends supervision when the console stops. The local driver stops
	// its processes (the next console starts them again); a cluster driver
	// leaves them running.
	Close(ctx context.Context) error
}

// Spec is everything a runtime needs to run one instance.
type Spec struct {
	// Key names the instance: organisation/environment/role.
	Key string
	// Binary is the cohort binary of the instance's release build.
	Binary string
	// DSN is the instance's database; it may hold a password, so it is
	// never logged.
	DSN string
	// Addr is the loopback address the instance listens on.
	Addr string
	// BasePath is the URL path the console's proxy serves it under.
	BasePath string
	// Test marks every page of the instance as Test.
	Test bool
	// ReadOnly refuses every change made through the instance's pages: the
	// Migration instance is rebuilt by every migration run (see CheckEdit).
	ReadOnly bool
	// Dir holds the instance's log and process files.
	Dir string
}

// BinarySHA256 is the SHA-256 of a build's binary, in hexadecimal: what the
// release catalog records, `cohort version --json` prints and an IQ
// document checks.
func BinarySHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// LogFile is where the instance's standard output and error go.
func (s Spec) LogFile() string { return filepath.Join(s.Dir, "instance.log") }

// PIDFile records the running process, so a console that restarts after a
// crash finds the instances its predecessor left behind.
func (s Spec) PIDFile() string { return filepath.Join(s.Dir, "instance.pid") }

// Preparation says how to ready a new instance's database.
type Preparation struct {
	// Demo adds the demo clinic (sites, staff, configuration).
	Demo bool
	// ClonedFrom names the source of a clone; empty for a new instance.
	ClonedFrom string
	// By names who asked, for the instance's own audit trail.
	By string
	// AdminPassword, when set, is the first administrator's password
	// instead of a generated one-time password (tests, scripted set-ups).
	AdminPassword string
}

// Prepared is what preparing an instance produced.
type Prepared struct {
	SchemaVersion int64 `json:"schema_version"`
	// AdminPassword is the first administrator's one-time password, empty
	// for a clone (its accounts come from the source).
	AdminPassword string `json:"admin_password,omitempty"`
	// DemoPassword is the one-time password the demo staff share.
	DemoPassword string `json:"demo_password,omitempty"`
	// DemoUsers names the demo staff accounts.
	DemoUsers []string `json:"demo_users,omitempty"`
}

// Process is the state of an instance's process.
type Process string

// The process states a runtime reports.
const (
	Down       Process = "down"
	Starting   Process = "starting"
	Up         Process = "up"
	Restarting Process = "restarting"
	Stopping   Process = "stopping"
)

// Status is an instance's process as the runtime sees it.
type Status struct {
	Process Process
	PID     int
	// Addr is where the instance answers when it is up.
	Addr     string
	Since    time.Time
	Restarts int
	// LastExit says how the process last ended, when it did.
	LastExit string
}

// Gate holds requests to one instance while its process is switched: the
// console's reverse proxy implements it. A PostgreSQL clone holds its
// source while it copies; an upgrade will hold the instance while it swaps
// the old build's process for the new one.
type Gate interface {
	// Hold makes new requests for the instance wait and returns once the
	// requests already in flight have finished (or ctx ends). release lets
	// the waiting requests through; it is safe to call more than once.
	Hold(ctx context.Context, key string) (release func(), err error)
}
