package dictionary

import (
	"slices"
	"strings"
)

// Search returns the terms of v whose name or code starts with query, both
// compared in Normalize form, best first: exact matches, then current terms
// before non-current LLTs, then by name, level and code. It returns at most
// limit terms, or all of them when limit is 0 or less, and none for a blank
// query.
//
// It scans the whole version, which suits tests and the small dictionaries
// of demo instances; storage answers the same question from an index on
// the normalised name.
func Search(v *Version, query string, limit int) []Term {
	q := Normalize(query)
	if q == "" {
		return nil
	}
	v.index()
	type hit struct {
		i     int
		exact bool
	}
	var hits []hit
	for i, t := range v.Terms {
		name, code := v.folded[i], Normalize(t.Code)
		if strings.HasPrefix(name, q) || strings.HasPrefix(code, q) {
			hits = append(hits, hit{i, name == q || code == q})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		ta, tb := v.Terms[a.i], v.Terms[b.i]
		switch {
		case a.exact != b.exact:
			return boolFirst(a.exact)
		case ta.Current != tb.Current:
			return boolFirst(ta.Current)
		}
		if c := strings.Compare(v.folded[a.i], v.folded[b.i]); c != 0 {
			return c
		}
		if d := ta.Level.Depth() - tb.Level.Depth(); d != 0 {
			return d
		}
		return strings.Compare(ta.Code, tb.Code)
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Term, len(hits))
	for k, h := range hits {
		out[k] = v.Terms[h.i]
	}
	return out
}

// boolFirst orders true before false for a pair known to differ.
func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}
