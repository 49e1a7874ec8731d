package migration

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/study"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// Actor is who the audit trail says wrote what a migration run stored.
var Actor = audit.Actor{Name: "migration"}

// Options say how to run a migration.
type Options struct {
	// Run names the run; the audit trail's reason of every record is
	// "migration run: " + Run.
	Run string
	// Today judges dates (birth dates in the future, washouts); zero means
	// today.
	Today volunteer.Date
	// Progress, if set, is told what the run is doing, about every 1000
	// rows.
	Progress func(Progress)
}

// Progress is where a run is.
type Progress struct {
	// Phase is "read" while source tables are read, "store" while records
	// are written.
	Phase string
	Table string
	Rows  int
	// Of is the number of rows to store, during "store".
	Of int
}

// Run migrates src into the instance database db following spec. Reading
// and checking stream table by table; everything is stored in one
// transaction, so a failed or cancelled run leaves db as it was. Rejected
// rows do not fail the run: they are in the report.
func Run(ctx context.Context, db *store.DB, spec *Spec, src Source, opts Options) (*Report, error) {
	if spec == nil || spec.compiled == nil {
		return nil, errors.New("migrate: the specification was not read with ParseSpec")
	}
	if opts.Today.IsZero() {
		opts.Today = volunteer.Today()
	}
	if opts.Run == "" {
		opts.Run = time.Now().UTC().Format("2006-01-02 15:04:05")
	}
	if err := spec.checkColumns(ctx, src); err != nil {
		return nil, err
	}
	r := &run{spec: spec, src: src, opts: opts, reason: "migration run: " + opts.Run,
		rep: &Report{Spec: spec.Name, Run: opts.Run, StartedAt: time.Now().UTC()}}
	err := db.InTx(ctx, func(tx *store.Tx) error { return r.all(ctx, tx) })
	r.rep.FinishedAt = time.Now().UTC()
	if err != nil {
		return r.rep, err
	}
	return r.rep, nil
}

// checkColumns makes sure every mapped table and column is in the source
// before anything is read, naming the key of the specification.
func (s *Spec) checkColumns(ctx context.Context, src Source) error {
	var errs SpecErrors
	check := func(key string, m *Mapping, extra ...string) {
		cols, err := src.Columns(ctx, m.Table)
		if err != nil {
			errs = append(errs, SpecError{Line: s.lines[key+".table"], Key: key + ".table", Msg: err.Error()})
			return
		}
		have := columnIndex(cols)
		need := func(k, c string) {
			if _, ok := have[strings.ToLower(strings.TrimSpace(c))]; !ok {
				errs = append(errs, SpecError{Line: s.lines[k], Key: k, Msg: fmt.Sprintf("the table %s has no column %q (it has %s)", m.Table, c, strings.Join(cols, ", "))})
			}
		}
		for _, c := range extra {
			need(key, c)
		}
		for i, f := range m.Fields {
			if f.Column != "" {
				need(fmt.Sprintf("%s.fields[%d].column", key, i), f.Column)
			}
			for j, c := range f.Columns {
				need(fmt.Sprintf("%s.fields[%d].columns[%d]", key, i, j), c)
			}
		}
	}
	for i := range s.Lists {
		check(fmt.Sprintf("lists[%d]", i), &s.Lists[i].Mapping)
	}
	if s.Studies != nil {
		check("studies", s.Studies)
	}
	if s.Volunteers != nil {
		check("volunteers", &s.Volunteers.Mapping, s.Volunteers.Key)
	}
	for i := range s.Histories {
		check(fmt.Sprintf("histories[%d]", i), &s.Histories[i].Mapping, s.Histories[i].Volunteer)
	}
	if s.Participation != nil {
		check("participation", &s.Participation.Mapping, s.Participation.Volunteer)
	}
	if len(errs) > 0 {
		return fmt.Errorf("The specification does not fit the source: %w", errs)
	}
	return nil
}

// run is one migration run's working state.
type run struct {
	spec   *Spec
	src    Source
	opts   Options
	reason string
	rep    *Report

	lists   *registry.Lists
	studies map[string]bool

	// vols are the accepted volunteers in source order; byKey finds one by
	// legacy key (merged rows' keys find the volunteer they joined).
	vols     []*legacyVolunteer
	byKey    map[string]int
	rejected map[string]int // legacy key → row number of a rejected volunteer row
	blocks   map[volunteer.Date][]int
}

type legacyVolunteer struct {
	row      int
	key      string
	v        volunteer.Volunteer
	match    volunteer.MatchKey
	subjects []subject
	dropped  bool
}

