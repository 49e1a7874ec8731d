// Command upgrade-bench measures what a PROD upgrade costs the people using
// the instance: it runs a real console (local-process runtime, its reverse
// proxy) with one Demo instance, keeps a steady load of clients saving
// sites through the proxy, and upgrades the instance back and forth between
// two real builds of this module (same source, different build numbers)
// -upgrades times, on SQLite and PostgreSQL. It prints the held time (p50,
// max), the failed requests (as the proxy recorded them and as the clients
// saw them), and two baselines measured in the same run: the held time of a
// plain restart of the same build behind the same gate (the least any
// process switch can cost), and the p50 request latency without upgrades.
//
// Run: go run ./bench/upgrade [-engines sqlite,postgres] [-upgrades 10] [-clients 2]
//
// Goal: held p50 and max under 1 s, 0 failed requests.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var (
	buildA = console.Build{Version: "26.1", Number: "1"}
	buildB = console.Build{Version: "26.1", Number: "2"}
	// buildC adds a schema migration: the last upgrade of each engine goes
	// to it, to measure an upgrade that migrates (and so, on PostgreSQL,
	// copies the database during the hold).
	buildC = console.Build{Version: "26.2", Number: "3"}
)

var probe = map[string]string{
	"sqlite":   "-- +goose Up\nCREATE TABLE upgrade_bench (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n-- +goose Down\nDROP TABLE upgrade_bench;\n",
	"postgres": "-- +goose Up\nCREATE TABLE upgrade_bench (id BIGINT PRIMARY KEY, note TEXT NOT NULL);\n-- +goose Down\nDROP TABLE upgrade_bench;\n",
}

