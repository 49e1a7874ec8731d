// Command cohort runs a clinical instance for a Phase I unit and the tools
// around it. Run `cohort help` for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	_ "time/tzdata" // site time zones must validate on machines without a zoneinfo database

	"github.com/cohort-clinical/cohort/internal/check"
)

// Set at build time with -ldflags "-X main.version=… -X main.buildNumber=…".
var (
	version     = "dev"
	buildNumber = "0"
	buildTime   = ""
	revision    = ""
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "start the lifecycle console and its instances (SQLite by default, --database postgres://… for PostgreSQL)", runServe},
		{"instance", "the console's instances: list, create, clone, start, stop, destroy; serve one instance alone", runInstance},
		{"golive", "an organisation's go-live checklist: status, sign, complete, validation-done (electronic signatures)", runGoLive},
		{"iq", "Installation Qualification documents: issue ORG/ENV/ROLE, list --org ORG, show NUMBER [-o FILE.html]", runIQ},
		{"audit", "audit trail tools: verify, export", runAudit},
		{"config", "configuration bundles: export, import [--dry-run] (promote roles, sites, settings, dictionaries, devices, labs, label templates; Configure lists on request)", runConfig},
		{"odm", "CDISC ODM 1.3.2 exchange: import FILE [--confirm-warnings], export --study CODE [--what metadata] [-o FILE]", runODM},
		{"migrate", "migration program: run --spec SPEC --source SOURCE --into DSN|--org ORG, runs, report, compare, signoff", runMigrate},
		{"volunteer", "volunteer database: import FILE --mapping … --mode all-or-nothing|valid-rows [--rejects FILE]", runVolunteer},
		{"demo", "demonstration data: volunteers --count N [--seed S] adds synthetic volunteers", runDemo},
		{"release", "release catalog: register BINARY [--notes notes.md], list, show VERSION, verify; hotfixes, accept, decline", runRelease},
		{"upgrade", "upgrades: val --org ORG --to BUILD (temporary VAL on a new build), signoff, vals, cancel", runUpgrade},
		{"version", "print the build (--json for machines)", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line: print it with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "cohort %s: %s\n", c.name, ue.msg)
			return 2
		case errors.Is(err, errSilentFailure):
			return 1
		default:
			fmt.Fprintf(stderr, "cohort %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "cohort: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errSilentFailure ends a command with a non-zero status after it has
// already said what went wrong.
var errSilentFailure = errors.New("failed")

func usage(w io.Writer) {
	fmt.Fprintln(w, "cohort — the clinical platform for Phase I units\n\nUsage: cohort COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `cohort COMMAND -h` for a command's flags.")
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// flagError turns the console's complaint about one field (a missing
// reason, release notes without their sections) into a usage error naming
// the flag that carries it, so the user knows which flag to fix; any other
// error is returned as it is.
func flagError(err error, field string) error {
	if fe, ok := check.AsFieldErrors(err); ok && fe[field] != "" {
		return usageError{"--" + field + ": " + fe[field]}
	}
	return err
}

// sentences turns a domain's field errors, which a page shows beside each
// field, into the sentences alone for the terminal, in a stable order.
func sentences(err error) error {
	fe, ok := check.AsFieldErrors(err)
	if !ok {
		return err
	}
	keys := slices.Sorted(maps.Keys(fe))
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = fe[k]
	}
	return errors.New(strings.Join(msgs, " "))
}