type subject struct {
	study, number, outcome string
	start, end             volunteer.Date
	row                    int
}

func (r *run) progress(phase, table string, rows, of int) {
	if r.opts.Progress != nil {
		r.opts.Progress(Progress{Phase: phase, Table: table, Rows: rows, Of: of})
	}
}

func (r *run) all(ctx context.Context, tx *store.Tx) error {
	for i := range r.spec.Lists {
		if err := r.readList(ctx, tx, &r.spec.Lists[i]); err != nil {
			return err
		}
	}
	var err error
	if r.lists, err = registry.LoadLists(ctx, tx, true); err != nil {
		return err
	}
	if err := r.loadStudies(ctx, tx); err != nil {
		return err
	}
	if r.spec.Studies != nil {
		if err := r.readStudies(ctx, tx); err != nil {
			return err
		}
	}
	if r.spec.Volunteers == nil {
		return nil
	}
	if err := r.readVolunteers(ctx, tx); err != nil {
		return err
	}
	for i := range r.spec.Histories {
		if err := r.readHistory(ctx, &r.spec.Histories[i]); err != nil {
			return err
		}
	}
	if r.spec.Participation != nil {
		if err := r.readParticipation(ctx); err != nil {
			return err
		}
	}
	return r.store(ctx, tx)
}

// values evaluates a row's fields: source value, transforms, default, date
// parsing and rules. A rule broken by a field with on_invalid "clear"
// clears the value; otherwise the row is rejected.
func (r *run) values(m *Mapping, t *TableReport, row Row) (map[string]string, *Rejection) {
	out := make(map[string]string, len(m.Fields))
	for i := range m.Fields {
		f := &m.Fields[i]
		c := r.spec.compiled[f]
		st := t.Fields[i]
		raw := f.Value
		switch {
		case f.Column != "":
			raw, _ = row.Get(f.Column)
		case len(f.Columns) > 0:
			sep := " "
			if f.Separator != nil {
				sep = *f.Separator
			}
			var parts []string
			for _, col := range f.Columns {
				if v, _ := row.Get(col); strings.TrimSpace(v) != "" {
					parts = append(parts, strings.TrimSpace(v))
				}
			}
			raw = strings.Join(parts, sep)
		}
		fail := func(reason, msg string) *Rejection {
			if f.OnInvalid == "clear" {
				st.Cleared++
				out[f.Field] = ""
				return nil
			}
			return &Rejection{Row: row.Number, Field: f.Field, Column: f.column(), Reason: reason, Message: msg}
		}
		v, err := r.spec.apply(f, raw)
		if err != nil {
			reason := "invalid"
			var um errUnmapped
			if errors.As(err, &um) {
				reason = "unmapped_code"
			}
			if rej := fail(reason, f.column()+": "+err.Error()+"."); rej != nil {
				return nil, rej
			}
			st.value("")
			continue
		}
		defaulted := false
		if strings.TrimSpace(v) == "" && f.Default != "" {
			v, defaulted = f.Default, true
			st.Defaulted++
		}
		var rej *Rejection
		switch {
		case v == "" && f.Required:
			return nil, &Rejection{Row: row.Number, Field: f.Field, Column: f.column(), Reason: "required",
				Message: fmt.Sprintf("%s: the %s is required but empty.", f.column(), label(f.Field))}
		case v == "":
		case len(c.layouts) > 0:
			d, ok := parseDate(v, c.layouts, r.opts.Today.Year)
			if !ok {
				var ls []string
				for _, l := range c.layouts {
					ls = append(ls, l.source)
				}
				rej = fail("bad_date", fmt.Sprintf("%s: %q is not a date in any of the layouts %s.", f.column(), v, strings.Join(ls, ", ")))
				break
			}
			after, before := c.after, c.before
			if c.today[0] {
				after = r.opts.Today
			}
			if c.today[1] {
				before = r.opts.Today
			}
			if !after.IsZero() && d.Before(after) || !before.IsZero() && d.After(before) {
				rej = fail("date_range", fmt.Sprintf("%s: the date %s is outside the allowed range%s%s.", f.column(), d.ISO(),
					map[bool]string{true: " from " + after.ISO()}[!after.IsZero()], map[bool]string{true: " up to " + before.ISO()}[!before.IsZero()]))
				break
			}
			v = d.ISO()
		case c.pattern != nil && !c.pattern.MatchString(v):
			rej = fail("pattern", fmt.Sprintf("%s: %q does not match the pattern %s.", f.column(), v, f.Pattern))
		case len(f.Allowed) > 0 && !slices.Contains(f.Allowed, v):
			rej = fail("not_allowed", fmt.Sprintf("%s: %q is not one of the allowed values %s.", f.column(), v, quoted(f.Allowed)))
		}
		if rej != nil {
			return nil, rej
		}
		if cleared, ok := out[f.Field]; ok && cleared == "" {
			st.value("")
			continue
		}
		if v != raw && !defaulted && raw != "" {
			st.Transformed++
		}
		st.value(v)
		out[f.Field] = v
	}
	return out, nil
}

