package bundle

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
)

// dictionaryCategory carries medical dictionary versions, one record per
// release keyed "kind/release" (e.g. "meddra/27.1",
// "whodrug/GLOBALB3Mar26"), with its language, whether it is the active
// version of its dictionary, and its whole content. Retired versions are
// not exported: they stay for data coded with them, which does not move.
//
// A release runs to tens of thousands of terms, so its content is kept
// compact, as lists of short tuples of text in canonical order:
//
//   - terms, from the top of the hierarchy down and by code:
//     [level, code, name, attributes…], where the attributes are only those
//     that apply, in this order: "primary_soc=CODE" (a PT's primary SOC),
//     "abbrev=TEXT" (a SOC's abbreviation), "order=N" (a SOC's place in the
//     international order), "not_current" (an LLT no longer current) and
//     "preferred" (a WHODrug preferred name);
//   - links, broader term first: ["HLT 10030000", "PT 10100000"].
//
// A release never changes once imported, so on import a release this
// instance lacks is stored whole, one it has with the same content is
// unchanged, and one it has with different content is refused. The active
// flag travels: importing the bundle's active version makes it active here,
// and the version active before steps down — the one way an import makes
// anything inactive, because a dictionary has exactly one active version.
// A version retired here is ignored, and so is a version the bundle marks
// inactive that is active here when the bundle makes no other version of
// that dictionary active (an import never leaves a dictionary without one).
type dictionaryCategory struct{}

type dictionaryFields struct {
	Language string     `json:"language"`
	Active   bool       `json:"active"`
	Terms    [][]string `json:"terms"`
	Links    [][]string `json:"links"`
}

func (dictionaryCategory) Name() string     { return "medical-dictionaries" }
func (dictionaryCategory) Promotable() bool { return true }

