package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/localproc"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/obfuscation"
	"github.com/cohort-clinical/cohort/internal/release"
	"github.com/cohort-clinical/cohort/internal/store"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// databaseFlags are the flags every command that opens an instance shares.
type databaseFlags struct {
	dataDir  *string
	database *string
	instance *string
}

func addDatabaseFlags(fs *flag.FlagSet) databaseFlags {
	return databaseFlags{
		dataDir:  fs.String("data-dir", envOr("COHORT_DATA_DIR", "cohort-data"), "directory for the embedded database and files ($COHORT_DATA_DIR)"),
		database: fs.String("database", envOr("COHORT_DATABASE", ""), "postgres://… URL or SQLite file path; default: cohort.db in --data-dir ($COHORT_DATABASE)"),
		instance: fs.String("instance", "", "an instance of the console in --data-dir, as organisation/environment/role (e.g. demo-cru/demo/main), instead of --database"),
	}
}

func (f databaseFlags) dsn(ctx context.Context) (string, error) {
	if *f.instance != "" {
		return instanceDSN(ctx, *f.dataDir, *f.instance)
	}
	if *f.database != "" {
		return *f.database, nil
	}
	return filepath.Join(*f.dataDir, "cohort.db"), nil
}

// open opens and migrates the instance database. A console's database is
// refused: instance migrations must never touch it.
func (f databaseFlags) open(ctx context.Context) (*store.DB, int64, error) {
	dsn, err := f.dsn(ctx)
	if err != nil {
		return nil, 0, err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, 0, err
	}
	if isConsole, err := console.IsConsoleDatabase(ctx, db); err != nil || isConsole {
		db.Close()
		if err == nil {
			err = errors.New("This database is a lifecycle console's registry, not a clinical instance; name an instance with --instance organisation/environment/role.")
		}
		return nil, 0, err
	}
	// A database ahead of this build is refused before anything migrates
	// or serves it: this build does not know its newer tables.
	if err := instance.CheckSchema(ctx, db, currentBuild().label()); err != nil {
		db.Close()
		return nil, 0, err
	}
	v, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, v, nil
}

// consoleDSN is the console's database: the given URL or path, or
// console.db in the data directory.
func consoleDSN(dataDir, database string) string {
	if database != "" {
		return database
	}
	return filepath.Join(dataDir, "console.db")
}

// openConsole opens and migrates the console's database and describes
// where its instances live.
func openConsole(ctx context.Context, dataDir, database string, log *slog.Logger) (*console.Console, error) {
	dsn := consoleDSN(dataDir, database)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := console.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	places := console.Places{DataDir: abs}
	if db.Engine == store.Postgres {
		places.Postgres = dsn
	}
	b := currentBuild()
	c := &console.Console{DB: db, Places: places, Build: console.Build{Version: b.Version, Number: b.Build}, Logger: log}
	// Copies of PROD (and VAL pairs) are obfuscated and PHI-leak scanned
	// before anyone sees them (internal/obfuscation).
	c.Obfuscate = func(ctx context.Context, source, target console.Spec, note func(string)) error {
		return obfuscation.Release(ctx, source.DSN, target.DSN, obfuscation.Origin{Source: source.Key, By: obfuscation.ConsoleActor}, note)
	}
	// Every build but the console's own runs from the release catalog,
	// which checks each binary's SHA-256 before handing it out; accepting
	// a hotfix requests the console's upgrade.
	cat := &release.Catalog{DB: db, Dir: release.DirOf(abs)}
	cat.RequestUpgrade = c.RequestUpgrade
	c.Catalog = cat
	return c, nil
}

// registerOwnBuild puts the console's own build in its release catalog
// when it is not there yet, so the catalog is never empty and instances
// can be moved back to it. A clash (another binary registered under the
// same version and build number) is logged, not fatal: the console runs its
// own build from its own binary.
func registerOwnBuild(ctx context.Context, c *console.Console, log *slog.Logger) {
	b, added, err := release.For(c).RegisterOwn(ctx, c.Binary)
	switch {
	case err != nil:
		log.Warn("the console's own build is not in its release catalog", "err", err)
	case added:
		log.Info("registered the console's own build in the release catalog", "build", b.String(), "sha256", b.SHA256)
	}
}

