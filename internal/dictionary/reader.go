package dictionary

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Reader answers the questions a Version answers — search, lookup,
// browsing the hierarchy — for a stored version, from the database's
// indexes instead of memory, so a full release need not be loaded.
type Reader struct {
	db        store.Querier
	versionID int64
}

// NewReader reads the stored version with the given id through db (a
// *store.DB, or a *store.Tx to read inside a transaction).
func NewReader(db store.Querier, versionID int64) Reader {
	return Reader{db: db, versionID: versionID}
}

const termSelect = "t.level, t.code, t.name, t.is_current, t.abbrev, t.primary_soc, t.sort_order, t.preferred"

func (r Reader) terms(ctx context.Context, what, query string, args ...any) ([]Term, error) {
	rows, err := r.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Term
	for rows.Next() {
		var t Term
		var level string
		if err := rows.Scan(&level, &t.Code, &t.Name, &t.Current, &t.Abbrev, &t.PrimarySOC, &t.Order, &t.Preferred); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		t.Level = Level(level)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Lookup returns the term with the given level and code, or an error
// wrapping check.ErrNotFound.
func (r Reader) Lookup(ctx context.Context, level Level, code string) (Term, error) {
	ts, err := r.terms(ctx, "look up term", "SELECT "+termSelect+" FROM dictionary_term t WHERE t.version_id = ? AND t.level = ? AND t.code = ?",
		r.versionID, string(level), code)
	if err != nil {
		return Term{}, err
	}
	if len(ts) == 0 {
		return Term{}, fmt.Errorf("term %s: %w", TermRef{level, code}, check.ErrNotFound)
	}
	return ts[0], nil
}

// Roots returns the top of the hierarchy in the order Version.Roots gives.
func (r Reader) Roots(ctx context.Context) ([]Term, error) {
	ts, err := r.terms(ctx, "read top terms", "SELECT "+termSelect+" FROM dictionary_term t WHERE t.version_id = ? AND t.depth = 1", r.versionID)
	sortTerms(ts)
	return ts, err
}

// Children returns the terms directly under the given term in the order
// Version.Children gives.
func (r Reader) Children(ctx context.Context, level Level, code string) ([]Term, error) {
	ts, err := r.terms(ctx, "read narrower terms", "SELECT "+termSelect+` FROM dictionary_link l
		JOIN dictionary_term t ON t.version_id = l.version_id AND t.level = l.child_level AND t.code = l.child_code
		WHERE l.version_id = ? AND l.parent_level = ? AND l.parent_code = ?`, r.versionID, string(level), code)
	sortTerms(ts)
	return ts, err
}

// Parents returns the terms directly above the given term in the order
// Version.Parents gives.
func (r Reader) Parents(ctx context.Context, level Level, code string) ([]Term, error) {
	ts, err := r.terms(ctx, "read broader terms", "SELECT "+termSelect+` FROM dictionary_link l
		JOIN dictionary_term t ON t.version_id = l.version_id AND t.level = l.parent_level AND t.code = l.parent_code
		WHERE l.version_id = ? AND l.child_level = ? AND l.child_code = ?`, r.versionID, string(level), code)
	sortTerms(ts)
	return ts, err
}

// Paths returns every route from the top of the hierarchy down to the
// given term, primary path first, exactly as Version.Paths does: it reads
// the term's ancestors (a handful of rows, one query per term on the way
// up) and asks a Version built from them.
func (r Reader) Paths(ctx context.Context, level Level, code string) ([]Path, error) {
	start, err := r.Lookup(ctx, level, code)
	if err != nil {
		return nil, err
	}
	terms := []Term{start}
	seen := map[TermRef]bool{start.Ref(): true}
	var links []Link
	for todo := []Term{start}; len(todo) > 0; {
		t := todo[0]
		todo = todo[1:]
		parents, err := r.Parents(ctx, t.Level, t.Code)
		if err != nil {
			return nil, err
		}
		for _, p := range parents {
			links = append(links, Link{p.Ref(), t.Ref()})
			if !seen[p.Ref()] {
				seen[p.Ref()] = true
				terms = append(terms, p)
				todo = append(todo, p)
			}
		}
	}
	v, err := NewVersion(level.Kind(), "", "", terms, links)
	if err != nil {
		return nil, fmt.Errorf("paths of %s: %w", start.Ref(), err)
	}
	return v.Paths(level, code), nil
}

// Load reads the whole stored version back into a Version, for export and
// for comparing what was stored with what was parsed.
func (r Reader) Load(ctx context.Context) (*Version, error) {
	var kind, release, language string
	err := r.db.QueryRow(ctx, "SELECT kind, release_name, language FROM dictionary_version WHERE id = ?", r.versionID).Scan(&kind, &release, &language)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dictionary version %d: %w", r.versionID, check.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load dictionary version %d: %w", r.versionID, err)
	}
	terms, err := r.terms(ctx, "load terms", "SELECT "+termSelect+" FROM dictionary_term t WHERE t.version_id = ? ORDER BY t.depth, t.code", r.versionID)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.Query(ctx, `SELECT parent_level, parent_code, child_level, child_code FROM dictionary_link
		WHERE version_id = ? ORDER BY parent_level, parent_code, child_level, child_code`, r.versionID)
	if err != nil {
		return nil, fmt.Errorf("load links: %w", err)
	}
	defer rows.Close()
	var links []Link
	for rows.Next() {
		var pl, pc, cl, cc string
		if err := rows.Scan(&pl, &pc, &cl, &cc); err != nil {
			return nil, fmt.Errorf("load links: %w", err)
		}
		links = append(links, Link{TermRef{Level(pl), pc}, TermRef{Level(cl), cc}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load links: %w", err)
	}
	return NewVersion(Kind(kind), release, language, terms, links)
}

// DefaultSearchLimit is how many terms Search returns when asked for no
// particular number; MaxSearchLimit bounds what may be asked for.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 1000
)

// upperBound is a string above every string that starts with prefix and
// goes on with valid UTF-8: U+10FFFF is the largest code point, and byte
// order is code point order for UTF-8.
func upperBound(prefix string) string { return prefix + "\U0010FFFF" }

// Search returns the stored version's terms whose name or code starts with
// query, case, accents and spacing ignored, ranked as the in-memory Search
// ranks them: exact matches, then current terms, then by name, level and
// code. limit ≤ 0 means DefaultSearchLimit; it is capped at MaxSearchLimit.
//
// Each part of the ranking is an ordered range scan of an index, so the
// cost depends on limit, not on how many terms share the prefix: names run
// over dictionary_term_search ((version, current, normalised name, depth,
// code)) — the index range LIKE 'prefix%' would give, written as a range
// so that it is used on PostgreSQL with any locale and any plan — once for
// current terms and once for the rest; exact codes are an equality lookup
// and code prefixes (only for queries of letters and digits) a range on
// dictionary_term_code.
func (r Reader) Search(ctx context.Context, query string, limit int) ([]Term, error) {
	q := Normalize(query)
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	code := strings.ToUpper(q)
	codeLike := isCodeQuery(q)
	var found []Term
	add := func(what, query string, args ...any) error {
		ts, err := r.terms(ctx, what, query, args...)
		found = append(found, ts...)
		return err
	}
	// Exact name matches need no query of their own: the normalised name
	// equal to the query is the smallest in its range, so each range below
	// returns them first. Exact codes do.
	if codeLike {
		if err := add("search codes", "SELECT "+termSelect+" FROM dictionary_term t WHERE t.version_id = ? AND t.code = ? LIMIT ?",
			r.versionID, code, limit); err != nil {
			return nil, err
		}
	}
	for _, current := range []bool{true, false} {
		if err := add("search terms", "SELECT "+termSelect+` FROM dictionary_term t
			WHERE t.version_id = ? AND t.is_current = ? AND t.search_name >= ? AND t.search_name < ?
			ORDER BY t.search_name, t.depth, t.code LIMIT ?`, r.versionID, current, q, upperBound(q), limit); err != nil {
			return nil, err
		}
	}
	if codeLike {
		if err := add("search codes", "SELECT "+termSelect+` FROM dictionary_term t
			WHERE t.version_id = ? AND t.code >= ? AND t.code < ?
			ORDER BY t.is_current DESC, t.search_name, t.depth, t.code LIMIT ?`, r.versionID, code, upperBound(code), limit); err != nil {
			return nil, err
		}
	}
	return rankHits(found, q, limit), nil
}

// isCodeQuery reports whether a normalised query could be the start of a
// MedDRA, ATC or WHODrug drug code: letters and digits only.
func isCodeQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		c := q[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// rankHits removes duplicates from the candidates the queries returned and
// orders them as Search on a Version does, keeping the first limit.
func rankHits(found []Term, q string, limit int) []Term {
	type hit struct {
		t      Term
		folded string
		exact  bool
	}
	seen := map[TermRef]bool{}
	var hits []hit
	for _, t := range found {
		if seen[t.Ref()] {
			continue
		}
		seen[t.Ref()] = true
		f := Normalize(t.Name)
		hits = append(hits, hit{t, f, f == q || Normalize(t.Code) == q})
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.exact != b.exact:
			return boolFirst(a.exact)
		case a.t.Current != b.t.Current:
			return boolFirst(a.t.Current)
		}
		if c := strings.Compare(a.folded, b.folded); c != 0 {
			return c
		}
		if d := a.t.Level.Depth() - b.t.Level.Depth(); d != 0 {
			return d
		}
		return strings.Compare(a.t.Code, b.t.Code)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Term, len(hits))
	for i, h := range hits {
		out[i] = h.t
	}
	return out
}
