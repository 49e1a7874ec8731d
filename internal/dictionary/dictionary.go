// Package dictionary reads the medical dictionaries a clinic codes with —
// MedDRA for adverse events and medical history, WHODrug for medications —
// from their licensed distribution files into a Version: every term with
// its level and code, and the hierarchy between them. A Version is checked
// whole before it is returned, so storage can import it in one transaction
// or not at all. Storage (store.go, reader.go) keeps imported versions side
// by side in the instance's database, one active per dictionary, and
// answers search and browsing from indexes there.
//
// Dictionaries are licensed, so the repository carries only synthetic
// files in the real layouts (testdata/ and the demodata package).
package dictionary

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Kind names a dictionary.
type Kind string

// The dictionaries cohort reads.
const (
	MedDRA  Kind = "meddra"
	WHODrug Kind = "whodrug"
)

// Level is a level of a dictionary's hierarchy.
type Level string

// MedDRA's five levels, from the broadest.
const (
	SOC  Level = "SOC"  // System Organ Class
	HLGT Level = "HLGT" // High Level Group Term
	HLT  Level = "HLT"  // High Level Term
	PT   Level = "PT"   // Preferred Term
	LLT  Level = "LLT"  // Lowest Level Term, what verbatim terms are coded to
)

// WHODrug's levels: the five levels of the ATC classification and the drug
// names classified under them.
const (
	ATC1 Level = "ATC1" // anatomical main group, e.g. N
	ATC2 Level = "ATC2" // therapeutic subgroup, e.g. N02
	ATC3 Level = "ATC3" // pharmacological subgroup, e.g. N02B
	ATC4 Level = "ATC4" // chemical subgroup, e.g. N02BE
	ATC5 Level = "ATC5" // chemical substance, e.g. N02BE01
	Drug Level = "DRUG" // a drug name: preferred name or trade name
)

var levelInfo = map[Level]struct {
	kind  Kind
	depth int
}{
	SOC: {MedDRA, 1}, HLGT: {MedDRA, 2}, HLT: {MedDRA, 3}, PT: {MedDRA, 4}, LLT: {MedDRA, 5},
	ATC1: {WHODrug, 1}, ATC2: {WHODrug, 2}, ATC3: {WHODrug, 3}, ATC4: {WHODrug, 4}, ATC5: {WHODrug, 5},
	Drug: {WHODrug, 6},
}

// Kind returns the dictionary the level belongs to, or "" for an unknown level.
func (l Level) Kind() Kind { return levelInfo[l].kind }

// Depth returns how far down the hierarchy the level is, 1 for the top
// (SOC, ATC1), or 0 for an unknown level.
func (l Level) Depth() int { return levelInfo[l].depth }

// TermRef identifies a term within a version. MedDRA codes are not unique
// across levels — every PT has an LLT with the same code — so a code alone
// is not enough.
type TermRef struct {
	Level Level
	Code  string
}

// String renders the reference as messages show it, e.g. "PT 94000390".
func (r TermRef) String() string { return string(r.Level) + " " + r.Code }

// Term is one entry of a dictionary.
type Term struct {
	Level Level
	Code  string
	Name  string
	// Current is false for a MedDRA LLT its maintainers flag as no longer
	// current (llt_currency N): it stays for data coded in the past but is
	// not offered for new coding. Every other term is current.
	Current bool
	// Abbrev is a MedDRA SOC's abbreviation, e.g. "Nerv".
	Abbrev string
	// PrimarySOC is, for a MedDRA PT, the code of its primary SOC: the one
	// SOC a multi-axial PT is counted under in summaries.
	PrimarySOC string
	// Order is a MedDRA SOC's place in the internationally agreed order
	// (intl_ord.asc), 1 first; 0 when the distribution gives none.
	Order int
	// Preferred marks a WHODrug drug name that is the preferred name of its
	// drug record and variant (sequence number 2 is 001); other drug names
	// are trade names.
	Preferred bool
}

// Ref returns the term's reference.
func (t Term) Ref() TermRef { return TermRef{t.Level, t.Code} }

// Link is one edge of the hierarchy, from a broader term to a narrower one.
type Link struct {
	Parent TermRef
	Child  TermRef
}