func label(field string) string { return strings.ReplaceAll(field, "_", " ") }

func (r *run) readTable(ctx context.Context, m *Mapping, keyCol string, t *TableReport, each func(Row, map[string]string) *Rejection) error {
	r.rep.Tables = append(r.rep.Tables, t)
	return r.src.Rows(ctx, m.Table, func(row Row) error {
		t.Read++
		if t.Read%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.progress("read", m.Table, t.Read, 0)
		}
		vals, rej := r.values(m, t, row)
		if rej == nil {
			rej = each(row, vals)
		}
		if rej != nil {
			if rej.Row == 0 {
				rej.Row = row.Number
			}
			if r.phi(t, rej.Field) {
				rej.Message = redact(rej.Message, m, rej.Field, row)
			}
			if rej.Key == "" && keyCol != "" {
				k, _ := row.Get(keyCol)
				rej.Key = strings.TrimSpace(k)
			}
			if t.Target == "volunteer" && rej.Key != "" {
				if _, ok := r.rejected[rej.Key]; !ok {
					r.rejected[rej.Key] = row.Number
				}
			}
			t.reject(*rej)
		}
		return nil
	})
}

var yes = map[string]bool{"1": true, "y": true, "yes": true, "true": true, "t": true, "a": true, "active": true, "j": true}
var no = map[string]bool{"0": true, "n": true, "no": true, "false": true, "f": true, "i": true, "inactive": true}

// readList fills a Configure list.
func (r *run) readList(ctx context.Context, tx *store.Tx, l *ListMapping) error {
	t := newTableReport(&l.Mapping, "configure list")
	seen := map[string]int{}
	return r.readTable(ctx, &l.Mapping, "", t, func(row Row, v map[string]string) *Rejection {
		e := configlist.Entry{List: l.List, Code: v["code"], Label: v["label"], Description: v["description"], Active: true}
		if x, ok := v["list"]; ok && x != "" {
			e.List = x
		}
		if k, ok := configlist.KindOf(e.List); !ok || k.Questions {
			return &Rejection{Field: "list", Reason: "unknown_list", Message: fmt.Sprintf("%q is not a Configure list the migration fills.", e.List)}
		}
		if e.Label == "" {
			e.Label = e.Code
		}
		if s := v["sort_order"]; s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return &Rejection{Field: "sort_order", Reason: "invalid", Message: fmt.Sprintf("The sort order %q is not a whole number.", s)}
			}
			e.SortOrder = n
		} else {
			e.SortOrder = (t.Migrated + 1) * 10
		}
		if s := strings.ToLower(strings.TrimSpace(v["active"])); s != "" {
			switch {
			case yes[s]:
			case no[s]:
				e.Active = false
			default:
				return &Rejection{Field: "active", Reason: "invalid", Message: fmt.Sprintf("%q is neither yes nor no.", v["active"])}
			}
		}
		k := e.List + "\x00" + e.Code
		if prev, dup := seen[k]; dup {
			return &Rejection{Field: "code", Reason: "duplicate_code", Message: fmt.Sprintf("The code %s is already in the %s list, from row %d.", e.Code, e.List, prev)}
		}
		if err := configlist.Import(ctx, tx, Actor, e, r.reason); err != nil {
			var fe check.FieldErrors
			if errors.As(err, &fe) {
				for f, msg := range fe {
					return &Rejection{Field: f, Reason: "invalid", Message: msg}
				}
			}
			return &Rejection{Reason: "invalid", Message: err.Error()}
		}
		seen[k] = row.Number
		t.Migrated++
		r.rep.ListEntries++
		return nil
	})
}

