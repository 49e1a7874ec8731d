package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Plan is what importing a bundle does (or, from Preview, would do) to
// this instance, category by category, in the fixed order.
type Plan struct {
	// Bundle is the manifest of the bundle the plan is for.
	Bundle     Manifest
	Categories []CategoryPlan
}

// CategoryPlan is the difference between one category of the bundle and
// this instance.
type CategoryPlan struct {
	Category string
	// Added are records the bundle has and this instance does not.
	Added []Record
	// Changed are records both have with different values.
	Changed []Change
	// Absent are keys this instance has and the bundle does not: an import
	// leaves them as they are (it never removes, archives or deactivates).
	Absent []string
	// Ignored are records of the bundle this instance refuses to take.
	Ignored []Ignored
	// Unchanged counts the records that are the same on both sides.
	Unchanged int
}

// Change is one record whose fields differ.
type Change struct {
	Key    string
	Fields []FieldChange
}

// FieldChange is one field's old and new value as people read them. For
// lists of text, Added and Removed name the items that come and go.
type FieldChange struct {
	Field   string
	Old     string
	New     string
	Added   []string
	Removed []string
}

// Ignored is an incoming record left out, with the reason.
type Ignored struct {
	Key string
	Why string
}

// Changes counts the records an import adds or changes.
func (p *Plan) Changes() int {
	n := 0
	for _, c := range p.Categories {
		n += c.Changes()
	}
	return n
}

// Changes counts the records an import adds or changes in this category.
func (c CategoryPlan) Changes() int { return len(c.Added) + len(c.Changed) }

// Summary says in a few words what the import does to the category, e.g.
// "2 added, 1 changed, 1 not in bundle (left as is)".
func (c CategoryPlan) Summary() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	add(len(c.Added), "added")
	add(len(c.Changed), "changed")
	add(c.Unchanged, "unchanged")
	add(len(c.Absent), "not in bundle (left as is)")
	add(len(c.Ignored), "ignored")
	if len(parts) == 0 {
		return "no records"
	}
	return strings.Join(parts, ", ")
}

// Fingerprint identifies the plan's effect. An import given the
// fingerprint its preview showed is refused if the instance changed since,
// so nobody applies a difference they did not see.
func (p *Plan) Fingerprint() string {
	b, _ := json.Marshal(struct {
		Hash       string
		Categories []CategoryPlan
	}{p.Bundle.SHA256, p.Categories})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// diff compares this instance's records of a category with the bundle's.
// Both lists are sorted by key.
func diff(category string, current, incoming []Record, skip map[string]string) (CategoryPlan, []Record) {
	plan := CategoryPlan{Category: category}
	var apply []Record
	have := map[string]Record{}
	for _, r := range current {
		have[r.Key] = r
	}
	want := map[string]bool{}
	for _, r := range incoming {
		want[r.Key] = true
		if why, ok := skip[r.Key]; ok {
			plan.Ignored = append(plan.Ignored, Ignored{Key: r.Key, Why: why})
			continue
		}
		old, ok := have[r.Key]
		if !ok {
			plan.Added = append(plan.Added, r)
			apply = append(apply, r)
			continue
		}
		if fields := fieldChanges(old, r); len(fields) > 0 {
			plan.Changed = append(plan.Changed, Change{Key: r.Key, Fields: fields})
			apply = append(apply, r)
			continue
		}
		plan.Unchanged++
	}
	for _, r := range current {
		if !want[r.Key] {
			plan.Absent = append(plan.Absent, r.Key)
		}
	}
	return plan, apply
}

// fieldChanges lists the fields of two versions of a record that differ,
// by field name.
func fieldChanges(old, new Record) []FieldChange {
	seen := map[string]bool{}
	var names []string
	for _, r := range []Record{old, new} {
		for f := range r.Fields {
			if !seen[f] {
				seen[f] = true
				names = append(names, f)
			}
		}
	}
	slices.Sort(names)
	var out []FieldChange
	for _, f := range names {
		o, n := old.Fields[f], new.Fields[f]
		if canonical(o) == canonical(n) {
			continue
		}
		fc := FieldChange{Field: f, Old: display(o), New: display(n)}
		ol, okOld := asTexts(o)
		nl, okNew := asTexts(n)
		if okOld && okNew {
			fc.Added, fc.Removed = without(nl, ol), without(ol, nl)
		}
		out = append(out, fc)
	}
	return out
}

func asTexts(v any) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []any:
		return texts(v)
	}
	return nil, false
}

// without returns the items of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
