package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web"
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
}

func addDatabaseFlags(fs *flag.FlagSet) databaseFlags {
	return databaseFlags{
		dataDir:  fs.String("data-dir", envOr("COHORT_DATA_DIR", "cohort-data"), "directory for the embedded database and files ($COHORT_DATA_DIR)"),
		database: fs.String("database", envOr("COHORT_DATABASE", ""), "postgres://… URL or SQLite file path; default: cohort.db in --data-dir ($COHORT_DATABASE)"),
	}
}

func (f databaseFlags) dsn() string {
	if *f.database != "" {
		return *f.database
	}
	return filepath.Join(*f.dataDir, "cohort.db")
}

// open opens and migrates the instance database.
func (f databaseFlags) open(ctx context.Context) (*store.DB, int64, error) {
	db, err := store.Open(ctx, f.dsn())
	if err != nil {
		return nil, 0, err
	}
	v, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, v, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	addr := fs.String("addr", envOr("COHORT_ADDR", "127.0.0.1:8080"), "address to listen on ($COHORT_ADDR)")
	noDemo := fs.Bool("no-demo", os.Getenv("COHORT_NO_DEMO") == "true", "do not seed demo data into a new instance ($COHORT_NO_DEMO=true)")
	testInstance := fs.Bool("test-instance", os.Getenv("COHORT_TEST_INSTANCE") == "true", "mark every page as a Test instance ($COHORT_TEST_INSTANCE=true)")
	secure := fs.Bool("secure-cookies", os.Getenv("COHORT_SECURE_COOKIES") == "true", "mark cookies Secure (when served over HTTPS)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(stderr)
	started := time.Now()
	db, schema, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("database ready", "engine", db.Engine, "location", db.Location, "schema_version", schema)

	created, pw, err := account.Bootstrap(ctx, db, os.Getenv("COHORT_ADMIN_PASSWORD"))
	if err != nil {
		return err
	}
	if created && os.Getenv("COHORT_ADMIN_PASSWORD") == "" {
		fmt.Fprintf(stdout, "\nAdministrator account created.\n  user name: admin\n  one-time password: %s\nYou must choose a new password when you first log in. This password is not shown again.\n\n", pw)
	}
	if created && !*noDemo {
		demoPW, err := demo.Seed(ctx, db)
		if err != nil {
			return err
		}
		if demoPW != "" {
			fmt.Fprintf(stdout, "Demo data added: 3 sites and 5 staff accounts (")
			for i, u := range demo.Users {
				if i > 0 {
					fmt.Fprint(stdout, ", ")
				}
				fmt.Fprint(stdout, u.Username)
			}
			fmt.Fprintf(stdout, ") sharing the one-time password %s.\n\n", demoPW)
		}
	}

	srv, err := web.New(web.Options{DB: db, Logger: log, Build: currentBuild().web(), TestInstance: *testInstance, SecureCookies: *secure})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "startup_ms", time.Since(started).Milliseconds())
	fmt.Fprintf(stdout, "cohort is serving at http://%s/ — press Ctrl+C to stop.\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let in-flight requests finish.
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}
