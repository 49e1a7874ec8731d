package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// consoleProc is a `cohort serve` running as a child process, with what it
// printed.
type consoleProc struct {
	cmd          *exec.Cmd
	url          string
	password     string
	mu           sync.Mutex
	demo         string
	demoPassword string
	demoReady    chan struct{}
}

var (
	urlLine      = regexp.MustCompile(`serving at (http://\S+/)`)
	passwordLine = regexp.MustCompile(`one-time password: (\S+)`)
	demoLine     = regexp.MustCompile(`Demo instance ready at (http://\S+/)`)
	demoPassLine = regexp.MustCompile(`its administrator: admin, one-time password (\S+)`)
)

// startConsole runs `cohort serve` in dir on a free port and waits for it
// to say where it serves.
func startConsole(t *testing.T, dir string, env ...string) *consoleProc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "COHORT_DATA_DIR=", "COHORT_DATABASE=", "COHORT_ADMIN_PASSWORD="), env...)
	stdout, _ := cmd.StdoutPipe()
	logf, err := os.Create(filepath.Join(dir, "console-"+strconv.FormatInt(time.Now().UnixNano(), 10)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		logf.Close()
	})
	c := &consoleProc{cmd: cmd, demoReady: make(chan struct{})}
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	for c.url == "" && lines.Scan() {
		if m := passwordLine.FindStringSubmatch(lines.Text()); m != nil {
			c.password = m[1]
		}
		if m := urlLine.FindStringSubmatch(lines.Text()); m != nil {
			c.url = m[1]
		}
	}
	deadline.Stop()
	if c.url == "" {
		t.Fatal("serve printed no URL")
	}
	go func() {
		for lines.Scan() {
			c.mu.Lock()
			if m := demoLine.FindStringSubmatch(lines.Text()); m != nil {
				c.demo = m[1]
			}
			if m := demoPassLine.FindStringSubmatch(lines.Text()); m != nil {
				c.demoPassword = m[1]
				close(c.demoReady)
			}
			c.mu.Unlock()
		}
		io.Copy(io.Discard, stdout)
	}()
	return c
}

