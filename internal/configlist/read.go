package configlist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// errNoList says a list kind does not exist; it wraps check.ErrNotFound so
// pages answer 404.
func errNoList(kind string) error {
	return fmt.Errorf("configure list %q: %w", kind, check.ErrNotFound)
}

// Entries returns a list's entries in their order; deactivated entries only
// when includeInactive (pickers leave them out, history and the
// administration pages keep them).
func Entries(ctx context.Context, q store.Querier, kind string, includeInactive bool) ([]Entry, error) {
	return Search(ctx, q, kind, "", includeInactive)
}

// Search returns a list's entries whose code or label contains text, ignoring
// case, in their order. An empty text matches every entry.
func Search(ctx context.Context, q store.Querier, kind, text string, includeInactive bool) ([]Entry, error) {
	if _, ok := KindOf(kind); !ok {
		return nil, errNoList(kind)
	}
	query := "SELECT " + columns + " FROM config_list_entry WHERE list = ?"
	args := []any{kind}
	if !includeInactive {
		query += " AND active = ?"
		args = append(args, true)
	}
	if text = strings.TrimSpace(text); text != "" {
		like := "%" + escapeLike(strings.ToLower(text)) + "%"
		query += ` AND (LOWER(code) LIKE ? ESCAPE '\' OR LOWER(label) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	rows, err := q.Query(ctx, query+" ORDER BY sort_order, code", args...)
	if err != nil {
		return nil, fmt.Errorf("list %s entries: %w", kind, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s entries: %w", kind, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// escapeLike makes % and _ in a search text match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Get returns one entry, active or not.
func Get(ctx context.Context, q store.Querier, kind, code string) (Entry, error) {
	if _, ok := KindOf(kind); !ok {
		return Entry{}, errNoList(kind)
	}
	e, err := scan(q.QueryRow(ctx, "SELECT "+columns+" FROM config_list_entry WHERE list = ? AND code = ?", kind, code))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%s entry %q: %w", kind, code, check.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("read %s entry %s: %w", kind, code, err)
	}
	return e, nil
}

// Label returns the label of an entry, deactivated or not, so a record made
// while the entry was active still reads the same.
func Label(ctx context.Context, q store.Querier, kind, code string) (string, error) {
	e, err := Get(ctx, q, kind, code)
	return e.Label, err
}

// Labels returns code → label for every entry of a list, deactivated ones
// included, for pages that show many coded values at once.
func Labels(ctx context.Context, q store.Querier, kind string) (map[string]string, error) {
	entries, err := Entries(ctx, q, kind, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Code] = e.Label
	}
	return out, nil
}

// Lookup is a snapshot of the codes of every Configure list, loaded once so
// that a large import can check each cell without asking the database. It
// satisfies the volunteer importer's interface{ Has(list, code string) bool }.
type Lookup struct {
	codes map[string]map[string]struct{}
}

// LoadLookup reads every list's codes. Deactivated codes are included only
// when includeInactive: a migration of historical volunteers needs them, a
// new registration must not use them.
func LoadLookup(ctx context.Context, q store.Querier, includeInactive bool) (Lookup, error) {
	query := "SELECT list, code FROM config_list_entry"
	var args []any
	if !includeInactive {
		query += " WHERE active = ?"
		args = append(args, true)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return Lookup{}, fmt.Errorf("load configure lists: %w", err)
	}
	defer rows.Close()
	l := Lookup{codes: map[string]map[string]struct{}{}}
	for rows.Next() {
		var list, code string
		if err := rows.Scan(&list, &code); err != nil {
			return Lookup{}, fmt.Errorf("load configure lists: %w", err)
		}
		set := l.codes[list]
		if set == nil {
			set = map[string]struct{}{}
			l.codes[list] = set
		}
		set[code] = struct{}{}
	}
	return l, rows.Err()
}

// Has reports whether code is in the named list.
func (l Lookup) Has(kind, code string) bool {
	_, ok := l.codes[kind][code]
	return ok
}