func main() {
	engines := flag.String("engines", "sqlite,postgres", "engines to measure, comma-separated")
	upgrades := flag.Int("upgrades", 10, "upgrades per engine, alternating between the two builds")
	clients := flag.Int("clients", 2, "clients saving sites through the proxy")
	flag.BoolVar(&showLog, "log", false, "print the last upgrade's log of each engine (step timings)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "cohort-upgrade-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	binA, binB, binC, err := build(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%-9s %8s %9s %9s %10s %8s %8s %11s %7s %9s %10s\n", "engine", "upgrades", "held p50", "held max", "held migr", "failed", "client", "restart p50", "ratio", "req p50", "req p50 up")
	for _, e := range strings.Split(*engines, ",") {
		r, err := run(ctx, store.Engine(strings.TrimSpace(e)), filepath.Join(dir, e), catalog{buildA: binA, buildB: binB, buildC: binC}, *upgrades, *clients)
		if err != nil {
			log.Fatalf("%s: %v", e, err)
		}
		fmt.Printf("%-9s %8d %6d ms %6d ms %7d ms %8d %8d %8d ms %7.2f %6.1f ms %7.1f ms\n", e, r.upgrades, r.heldP50.Milliseconds(), r.heldMax.Milliseconds(), r.heldMigrating.Milliseconds(),
			r.failedProxy, r.failedClients, r.restartP50.Milliseconds(), float64(r.heldP50)/float64(max(r.restartP50, time.Millisecond)),
			ms(r.reqP50Idle), ms(r.reqP50Upgrading))
	}
	fmt.Println("\nheld: requests held at the proxy per upgrade between two builds of one schema (pre-checks and the SQLite snapshot happen before the hold);")
	fmt.Println("held migr: the final upgrade, to a build with one more migration (the rollback copy is made during the hold);")
	fmt.Println("failed: failed requests recorded on the upgrade records (proxy) / seen by the clients;")
	fmt.Println("restart p50: hold + stop + start of the same build, the least a process switch costs; ratio = held p50 / restart p50;")
	fmt.Println("req p50: request latency of the load without upgrades / across the whole upgrade run.")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// build makes the three builds with -trimpath from this module: A and B
// from it as it is, C from a copy with one more migration.
func build(dir string) (string, string, string, error) {
	root, err := consoletest.ModuleRoot()
	if err != nil {
		return "", "", "", err
	}
	src := filepath.Join(dir, "src")
	if err := consoletest.CopyWithMigration(root, src, "00099_upgrade_bench.sql", probe); err != nil {
		return "", "", "", err
	}
	var bins []string
	for i, b := range []console.Build{buildA, buildB, buildC} {
		bin := filepath.Join(dir, "cohort-"+b.Number)
		from := root
		if i == 2 {
			from = src
		}
		if err := consoletest.GoBuild(from, bin, b); err != nil {
			return "", "", "", err
		}
		bins = append(bins, bin)
	}
	return bins[0], bins[1], bins[2], nil
}

var showLog bool

type catalog = consoletest.Catalog

type result struct {
	upgrades                    int
	heldP50, heldMax            time.Duration
	failedProxy, failedClients  int
	restartP50                  time.Duration
	heldMigrating               time.Duration
	reqP50Idle, reqP50Upgrading time.Duration
}

func run(ctx context.Context, e store.Engine, dir string, cat catalog, upgrades, clients int) (result, error) {
	var res result
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	dsn := filepath.Join(dir, "console.db")
	if e == store.Postgres {
		var cleanup func()
		var err error
		if dsn, cleanup, err = postgresConsole(ctx); err != nil {
			return res, err
		}
		defer cleanup()
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer db.Close()
	if _, err := console.Migrate(ctx, db); err != nil {
		return res, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &console.Console{DB: db, Places: console.Places{DataDir: dir}, Build: buildA, Binary: cat[buildA], Catalog: cat,
		Logger: quiet, HeartbeatEvery: time.Second, StaleAfter: 5 * time.Second}
	if e == store.Postgres {
		c.Places.Postgres = dsn
	}
	rt := localproc.New(localproc.Options{Logger: quiet, StopTimeout: 10 * time.Second})
	c.Runtime = rt
	proxy := consoleweb.NewProxy(c, quiet)
	c.Gate = proxy
	runCtx, cancel := context.WithCancel(ctx)
	worker := make(chan error, 1)
	go func() { worker <- c.Run(runCtx) }()
	defer func() { cancel(); <-worker }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln)
	defer srv.Close()

	if _, err := console.CreateOrganisation(ctx, db, audit.System, "bench", "Upgrade benchmark"); err != nil {
		return res, err
	}
	_, ops, err := c.CreateEnvironment(ctx, audit.System, console.NewEnvironment{Org: "bench", Kind: console.Demo, Reason: "benchmark"})
	if err != nil {
		return res, err
	}
	done, err := console.WaitOperation(ctx, db, ops[0].ID, nil)
	if err != nil || done.State != console.OpDone {
		return res, fmt.Errorf("provision the instance: %v\n%s", err, done.Log)
	}
	m := regexp.MustCompile(`one-time password (\S+) `).FindStringSubmatch(done.Log)
	if m == nil {
		return res, errors.New("no one-time password in the provisioning log")
	}
	key := ops[0].Instance
	base := "http://" + ln.Addr().String() + console.BasePathOf(key)
	users := make([]*consoletest.InstanceUser, clients)
	for i := range users {
		if i == 0 {
			if users[i], err = consoletest.FirstLogIn(base, m[1], password); err != nil {
				return res, err
			}
		} else if users[i], err = consoletest.LogIn(base, "admin", password); err != nil {
			return res, err
		}
	}

	l := consoletest.StartLoad(users, "B")
	time.Sleep(3 * time.Second)
	res.reqP50Idle = l.P50()
	// Baseline: the same switch with no new build, no checks, no backup.
	var restarts []time.Duration
	inst, _ := console.GetInstance(ctx, db, key)
	spec, _ := c.Spec(inst)
	for range 5 {
		start := time.Now()
		release, err := proxy.Hold(ctx, key)
		if err != nil {
			return res, err
		}
		if err := rt.Stop(ctx, spec); err != nil {
			return res, err
		}
		if err := rt.Start(ctx, spec); err != nil {
			return res, err
		}
		release()
		restarts = append(restarts, time.Since(start))
		time.Sleep(500 * time.Millisecond)
	}
	res.restartP50 = consoletest.P50(restarts)
	var held []time.Duration
	to := buildB
	for i := range upgrades + 1 {
		if i == upgrades {
			to = buildC
		}
		op, err := c.RequestUpgrade(ctx, audit.Actor{Name: "benchmark"}, key, to, time.Time{}, fmt.Sprintf("benchmark upgrade %d", i+1))
		if err != nil {
			return res, err
		}
		done, err := console.WaitOperation(ctx, db, op.ID, nil)
		if err != nil {
			return res, err
		}
		u, err := console.UpgradeByOperation(ctx, db, op.ID)
		if err != nil {
			return res, err
		}
		if u.Outcome != console.Upgraded {
			return res, fmt.Errorf("upgrade %d ended %s:\n%s", i+1, u.Outcome, done.Log)
		}
		res.failedProxy += int(u.FailedRequests.Int64)
		if to == buildC {
			res.heldMigrating = time.Duration(u.HeldMS.Int64) * time.Millisecond
			break
		}
		held = append(held, time.Duration(u.HeldMS.Int64)*time.Millisecond)
		res.upgrades++
		to = map[console.Build]console.Build{buildA: buildB, buildB: buildA}[to]
		time.Sleep(500 * time.Millisecond)
	}
	if showLog {
		if h, err := console.UpgradesOf(ctx, db, key); err == nil && len(h) > 0 {
			fmt.Fprintf(os.Stderr, "%s, last upgrade:\n%s\n", e, h[0].Log)
		}
	}
	_, failed := l.Stop(0)
	res.failedClients = len(failed)
	res.reqP50Upgrading = l.P50()
	res.heldP50, res.heldMax = consoletest.P50(held), slices.Max(held)
	return res, nil
}

// postgresConsole makes a fresh console database on the test server and
// returns its DSN and a cleanup dropping it and its instances' databases.
func postgresConsole(ctx context.Context) (string, func(), error) {
	admin, err := sql.Open("pgx", storetest.PostgresDSN())
	if err != nil {
		return "", nil, err
	}
	const name = "cohort_bench_upgrade"
	drop := func() {
		rows, err := admin.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", name+"%")
		if err == nil {
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, n)
			}
			rows.Close()
			for _, n := range names {
				admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS "`+n+`" WITH (FORCE)`)
			}
		}
	}
	drop()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create %s: %w", name, err)
	}
	u, err := url.Parse(storetest.PostgresDSN())
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() { drop(); admin.Close() }, nil
}

const password = "Bench pass 13579"