func (r *run) loadStudies(ctx context.Context, tx *store.Tx) error {
	r.studies = map[string]bool{}
	rows, err := tx.Query(ctx, "SELECT code FROM study")
	if err != nil {
		return fmt.Errorf("read the studies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		r.studies[c] = true
	}
	return rows.Err()
}

func (r *run) readStudies(ctx context.Context, tx *store.Tx) error {
	m := r.spec.Studies
	t := newTableReport(m, "archived study")
	firstRow := map[string]int{}
	return r.readTable(ctx, m, "", t, func(row Row, v map[string]string) *Rejection {
		s := study.Study{Code: v["code"], Title: v["title"], Phase: v["phase"], Sponsor: v["sponsor"], ProtocolNumber: v["protocol_number"], Status: study.Archived}
		if s.Title == "" {
			s.Title = s.Code
		}
		if r.studies[s.Code] {
			why := "is already in the instance"
			if n, ok := firstRow[s.Code]; ok {
				why = "was already read from row " + strconv.Itoa(n)
			}
			return &Rejection{Field: "code", Reason: "duplicate_code", Message: fmt.Sprintf("The study %s %s.", s.Code, why)}
		}
		if err := s.Validate(); err != nil {
			var fe check.FieldErrors
			if errors.As(err, &fe) {
				for f, msg := range fe {
					return &Rejection{Field: f, Reason: "invalid", Message: msg}
				}
			}
			return &Rejection{Reason: "invalid", Message: err.Error()}
		}
		if _, err := study.CreateArchived(ctx, tx, Actor, s, r.reason); err != nil {
			return &Rejection{Reason: "invalid", Message: err.Error()}
		}
		r.studies[s.Code] = true
		firstRow[s.Code] = row.Number
		t.Migrated++
		r.rep.Studies++
		return nil
	})
}

// phoneKinds maps the phone fields to their kinds.
var phoneKinds = map[string]volunteer.PhoneKind{"phone_mobile": volunteer.PhoneMobile, "phone_home": volunteer.PhoneHome,
	"phone_work": volunteer.PhoneWork, "phone_other": volunteer.PhoneOther}

// setField puts one mapped value into a volunteer; an empty value clears
// the field.
func setField(v *volunteer.Volunteer, field, val string) error {
	var err error
	switch field {
	case "number":
		v.Number = val
	case "given_name":
		v.GivenName = val
	case "family_name":
		v.FamilyName = val
	case "other_names":
		v.OtherNames = val
	case "birth_date":
		v.BirthDate, err = isoDate(val)
	case "next_eligible":
		v.NextEligible, err = isoDate(val)
	case "sex_at_birth":
		v.SexAtBirth, err = volunteer.ParseSex(val)
	case "gender":
		v.Gender, err = volunteer.ParseGender(val)
	case "ethnicity":
		v.Ethnicity = val
	case "races":
		v.Races = nil
		for _, p := range strings.FieldsFunc(val, func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(v.Races, p) {
				v.Races = append(v.Races, p)
			}
		}
	case "email":
		v.Email = val
	case "address_line1":
		v.Address.Line1 = val
	case "address_line2":
		v.Address.Line2 = val
	case "postal_code":
		v.Address.PostalCode = val
	case "city":
		v.Address.City = val
	case "region":
		v.Address.Region = val
	case "country":
		v.Address.Country = strings.ToUpper(val)
	case "preferred_site":
		v.PreferredSite = val
	case "status":
		if val == "" {
			v.Status = volunteer.StatusActive
		} else {
			v.Status, err = volunteer.ParseStatus(val)
		}
	case "recruitment_source":
		v.RecruitmentSource = val
	case "notes":
		v.Notes = val
	default:
		kind, ok := phoneKinds[field]
		if !ok {
			return fmt.Errorf("%s is not a volunteer field", field)
		}
		v.Phones = slices.DeleteFunc(v.Phones, func(p volunteer.Phone) bool { return p.Kind == kind })
		if val != "" {
			v.Phones = append(v.Phones, volunteer.Phone{Kind: kind, Number: val})
		}
	}
	return err
}

func isoDate(s string) (volunteer.Date, error) {
	if s == "" {
		return volunteer.Date{}, nil
	}
	return volunteer.ParseDate(s)
}

// specField names the mapped field a volunteer field error is about.
func specField(errField string, v volunteer.Volunteer) string {
	base, idx, _ := strings.Cut(errField, "[")
	switch base {
	case volunteer.FieldPhones:
		i, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
		if i < len(v.Phones) {
			return "phone_" + string(v.Phones[i].Kind)
		}
		return "phone_mobile"
	case volunteer.FieldAddressLine1:
		return "address_line1"
	case volunteer.FieldAddressLine2:
		return "address_line2"
	case volunteer.FieldPostalCode:
		return "postal_code"
	case volunteer.FieldCity:
		return "city"
	case volunteer.FieldRegion:
		return "region"
	case volunteer.FieldCountry:
		return "country"
	}
	return base
}

func (r *run) readVolunteers(ctx context.Context, tx *store.Tx) error {
	vm := r.spec.Volunteers
	t := newTableReport(&vm.Mapping, "volunteer")
	r.byKey, r.rejected, r.blocks = map[string]int{}, map[string]int{}, map[volunteer.Date][]int{}
	// Volunteers already in the target are looked up row by row; an empty
	// target (the usual case: every run rebuilds it) needs only the
	// comparison with the rows read before, which is in memory.
	var stored int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM volunteer LIMIT 1) v").Scan(&stored); err != nil {
		return fmt.Errorf("look at the target's volunteers: %w", err)
	}
	onInvalid := map[string]string{}
	for _, f := range vm.Fields {
		onInvalid[f.Field] = f.OnInvalid
	}
	err := r.readTable(ctx, &vm.Mapping, vm.Key, t, func(row Row, vals map[string]string) (rej *Rejection) {
		key, _ := row.Get(vm.Key)
		key = strings.TrimSpace(key)
		defer func() {
			if rej != nil {
				rej.Key = key
				if key != "" {
					if _, ok := r.rejected[key]; !ok {
						r.rejected[key] = row.Number
					}
				}
			}
		}()
		if key == "" {
			return &Rejection{Column: vm.Key, Reason: "required", Message: fmt.Sprintf("%s: the legacy volunteer key is empty.", vm.Key)}
		}
		if i, dup := r.byKey[key]; dup {
			return &Rejection{Column: vm.Key, Reason: "duplicate_key", Message: fmt.Sprintf("%s: the key %s is already used by row %d.", vm.Key, key, r.vols[i].row)}
		}
		v := volunteer.Volunteer{Status: volunteer.StatusActive}
		for _, f := range vm.Fields {
			val, ok := vals[f.Field]
			if !ok {
				continue
			}
			if err := setField(&v, f.Field, val); err != nil {
				if f.OnInvalid == "clear" {
					t.field(f.Field).Cleared++
					setField(&v, f.Field, "")
					continue
				}
				return &Rejection{Field: f.Field, Column: f.column(), Reason: "invalid", Message: f.column() + ": " + err.Error()}
			}
		}
		v = volunteer.Tidy(v, r.spec.CallingCode)
		// Fields the specification lets go are cleared one by one until
		// the record passes or a field that must not go is at fault.
		for range 8 {
			errs := volunteer.ValidateOn(v, r.opts.Today)
			for f, msg := range volunteer.CheckCodes(v, r.lists) {
				if _, ok := errs[f]; !ok {
					if errs == nil {
						errs = volunteer.FieldErrors{}
					}
					errs[f] = msg
				}
			}
			if len(errs) == 0 {
				break
			}
			fields := make([]string, 0, len(errs))
			for f := range errs {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			cleared := false
			for _, ef := range fields {
				sf := specField(ef, v)
				if onInvalid[sf] == "clear" {
					if st := t.field(sf); st != nil {
						st.Cleared++
						st.Filled--
						st.Empty++
					}
					setField(&v, sf, "")
					cleared = true
					break
				}
			}
			if !cleared {
				ef := fields[0]
				sf := specField(ef, v)
				col := ""
				for _, f := range vm.Fields {
					if f.Field == sf {
						col = f.column()
					}
				}
				reason := "invalid"
				if strings.Contains(errs[ef], "is required") || strings.Contains(errs[ef], "must not be empty") || strings.Contains(errs[ef], "needed") {
					reason = "required"
				}
				return &Rejection{Field: sf, Column: col, Reason: reason, Message: strings.TrimSpace(col + ": " + errs[ef])}
			}
		}
		lv := &legacyVolunteer{row: row.Number, key: key, v: v, match: volunteer.NewMatchKey(v)}
		// Duplicate detection: the volunteer database's own rules, against
		// the rows read before this one and the instance's volunteers.
		for _, d := range volunteer.DuplicateBirthDates(v.BirthDate) {
			for _, i := range r.blocks[d] {
				first := r.vols[i]
				why, ok := lv.match.Match(first.match)
				if !ok {
					continue
				}
				r.rep.Duplicates++
				if vm.Duplicates == "merge" {
					mergeInto(&first.v, v)
					first.match = volunteer.NewMatchKey(first.v)
					r.byKey[key] = i
					t.Merged++
					t.Merges = append(t.Merges, Merge{Row: row.Number, Key: key, IntoRow: first.row, IntoKey: first.key, Why: why})
					return nil
				}
				return &Rejection{Reason: "duplicate", Field: "family_name",
					Message: fmt.Sprintf("Possible duplicate of row %d (key %s): %s.", first.row, first.key, why)}
			}
		}
		var cands []registry.Candidate
		if stored > 0 {
			var err error
			if cands, err = registry.FindDuplicates(ctx, tx, v, 0); err != nil {
				return &Rejection{Reason: "invalid", Message: err.Error()}
			}
		}
		if len(cands) > 0 {
			r.rep.Duplicates++
			return &Rejection{Reason: "duplicate", Field: "family_name",
				Message: fmt.Sprintf("Possible duplicate of volunteer %s already in the instance: %s.", cands[0].Number, cands[0].Reason)}
		}
		r.byKey[key] = len(r.vols)
		r.blocks[v.BirthDate] = append(r.blocks[v.BirthDate], len(r.vols))
		r.vols = append(r.vols, lv)
		t.Migrated++
		return nil
	})
	return err
}

