package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

// binary is the cohort command the runtime starts instances with.
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

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func instance(t *testing.T, c *console.Console, key string) console.Instance {
	t.Helper()
	in, err := console.GetInstance(context.Background(), c.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// fingerprint is what a clone must leave unchanged in its source.
type fingerprint struct {
	Sites, Entries, Sessions int
	Head                     string
}

func fingerprintOf(t *testing.T, c *console.Console, key string) fingerprint {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, c.Places.DSN(instance(t, c, key)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var f fingerprint
	if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM site), (SELECT COUNT(*) FROM audit_entry), (SELECT COUNT(*) FROM user_session),
		(SELECT hash FROM audit_entry ORDER BY seq DESC LIMIT 1)`).Scan(&f.Sites, &f.Entries, &f.Sessions, &f.Head); err != nil {
		t.Fatal(err)
	}
	return f
}

// signIn opens a session in an instance directly in its database.
func signIn(t *testing.T, c *console.Console, key string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, c.Places.DSN(instance(t, c, key)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := account.GetByUsername(ctx, db, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := account.StartSession(ctx, db, u.ID, ""); err != nil {
		t.Fatal(err)
	}
}

func up(t *testing.T, c *console.Console, key string) console.Status {
	t.Helper()
	st := c.Runtime.Status(key)
	if st.Process != console.Up || st.PID == 0 {
		t.Fatalf("%s: process %s (pid %d), want up", key, st.Process, st.PID)
	}
	if code, body := get(t, "http://"+st.Addr+"/readyz"); code != 200 {
		t.Fatalf("%s /readyz: %d %s", key, code, body)
	}
	return st
}

func TestLifecycleWithRealProcesses(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			consoletest.Run(t, c)
			mustOrg(t, c, "acme")
			_, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
			done := consoletest.Wait(t, c, ops[0], console.OpDone)
			if !strings.Contains(done.Log, "one-time password") || !strings.Contains(done.Log, "Demo staff accounts") {
				t.Errorf("the provisioning log does not say how to sign in:\n%s", done.Log)
			}
			demo := instance(t, c, "acme/demo/main")
			if demo.State != console.Running || demo.Port == 0 {
				t.Fatalf("demo after provisioning: %+v", demo)
			}
			up(t, c, "acme/demo/main")
			signIn(t, c, "acme/demo/main")
			before := fingerprintOf(t, c, "acme/demo/main")
			if before.Sites != 3 || before.Sessions != 1 {
				t.Fatalf("the demo clinic: %+v", before)
			}

			_, ops = mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main", Reason: "a sandbox from the demo"})
			for _, op := range ops {
				consoletest.Wait(t, c, op, console.OpDone)
			}
			for _, key := range []string{"acme/sandbox/main", "acme/sandbox/test"} {
				st := up(t, c, key)
				copy := fingerprintOf(t, c, key)
				if copy.Sites != 3 || copy.Sessions != 0 || copy.Entries <= before.Entries {
					t.Errorf("%s is not the demo's data with its sessions ended and its origin audited: %+v", key, copy)
				}
				_, page := get(t, "http://"+st.Addr+"/login")
				if marked := strings.Contains(page, "TEST INSTANCE"); marked != strings.HasSuffix(key, "/test") {
					t.Errorf("%s: marked as Test = %v", key, marked)
				}
				if !strings.Contains(page, `href="/i/`+key+`/static/cohort.css"`) {
					t.Errorf("%s does not know its base path:\n%s", key, page)
				}
			}
			if after := fingerprintOf(t, c, "acme/demo/main"); after != before {
				t.Errorf("the clone changed its source: before %+v, after %+v", before, after)
			}
			up(t, c, "acme/demo/main")

			op, err := c.Request(ctx, alice, console.OpStop, "acme/sandbox/test", "not needed today", "")
			if err != nil {
				t.Fatal(err)
			}
			consoletest.Wait(t, c, op, console.OpDone)
			if in := instance(t, c, "acme/sandbox/test"); in.State != console.Stopped || c.Runtime.Status(in.Key()).Process != console.Down {
				t.Fatalf("after stop: %s, process %s", in.State, c.Runtime.Status(in.Key()).Process)
			}
			op, err = c.Request(ctx, alice, console.OpStart, "acme/sandbox/test", "", "")
			if err != nil {
				t.Fatal(err)
			}
			consoletest.Wait(t, c, op, console.OpDone)
			up(t, c, "acme/sandbox/test")

			op, err = c.Request(ctx, alice, console.OpDestroy, "acme/demo/main", "prospect signed", "")
			if err != nil {
				t.Fatal(err)
			}
			consoletest.Wait(t, c, op, console.OpDone)
			gone := instance(t, c, "acme/demo/main")
			if gone.State != console.Destroyed || gone.Archive == "" || c.Runtime.Status(gone.Key()).Process != console.Down {
				t.Fatalf("after destroy: %+v", gone)
			}
			assertArchived(t, c, gone)
			envs, _ := console.Environments(ctx, c.DB, "acme")
			if envs[0].Kind != console.Demo || envs[0].Live() {
				t.Errorf("the destroyed Demo environment is still live: %+v", envs[0])
			}
			// Destroying it again is harmless and changes nothing.
			_, err = c.Request(ctx, alice, console.OpDestroy, "acme/demo/main", "again", "")
			refused(t, "destroying a destroyed instance", err, "acme/demo/main is destroyed, so it cannot be destroyed; only a running, stopped or failed instance can.")
		})
	}
}

// assertArchived checks a destroyed instance's final backup exists and its
// live database does not.
func assertArchived(t *testing.T, c *console.Console, in console.Instance) {
	t.Helper()
	ctx := context.Background()
	if in.Engine == store.SQLite {
		if _, err := os.Stat(filepath.Join(c.Places.DataDir, in.Archive)); err != nil {
			t.Errorf("no archive file: %v", err)
		}
		if _, err := os.Stat(c.Places.DSN(in)); !os.IsNotExist(err) {
			t.Errorf("the live database is still there: %v", err)
		}
		arch, err := store.Open(ctx, filepath.Join(c.Places.DataDir, in.Archive))
		if err != nil {
			t.Fatal(err)
		}
		defer arch.Close()
		var sites int
		if err := arch.QueryRow(ctx, "SELECT COUNT(*) FROM site").Scan(&sites); err != nil || sites != 3 {
			t.Errorf("the archive lacks the instance's data: %d sites, %v", sites, err)
		}
		return
	}
	var live, archived int
	c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = ?", in.Database).Scan(&live)
	c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = ?", in.Archive).Scan(&archived)
	if live != 0 || archived != 1 {
		t.Errorf("live database present: %d, archive present: %d", live, archived)
	}
}

// obstruct puts something in a clone target's place that the copy cannot
// clear: a directory with a file where SQLite writes its copy, or a
// database with a connection open where PostgreSQL would create it.
func obstruct(t *testing.T, c *console.Console, in console.Instance) (clear func()) {
	t.Helper()
	if in.Engine == store.SQLite {
		dir := c.Places.DSN(in) + ".partial"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "in-the-way"), []byte("x"), 0o644)
		return func() { os.RemoveAll(dir) }
	}
	ctx := context.Background()
	storetest.MustExec(t, c.DB, `CREATE DATABASE "`+in.Database+`"`)
	u := c.Places.DSN(in)
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close(); db.Close() }
}

func TestAFailedCloneLeavesTheTargetFailedAndTheSourceUntouched(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			c := consoletest.New(t, e, binary)
			mustOrg(t, c, "acme")
			mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
			if ran, err := c.RunOnce(ctx); !ran || err != nil {
				t.Fatalf("provision the demo: %v %v", ran, err)
			}
			source := up(t, c, "acme/demo/main")
			before := fingerprintOf(t, c, "acme/demo/main")

			env, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Sandbox, From: "acme/demo/main"})
			clear := obstruct(t, c, env.Instances[0])
			if _, err := c.RunOnce(ctx); err != nil { // the Main clone, obstructed
				t.Fatal(err)
			}
			if now := up(t, c, "acme/demo/main"); now.PID != source.PID {
				t.Errorf("the failed clone restarted its source (pid %d, then %d)", source.PID, now.PID)
			}
			if _, err := c.RunOnce(ctx); err != nil { // the Test clone
				t.Fatal(err)
			}
			failed := instance(t, c, "acme/sandbox/main")
			if failed.State != console.Failed || !strings.Contains(failed.Failure, "Failed:") || !strings.Contains(failed.Failure, "Copying the database") {
				t.Fatalf("the obstructed clone: %s\n%s", failed.State, failed.Failure)
			}
			if op, _ := console.GetOperation(ctx, c.DB, ops[0].ID); op.State != console.OpFailed {
				t.Errorf("its operation is %s", op.State)
			}
			if other := instance(t, c, "acme/sandbox/test"); other.State != console.Running {
				t.Errorf("the unobstructed Test clone is %s", other.State)
			}
			src := instance(t, c, "acme/demo/main")
			if src.State != console.Running || src.Failure != "" {
				t.Errorf("the failure touched the source's record: %+v", src)
			}
			// A PostgreSQL copy pauses its source for the copy (requests are
			// held at the proxy); a SQLite copy reads it while it serves.
			if now := up(t, c, "acme/demo/main"); e == store.SQLite && now.PID != source.PID {
				t.Errorf("a SQLite clone restarted its source (pid %d, then %d)", source.PID, now.PID)
			}
			if after := fingerprintOf(t, c, "acme/demo/main"); after != before {
				t.Errorf("the failed clone changed its source: %+v, then %+v", before, after)
			}

			// With the obstacle gone, a retry finishes the job from scratch.
			clear()
			if _, err := c.Retry(ctx, alice, "acme/sandbox/main", "", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := c.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if in := instance(t, c, "acme/sandbox/main"); in.State != console.Running {
				t.Fatalf("after the retry: %s\n%s", in.State, in.Failure)
			}
			up(t, c, "acme/sandbox/main")
			if got := fingerprintOf(t, c, "acme/sandbox/main"); got.Sites != 3 {
				t.Errorf("the retried clone has %d sites", got.Sites)
			}
		})
	}
}

func TestARestartedConsoleStartsItsInstancesAgain(t *testing.T) {
	ctx := context.Background()
	c1 := consoletest.New(t, store.SQLite, binary)
	run1, stop1 := context.WithCancel(ctx)
	ended := make(chan error, 1)
	go func() { ended <- c1.Run(run1) }()
	mustOrg(t, c1, "acme")
	_, ops := mustEnv(t, c1, console.NewEnvironment{Org: "acme", Kind: console.PreProd})
	consoletest.Wait(t, c1, ops[0], console.OpDone)
	first := up(t, c1, "acme/preprod/main")

	c2 := &console.Console{DB: c1.DB, Places: c1.Places, Build: c1.Build, Binary: c1.Binary, Logger: c1.Logger,
		Runtime: localproc.New(localproc.Options{MinBackoff: 100 * time.Millisecond}), StaleAfter: time.Second}
	t.Cleanup(func() { c2.Runtime.Close(context.Background()) })
	if err := c2.Claim(ctx); err == nil || !strings.HasPrefix(err.Error(), "Another console (process ") {
		t.Fatalf("a second console claimed a registry in use: %v", err)
	}

	stop1()
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
	if c1.Runtime.Status("acme/preprod/main").Process != console.Down {
		t.Fatal("the stopped console left its instance supervised")
	}
	if in := instance(t, c1, "acme/preprod/main"); in.State != console.Running {
		t.Fatalf("stopping the console changed the instance's state to %s", in.State)
	}
	run2, stop2 := context.WithCancel(ctx)
	defer stop2()
	go c2.Run(run2)
	deadline := time.Now().Add(time.Minute)
	for c2.Runtime.Status("acme/preprod/main").Process != console.Up {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted console did not start the instance: %+v", c2.Runtime.Status("acme/preprod/main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	second := up(t, c2, "acme/preprod/main")
	if second.PID == first.PID {
		t.Error("the instance kept its old process")
	}
}

// TestAnOperationCutShortStartsOverWhenTheConsoleReturns leaves the
// registry as a console killed half-way through a provisioning leaves it —
// the operation running, the instance provisioning, a half-written
// database — and checks the next console finishes the job from scratch.
func TestAnOperationCutShortStartsOverWhenTheConsoleReturns(t *testing.T) {
	c := consoletest.New(t, store.SQLite, binary)
	mustOrg(t, c, "acme")
	env, ops := mustEnv(t, c, console.NewEnvironment{Org: "acme", Kind: console.Demo})
	storetest.MustExec(t, c.DB, "UPDATE operation SET state = 'running' WHERE id = ?", ops[0].ID)
	storetest.MustExec(t, c.DB, "UPDATE instance SET state = 'provisioning' WHERE id = ?", env.Instances[0].ID)
	path := c.Places.DSN(env.Instances[0])
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("half a database"), 0o644)

	consoletest.Run(t, c)
	done := consoletest.Wait(t, c, ops[0], console.OpDone)
	if !strings.Contains(done.Log, "The console restarted; the operation starts over") {
		t.Errorf("the log does not say the operation started over:\n%s", done.Log)
	}
	up(t, c, "acme/demo/main")
	if f := fingerprintOf(t, c, "acme/demo/main"); f.Sites != 3 {
		t.Errorf("the resumed provisioning made %d sites", f.Sites)
	}
	if in := instance(t, c, "acme/demo/main"); in.State != console.Running {
		t.Errorf("after resuming: %s", in.State)
	}
}
