package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
)

// crashingConsole is what TestHelperCrashingConsole needs to run a console
// on a test's registry in a process of its own.
type crashingConsole struct {
	DSN, DataDir, Postgres string
	One, Two               string
	// AddrFile receives the console proxy's address, then the test
	// binary's own cohort build (removed by the parent, as the killed
	// child cannot).
	AddrFile string
}

const crashingConsoleEnv = "UPGRADE_TEST_CRASHING_CONSOLE"

// TestHelperCrashingConsole is not a test of its own: it is the console
// process that TestUpgradeCutShortByAConsoleCrashIsRolledBack starts and
// kills. Without its environment variable it returns at once.
func TestHelperCrashingConsole(t *testing.T) {
	var cfg crashingConsole
	if err := json.Unmarshal([]byte(os.Getenv(crashingConsoleEnv)), &cfg); err != nil {
		t.Skip("the console process of TestUpgradeCutShortByAConsoleCrashIsRolledBack; run by it")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &console.Console{DB: db, Places: console.Places{DataDir: cfg.DataDir, Postgres: cfg.Postgres}, Build: buildOne, Binary: cfg.One,
		Catalog: catalog{buildOne: cfg.One, buildTwo: cfg.Two}, Logger: quiet, HeartbeatEvery: 100 * time.Millisecond, StaleAfter: time.Second,
		Runtime: localproc.New(localproc.Options{Logger: quiet, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, StopTimeout: 10 * time.Second})}
	proxy := consoleweb.NewProxy(c, quiet)
	c.Gate = proxy
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, proxy)
	if err := os.WriteFile(cfg.AddrFile, []byte(ln.Addr().String()+"\n"+binary), 0o600); err != nil {
		t.Fatal(err)
	}
	// Runs until the parent kills this process; a return is a failure.
	t.Fatalf("the console stopped by itself: %v", c.Run(ctx))
}

// TestUpgradeCutShortByAConsoleCrashIsRolledBack runs the console in a
// process of its own, kills it (SIGKILL: no rollback, no cleanup) while
// build two migrates, and starts another console on the same registry: it
// replaces the migrating process the crashed console left, restores the
// backup, brings build one back and records the upgrade rolled back.
func TestUpgradeCutShortByAConsoleCrashIsRolledBack(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			var stop func()
			r := startUpgradeRig(t, e, "up-crash", func(c *console.Console) { stop = consoletest.RunUntilStopped(t, c) })
			if err := r.user.CreateSite("UPGRADE-SLOW"); err != nil {
				t.Fatal(err)
			}
			stop() // the test's console hands the registry over to the process

			one, two := upgradeBuilds(t)
			dir := t.TempDir()
			cfg := crashingConsole{DSN: registryDSN(t, r.c), DataDir: r.c.Places.DataDir, Postgres: r.c.Places.Postgres, One: one, Two: two,
				AddrFile: filepath.Join(dir, "addr")}
			env, _ := json.Marshal(cfg)
			out, err := os.Create(filepath.Join(dir, "console.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashingConsole$", "-test.v")
			cmd.Env = append(os.Environ(), crashingConsoleEnv+"="+string(env))
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			kill := func() {
				if !killed {
					killed = true
					cmd.Process.Kill()
					cmd.Wait()
				}
			}
			t.Cleanup(kill)
			addr, childBinary := awaitChild(t, cfg.AddrFile, out.Name())
			t.Cleanup(func() { os.RemoveAll(filepath.Dir(childBinary)) })
			user := r.user.At("http://" + addr + r.base)
			deadline := time.Now().Add(time.Minute)
			for user.CreateSite("BEFORE-CRASH") != nil {
				if time.Now().After(deadline) {
					t.Fatal("the instance never served through the console process")
				}
				time.Sleep(100 * time.Millisecond)
			}
			op, acked := cutShortWhileMigrating(t, r, user, "CR", kill)
			acked = append(acked, "BEFORE-CRASH")
			if u, _ := console.UpgradeByOperation(ctx, r.c.DB, op.ID); u.Outcome != console.UpgradeRunning || u.Backup == "" {
				t.Fatalf("the crashed console left the upgrade %s with backup %q; the test wants it cut short during the migration:\n%s", u.Outcome, u.Backup, u.Log)
			}
			backOnBuildOne(t, r, op, acked, "The console stopped during this upgrade, after it began to hold requests", "Restored the backup",
				"serves again on 26.1")
			t.Logf("%s: %d sites acknowledged before the console crashed", e, len(acked))
		})
	}
}

// awaitChild waits for the console process to say where it serves.
func awaitChild(t *testing.T, addrFile, logFile string) (addr, binary string) {
	t.Helper()
	// The process first builds cohort in TestMain: quick from the build
	// cache, slow when the source just changed on a busy machine.
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil {
			if a, bin, ok := strings.Cut(string(b), "\n"); ok {
				return a, bin
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile)
	t.Fatalf("the console process never started:\n%s", log)
	return "", ""
}

// registryDSN is where the console's own database is.
func registryDSN(t *testing.T, c *console.Console) string {
	t.Helper()
	if c.DB.Engine == store.Postgres {
		return c.Places.Postgres
	}
	var file string
	if err := c.DB.QueryRow(context.Background(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	return file
}