// mergeInto folds a duplicate row's volunteer into the first one read: the
// first one's values win, empty ones are filled, phones are added, and a
// differently written name is kept among the other names so searches by
// it still find the volunteer.
func mergeInto(dst *volunteer.Volunteer, src volunteer.Volunteer) {
	fill := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	fill(&dst.Email, src.Email)
	fill(&dst.Ethnicity, src.Ethnicity)
	fill(&dst.RecruitmentSource, src.RecruitmentSource)
	fill(&dst.PreferredSite, src.PreferredSite)
	if dst.Address.IsZero() {
		dst.Address = src.Address
	}
	if dst.SexAtBirth == "" {
		dst.SexAtBirth = src.SexAtBirth
	}
	if dst.Gender == "" {
		dst.Gender = src.Gender
	}
	for _, p := range src.Phones {
		if !slices.ContainsFunc(dst.Phones, func(q volunteer.Phone) bool { return q.Number == p.Number }) {
			if slices.ContainsFunc(dst.Phones, func(q volunteer.Phone) bool { return q.Kind == p.Kind }) {
				p.Kind = volunteer.PhoneOther
			}
			dst.Phones = append(dst.Phones, p)
		}
	}
	for _, rc := range src.Races {
		if !slices.Contains(dst.Races, rc) {
			dst.Races = append(dst.Races, rc)
		}
	}
	if src.Notes != "" && !strings.Contains(dst.Notes, src.Notes) && len(dst.Notes)+len(src.Notes) < 9000 {
		dst.Notes = strings.TrimSpace(dst.Notes + "\n" + src.Notes)
	}
	name := strings.TrimSpace(src.GivenName + " " + src.FamilyName)
	if volunteer.NormalizeName(name) != volunteer.NormalizeName(dst.GivenName+" "+dst.FamilyName) &&
		!strings.Contains(volunteer.NormalizeName(dst.OtherNames), volunteer.NormalizeName(name)) && len(dst.OtherNames)+len(name) < 95 {
		dst.OtherNames = strings.TrimSpace(dst.OtherNames + " " + name)
	}
}

