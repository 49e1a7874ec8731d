package migration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Spec is a Migration Specification: which legacy tables and columns become
// which cohort records and fields, how values are transformed on the way and
// which rules they must meet. It is read from JSON by ParseSpec.
type Spec struct {
	// Name and Description say which legacy system the specification is for.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// DateLayouts are the layouts dates are tried in, in order, unless a
	// field names its own ("DD/MM/YYYY", "YYYY-MM-DD", "D MON YYYY"; see
	// docs/migration-spec.md).
	DateLayouts []string `json:"date_layouts,omitempty"`
	// CallingCode completes phone numbers written without a country code
	// ("+44").
	CallingCode string `json:"calling_code,omitempty"`
	// CodeMaps are named tables from legacy values to cohort codes, used by
	// the "map:NAME" transform. Legacy values are compared trimmed and
	// without regard to case.
	CodeMaps map[string]map[string]string `json:"code_maps,omitempty"`
	// Lists fill Volunteer Configure lists.
	Lists []ListMapping `json:"lists,omitempty"`
	// Studies become archived studies.
	Studies *Mapping `json:"studies,omitempty"`
	// Volunteers become volunteers.
	Volunteers *VolunteerMapping `json:"volunteers,omitempty"`
	// Histories add medical history, medications or substance use to the
	// volunteers.
	Histories []ChildMapping `json:"histories,omitempty"`
	// Participation adds historical study participation to the volunteers.
	Participation *ChildMapping `json:"participation,omitempty"`

	// lines maps each key path ("volunteers.fields[2].transforms[0]") to its
	// line in the file, for errors.
	lines map[string]int
	// compiled holds each field's compiled pattern and date layouts.
	compiled map[*Field]*compiledField
}

// Mapping maps one source table to one kind of cohort record.
type Mapping struct {
	// Table is the source table (a CSV file's name without .csv).
	Table  string  `json:"table"`
	Fields []Field `json:"fields"`
}

// ListMapping fills one Configure list, or several when a field "list"
// says which list each row belongs to.
type ListMapping struct {
	Mapping
	// List is the Configure list's code (medical_history, medications,
	// substance_use, recruitment_source, ethnicity, race).
	List string `json:"list,omitempty"`
}

// VolunteerMapping maps the legacy volunteer table.
type VolunteerMapping struct {
	Mapping
	// Key is the column that identifies a volunteer in the legacy system;
	// child tables refer to it.
	Key string `json:"key"`
	// Duplicates says what happens to a row that looks like a volunteer
	// already read (volunteer duplicate detection): "reject" it with the
	// reason, or "merge" it into the first (its empty fields filled, its
	// phones, history and participation added).
	Duplicates string `json:"duplicates"`
}

// ChildMapping maps a table whose rows belong to a volunteer.
type ChildMapping struct {
	Mapping
	// Volunteer is the column holding the legacy volunteer key.
	Volunteer string `json:"volunteer"`
	// List is, for histories, the Configure list the codes come from:
	// medical_history, medications or substance_use.
	List string `json:"list,omitempty"`
}

