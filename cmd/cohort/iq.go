package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
)

const iqUsage = `cohort iq — Installation Qualification documents of VAL and PROD instances

  issue ORG/ENV/ROLE            check a running VAL or PROD instance for real and, when
                                every check passes, issue its IQ document
  list --org ORG [--json]       the organisation's IQ documents
  show NUMBER [-o FILE.html] [--json]
                                one document; -o writes it as an HTML file, marked as an
                                UNCONTROLLED COPY

Only VAL and PROD environments get an IQ document; a failed check issues nothing
and names what failed.`

// runIQ is the IQ documents from the command line.
func runIQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, iqUsage)
		return nil
	}
	verb := args[0]
	fs := flag.NewFlagSet("iq "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	org := fs.String("org", "", "the organisation's code (list)")
	out := fs.String("o", "", "write the document as an HTML file (show)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch verb {
	case "issue", "show":
		if len(rest) != 1 {
			return usageError{fmt.Sprintf("iq %s takes one argument; run `cohort iq help`", verb)}
		}
	case "list":
		if *org == "" {
			return usageError{"--org: name the organisation"}
		}
	default:
		return usageError{fmt.Sprintf("unknown iq command %q; run `cohort iq help`", verb)}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	switch verb {
	case "issue":
		// The IQ hashes the binary an instance of the console's own build
		// runs from: this one.
		if c.Binary, err = os.Executable(); err != nil {
			return fmt.Errorf("find the cohort binary: %w", err)
		}
		doc, err := c.IssueIQ(ctx, cliActor(), rest[0])
		var failed *console.IQFailed
		if errors.As(err, &failed) {
			fmt.Fprintln(stderr, failed.Error())
			writeIQChecks(stderr, failed.Checks)
			return errSilentFailure
		}
		if err != nil {
			return sentences(err)
		}
		fmt.Fprintf(stdout, "Issued %s for %s (SHA-256 %s); every check passed:\n", doc.Number, doc.Instance, doc.SHA256)
		writeIQChecks(stdout, doc.Content.Checks)
		return nil
	case "list":
		docs, err := console.IQDocuments(ctx, c.DB, *org)
		if err != nil {
			return err
		}
		if *asJSON {
			list := make([]any, len(docs))
			for i, d := range docs {
				list[i] = iqJSON(d)
			}
			return printJSON(stdout, list)
		}
		if len(docs) == 0 {
			fmt.Fprintf(stdout, "%s has no IQ document yet.\n", *org)
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tINSTANCE\tISSUED (UTC)\tBY\tSHA-256")
		for _, d := range docs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Number, d.Instance, d.IssuedAt.UTC().Format("2006-01-02 15:04:05"), d.IssuedBy, d.SHA256)
		}
		return tw.Flush()
	}
	doc, err := console.GetIQDocument(ctx, c.DB, rest[0])
	if err != nil {
		return err
	}
	if *out != "" {
		var b bytes.Buffer
		if err := consoleweb.WriteIQDocument(&b, doc); err != nil {
			return err
		}
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		fmt.Fprintf(stdout, "Wrote %s to %s (an UNCONTROLLED COPY).\n", doc.Number, *out)
		return nil
	}
	if *asJSON {
		return printJSON(stdout, iqJSON(doc))
	}
	fmt.Fprintf(stdout, "Installation Qualification %s — UNCONTROLLED COPY when printed or exported\n", doc.Number)
	fmt.Fprintf(stdout, "Instance: %s (%s %s), URL path %s\n", doc.Instance, doc.Content.Kind, doc.Content.Role, doc.Content.URLPath)
	fmt.Fprintf(stdout, "Build: %s (build %s), binary SHA-256 %s, schema version %d\n", doc.Content.Build.Version, doc.Content.Build.Number,
		doc.Content.Build.SHA256, doc.Content.Build.SchemaVersion)
	fmt.Fprintf(stdout, "Database: %s at schema version %d\n", doc.Content.Engine, doc.Content.SchemaVersion)
	fmt.Fprintf(stdout, "Issued by %s at %s (UTC)\n", doc.IssuedBy, doc.Content.IssuedAt)
	intact := "matches the stored content"
	if !doc.Intact() {
		intact = "does NOT match the stored content"
	}
	fmt.Fprintf(stdout, "SHA-256: %s (%s)\n", doc.SHA256, intact)
	writeIQChecks(stdout, doc.Content.Checks)
	return nil
}

func writeIQChecks(w io.Writer, checks []console.IQCheck) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CHECK\tEXPECTED\tFOUND\tRESULT")
	for _, ch := range checks {
		res := "pass"
		if !ch.Passed {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ch.Name, ch.Expected, ch.Found, res)
	}
	tw.Flush()
}

func iqJSON(d console.IQDocument) any {
	return struct {
		Number   string            `json:"number"`
		Instance string            `json:"instance"`
		IssuedAt string            `json:"issued_at"`
		IssuedBy string            `json:"issued_by"`
		SHA256   string            `json:"sha256"`
		Intact   bool              `json:"intact"`
		Content  console.IQContent `json:"content"`
	}{d.Number, d.Instance, d.IssuedAt.UTC().Format("2006-01-02T15:04:05Z"), d.IssuedBy, d.SHA256, d.Intact(), d.Content}
}