// Path is one route from the top of the hierarchy down to a term.
type Path struct {
	// Terms run from the top (a SOC or ATC main group) to the term itself.
	Terms []Term
	// Primary marks, for a path through a MedDRA PT, the path through the
	// PT's primary SOC. It is false on every other path.
	Primary bool
}

// Version is one release of a dictionary. Build one with a parser or
// NewVersion, and share it by pointer: it keeps indexes built on first use.
type Version struct {
	Kind Kind
	// Release is the release as its distribution names it, e.g. "27.0" or
	// "GLOBALB3Mar26"; empty when the distribution carries no release file
	// and the caller has to supply it.
	Release string
	// Language is the language of a MedDRA release, e.g. "English".
	Language string
	Terms    []Term
	Links    []Link

	once     sync.Once
	byRef    map[TermRef]int
	children map[TermRef][]int
	parents  map[TermRef][]int
	folded   []string // Normalize of each term's name, for Search
}

// NewVersion checks terms and links for consistency and returns them as a
// Version: every level belongs to kind, no term is listed twice, every link
// joins existing terms one level apart (or an ATC group to a drug), and a
// PT's primary SOC exists. Storage uses it to rebuild a Version it saved.
func NewVersion(kind Kind, release, language string, terms []Term, links []Link) (*Version, error) {
	if kind != MedDRA && kind != WHODrug {
		return nil, fmt.Errorf("new dictionary version: unknown dictionary kind %q", kind)
	}
	v := &Version{Kind: kind, Release: release, Language: language, Terms: terms, Links: links}
	var errs []error
	seen := make(map[TermRef]bool, len(terms))
	for _, t := range terms {
		switch {
		case t.Level.Kind() != kind:
			errs = append(errs, fmt.Errorf("term %s: level %s is not a %s level", t.Ref(), t.Level, kind))
		case t.Code == "":
			errs = append(errs, fmt.Errorf("a %s term named %q has no code", t.Level, t.Name))
		case strings.TrimSpace(t.Name) == "":
			errs = append(errs, fmt.Errorf("term %s has no name", t.Ref()))
		case seen[t.Ref()]:
			errs = append(errs, fmt.Errorf("term %s is listed twice", t.Ref()))
		}
		seen[t.Ref()] = true
	}
	for _, t := range terms {
		if t.PrimarySOC != "" && !seen[TermRef{SOC, t.PrimarySOC}] {
			errs = append(errs, fmt.Errorf("term %s: its primary SOC %s does not exist", t.Ref(), t.PrimarySOC))
		}
	}
	seenLink := make(map[Link]bool, len(links))
	for _, l := range links {
		switch {
		case !seen[l.Parent]:
			errs = append(errs, fmt.Errorf("link %s → %s: %s does not exist", l.Parent, l.Child, l.Parent))
		case !seen[l.Child]:
			errs = append(errs, fmt.Errorf("link %s → %s: %s does not exist", l.Parent, l.Child, l.Child))
		case !linkable(l.Parent.Level, l.Child.Level):
			errs = append(errs, fmt.Errorf("link %s → %s: a %s cannot be the parent of a %s", l.Parent, l.Child, l.Parent.Level, l.Child.Level))
		case seenLink[l]:
			errs = append(errs, fmt.Errorf("link %s → %s is listed twice", l.Parent, l.Child))
		}
		seenLink[l] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new %s version %s: %w", kind, release, err)
	}
	return v, nil
}

// linkable says whether parent may be the direct parent of child: the next
// level down, or any ATC group above a drug name, as WHODrug classifies
// drugs at whichever ATC level fits.
func linkable(parent, child Level) bool {
	if child == Drug {
		return parent.Kind() == WHODrug && parent != Drug
	}
	return parent.Kind() == child.Kind() && parent.Depth()+1 == child.Depth()
}

func (v *Version) index() {
	v.once.Do(func() {
		v.byRef = make(map[TermRef]int, len(v.Terms))
		v.folded = make([]string, len(v.Terms))
		for i, t := range v.Terms {
			v.byRef[t.Ref()] = i
			v.folded[i] = Normalize(t.Name)
		}
		v.children = map[TermRef][]int{}
		v.parents = map[TermRef][]int{}
		for _, l := range v.Links {
			if c, ok := v.byRef[l.Child]; ok {
				v.children[l.Parent] = append(v.children[l.Parent], c)
			}
			if p, ok := v.byRef[l.Parent]; ok {
				v.parents[l.Child] = append(v.parents[l.Child], p)
			}
		}
	})
}