// Field maps one cohort field.
type Field struct {
	// Field is the cohort field (see docs/migration-spec.md for each target's).
	Field string `json:"field"`
	// Column is the source column; Columns are several, joined by Separator
	// (a space unless given); Value is a constant instead.
	Column    string   `json:"column,omitempty"`
	Columns   []string `json:"columns,omitempty"`
	Separator *string  `json:"separator,omitempty"`
	Value     string   `json:"value,omitempty"`
	// Transforms apply in order: trim, collapse, upper, lower, title,
	// digits, given_name, family_name, map:NAME.
	Transforms []string `json:"transforms,omitempty"`
	// Unmapped says what map:NAME does with a value its table lacks:
	// "reject" the row (the default), "keep" the value, or "clear" it.
	Unmapped string `json:"unmapped,omitempty"`
	// DateLayouts override the specification's date layouts for this field.
	DateLayouts []string `json:"date_layouts,omitempty"`
	// Default replaces an empty value.
	Default string `json:"default,omitempty"`
	// Rules: Required refuses an empty value, Pattern is a regular
	// expression the whole value must match, Allowed the values allowed,
	// After and Before bound a date (YYYY-MM-DD, or "today").
	Required bool     `json:"required,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	Allowed  []string `json:"allowed,omitempty"`
	After    string   `json:"after,omitempty"`
	Before   string   `json:"before,omitempty"`
	// OnInvalid says what a value breaking a rule (or the volunteer
	// database's own rule for the field) does: "reject" the row (the
	// default) or "clear" the value and keep the row.
	OnInvalid string `json:"on_invalid,omitempty"`
}

// column names what the field reads, for reports.
func (f *Field) column() string {
	switch {
	case f.Column != "":
		return f.Column
	case len(f.Columns) > 0:
		return strings.Join(f.Columns, "+")
	}
	return "(constant)"
}

type compiledField struct {
	pattern *regexp.Regexp
	layouts []dateLayout
	after   volunteer.Date
	before  volunteer.Date
	today   [2]bool // after / before is "today"
}

// Target fields, per kind of mapping.
var (
	listFields      = []string{"list", "code", "label", "description", "sort_order", "active"}
	studyFields     = []string{"code", "title", "phase", "sponsor", "protocol_number"}
	volunteerFields = []string{"number", "given_name", "family_name", "other_names", "birth_date", "sex_at_birth", "gender",
		"ethnicity", "races", "phone_mobile", "phone_home", "phone_work", "phone_other", "email", "address_line1", "address_line2",
		"postal_code", "city", "region", "country", "preferred_site", "status", "recruitment_source", "notes", "next_eligible"}
	historyFields       = []string{"code", "start", "end", "note"}
	participationFields = []string{"study", "subject_number", "start", "end", "outcome"}
	dateFields          = []string{"birth_date", "next_eligible", "start", "end"}
	transformNames      = []string{"trim", "collapse", "upper", "lower", "title", "digits", "given_name", "family_name", "map:NAME"}
	historyLists        = []string{configlist.MedicalHistory, configlist.Medications, configlist.SubstanceUse}
)

// SpecError is one problem with a specification, at a line and key.
type SpecError struct {
	Line int
	Key  string
	Msg  string
}

// Error says where and what.
func (e SpecError) Error() string {
	where := "line " + strconv.Itoa(e.Line)
	if e.Line == 0 {
		where = "the specification"
	}
	if e.Key != "" {
		where += " (" + e.Key + ")"
	}
	return where + ": " + e.Msg
}

// SpecErrors are all the problems found in a specification.
type SpecErrors []SpecError

// Error lists every problem, one a line.
func (es SpecErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "The migration specification has " + plural(len(es), "problem") + ":\n  " + strings.Join(parts, "\n  ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// ParseSpec reads and checks a specification. A problem is returned as
// SpecErrors, each naming the line and key; JSON that cannot be read names
// the line and column.
func ParseSpec(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the migration specification: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, SpecErrors{jsonProblem(data, err)}
	}
	if dec.More() {
		line, _ := lineCol(data, dec.InputOffset())
		return nil, SpecErrors{{Line: line, Msg: "there is more after the specification's closing brace"}}
	}
	s.lines = keyLines(data)
	if errs := s.check(); len(errs) > 0 {
		return nil, errs
	}
	return &s, nil
}

func jsonProblem(data []byte, err error) SpecError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return SpecError{Line: line, Msg: fmt.Sprintf("column %d: the JSON cannot be read: %s", col, se.Error())}
	case errors.As(err, &te):
		line, _ := lineCol(data, te.Offset)
		return SpecError{Line: line, Key: te.Field, Msg: fmt.Sprintf("a %s is needed here, not a JSON %s", te.Type, te.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		line := 0
		if i := bytes.Index(data, []byte(`"`+name+`"`)); i >= 0 {
			line, _ = lineCol(data, int64(i))
		}
		return SpecError{Line: line, Key: name, Msg: fmt.Sprintf("%q is not a key of the specification (misspelt?)", name)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, _ := lineCol(data, int64(len(data)))
		return SpecError{Line: line, Msg: "the file ends before the specification does"}
	}
	return SpecError{Msg: err.Error()}
}

func lineCol(data []byte, off int64) (line, col int) {
	off = min(off, int64(len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// keyLines walks the JSON and records the line of every key and array
// element by its path.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string) error
	at := func() int {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
			off++
		}
		l, _ := lineCol(data, off)
		return l
	}
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			for dec.More() {
				line := at()
				k, err := dec.Token()
				if err != nil {
					return err
				}
				p := fmt.Sprint(k)
				if path != "" {
					p = path + "." + p
				}
				out[p] = line
				if err := walk(p); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				p := path + "[" + strconv.Itoa(i) + "]"
				out[p] = at()
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token()
		return err
	}
	walk("")
	return out
}

// problems collects a specification's problems.
type problems struct {
	s    *Spec
	errs SpecErrors
}

func (p *problems) add(key, format string, args ...any) {
	line := p.s.lines[key]
	for k := key; line == 0 && k != ""; {
		// A key with no line of its own (a missing key) is reported at
		// its parent's.
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
		line = p.s.lines[k]
	}
	p.errs = append(p.errs, SpecError{Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func quoted(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// check validates the specification as a whole and compiles its fields.
func (s *Spec) check() SpecErrors {
	p := &problems{s: s}
	s.compiled = map[*Field]*compiledField{}
	if strings.TrimSpace(s.Name) == "" {
		p.add("name", "the specification needs a name saying which legacy system it is for")
	}
	for i, l := range s.DateLayouts {
		if _, err := parseLayout(l); err != nil {
			p.add(fmt.Sprintf("date_layouts[%d]", i), "%s", err)
		}
	}
	if c := s.CallingCode; c != "" && !regexp.MustCompile(`^\+[1-9][0-9]{0,3}$`).MatchString(c) {
		p.add("calling_code", "%q is not a calling code such as +44", c)
	}
	for name, m := range s.CodeMaps {
		if len(m) == 0 {
			p.add("code_maps."+name, "the code map %q is empty", name)
		}
		// Legacy values are compared trimmed and in lower case.
		norm := make(map[string]string, len(m))
		for k, v := range m {
			lk := strings.ToLower(strings.TrimSpace(k))
			if prev, dup := norm[lk]; dup && prev != v {
				p.add("code_maps."+name+"."+k, "the legacy value %q maps to both %q and %q (values are compared without case)", k, prev, v)
			}
			norm[lk] = v
		}
		s.CodeMaps[name] = norm
	}
	if s.Volunteers == nil && len(s.Lists) == 0 && s.Studies == nil {
		p.add("", "the specification maps nothing: give lists, studies or volunteers")
	}
	tables := map[string]string{}
	table := func(key, t string) {
		if strings.TrimSpace(t) == "" {
			p.add(key+".table", "the source table is missing")
			return
		}
		if prev, ok := tables[strings.ToLower(t)]; ok {
			p.add(key+".table", "the table %q is already mapped at %s; map each table once", t, prev)
		}
		tables[strings.ToLower(t)] = key
	}
	for i := range s.Lists {
		key := fmt.Sprintf("lists[%d]", i)
		l := &s.Lists[i]
		table(key, l.Table)
		has := s.checkFields(p, key, &l.Mapping, listFields, []string{"code"})
		if l.List == "" && !has["list"] {
			p.add(key+".list", "say which Configure list the table fills, with \"list\" or a field \"list\"")
		}
		if _, ok := configlist.KindOf(l.List); l.List != "" && (!ok || l.List == configlist.Question) {
			p.add(key+".list", "%q is not a Configure list the migration fills; use one of %s", l.List,
				quoted([]string{configlist.MedicalHistory, configlist.Medications, configlist.SubstanceUse, configlist.RecruitmentSource, configlist.Ethnicity, configlist.Race}))
		}
	}
	if s.Studies != nil {
		table("studies", s.Studies.Table)
		s.checkFields(p, "studies", s.Studies, studyFields, []string{"code"})
	}
	if v := s.Volunteers; v != nil {
		table("volunteers", v.Table)
		s.checkFields(p, "volunteers", &v.Mapping, volunteerFields, []string{"given_name", "family_name", "birth_date"})
		if strings.TrimSpace(v.Key) == "" {
			p.add("volunteers.key", "name the column that identifies a volunteer in the legacy system")
		}
		if v.Duplicates != "reject" && v.Duplicates != "merge" {
			p.add("volunteers.duplicates", "say what to do with possible duplicates: \"reject\" or \"merge\" (not %q)", v.Duplicates)
		}
	}
	child := func(key string, c *ChildMapping, fields, need []string) {
		table(key, c.Table)
		s.checkFields(p, key, &c.Mapping, fields, need)
		if strings.TrimSpace(c.Volunteer) == "" {
			p.add(key+".volunteer", "name the column holding the legacy volunteer key")
		}
		if s.Volunteers == nil {
			p.add(key, "rows that belong to volunteers need a \"volunteers\" mapping")
		}
	}
	for i := range s.Histories {
		key := fmt.Sprintf("histories[%d]", i)
		h := &s.Histories[i]
		child(key, h, historyFields, []string{"code"})
		if !slices.Contains(historyLists, h.List) {
			p.add(key+".list", "%q is not a history list; use one of %s", h.List, quoted(historyLists))
		}
	}
	if s.Participation != nil {
		child("participation", s.Participation, participationFields, []string{"study"})
	}
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	return p.errs
}

// checkFields checks a mapping's fields against the target's and returns
// which target fields are mapped.
func (s *Spec) checkFields(p *problems, key string, m *Mapping, allowed, need []string) map[string]bool {
	has := map[string]bool{}
	if len(m.Fields) == 0 {
		p.add(key+".fields", "the mapping has no fields")
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		fk := fmt.Sprintf("%s.fields[%d]", key, i)
		if !slices.Contains(allowed, f.Field) {
			p.add(fk+".field", "%q is not a field of this target; use one of %s", f.Field, quoted(allowed))
		}
		if has[f.Field] {
			p.add(fk+".field", "the field %q is mapped twice", f.Field)
		}
		has[f.Field] = true
		sources := 0
		for _, set := range []bool{f.Column != "", len(f.Columns) > 0, f.Value != ""} {
			if set {
				sources++
			}
		}
		if sources > 1 {
			p.add(fk, "give one of \"column\", \"columns\" or \"value\", not several")
		}
		if sources == 0 && f.Default == "" {
			p.add(fk, "say where the value comes from: \"column\", \"columns\", \"value\" or at least a \"default\"")
		}
		c := &compiledField{}
		s.compiled[f] = c
		for j, t := range f.Transforms {
			tk := fmt.Sprintf("%s.transforms[%d]", fk, j)
			if name, ok := strings.CutPrefix(t, "map:"); ok {
				if _, ok := s.CodeMaps[name]; !ok {
					p.add(tk, "there is no code map %q under \"code_maps\"", name)
				}
				continue
			}
			if !slices.Contains(transformNames, t) {
				p.add(tk, "%q is not a transform; use one of %s", t, quoted(transformNames))
			}
		}
		switch f.Unmapped {
		case "", "reject", "keep", "clear":
		default:
			p.add(fk+".unmapped", "use \"reject\", \"keep\" or \"clear\", not %q", f.Unmapped)
		}
		switch f.OnInvalid {
		case "", "reject", "clear":
		default:
			p.add(fk+".on_invalid", "use \"reject\" or \"clear\", not %q", f.OnInvalid)
		}
		if f.Pattern != "" {
			re, err := regexp.Compile("^(?:" + f.Pattern + ")$")
			if err != nil {
				p.add(fk+".pattern", "the pattern cannot be read: %s", err)
			}
			c.pattern = re
		}
		isDate := slices.Contains(dateFields, f.Field)
		layouts := f.DateLayouts
		if len(layouts) == 0 {
			layouts = s.DateLayouts
		}
		if isDate {
			if len(layouts) == 0 {
				layouts = []string{"YYYY-MM-DD"}
			}
			for j, l := range layouts {
				dl, err := parseLayout(l)
				if err != nil {
					p.add(fmt.Sprintf("%s.date_layouts[%d]", fk, j), "%s", err)
					continue
				}
				c.layouts = append(c.layouts, dl)
			}
		} else if len(f.DateLayouts) > 0 || f.After != "" || f.Before != "" {
			p.add(fk, "date layouts and date ranges apply to date fields only (%s)", quoted(dateFields))
		}
		for _, b := range []struct {
			key, v string
			d      *volunteer.Date
			today  *bool
		}{{"after", f.After, &c.after, &c.today[0]}, {"before", f.Before, &c.before, &c.today[1]}} {
			if b.v == "" {
				continue
			}
			if b.v == "today" {
				*b.today = true
				continue
			}
			d, err := volunteer.ParseDate(b.v)
			if err != nil || !d.IsComplete() {
				p.add(fk+"."+b.key, "%q is not a date like 1900-01-01 or \"today\"", b.v)
			}
			*b.d = d
		}
	}
	for _, n := range need {
		if !has[n] {
			p.add(key+".fields", "the field %q is required for this target", n)
		}
	}
	return has
}
