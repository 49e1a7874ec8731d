package migration

import (
	"sort"
	"time"
)

// Report is what a migration run did.
type Report struct {
	// Spec is the specification's name; Run names the run (the audit
	// trail's reason).
	Spec       string    `json:"spec"`
	Run        string    `json:"run"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Tables has one entry per mapped source table, in the order read.
	Tables []*TableReport `json:"tables"`
	// Totals of what was stored.
	Volunteers     int `json:"volunteers"`
	ListEntries    int `json:"list_entries"`
	Studies        int `json:"studies"`
	Histories      int `json:"histories"`
	Participations int `json:"participations"`
	// Duplicates counts volunteer rows found to be possible duplicates of
	// another (merged or rejected, per the specification).
	Duplicates int `json:"duplicates"`
}

// TableReport is what happened to one source table.
type TableReport struct {
	Table  string `json:"table"`
	Target string `json:"target"`
	Read   int    `json:"read"`
	// Migrated rows became records; Merged rows were folded into another
	// row's volunteer; Rejected rows were not migrated.
	Migrated int `json:"migrated"`
	Merged   int `json:"merged"`
	Rejected int `json:"rejected"`
	// ByReason counts the rejected rows per reason code.
	ByReason map[string]int `json:"by_reason"`
	// Rejections lists rejected rows (the first MaxRejections; Omitted
	// counts the rest) with the row number and reason.
	Rejections []Rejection    `json:"rejections"`
	Omitted    int            `json:"omitted,omitempty"`
	Fields     []*FieldStats  `json:"fields"`
	Merges     []Merge        `json:"merges,omitempty"`
	fieldIndex map[string]int `json:"-"`
}

// MaxRejections is how many rejected rows a table's report lists.
const MaxRejections = 5000

// Rejection is one source row that was not migrated, and why.
type Rejection struct {
	Row int `json:"row"`
	// Key is the row's legacy key, when the table has one.
	Key    string `json:"key,omitempty"`
	Field  string `json:"field,omitempty"`
	Column string `json:"column,omitempty"`
	// Reason is a short code (required, bad_date, unmapped_code,
	// duplicate, …) for counting; Message says it in a sentence.
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Merge records a volunteer row folded into an earlier one.
type Merge struct {
	Row     int    `json:"row"`
	Key     string `json:"key"`
	IntoRow int    `json:"into_row"`
	IntoKey string `json:"into_key"`
	Why     string `json:"why"`
}

// FieldStats counts what happened to one field's values.
type FieldStats struct {
	Field  string `json:"field"`
	Column string `json:"column"`
	// Filled values are non-empty after transforms and defaults; Empty are
	// empty; Transformed differ from the source value; Defaulted came from
	// the default; Cleared broke a rule and were dropped (on_invalid
	// "clear"); Rejected made their row rejected.
	Filled      int `json:"filled"`
	Empty       int `json:"empty"`
	Transformed int `json:"transformed"`
	Defaulted   int `json:"defaulted"`
	Cleared     int `json:"cleared"`
	Rejected    int `json:"rejected"`
	// Distinct counts the different non-empty values (up to
	// MaxDistinct; DistinctCapped says it stopped counting).
	Distinct       int  `json:"distinct"`
	DistinctCapped bool `json:"distinct_capped,omitempty"`

	seen map[string]struct{}
}

// MaxDistinct is where counting distinct values of a field stops.
const MaxDistinct = 200000

func (f *FieldStats) value(v string) {
	if v == "" {
		f.Empty++
		return
	}
	f.Filled++
	if f.DistinctCapped {
		return
	}
	if f.seen == nil {
		f.seen = map[string]struct{}{}
	}
	if _, ok := f.seen[v]; !ok {
		f.seen[v] = struct{}{}
		f.Distinct++
		if f.Distinct >= MaxDistinct {
			f.DistinctCapped, f.seen = true, nil
		}
	}
}

func newTableReport(m *Mapping, target string) *TableReport {
	t := &TableReport{Table: m.Table, Target: target, ByReason: map[string]int{}, fieldIndex: map[string]int{}}
	for i := range m.Fields {
		t.fieldIndex[m.Fields[i].Field] = i
		t.Fields = append(t.Fields, &FieldStats{Field: m.Fields[i].Field, Column: m.Fields[i].column()})
	}
	return t
}

// field returns the statistics of a target field, nil when not mapped.
func (t *TableReport) field(name string) *FieldStats {
	if i, ok := t.fieldIndex[name]; ok {
		return t.Fields[i]
	}
	return nil
}

func (t *TableReport) reject(r Rejection) {
	t.Rejected++
	t.ByReason[r.Reason]++
	if fs := t.field(r.Field); fs != nil {
		fs.Rejected++
	}
	if len(t.Rejections) < MaxRejections {
		t.Rejections = append(t.Rejections, r)
	} else {
		t.Omitted++
	}
}

// Table returns the report of a source table, nil if not in the run.
func (r *Report) Table(name string) *TableReport {
	for _, t := range r.Tables {
		if t.Table == name {
			return t
		}
	}
	return nil
}

// Rejected is the number of rejected rows over all tables.
func (r *Report) Rejected() int {
	n := 0
	for _, t := range r.Tables {
		n += t.Rejected
	}
	return n
}

// Reasons returns a table's rejection reasons, commonest first.
func (t *TableReport) Reasons() []ReasonCount {
	var out []ReasonCount
	for k, v := range t.ByReason {
		out = append(out, ReasonCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// ReasonCount is a rejection reason and how many rows it rejected.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Difference is one figure that changed between two runs.
type Difference struct {
	Table string `json:"table"`
	// Field is empty for a table-level figure.
	Field  string `json:"field,omitempty"`
	Figure string `json:"figure"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// Delta is After minus Before.
func (d Difference) Delta() int { return d.After - d.Before }

// Compare lists the figures that differ between two runs' reports: per
// table read, migrated, merged, rejected and rejections per reason; per
// field filled, empty, transformed, defaulted, cleared, rejected and
// distinct. A table or field in one run only is compared with zeros.
func Compare(before, after *Report) []Difference {
	var out []Difference
	order, tables := pairByName(before.Tables, after.Tables, func(t *TableReport) string { return t.Table })
	zero := &TableReport{ByReason: map[string]int{}}
	for _, name := range order {
		p := tables[name]
		a, b := p[0], p[1]
		if a == nil {
			a = zero
		}
		if b == nil {
			b = zero
		}
		add := func(field, fig string, x, y int) {
			if x != y {
				out = append(out, Difference{Table: name, Field: field, Figure: fig, Before: x, After: y})
			}
		}
		add("", "read", a.Read, b.Read)
		add("", "migrated", a.Migrated, b.Migrated)
		add("", "merged", a.Merged, b.Merged)
		add("", "rejected", a.Rejected, b.Rejected)
		reasons := map[string]bool{}
		for k := range a.ByReason {
			reasons[k] = true
		}
		for k := range b.ByReason {
			reasons[k] = true
		}
		var rs []string
		for k := range reasons {
			rs = append(rs, k)
		}
		sort.Strings(rs)
		for _, k := range rs {
			add("", "rejected: "+k, a.ByReason[k], b.ByReason[k])
		}
		forder, fields := pairByName(a.Fields, b.Fields, func(f *FieldStats) string { return f.Field })
		for _, fname := range forder {
			q := fields[fname]
			x, y := q[0], q[1]
			if x == nil {
				x = &FieldStats{}
			}
			if y == nil {
				y = &FieldStats{}
			}
			add(fname, "filled", x.Filled, y.Filled)
			add(fname, "empty", x.Empty, y.Empty)
			add(fname, "transformed", x.Transformed, y.Transformed)
			add(fname, "defaulted", x.Defaulted, y.Defaulted)
			add(fname, "cleared", x.Cleared, y.Cleared)
			add(fname, "rejected", x.Rejected, y.Rejected)
			add(fname, "distinct", x.Distinct, y.Distinct)
		}
	}
	return out
}

// pairByName lines up what two runs report under the same name (tables,
// or the fields of one table), in the order the names first appear; a
// name in one run only has nil on the other side.
func pairByName[T any](before, after []*T, name func(*T) string) (names []string, pairs map[string][2]*T) {
	pairs = map[string][2]*T{}
	for i, list := range [2][]*T{before, after} {
		for _, x := range list {
			n := name(x)
			p, ok := pairs[n]
			if !ok {
				names = append(names, n)
			}
			p[i] = x
			pairs[n] = p
		}
	}
	return names, pairs
}

// RowsRead is the number of source rows read over all tables.
func (r *Report) RowsRead() int {
	n := 0
	for _, t := range r.Tables {
		n += t.Read
	}
	return n
}
