package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Candidate is a stored volunteer who may be the same person as one being
// registered, and why.
type Candidate struct {
	Summary
	Reason string
}

// DuplicatesError refuses a registration that looks like a volunteer
// already in the database until the user gives a reason to register
// anyway.
type DuplicatesError struct {
	Candidates []Candidate
}

// Error names the candidates.
func (e *DuplicatesError) Error() string {
	return "This volunteer may already be registered as " + describeCandidates(e.Candidates) +
		". Check the record; to register a new volunteer anyway, give the reason."
}

func describeCandidates(cs []Candidate) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Number + " (" + c.Reason + ")"
	}
	return strings.Join(parts, ", ")
}

// FindDuplicates returns the stored volunteers who may be the same person
// as v: same or similar names (normalised, swapped, phonetic, a typing
// mistake apart; see volunteer.MatchKey.Match) with the same date of birth,
// or the same name with day and month swapped. It reads only the birth-date
// block(s) v falls in, through the birth date index, so it costs the same at
// any size of database. except is a volunteer id to leave out (the
// volunteer itself on an update), 0 for none. Results are unmasked; the
// caller masks them for users without volunteer.view_phi.
func FindDuplicates(ctx context.Context, q store.Querier, v volunteer.Volunteer, except int64) ([]Candidate, error) {
	if !v.BirthDate.IsComplete() {
		return nil, nil
	}
	dates := volunteer.DuplicateBirthDates(v.BirthDate)
	args := make([]any, 0, len(dates)+1)
	for _, d := range dates {
		args = append(args, d.String())
	}
	args = append(args, except)
	rows, err := q.Query(ctx, "SELECT "+summaryColumns+" FROM volunteer v WHERE v.birth_date IN ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(dates)), ", ")+") AND v.id <> ? ORDER BY v.number", args...)
	if err != nil {
		return nil, fmt.Errorf("look for duplicates: %w", err)
	}
	defer rows.Close()
	key := volunteer.NewMatchKey(v)
	var out []Candidate
	for rows.Next() {
		s, err := scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("look for duplicates: %w", err)
		}
		if reason, ok := key.Match(volunteer.NewMatchKey(s.volunteer())); ok {
			out = append(out, Candidate{Summary: s, Reason: reason})
		}
	}
	return out, rows.Err()
}