func (dictionaryCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	versions, err := dictionary.PromotableVersions(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(versions))
	for _, v := range versions {
		f := dictionaryFields{Language: v.Language, Active: v.Active,
			Terms: make([][]string, 0, len(v.Terms)), Links: make([][]string, 0, len(v.Links))}
		for _, t := range v.Terms {
			f.Terms = append(f.Terms, termTuple(t))
		}
		for _, l := range v.Links {
			f.Links = append(f.Links, []string{l.Parent.String(), l.Child.String()})
		}
		rec, err := NewRecord(string(v.Kind)+"/"+v.Release, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// termTuple writes a term as [level, code, name, attributes…].
func termTuple(t dictionary.Term) []string {
	out := []string{string(t.Level), t.Code, t.Name}
	if t.PrimarySOC != "" {
		out = append(out, "primary_soc="+t.PrimarySOC)
	}
	if t.Abbrev != "" {
		out = append(out, "abbrev="+t.Abbrev)
	}
	if t.Order != 0 {
		out = append(out, "order="+strconv.Itoa(t.Order))
	}
	if !t.Current {
		out = append(out, "not_current")
	}
	if t.Preferred {
		out = append(out, "preferred")
	}
	return out
}

// parseTerm reads a term tuple back; i counts terms from 0 for messages.
func parseTerm(i int, tuple []string) (dictionary.Term, error) {
	if len(tuple) < 3 {
		return dictionary.Term{}, fmt.Errorf("term %d has %d items; a term is [level, code, name, attributes…]", i+1, len(tuple))
	}
	t := dictionary.Term{Level: dictionary.Level(tuple[0]), Code: tuple[1], Name: tuple[2], Current: true}
	for _, attr := range tuple[3:] {
		name, value, _ := strings.Cut(attr, "=")
		switch name {
		case "primary_soc":
			t.PrimarySOC = value
		case "abbrev":
			t.Abbrev = value
		case "order":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return t, fmt.Errorf("term %d (%s): %q is not a place in the international order", i+1, t.Ref(), attr)
			}
			t.Order = n
		case "not_current":
			t.Current = false
		case "preferred":
			t.Preferred = true
		default:
			return t, fmt.Errorf("term %d (%s): %q is not a term attribute this build of cohort knows", i+1, t.Ref(), attr)
		}
	}
	return t, nil
}

// parseRef reads "LEVEL code".
func parseRef(s string) (dictionary.TermRef, bool) {
	level, code, ok := strings.Cut(s, " ")
	return dictionary.TermRef{Level: dictionary.Level(level), Code: code}, ok && level != "" && code != ""
}

func (dictionaryCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	versions, err := dictionary.Versions(ctx, q)
	if err != nil {
		return nil, err
	}
	here := map[string]dictionary.StoredVersion{}
	for _, v := range versions {
		here[string(v.Kind)+"/"+v.Release] = v
	}
	skip := map[string]string{}
	activates := map[string]bool{} // dictionary kind → the bundle makes a version active
	for _, rec := range incoming {
		kind, _, _ := splitKey(rec.Key)
		if v, ok := here[rec.Key]; ok && v.Retired {
			skip[rec.Key] = "retired in this instance: an import never brings back a retired version"
			continue
		}
		if activeField(rec) {
			activates[kind] = true
		}
	}
	for _, rec := range incoming {
		kind, _, _ := splitKey(rec.Key)
		v, ok := here[rec.Key]
		if ok && v.Active && !activeField(rec) && !activates[kind] {
			skip[rec.Key] = fmt.Sprintf("the active %s version of this instance, and the bundle makes no other %s version active: an import never leaves a dictionary without its active version",
				v.Kind.Name(), v.Kind.Name())
		}
	}
	return skip, nil
}

func (dictionaryCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	// Active versions first: activating one steps down the version active
	// before, which the bundle may list as inactive, and an import never
	// deactivates a version by itself.
	ordered := slices.Clone(records)
	slices.SortStableFunc(ordered, func(a, b Record) int {
		aa, ba := activeField(a), activeField(b)
		switch {
		case aa && !ba:
			return -1
		case !aa && ba:
			return 1
		}
		return 0
	})
	for _, rec := range ordered {
		v, active, err := dictionaryVersion(rec)
		if err == nil {
			err = dictionary.ImportVersion(ctx, tx, by, v, active, reason)
		}
		if err != nil {
			return recordError("medical-dictionaries", rec.Key, err)
		}
	}
	return nil
}

// dictionaryVersion reads a record back into a version and its active flag.
func dictionaryVersion(rec Record) (*dictionary.Version, bool, error) {
	kind, release, ok := splitKey(rec.Key)
	if !ok {
		return nil, false, fmt.Errorf("its key is not dictionary/release, e.g. meddra/27.1")
	}
	if k := dictionary.Kind(kind); !slices.Contains(dictionary.Kinds(), k) {
		return nil, false, fmt.Errorf("%q is not a dictionary this build of cohort knows (it knows meddra and whodrug)", kind)
	}
	var f dictionaryFields
	if err := rec.Decode(&f); err != nil {
		return nil, false, err
	}
	v := &dictionary.Version{Kind: dictionary.Kind(kind), Release: release, Language: f.Language,
		Terms: make([]dictionary.Term, 0, len(f.Terms)), Links: make([]dictionary.Link, 0, len(f.Links))}
	for i, tuple := range f.Terms {
		t, err := parseTerm(i, tuple)
		if err != nil {
			return nil, false, err
		}
		v.Terms = append(v.Terms, t)
	}
	for i, pair := range f.Links {
		if len(pair) != 2 {
			return nil, false, fmt.Errorf("link %d has %d items; a link is [\"LEVEL code\", \"LEVEL code\"], broader term first", i+1, len(pair))
		}
		parent, okP := parseRef(pair[0])
		child, okC := parseRef(pair[1])
		if !okP || !okC {
			return nil, false, fmt.Errorf("link %d is %q → %q; each end is a level and a code, e.g. \"PT 10019211\"", i+1, pair[0], pair[1])
		}
		v.Links = append(v.Links, dictionary.Link{Parent: parent, Child: child})
	}
	return v, f.Active, nil
}
