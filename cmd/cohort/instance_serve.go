package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/web"
)

// runInstanceServe runs one clinical instance alone — what the console's
// runtime starts, and what `cohort serve` did before the console existed.
func runInstanceServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instance serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	addr := fs.String("addr", envOr("COHORT_ADDR", "127.0.0.1:8080"), "address to listen on ($COHORT_ADDR)")
	basePath := fs.String("base-path", "", "path prefix the instance is reached under behind the console's proxy, e.g. /i/demo-cru/demo/main")
	noDemo := fs.Bool("no-demo", os.Getenv("COHORT_NO_DEMO") == "true", "do not seed demo data into a new instance ($COHORT_NO_DEMO=true)")
	testInstance := fs.Bool("test-instance", os.Getenv("COHORT_TEST_INSTANCE") == "true", "mark every page as a Test instance ($COHORT_TEST_INSTANCE=true)")
	readOnly := fs.Bool("read-only", os.Getenv("COHORT_READ_ONLY") == "true", "refuse every change made through the pages, e.g. in the Migration instance ($COHORT_READ_ONLY=true)")
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

	srv, err := web.New(web.Options{DB: db, Logger: log, Build: currentBuild().web(), TestInstance: *testInstance, ReadOnly: *readOnly,
		SecureCookies: *secure, BasePath: *basePath})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_path", *basePath, "startup_ms", time.Since(started).Milliseconds())
	fmt.Fprintf(stdout, "cohort is serving at http://%s/ — press Ctrl+C to stop.\n", ln.Addr())
	err = serveHTTP(ctx, log, ln, srv)
	log.Info("stopped")
	return err
}

// runInstanceInit prepares an instance's database for the console: the
// schema, then the first administrator (and the demo clinic with --demo),
// or for a copy the end of its copied sessions. It answers in JSON on
// standard output.
func runInstanceInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instance init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	withDemo := fs.Bool("demo", false, "add the demo clinic (sites, staff, configuration)")
	clonedFrom := fs.String("cloned-from", "", "the instance this database was copied from")
	by := fs.String("by", "", "who asked, for the instance's audit trail")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := instance.Prepare(ctx, db, instance.Options{Demo: *withDemo, ClonedFrom: *clonedFrom, By: *by,
		AdminPassword: os.Getenv("COHORT_ADMIN_PASSWORD"), Build: currentBuild().label()})
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
