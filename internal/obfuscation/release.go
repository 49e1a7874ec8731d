package obfuscation

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Release obfuscates the database at targetDSN — a fresh copy of the one at
// sourceDSN that nobody uses yet — under a secret drawn for it alone, then
// scans the copy for every original PHI value of the source. Any finding
// fails it with a sentence naming the first place (never the value), and the
// caller must not release the copy. note hears the progress. It is what the
// lifecycle console installs as its obfuscation hook.
func Release(ctx context.Context, sourceDSN, targetDSN string, origin Origin, note func(string)) error {
	if note == nil {
		note = func(string) {}
	}
	note = throttled(note, time.Second)
	// The source is read first and closed again: the scan needs its
	// values, and a PostgreSQL copy of the same source made beside this one
	// waits for the source to have no connections.
	src, err := store.Open(ctx, sourceDSN)
	if err != nil {
		return fmt.Errorf("open the source for the PHI-leak scan: %w", err)
	}
	orig, err := ReadOriginals(ctx, src, note)
	src.Close()
	if err != nil {
		return err
	}
	dst, err := store.Open(ctx, targetDSN)
	if err != nil {
		return fmt.Errorf("open the copy to obfuscate: %w", err)
	}
	defer dst.Close()

	secret := make([]byte, MinSecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("draw the obfuscation secret: %w", err)
	}
	_, err = orig.Obfuscate(ctx, dst, secret, origin, note)
	clear(secret) // the key dies with this call: nothing can undo the pseudonyms
	if err != nil {
		return err
	}
	f, err := orig.Scan(ctx, dst, note)
	if err != nil {
		return fmt.Errorf("PHI-leak scan: %w", err)
	}
	if !f.Clean() {
		// Where, never what: the operator finds the rows by these.
		for i, x := range f.First {
			if i == 10 {
				note(fmt.Sprintf("… %d hits in all.", f.Count))
				break
			}
			note("An original value of " + x.Field + " is in " + x.Table + "." + x.Column + " row " + x.Row + ".")
		}
		first := f.First[0]
		return fmt.Errorf("The PHI-leak scan found %d original values in the copy (first: %s.%s row %s, field %s); the copy is not released.",
			f.Count, first.Table, first.Column, first.Row, first.Field)
	}
	note(fmt.Sprintf("The PHI-leak scan looked for %d original values in %d cells of %d tables of the copy and found none.",
		f.Originals, f.Cells, f.Tables))
	return nil
}

// ConsoleActor is who the copy's audit entry says obfuscated it when the
// lifecycle console did: the operation's requester is in the console's own
// trail, with the operation.
var ConsoleActor = audit.Actor{ID: 0, Name: "lifecycle console"}

// throttled passes on progress to an operation log at most once per
// interval for the repetitive per-batch and per-table messages; the other
// messages (what was found, what went wrong, the outcome) always pass.
func throttled(note func(string), interval time.Duration) func(string) {
	var last time.Time
	return func(msg string) {
		repetitive := strings.HasPrefix(msg, "Obfuscated ") && strings.Contains(msg, " of ") ||
			strings.HasPrefix(msg, "Scrubbed ") || strings.HasPrefix(msg, "Scanned ") && strings.HasSuffix(msg, " 0 hits.")
		if repetitive && time.Since(last) < interval {
			return
		}
		last = time.Now()
		note(msg)
	}
}