// Lookup returns the term with the given level and code.
func (v *Version) Lookup(level Level, code string) (Term, bool) {
	v.index()
	i, ok := v.byRef[TermRef{level, code}]
	if !ok {
		return Term{}, false
	}
	return v.Terms[i], true
}

// Roots returns the top of the hierarchy: the SOCs in international order
// (by name when the distribution gives no order), or the ATC main groups
// by code.
func (v *Version) Roots() []Term {
	var out []Term
	for _, t := range v.Terms {
		if t.Level.Depth() == 1 {
			out = append(out, t)
		}
	}
	sortTerms(out)
	return out
}

// Children returns the terms directly under the given term, in the order a
// browser shows them: ATC groups by code, drug names and MedDRA terms by
// name.
func (v *Version) Children(level Level, code string) []Term {
	v.index()
	return v.termsAt(v.children[TermRef{level, code}])
}

// Parents returns the terms directly above the given term; a multi-axial
// MedDRA PT has several.
func (v *Version) Parents(level Level, code string) []Term {
	v.index()
	return v.termsAt(v.parents[TermRef{level, code}])
}

func (v *Version) termsAt(idx []int) []Term {
	out := make([]Term, len(idx))
	for i, j := range idx {
		out[i] = v.Terms[j]
	}
	sortTerms(out)
	return out
}

// sortTerms puts terms in the order a browser shows them; storage sorts
// what it reads with it too, so both answer in the same order.
func sortTerms(ts []Term) {
	slices.SortStableFunc(ts, func(a, b Term) int {
		if a.Level != b.Level {
			return a.Level.Depth() - b.Level.Depth()
		}
		if a.Order != b.Order {
			switch {
			case a.Order == 0:
				return 1
			case b.Order == 0:
				return -1
			}
			return a.Order - b.Order
		}
		if a.Level.Kind() == WHODrug && a.Level != Drug {
			return strings.Compare(a.Code, b.Code)
		}
		if c := strings.Compare(Normalize(a.Name), Normalize(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
}

// Paths returns every route from the top of the hierarchy down to the given
// term, e.g. SOC › HLGT › HLT › PT › LLT for an LLT; a multi-axial PT and
// its LLTs have one per SOC. The primary path comes first, the rest follow
// by the names along them. A term that does not exist has no paths.
func (v *Version) Paths(level Level, code string) []Path {
	v.index()
	start, ok := v.byRef[TermRef{level, code}]
	if !ok {
		return nil
	}
	var paths []Path
	// Walk upwards collecting the route from the term to each root; the
	// hierarchy is a DAG a few levels deep, so plain recursion is enough.
	var walk func(i int, below []Term)
	walk = func(i int, below []Term) {
		route := append([]Term{v.Terms[i]}, below...)
		ups := v.parents[v.Terms[i].Ref()]
		if len(ups) == 0 {
			paths = append(paths, Path{Terms: route})
			return
		}
		for _, p := range ups {
			walk(p, route)
		}
	}
	walk(start, nil)
	for i := range paths {
		paths[i].Primary = isPrimary(paths[i].Terms)
	}
	slices.SortStableFunc(paths, func(a, b Path) int {
		if a.Primary != b.Primary {
			if a.Primary {
				return -1
			}
			return 1
		}
		for k := 0; k < len(a.Terms) && k < len(b.Terms); k++ {
			if c := strings.Compare(Normalize(a.Terms[k].Name), Normalize(b.Terms[k].Name)); c != 0 {
				return c
			}
		}
		return len(a.Terms) - len(b.Terms)
	})
	return paths
}

// isPrimary reports whether a root-first path runs through a PT and that
// PT's primary SOC.
func isPrimary(route []Term) bool {
	if len(route) == 0 || route[0].Level != SOC {
		return false
	}
	for _, t := range route {
		if t.Level == PT {
			return t.PrimarySOC == route[0].Code
		}
	}
	return false
}

// PreferredName returns the preferred name of a WHODrug drug name given by
// its drug code: the name with the same drug record number and sequence
// number 1 and sequence number 2 "001". For a preferred name that is the
// term itself.
func (v *Version) PreferredName(drugCode string) (Term, bool) {
	if len(drugCode) != 11 {
		return Term{}, false
	}
	return v.Lookup(Drug, drugCode[:8]+"001")
}
