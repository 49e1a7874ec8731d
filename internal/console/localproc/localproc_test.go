package localproc_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
)

var binary string

func TestMain(m *testing.M) {
	path, cleanup, err := consoletest.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newSpec prepares a fresh SQLite instance and describes it.
func newSpec(t *testing.T, rt *localproc.Runtime, test bool) console.Spec {
	t.Helper()
	dir := t.TempDir()
	spec := console.Spec{Key: "acme/demo/main", Binary: binary, DSN: filepath.Join(dir, "cohort.db"), Addr: freeAddr(t),
		BasePath: "/i/acme/demo/main", Test: test, Dir: dir}
	p, err := rt.Prepare(context.Background(), spec, console.Preparation{Demo: true, By: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if p.SchemaVersion == 0 || len(p.AdminPassword) < 12 || len(p.DemoPassword) < 12 || len(p.DemoUsers) != 5 {
		t.Fatalf("prepared: %+v", p)
	}
	return spec
}

func newRuntime(t *testing.T) *localproc.Runtime {
	rt := localproc.New(localproc.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, StopTimeout: 10 * time.Second})
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || !strings.Contains(string(stat), ") Z ")
}

func page(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartCrashRestartStop(t *testing.T) {
	rt := newRuntime(t)
	spec := newSpec(t, rt, true)
	ctx := context.Background()
	if err := rt.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	st := rt.Status(spec.Key)
	if st.Process != console.Up || st.PID == 0 || st.Addr != spec.Addr {
		t.Fatalf("after start: %+v", st)
	}
	if code, body := page(t, "http://"+spec.Addr+"/login"); code != 200 || !strings.Contains(body, "TEST INSTANCE") ||
		!strings.Contains(body, `action="/i/acme/demo/main/login"`) {
		t.Fatalf("a Test instance behind /i/acme/demo/main: %d\n%s", code, body)
	}
	if b, err := os.ReadFile(spec.PIDFile()); err != nil || !strings.HasPrefix(string(b), strconv.Itoa(st.PID)+"\n") {
		t.Fatalf("process file: %q %v", b, err)
	}
	// Starting again only checks it is ready.
	if err := rt.Start(ctx, spec); err != nil || rt.Status(spec.Key).PID != st.PID {
		t.Fatalf("a second start replaced the process: %v", err)
	}

	// The instance crashes; its supervisor starts it again.
	syscall.Kill(st.PID, syscall.SIGKILL)
	waitFor(t, "a restarted instance", func() bool {
		now := rt.Status(spec.Key)
		return now.Process == console.Up && now.PID != st.PID
	})
	again := rt.Status(spec.Key)
	if again.Restarts != 1 || !strings.Contains(again.LastExit, "killed") {
		t.Errorf("after the crash: %+v", again)
	}
	if code, _ := page(t, "http://"+spec.Addr+"/readyz"); code != 200 {
		t.Errorf("the restarted instance is not ready: %d", code)
	}
	lines, err := rt.Logs(spec, 200)
	if err != nil || !strings.Contains(strings.Join(lines, "\n"), "restarting in") {
		t.Errorf("the log does not tell of the restart: %v\n%s", err, strings.Join(lines, "\n"))
	}

	if err := rt.Stop(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if rt.Status(spec.Key).Process != console.Down || alive(again.PID) {
		t.Fatalf("after stop: %+v, process alive %v", rt.Status(spec.Key), alive(again.PID))
	}
	if _, err := os.Stat(spec.PIDFile()); !os.IsNotExist(err) {
		t.Errorf("the process file outlived the process: %v", err)
	}
	lines, _ = rt.Logs(spec, 3)
	if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], "stopped") {
		t.Errorf("the instance did not stop gracefully; log ends:\n%s", strings.Join(lines, "\n"))
	}
	// Stopping again is harmless.
	if err := rt.Stop(ctx, spec); err != nil {
		t.Fatal(err)
	}
}

// TestReplacesTheProcessACrashedConsoleLeft starts an instance as a console
// would and then forgets it, as a console that was killed would; a new
// runtime finds it by its process file and replaces it.
func TestReplacesTheProcessACrashedConsoleLeft(t *testing.T) {
	rt := newRuntime(t)
	spec := newSpec(t, rt, false)
	orphan := exec.Command(binary, "instance", "serve", "--database", spec.DSN, "--addr", spec.Addr, "--base-path", spec.BasePath, "--no-demo")
	orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { orphan.Wait(); close(exited) }()
	defer orphan.Process.Kill()
	os.WriteFile(spec.PIDFile(), []byte(strconv.Itoa(orphan.Process.Pid)+"\n"+spec.BasePath+"\n"), 0o640)
	waitFor(t, "the orphan to serve", func() bool {
		resp, err := http.Get("http://" + spec.Addr + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	if err := rt.Start(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the orphan is still running")
	}
	st := rt.Status(spec.Key)
	if st.Process != console.Up || st.PID == orphan.Process.Pid {
		t.Fatalf("after replacing the orphan: %+v", st)
	}
	lines, _ := rt.Logs(spec, 500)
	if !strings.Contains(strings.Join(lines, "\n"), fmt.Sprintf("replacing process %d", orphan.Process.Pid)) {
		t.Error("the log does not say the orphan was replaced")
	}
}

// TestAProcessFileOfAStrangerIsLeftAlone checks a console never signals a
// process it cannot identify as the instance.
func TestAProcessFileOfAStrangerIsLeftAlone(t *testing.T) {
	rt := newRuntime(t)
	spec := newSpec(t, rt, false)
	stranger := exec.Command("sleep", "30")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer stranger.Process.Kill()
	os.WriteFile(spec.PIDFile(), []byte(strconv.Itoa(stranger.Process.Pid)+"\n"), 0o640)
	if err := rt.Start(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if !alive(stranger.Process.Pid) {
		t.Fatal("the runtime killed a process that was not the instance")
	}
}

func TestAnInstanceThatCannotStartFailsFast(t *testing.T) {
	rt := newRuntime(t)
	dir := t.TempDir()
	// A file where the database's directory should be: the instance exits.
	os.WriteFile(filepath.Join(dir, "blocker"), []byte("x"), 0o644)
	spec := console.Spec{Key: "acme/broken/main", Binary: binary, DSN: filepath.Join(dir, "blocker", "cohort.db"), Addr: freeAddr(t),
		BasePath: "/i/acme/broken/main", Dir: dir}
	err := rt.Start(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "exited while starting") {
		t.Fatalf("start of a broken instance: %v", err)
	}
	lines, _ := rt.Logs(spec, 50)
	if !strings.Contains(strings.Join(lines, "\n"), "blocker") {
		t.Errorf("the log does not show why:\n%s", strings.Join(lines, "\n"))
	}
	if err := rt.Stop(context.Background(), spec); err != nil || rt.Status(spec.Key).Process != console.Down {
		t.Fatalf("stop of a broken instance: %v %+v", err, rt.Status(spec.Key))
	}
}
