package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/instance"
	"github.com/cohort-clinical/cohort/internal/web"
)

// buildInfo is the running binary's identity.
type buildInfo struct {
	Version  string `json:"version"`
	Build    string `json:"build"`
	Time     string `json:"time"`
	Revision string `json:"revision"`
	SHA256   string `json:"sha256,omitempty"`
	Go       string `json:"go"`
	// SchemaVersion is the instance schema this build needs and knows: the
	// highest migration embedded in it. The release catalog records it, and
	// no instance is started on a build older than its database.
	SchemaVersion int64 `json:"schema_version"`
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Build: buildNumber, Time: buildTime, Revision: revision, SchemaVersion: instance.SchemaVersion()}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.Go = info.GoVersion
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Revision == "":
				b.Revision = s.Value
			case s.Key == "vcs.time" && b.Time == "":
				b.Time = s.Value
			}
		}
	}
	if len(b.Revision) > 12 {
		b.Revision = b.Revision[:12]
	}
	return b
}

func (b buildInfo) web() web.Build {
	return web.Build{Version: b.Version, Number: b.Build, Revision: b.Revision, Time: b.Time, SchemaVersion: b.SchemaVersion}
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print as JSON, with the binary's SHA-256")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	b := currentBuild()
	if !*asJSON {
		fmt.Fprintf(stdout, "cohort %s (build %s, %s, revision %s, schema %d)\n", b.Version, b.Build, b.Time, b.Revision, b.SchemaVersion)
		return nil
	}
	if exe, err := os.Executable(); err == nil {
		if sum, err := console.BinarySHA256(exe); err == nil {
			b.SHA256 = sum
		}
	}
	return printJSON(stdout, b)
}

// label names the build in sentences: 26.1 (build 7).
func (b buildInfo) label() string { return b.Version + " (build " + b.Build + ")" }
