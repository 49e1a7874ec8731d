package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/demo"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "volunteers" {
		return usageError{"say volunteers: cohort demo volunteers --count N [--seed S]"}
	}
	fs := flag.NewFlagSet("demo volunteers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	count := fs.Int("count", 1000, "how many synthetic volunteers to add")
	seed := fs.Int64("seed", 1, "the generator's seed: the same seed gives the same volunteers")
	batch := fs.Int("batch", 20000, "volunteers stored per transaction")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"demo volunteers takes no arguments; use --count N"}
	}
	if *count < 1 || *batch < 1 {
		return usageError{"--count and --batch must be at least 1"}
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sites, err := site.List(ctx, db, true)
	if err != nil {
		return err
	}
	if len(sites) == 0 {
		// Volunteers prefer sites and have histories from the Configure
		// lists; an empty instance gets the demo clinic first.
		fmt.Fprintln(stderr, "The instance has no sites yet: adding the demo clinic first.")
		if _, err := demo.Seed(ctx, db); err != nil {
			return err
		}
	}
	bar := newProgressBar(stderr, *count)
	n, err := registry.Populate(ctx, db, audit.Actor{ID: 0, Name: "cohort demo volunteers"}, registry.PopulateOptions{
		Count: *count, Seed: *seed, BatchSize: *batch, Progress: bar.update})
	bar.finish()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stdout, "Stopped: %d synthetic volunteers were stored before the interruption; the batch in progress was not.\n", n)
		return errSilentFailure
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added %d synthetic volunteers (seed %d) in %s.\n", n, *seed, bar.elapsed().Round(100*time.Millisecond))
	return nil
}

// progressBar draws "[#####.....]  52% 260000/500000 6120/s ETA 39s" on one
// line of a terminal, redrawn in place.
type progressBar struct {
	w     io.Writer
	total int
	start time.Time
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

func (b *progressBar) elapsed() time.Duration { return time.Since(b.start) }

func (b *progressBar) update(done int) {
	const width = 30
	filled := width * done / max(b.total, 1)
	rate := float64(done) / max(b.elapsed().Seconds(), 1e-9)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(b.total-done)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(b.w, "\r[%s%s] %3d%% %d/%d %.0f/s ETA %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		100*done/max(b.total, 1), done, b.total, rate, eta)
}

func (b *progressBar) finish() { fmt.Fprintln(b.w) }
