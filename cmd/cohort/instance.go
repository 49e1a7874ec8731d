package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
)

// The instance command works on the console's registry. It records
// requests exactly as the console's pages do — checked against the rules,
// audited, queued — and the running console's worker carries them out,
// since only the console owns the instances' processes. The command then
// follows the operation's progress until it finishes. With no console
// running, the request stays queued until `cohort serve` starts.
const instanceUsage = `cohort instance — the lifecycle console's instances

  list                         list every instance in the registry
  create ORG/ENV --kind KIND   new environment, empty (--from ORG/ENV/ROLE clones;
                               --build VERSION[+NUMBER] runs it on a registered build)
  clone SOURCE ORG/ENV --kind KIND
                               new environment whose instances are copies of SOURCE
  start ORG/ENV/ROLE           start a stopped or failed instance
  stop ORG/ENV/ROLE --reason R
  destroy ORG/ENV[/ROLE] --reason R
                               stop, keep a final backup, mark destroyed
  retry ORG/ENV/ROLE           repeat the operation that left an instance failed
  promote --from ORG/ENV/main --to ORG/ENV/ROLE --reason R [--dry-run]
                               promote configuration (Sandbox/Pre-PROD → VAL/PROD)
  val ORG[/ENV] --config-from KEY [--run N] --reason R
                               VAL pair: configuration + migration output, PHI obfuscated
  prod ORG[/ENV] --config-from KEY|--predefined none|demo --reason R
                               PROD pair: configuration + the signed-off migration output
  upgrade ORG/ENV/ROLE --to VERSION+NUMBER [--at 2026-12-01T22:00Z] --reason R
                               upgrade under the proxy's hold, rolled back by itself on failure
  upgrades ORG/ENV/ROLE        the instance's upgrade history
  serve --database DSN --addr HOST:PORT [--base-path P] [--test-instance] [--no-demo]
                               run one instance alone (what the console starts)
  init --database DSN [--demo] [--cloned-from KEY]
                               prepare an instance's database (used by the console)

Kinds: demo, sandbox, migration, val, preprod, prod, community-dev.`

func runInstance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, instanceUsage)
		return nil
	}
	rest := args[1:]
	switch args[0] {
	case "serve":
		return runInstanceServe(ctx, rest, stdout, stderr)
	case "init":
		return runInstanceInit(ctx, rest, stdout, stderr)
	case "list":
		return runInstanceList(ctx, rest, stdout, stderr)
	case "create", "clone":
		return runInstanceCreate(ctx, args[0], rest, stdout, stderr)
	case "start", "stop", "destroy", "retry":
		return runInstanceOp(ctx, args[0], rest, stdout, stderr)
	case "promote":
		return runInstancePromote(ctx, rest, stdout, stderr)
	case "val", "prod":
		return runInstancePair(ctx, map[string]console.Kind{"val": console.VAL, "prod": console.Prod}[args[0]], rest, stdout, stderr)
	case "upgrade":
		return runInstanceUpgrade(ctx, rest, stdout, stderr)
	case "upgrades":
		return runInstanceUpgrades(ctx, rest, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown instance command %q; run `cohort instance help`", args[0])}
}

// registryFlags locate the console's registry.
type registryFlags struct {
	dataDir, database *string
	wait              *bool
	timeout           *time.Duration
}

func addRegistryFlags(fs *flag.FlagSet, waits bool) registryFlags {
	f := registryFlags{
		dataDir:  fs.String("data-dir", envOr("COHORT_DATA_DIR", "cohort-data"), "the console's data directory ($COHORT_DATA_DIR)"),
		database: fs.String("database", envOr("COHORT_DATABASE", ""), "the console's database; default: console.db in --data-dir ($COHORT_DATABASE)"),
	}
	if waits {
		f.wait = fs.Bool("wait", true, "follow the operation until it finishes")
		f.timeout = fs.Duration("timeout", 10*time.Minute, "how long to follow it")
	}
	return f
}

func (f registryFlags) open(ctx context.Context) (*console.Console, error) {
	return openConsole(ctx, *f.dataDir, *f.database, slog.New(slog.DiscardHandler))
}

// openForListing parses the flags every listing command shares (the
// console's --data-dir and --database, and --json) and opens the console
// registry the listing reads; the caller closes c.DB.
func openForListing(ctx context.Context, name string, args []string, stderr io.Writer) (c *console.Console, asJSON bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	jsonFlag := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return nil, false, usageError{err.Error()}
	}
	c, err = rf.open(ctx)
	return c, *jsonFlag, err
}

// cliActor names the person at the keyboard in the console's audit trail.
func cliActor() audit.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.Actor{ID: 0, Name: "cli:" + name}
}