// waitDemo waits for the console to say its Demo instance is ready.
func (c *consoleProc) waitDemo(t *testing.T) string {
	t.Helper()
	select {
	case <-c.demoReady:
	case <-time.After(90 * time.Second):
		t.Fatal("the console did not announce its Demo instance")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.demo
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// instancePID reads the process file the console keeps for an instance.
func instancePID(t *testing.T, dir, key string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cohort-data", "instances", filepath.FromSlash(key), "instance.pid"))
	if err != nil {
		t.Fatalf("no process file for %s: %v", key, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(line)
	return pid
}

func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || !strings.Contains(string(stat), ") Z ")
}

// cohort runs the binary in dir and returns its exit code and output.
func cohort(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COHORT_DATA_DIR=", "COHORT_DATABASE=")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestTheCLIAsksTheRunningConsole drives the console from the command
// line while it runs: a Sandbox pair cloned from the Demo, a refused
// destroy, a refused second Migration, and the audit tools reaching an
// instance by name.
func TestTheCLIAsksTheRunningConsole(t *testing.T) {
	dir := t.TempDir()
	con := startConsole(t, dir)
	con.waitDemo(t)

	code, out, errOut := cohort(t, dir, "instance", "clone", "demo-cru/demo/main", "demo-cru/sandbox", "--kind", "sandbox", "--reason", "try configuration")
	if code != 0 || !strings.Contains(out, "(clone of demo-cru/sandbox/main): done.") || !strings.Contains(out, "(clone of demo-cru/sandbox/test): done.") ||
		!strings.Contains(out, "Copied a consistent snapshot") {
		t.Fatalf("instance clone exited %d:\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cohort(t, dir, "instance", "list", "--json")
	var list []struct{ Instance, Kind, Role, State, Source string }
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 3 {
		t.Fatalf("instance list: %d %v\n%s", code, err, out)
	}
	for _, in := range list {
		if in.State != "running" {
			t.Errorf("%s is %s", in.Instance, in.State)
		}
		if strings.HasPrefix(in.Instance, "demo-cru/sandbox/") && in.Source != "demo-cru/demo/main" {
			t.Errorf("%s does not record its source: %q", in.Instance, in.Source)
		}
	}
	if _, body := fetch(t, con.url+"i/demo-cru/sandbox/test/login"); !strings.Contains(body, "TEST INSTANCE") {
		t.Errorf("the Sandbox Test instance is not marked as Test:\n%s", body)
	}

	code, _, errOut = cohort(t, dir, "instance", "destroy", "demo-cru/sandbox", "--reason", "done trying")
	if code != 1 || !strings.Contains(errOut, "A Sandbox is destroyed only when PROD goes live, and PROD is not live yet.") {
		t.Errorf("destroying the Sandbox before go-live: exit %d\n%s", code, errOut)
	}
	if code, _, errOut = cohort(t, dir, "instance", "stop", "demo-cru/sandbox/test"); code != 2 || !strings.Contains(errOut, "--reason") {
		t.Errorf("stop without a reason: exit %d\n%s", code, errOut)
	}
	if code, out, errOut = cohort(t, dir, "instance", "create", "demo-cru/migration", "--kind", "Migration"); code != 0 || !strings.Contains(out, "done.") {
		t.Fatalf("create Migration: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = cohort(t, dir, "instance", "create", "demo-cru/migration-2", "--kind", "migration")
	if code != 1 || !strings.Contains(errOut, "An organisation has one Migration environment; every migration run rebuilds it.") {
		t.Errorf("a second Migration: exit %d\n%s", code, errOut)
	}
	code, out, errOut = cohort(t, dir, "instance", "create", "north/demo", "--kind", "demo", "--org-name", "North Clinical Unit", "--wait=false")
	if code != 0 || !strings.Contains(out, "Created organisation north") || !strings.Contains(out, "Queued operation") {
		t.Errorf("create with a new organisation: exit %d\n%s\n%s", code, out, errOut)
	}

	if code, out, errOut = cohort(t, dir, "audit", "verify", "--instance", "demo-cru/sandbox/main"); code != 0 || !strings.Contains(out, "intact") {
		t.Errorf("audit verify of a console instance: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = cohort(t, dir, "audit", "verify", "--database", filepath.Join("cohort-data", "console.db"))
	if code != 1 || !strings.Contains(errOut, "lifecycle console's registry, not a clinical instance") {
		t.Errorf("instance tools on the console's database: exit %d\n%s", code, errOut)
	}
}

// TestAConsoleThatCrashedIsReplacedWithoutLosingItsInstances kills the
// console outright, as a power cut or OOM killer would: its instance keeps
// running unsupervised; the next console takes the registry over at once,
// finds the orphan by its process file, replaces it and serves it again.
func TestAConsoleThatCrashedIsReplacedWithoutLosingItsInstances(t *testing.T) {
	dir := t.TempDir()
	first := startConsole(t, dir)
	first.waitDemo(t)
	orphan := instancePID(t, dir, "demo-cru/demo/main")
	first.cmd.Process.Kill()
	first.cmd.Wait()
	if !processAlive(orphan) {
		t.Fatal("the instance died with the console; nothing is left to rediscover")
	}

	second := startConsole(t, dir)
	if second.password != "" {
		t.Error("the restarted console created a second administrator")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		code, body := fetch(t, second.url+"i/demo-cru/demo/main/login")
		if code == 200 && strings.Contains(body, "Demo Clinical Research Unit") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted console does not serve the Demo instance: %d\n%s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if processAlive(orphan) {
		t.Error("the orphaned process is still running beside its replacement")
	}
	if now := instancePID(t, dir, "demo-cru/demo/main"); now == orphan {
		t.Error("the instance was not restarted under the new console's supervision")
	}
	_, out, _ := cohort(t, dir, "instance", "list")
	if !strings.Contains(out, "demo-cru/demo/main") || !strings.Contains(out, "running") || strings.Count(out, "\n") != 2 {
		t.Errorf("the registry after the restart:\n%s", out)
	}
}
