package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/cohort-clinical/cohort/internal/console"
)

const goLiveUsage = `cohort golive — an organisation's go-live checklist, signed electronically

  status --org ORG [--json]     the checklist, milestones and what may be destroyed now
  sign --org ORG --step STEP --user NAME [--comment C]
                                sign off the next step
  complete --org ORG --user NAME [--comment C]
                                put PROD live (refused until every step is signed off)
  validation-done --org ORG --user NAME [--comment C]
                                record that validation is done

A signature is given with a console user's name and password: the password
is read from standard input (not echoed at a terminal), never from the
command line. Steps: ` + "source-dump, configuration, migration-run, prod-populated, iq, final-qc."

// runGoLive is the go-live checklist from the command line.
func runGoLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, goLiveUsage)
		return nil
	}
	fs := flag.NewFlagSet("golive "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := addRegistryFlags(fs, false)
	org := fs.String("org", "", "the organisation's code")
	step := fs.String("step", "", "the step to sign off")
	user := fs.String("user", "", "the console user who signs")
	comment := fs.String("comment", "", "the signer's comment")
	asJSON := fs.Bool("json", false, "print JSON (status)")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	if *org == "" {
		return usageError{"--org: name the organisation"}
	}
	verb := args[0]
	switch verb {
	case "status", "sign", "complete", "validation-done":
	default:
		return usageError{fmt.Sprintf("unknown golive command %q; run `cohort golive help`", verb)}
	}
	if verb != "status" && *user == "" {
		return usageError{"--user: name the console user who signs"}
	}
	if verb == "sign" && *step == "" {
		return usageError{"--step: name the step to sign off (source-dump, configuration, migration-run, prod-populated, iq, final-qc)"}
	}
	c, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer c.DB.Close()
	if verb == "status" {
		cl, err := console.GoLiveChecklist(ctx, c.DB, *org)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, checklistJSON(cl))
		}
		writeChecklist(stdout, cl)
		return nil
	}
	pw, err := readSignaturePassword(*user, stderr)
	if err != nil {
		return err
	}
	s := console.Signer{Username: *user, Password: pw}
	var sig console.Signature
	switch verb {
	case "sign":
		sig, err = console.SignGoLiveStep(ctx, c.DB, s, *org, *step, *comment)
	case "complete":
		sig, err = console.CompleteGoLive(ctx, c.DB, s, *org, *comment)
	case "validation-done":
		sig, err = console.SignValidationDone(ctx, c.DB, s, *org, *comment)
	}
	if err != nil {
		return sentences(err)
	}
	fmt.Fprintf(stdout, "Signed: %s\n", sig)
	if verb == "complete" {
		fmt.Fprintln(stdout, "PROD is live.")
	}
	return nil
}

// readSignaturePassword reads the signer's password from standard input:
// one line from a pipe, or typed without echo at a terminal.
func readSignaturePassword(user string, stderr io.Writer) (string, error) {
	terminal := false
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		terminal = true
		fmt.Fprintf(stderr, "Password of %s (to sign): ", user)
		stty := exec.Command("stty", "-echo")
		stty.Stdin = os.Stdin
		if err := stty.Run(); err == nil {
			defer func() {
				restore := exec.Command("stty", "echo")
				restore.Stdin = os.Stdin
				restore.Run()
				fmt.Fprintln(stderr)
			}()
		}
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if terminal {
			return "", errors.New("No password was entered; nothing was signed.")
		}
		return "", errors.New("No password on standard input; pipe the signer's password in. Nothing was signed.")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func writeChecklist(w io.Writer, cl console.Checklist) {
	fmt.Fprintf(w, "Go-live checklist of %s (%s)\n", cl.Org.Name, cl.Org.Code)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, st := range cl.Steps {
		state := "not yet"
		switch {
		case st.Signature != nil:
			state = "signed off by " + st.Signature.FullName + " (" + st.Signature.Username + ") " + st.Signature.SignedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
			if st.Signature.Comment != "" {
				state += " — " + st.Signature.Comment
			}
		case st.Next && st.Blocked != "":
			state = "next (" + st.Blocked + ")"
		case st.Next:
			state = "next"
		}
		fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s\n", st.Position, st.Code, st.Label, state)
	}
	tw.Flush()
	switch {
	case cl.Live != nil:
		fmt.Fprintf(w, "PROD live: %s\n", cl.Live)
	case cl.Complete:
		fmt.Fprintln(w, "Every step is signed off: PROD can go live (cohort golive complete).")
	default:
		fmt.Fprintln(w, "PROD is not live: go-live is refused until every step is signed off.")
	}
	if cl.Validation != nil {
		fmt.Fprintf(w, "Validation done: %s\n", cl.Validation)
	} else {
		fmt.Fprintln(w, "Validation: not done yet.")
	}
	fmt.Fprintln(w, "May be destroyed now:")
	for _, d := range cl.Destroy {
		if d.Allowed {
			fmt.Fprintf(w, "  %s %s: yes (%s)\n", d.Env.Rule().Label, d.Env.Code, d.Rule)
		} else {
			fmt.Fprintf(w, "  %s %s: no — %s\n", d.Env.Rule().Label, d.Env.Code, d.Rule)
		}
	}
}

type signatureJSON struct {
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Meaning  string `json:"meaning"`
	Comment  string `json:"comment"`
	SignedAt string `json:"signed_at"`
}

func sigJSON(s *console.Signature) *signatureJSON {
	if s == nil {
		return nil
	}
	return &signatureJSON{s.Username, s.FullName, s.Meaning, s.Comment, s.SignedAt.UTC().Format("2006-01-02T15:04:05Z")}
}

func checklistJSON(cl console.Checklist) any {
	type step struct {
		Code      string         `json:"code"`
		Label     string         `json:"label"`
		Signature *signatureJSON `json:"signature"`
		Next      bool           `json:"next,omitempty"`
		Blocked   string         `json:"blocked,omitempty"`
	}
	type destroy struct {
		Environment string `json:"environment"`
		Kind        string `json:"kind"`
		Allowed     bool   `json:"allowed"`
		Rule        string `json:"rule"`
	}
	out := struct {
		Org        string         `json:"organisation"`
		Steps      []step         `json:"steps"`
		Complete   bool           `json:"complete"`
		Live       *signatureJSON `json:"live"`
		Validation *signatureJSON `json:"validation"`
		Destroy    []destroy      `json:"destroy"`
	}{Org: cl.Org.Code, Complete: cl.Complete, Live: sigJSON(cl.Live), Validation: sigJSON(cl.Validation)}
	for _, s := range cl.Steps {
		out.Steps = append(out.Steps, step{s.Code, s.Label, sigJSON(s.Signature), s.Next, s.Blocked})
	}
	for _, d := range cl.Destroy {
		out.Destroy = append(out.Destroy, destroy{d.Env.Code, d.Env.Rule().Label, d.Allowed, d.Rule})
	}
	return out
}