func runInstanceList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, asJSON, err := openForListing(ctx, "instance list", args, stderr)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	list, err := console.Instances(ctx, c.DB)
	if err != nil {
		return err
	}
	if asJSON {
		type row struct {
			Instance string `json:"instance"`
			Kind     string `json:"kind"`
			Role     string `json:"role"`
			State    string `json:"state"`
			Build    string `json:"build"`
			URLPath  string `json:"url_path"`
			Engine   string `json:"engine"`
			Database string `json:"database"`
			Port     int    `json:"port"`
			Source   string `json:"source,omitempty"`
		}
		out := []row{}
		for _, i := range list {
			out = append(out, row{i.Key(), i.Kind.Label(), i.Role.Label(), string(i.State), i.Build.String(), i.BasePath + "/",
				string(i.Engine), i.Database, i.Port, i.Source})
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tKIND\tROLE\tSTATE\tBUILD\tURL PATH\tPORT\tMADE FROM")
	for _, i := range list {
		src := i.Source
		if src == "" {
			src = "empty"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s/\t%d\t%s\n", i.Key(), i.Kind.Label(), i.Role.Label(), i.State, i.Build, i.BasePath, i.Port, src)
	}
	return tw.Flush()
}

func runInstanceCreate(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instance "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, true)
	kind := fs.String("kind", "", "the environment's kind: demo, sandbox, migration, val, preprod, prod, community-dev")
	from := fs.String("from", "", "clone both instances from this instance (ORG/ENV/ROLE)")
	orgName := fs.String("org-name", "", "create the organisation with this name when it does not exist")
	purpose := fs.String("purpose", "", "for a VAL: go-live (default) or upgrade")
	reason := fs.String("reason", "", "why, for the console's audit trail")
	buildRef := fs.String("build", "", "run the new instances on this registered build, VERSION[+NUMBER] (e.g. 26.2 or 26.2+7); default: the console's own")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if verb == "clone" {
		if len(pos) != 2 {
			return usageError{"say what to clone and where: cohort instance clone SOURCE ORG/ENV --kind KIND"}
		}
		*from, pos = pos[0], pos[1:]
	}
	if len(pos) != 1 {
		return usageError{"name the new environment as ORG/ENV, e.g. demo-cru/sandbox"}
	}
	org, env, ok := strings.Cut(strings.Trim(pos[0], "/"), "/")
	if !ok || org == "" || strings.Contains(env, "/") {
		return usageError{fmt.Sprintf("%q does not name an environment; write ORG/ENV, e.g. demo-cru/sandbox", pos[0])}
	}
	k, err := console.ParseKind(*kind)
	if err != nil {
		return usageError{"--kind: " + err.Error()}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	if *buildRef != "" {
		// The new instances record the chosen build; only a registered one
		// is accepted, and the console runs it from the catalog.
		b, err := release.Resolve(ctx, c.DB, *buildRef)
		if err != nil {
			return err
		}
		c.Build = b.Ref()
	}
	by := cliActor()
	if _, err := console.GetOrganisation(ctx, c.DB, org); errors.Is(err, check.ErrNotFound) {
		if *orgName == "" {
			return fmt.Errorf("There is no organisation %s; add --org-name \"…\" to create it.", org)
		}
		if _, err := console.CreateOrganisation(ctx, c.DB, by, org, *orgName); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created organisation %s (%s).\n", org, *orgName)
	} else if err != nil {
		return err
	}
	e, ops, err := c.CreateEnvironment(ctx, by, console.NewEnvironment{Org: org, Kind: k, Code: env, Purpose: console.Purpose(*purpose),
		From: *from, Reason: *reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Requested %s environment %s/%s (%s).\n", k.Label(), org, e.Code, e.MadeFrom)
	return follow(ctx, c, rf, ops, stdout)
}

func runInstanceOp(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instance "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, true)
	reason := fs.String("reason", "", "why, for the console's audit trail (required to stop or destroy)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("name one instance: cohort instance %s ORG/ENV/ROLE", verb)}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	by := cliActor()
	var ops []console.Operation
	switch {
	case verb == "destroy" && strings.Count(strings.Trim(pos[0], "/"), "/") == 1:
		org, env, _ := strings.Cut(strings.Trim(pos[0], "/"), "/")
		ops, err = c.DestroyEnvironment(ctx, by, org, env, *reason)
	case verb == "retry":
		var op console.Operation
		op, err = c.Retry(ctx, by, pos[0], *reason, "")
		ops = append(ops, op)
	default:
		var op console.Operation
		op, err = c.Request(ctx, by, console.OpKind(verb), pos[0], *reason, "")
		ops = append(ops, op)
	}
	if err != nil {
		return flagError(err, "reason")
	}
	return follow(ctx, c, rf, ops, stdout)
}

// follow prints the operations' progress until they finish, when a console
// is running to carry them out.
func follow(ctx context.Context, c *console.Console, rf registryFlags, ops []console.Operation, stdout io.Writer) error {
	for _, op := range ops {
		fmt.Fprintf(stdout, "Queued operation %d: %s of %s.\n", op.ID, op.Kind, op.Instance)
	}
	if !*rf.wait {
		return nil
	}
	if h, alive, err := console.Alive(ctx, c.DB, 10*time.Second); err != nil {
		return err
	} else if !alive {
		fmt.Fprintln(stdout, "No console is running on this registry; the operations run when `cohort serve` starts.")
		return nil
	} else {
		fmt.Fprintf(stdout, "The console (process %d on %s) is carrying them out.\n", h.PID, h.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, *rf.timeout)
	defer cancel()
	failed := false
	for _, op := range ops {
		printed := 0
		done, err := console.WaitOperation(ctx, c.DB, op.ID, func(o console.Operation) {
			lines := o.Lines()
			for _, l := range lines[min(printed, len(lines)):] {
				fmt.Fprintf(stdout, "  [%d] %s\n", o.ID, l)
			}
			printed = len(lines)
		})
		if err != nil {
			return fmt.Errorf("follow operation %d: %w", op.ID, err)
		}
		fmt.Fprintf(stdout, "Operation %d (%s of %s): %s.\n", done.ID, done.Kind, done.Instance, done.State)
		failed = failed || done.State == console.OpFailed
	}
	if failed {
		return errSilentFailure
	}
	return nil
}