// instanceDSN finds an instance's database through the console's registry.
func instanceDSN(ctx context.Context, dataDir, key string) (string, error) {
	c, err := openConsole(ctx, dataDir, os.Getenv("COHORT_CONSOLE_DATABASE"), slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer c.DB.Close()
	inst, err := console.GetInstance(ctx, c.DB, key)
	if err != nil {
		return "", err
	}
	if inst.State == console.Destroyed {
		return "", fmt.Errorf("%s was destroyed; its final backup is %s.", key, inst.Archive)
	}
	return c.Places.DSN(inst), nil
}

// runServe starts the lifecycle console: its database, its administrator,
// on first start the demo customer with a running Demo instance, the
// worker that runs instances, and its pages with the proxy to instances.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("COHORT_DATA_DIR", "cohort-data"), "directory for the console's database, its instances' databases, logs and archives ($COHORT_DATA_DIR)")
	database := fs.String("database", envOr("COHORT_DATABASE", ""), "the console's database: a postgres://… URL (each instance then gets a PostgreSQL database on that server) or a SQLite file; default: console.db in --data-dir ($COHORT_DATABASE)")
	addr := fs.String("addr", envOr("COHORT_ADDR", "127.0.0.1:8080"), "address to listen on ($COHORT_ADDR)")
	noDemo := fs.Bool("no-demo", os.Getenv("COHORT_NO_DEMO") == "true", "do not create the demo customer in a new console ($COHORT_NO_DEMO=true)")
	secure := fs.Bool("secure-cookies", os.Getenv("COHORT_SECURE_COOKIES") == "true", "mark cookies Secure (when served over HTTPS)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(stderr)
	started := time.Now()
	c, err := openConsole(ctx, *dataDir, *database, log)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	log.Info("console database ready", "engine", c.DB.Engine, "location", c.DB.Location, "instances", c.Places.DataDir)

	created, pw, err := console.Bootstrap(ctx, c.DB, os.Getenv("COHORT_ADMIN_PASSWORD"))
	if err != nil {
		return err
	}
	if created && os.Getenv("COHORT_ADMIN_PASSWORD") == "" {
		fmt.Fprintf(stdout, "\nConsole administrator account created.\n  user name: admin\n  one-time password: %s\nYou must choose a new password when you first log in. This password is not shown again.\n\n", pw)
	}
	if c.Binary, err = os.Executable(); err != nil {
		return fmt.Errorf("find the cohort binary to run instances with: %w", err)
	}
	registerOwnBuild(ctx, c, log)
	// The guard refuses to prepare or start an instance on a build older
	// than its database's schema.
	c.Runtime = &release.Guard{Runtime: localproc.New(localproc.Options{Logger: log}), Catalog: release.For(c),
		Own: c.Build, OwnBinary: c.Binary, OwnSchema: currentBuild().SchemaVersion}
	proxy := consoleweb.NewProxy(c, log)
	c.Gate = proxy
	announced := &announcements{byKey: map[string]console.Prepared{}}
	c.Announce = announced.add
	srv, err := consoleweb.New(consoleweb.Options{Console: c, Proxy: proxy, Logger: log, Build: currentBuild().web(), SecureCookies: *secure})
	if err != nil {
		return err
	}
	if err := c.Claim(ctx); err != nil {
		return err
	}
	var demoOps []console.Operation
	if !*noDemo {
		if demoOps, err = c.SeedDemo(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	// The worker stops after the pages (their requests finish first); if it
	// fails on its own, the console stops serving too.
	ctx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	worked := make(chan error, 1)
	go func() {
		err := c.Run(work)
		if err != nil {
			stopServing()
		}
		worked <- err
	}()

	url := "http://" + ln.Addr().String() + "/"
	log.Info("serving", "url", url, "startup_ms", time.Since(started).Milliseconds())
	fmt.Fprintf(stdout, "cohort console is serving at %s — press Ctrl+C to stop.\n", url)
	for _, op := range demoOps {
		if !strings.HasSuffix(op.Instance, "/main") {
			continue
		}
		fmt.Fprintf(stdout, "Creating the demo customer %q with a running Demo instance…\n", console.DemoOrganisation.Name)
		go announceDemo(ctx, c, op, url, announced, stdout)
	}
	err = serveHTTP(ctx, log, ln, srv)
	stopWork()
	if werr := <-worked; werr != nil && err == nil {
		err = werr
	}
	log.Info("stopped")
	return err
}

// announcements keep what preparing each instance produced until the
// demo's readiness is printed.
type announcements struct {
	mu    sync.Mutex
	byKey map[string]console.Prepared
}

func (a *announcements) add(key string, p console.Prepared) {
	a.mu.Lock()
	a.byKey[key] = p
	a.mu.Unlock()
}

func (a *announcements) get(key string) console.Prepared {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byKey[key]
}

// announceDemo prints, once, where the demo instance is and how to sign in.
func announceDemo(ctx context.Context, c *console.Console, op console.Operation, url string, a *announcements, stdout io.Writer) {
	done, err := console.WaitOperation(ctx, c.DB, op.ID, nil)
	if err != nil {
		return
	}
	if done.State != console.OpDone {
		fmt.Fprintf(stdout, "The demo instance could not be made; see its page in the console (%so/%s).\n", url, op.Instance)
		return
	}
	p := a.get(op.Instance)
	fmt.Fprintf(stdout, "Demo instance ready at %si/%s/\n", url, op.Instance)
	if p.AdminPassword != "" {
		fmt.Fprintf(stdout, "  its administrator: admin, one-time password %s\n", p.AdminPassword)
	}
	if p.DemoPassword != "" {
		fmt.Fprintf(stdout, "  demo staff (%s) share the one-time password %s\n", strings.Join(p.DemoUsers, ", "), p.DemoPassword)
	}
}

// serveHTTP serves h on ln until ctx ends, then lets requests in flight
// finish (SIGTERM) before returning.
func serveHTTP(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler) error {
	httpSrv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