// owner finds the accepted volunteer a child row belongs to.
func (r *run) owner(col, key string) (int, *Rejection) {
	key = strings.TrimSpace(key)
	if i, ok := r.byKey[key]; ok {
		return i, nil
	}
	if row, ok := r.rejected[key]; ok {
		return 0, &Rejection{Key: key, Column: col, Reason: "volunteer_rejected", Message: fmt.Sprintf("%s: the volunteer %s (row %d) was rejected.", col, key, row)}
	}
	return 0, &Rejection{Key: key, Column: col, Reason: "unknown_volunteer", Message: fmt.Sprintf("%s: there is no volunteer with key %q.", col, key)}
}

func (r *run) readHistory(ctx context.Context, h *ChildMapping) error {
	t := newTableReport(&h.Mapping, strings.ReplaceAll(h.List, "_", " "))
	return r.readTable(ctx, &h.Mapping, h.Volunteer, t, func(row Row, v map[string]string) *Rejection {
		key, _ := row.Get(h.Volunteer)
		i, rej := r.owner(h.Volunteer, key)
		if rej != nil {
			return rej
		}
		e := volunteer.CodedEntry{Code: v["code"], Note: v["note"]}
		if !r.lists.Has(h.List, e.Code) {
			return &Rejection{Key: key, Field: "code", Reason: "unknown_code", Message: fmt.Sprintf("The code %s is not in the %s list.", e.Code, label(h.List))}
		}
		e.Start, _ = isoDate(v["start"])
		e.End, _ = isoDate(v["end"])
		if !e.Start.IsZero() && !e.End.IsZero() && e.End.Before(e.Start) {
			return &Rejection{Key: key, Field: "end", Reason: "date_order", Message: fmt.Sprintf("The end %s is before the start %s.", e.End.ISO(), e.Start.ISO())}
		}
		if e.Start.After(r.opts.Today) {
			return &Rejection{Key: key, Field: "start", Reason: "date_range", Message: fmt.Sprintf("The start %s is in the future.", e.Start.ISO())}
		}
		lv := &r.vols[i].v
		list := map[string]*[]volunteer.CodedEntry{configlist.MedicalHistory: &lv.MedicalHistory,
			configlist.Medications: &lv.Medications, configlist.SubstanceUse: &lv.SubstanceUse}[h.List]
		if slices.ContainsFunc(*list, func(x volunteer.CodedEntry) bool { return x.Code == e.Code && x.Start == e.Start }) {
			return &Rejection{Key: key, Field: "code", Reason: "duplicate_entry", Message: fmt.Sprintf("The volunteer already has %s from %s.", e.Code, e.Start)}
		}
		*list = append(*list, e)
		t.Migrated++
		r.rep.Histories++
		return nil
	})
}

var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]{0,39}$`)

func (r *run) readParticipation(ctx context.Context) error {
	p := r.spec.Participation
	t := newTableReport(&p.Mapping, "study participation")
	return r.readTable(ctx, &p.Mapping, p.Volunteer, t, func(row Row, v map[string]string) *Rejection {
		key, _ := row.Get(p.Volunteer)
		i, rej := r.owner(p.Volunteer, key)
		if rej != nil {
			return rej
		}
		s := subject{study: v["study"], number: v["subject_number"], row: row.Number, outcome: v["outcome"]}
		if !r.studies[s.study] {
			return &Rejection{Key: key, Field: "study", Reason: "unknown_study", Message: fmt.Sprintf("The study %s is not among the migrated studies.", s.study)}
		}
		if s.outcome == "" {
			s.outcome = string(volunteer.OutcomeCompleted)
		}
		if !volunteer.Outcome(s.outcome).Valid() || s.outcome == string(volunteer.OutcomeOngoing) {
			return &Rejection{Key: key, Field: "outcome", Reason: "invalid",
				Message: fmt.Sprintf("The outcome %q is not one a historical study can have (completed, screen-failed, reserve or withdrawn).", s.outcome)}
		}
		if s.number != "" && !subjectPattern.MatchString(s.number) {
			return &Rejection{Key: key, Field: "subject_number", Reason: "invalid", Message: fmt.Sprintf("The subject number %q has characters a subject number cannot have.", s.number)}
		}
		s.start, _ = isoDate(v["start"])
		s.end, _ = isoDate(v["end"])
		if !s.start.IsZero() && !s.end.IsZero() && s.end.Before(s.start) {
			return &Rejection{Key: key, Field: "end", Reason: "date_order", Message: fmt.Sprintf("The end %s is before the start %s.", s.end.ISO(), s.start.ISO())}
		}
		lv := r.vols[i]
		if slices.ContainsFunc(lv.subjects, func(x subject) bool { return x.study == s.study }) {
			return &Rejection{Key: key, Field: "study", Reason: "duplicate_entry", Message: fmt.Sprintf("The volunteer already took part in %s (a merged duplicate, or the same row twice).", s.study)}
		}
		lv.subjects = append(lv.subjects, s)
		lv.v.Participations = append(lv.v.Participations, volunteer.Participation{Study: s.study, Start: s.start, End: s.end, Outcome: volunteer.Outcome(s.outcome)})
		t.Migrated++
		r.rep.Participations++
		return nil
	})
}

// store writes the accepted volunteers, with their histories and
// participation, in batches inside the run's transaction.
func (r *run) store(ctx context.Context, tx *store.Tx) error {
	vt := r.rep.Table(r.spec.Volunteers.Table)
	// A last check of each whole record: histories and merges added after
	// the row was accepted must not make it invalid.
	for _, lv := range r.vols {
		errs := volunteer.ValidateOn(lv.v, r.opts.Today)
		if len(errs) == 0 {
			continue
		}
		for f, msg := range errs {
			lv.dropped = true
			vt.Migrated--
			sf := specField(f, lv.v)
			if r.phi(vt, sf) {
				msg = "the " + label(sf) + " is not valid."
			}
			vt.reject(Rejection{Row: lv.row, Key: lv.key, Field: sf, Reason: "invalid", Message: "After merging: " + msg})
			r.rep.Histories -= len(lv.v.MedicalHistory) + len(lv.v.Medications) + len(lv.v.SubstanceUse)
			r.rep.Participations -= len(lv.subjects)
			break
		}
	}
	var keep []*legacyVolunteer
	for _, lv := range r.vols {
		if !lv.dropped {
			keep = append(keep, lv)
		}
	}
	const batch = 1000
	perStudy := map[string]int{}
	var studyOrder []string
	for start := 0; start < len(keep); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := keep[start:min(start+batch, len(keep))]
		vs := make([]volunteer.Volunteer, len(part))
		for i, lv := range part {
			vs[i] = lv.v
		}
		if err := registry.StoreMigrated(ctx, tx, Actor, vs, r.reason); err != nil {
			return fmt.Errorf("store volunteers of rows %d to %d: %w", part[0].row, part[len(part)-1].row, err)
		}
		var args []any
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			n := len(args) / 7
			_, err := tx.Exec(ctx, "INSERT INTO study_participation (study, volunteer_id, subject_number, start_date, end_date, outcome, source) VALUES "+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", "), args...)
			args = args[:0]
			if err != nil {
				return fmt.Errorf("store %d participations: %w", n, err)
			}
			return nil
		}
		for i, lv := range part {
			lv.v.ID, lv.v.Number = vs[i].ID, vs[i].Number
			for _, s := range lv.subjects {
				args = append(args, s.study, vs[i].ID, s.number, s.start.ISO(), s.end.ISO(), s.outcome,
					fmt.Sprintf("%s row %d", r.spec.Participation.Table, s.row))
				if perStudy[s.study] == 0 {
					studyOrder = append(studyOrder, s.study)
				}
				perStudy[s.study]++
				if len(args) >= 7*500 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		r.rep.Volunteers += len(part)
		r.progress("store", r.spec.Volunteers.Table, start+len(part), len(keep))
	}
	for _, code := range studyOrder {
		if err := audit.Record(ctx, tx, audit.Event{Actor: Actor, Action: audit.Import, Entity: "study_participation", EntityID: code,
			Reason: r.reason, Changes: []audit.Change{{Field: "subjects", New: strconv.Itoa(perStudy[code]) + " historical participants"}}}); err != nil {
			return err
		}
	}
	return nil
}

// phiFields maps the specification's volunteer fields that are PHI (see
// volunteer.PHIFields) to the volunteer database's field names.
var phiFieldNames = map[string]string{"phone_mobile": volunteer.FieldPhones, "phone_home": volunteer.FieldPhones,
	"phone_work": volunteer.FieldPhones, "phone_other": volunteer.FieldPhones, "address_line1": volunteer.FieldAddressLine1,
	"address_line2": volunteer.FieldAddressLine2, "postal_code": volunteer.FieldPostalCode, "city": volunteer.FieldCity,
	"region": volunteer.FieldRegion, "country": volunteer.FieldCountry}

// phi reports whether a rejected field of a table holds PHI, whose values
// the report must not repeat: the report is read in the console, and the
// row number and legacy key are enough to find the value in the source.
func (r *run) phi(t *TableReport, field string) bool {
	switch t.Target {
	case "volunteer":
		name := field
		if n, ok := phiFieldNames[field]; ok {
			name = n
		}
		_, ok := volunteer.LookupPHIField(name)
		return ok
	case "medical history", "medications", "substance use":
		return field == "note"
	}
	return false
}

var isoDates = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)

// redact removes a PHI field's source values, and any date, from a
// rejection's sentence.
func redact(msg string, m *Mapping, field string, row Row) string {
	for _, f := range m.Fields {
		if f.Field != field {
			continue
		}
		cols := f.Columns
		if f.Column != "" {
			cols = []string{f.Column}
		}
		for _, c := range cols {
			v, _ := row.Get(c)
			for _, part := range []string{strconv.Quote(v), strconv.Quote(strings.TrimSpace(v)), strings.TrimSpace(v)} {
				if len(part) > 2 {
					msg = strings.ReplaceAll(msg, part, "(value withheld: PHI)")
				}
			}
		}
	}
	return isoDates.ReplaceAllString(msg, "(date withheld: PHI)")
}
