package volunteer

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Import field names a CSV column can be mapped to, besides the Field names of
// the record's plain fields. Phone columns say which kind of phone they hold;
// a column mapped to "answer.<question code>" holds the answers to that custom
// question.
const (
	ImportMobilePhone = "phone.mobile"
	ImportHomePhone   = "phone.home"
	ImportWorkPhone   = "phone.work"
	ImportOtherPhone  = "phone.other"
	ImportAnswer      = "answer." // prefix
)

// ImportFields lists the field names a CSV column can be mapped to, apart from
// the ImportAnswer prefix.
func ImportFields() []string {
	return []string{
		FieldNumber, FieldGivenName, FieldFamilyName, FieldOtherNames, FieldBirthDate,
		FieldSexAtBirth, FieldGender, FieldEthnicity, FieldRaces, ImportMobilePhone, ImportHomePhone, ImportWorkPhone,
		ImportOtherPhone, FieldEmail, FieldAddressLine1, FieldAddressLine2, FieldPostalCode,
		FieldCity, FieldRegion, FieldCountry, FieldPreferredSite, FieldStatus,
		FieldRecruitmentSource, FieldNotes, FieldMedicalHistory, FieldMedications,
		FieldSubstanceUse, FieldNextEligible,
	}
}

// requiredImportFields must each have a column, or no row could be valid.
var requiredImportFields = []string{FieldGivenName, FieldFamilyName, FieldBirthDate}

// ImportConfig says how to read a CSV file of volunteers.
type ImportConfig struct {
	// Mapping maps a CSV header to a field name (see ImportFields). Headers
	// match whatever their case and surrounding spaces. Several headers may map
	// to one field, as alternatives for different versions of a file; a file
	// that has two of them is refused as ambiguous.
	Mapping map[string]string
	// DateFormats are the Go layouts dates in the file are written in, such as
	// "02/01/2006"; one or two-digit days and months are accepted either way.
	// When none is given, "2006-01-02" is used. Partial ISO dates ("2010",
	// "2010-05") are always accepted, for medical history. A date that two
	// layouts read as different days is refused as ambiguous.
	DateFormats []string
	// Lists looks up sites, recruitment sources, medical history, medication
	// and substance use codes and question codes. Required.
	Lists ListLookup
	// DefaultCallingCode completes phone numbers written without a country
	// code, such as "31" for the Netherlands (see NormalizePhone).
	DefaultCallingCode string
	// NumberPattern, when set, is the pattern imported volunteer numbers must
	// match.
	NumberPattern NumberPattern
	// PHIQuestions names the custom questions whose answers are PHI (see
	// Answer.PHI).
	PHIQuestions map[string]bool
	// Today is the date dates are judged against; zero means Today().
	Today Date
	// Comma is the field separator; zero means ','. Spreadsheets in many
	// European locales write ';'.
	Comma rune
	// MaxProblems caps how many problems the Report keeps, so a wrong file of
	// half a million rows does not fill memory; zero means 1000. Rows are still
	// checked and counted, and every rejected row still reaches the caller.
	MaxProblems int
}

// Problem is one thing wrong with an imported file, as a sentence with the
// place it was found.
type Problem struct {
	// Row is the row number as a spreadsheet shows it: 1 is the header row,
	// 2 the first volunteer. 0 means the file or the mapping as a whole.
	Row int
	// Line is the line in the file where the row starts, which differs from
	// Row when cells contain line breaks or the file has blank lines.
	Line int
	// Column is the CSV header of the column, if the problem is in one.
	Column string
	// Field is the field name the problem concerns, if any.
	Field   string
	Message string
	// Warning is set for a problem that does not stop a row or the file from
	// being imported, such as a column nobody mapped.
	Warning bool
}

// String says where the problem is and what it is.
func (p Problem) String() string {
	var b strings.Builder
	if p.Row > 0 {
		b.WriteString("Row " + strconv.Itoa(p.Row))
		if p.Line > 0 && p.Line != p.Row {
			b.WriteString(" (line " + strconv.Itoa(p.Line) + ")")
		}
	}
	if p.Column != "" {
		if b.Len() > 0 {
			b.WriteString(", column ")
		} else {
			b.WriteString("Column ")
		}
		b.WriteString(strconv.Quote(p.Column))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Report sums up an import.
type Report struct {
	// Rows counts the volunteer rows read (not the header or empty rows).
	Rows int
	// Accepted and Rejected count rows without and with problems.
	Accepted int
	Rejected int
	// Problems lists problems in file order, at most ImportConfig.MaxProblems.
	Problems []Problem
	// Omitted counts problems left out of Problems because of that cap.
	Omitted int
}

func (r *Report) add(p Problem, max int) {
	if len(r.Problems) >= max {
		r.Omitted++
		return
	}
	r.Problems = append(r.Problems, p)
}

// ImportedRow is one row of the file, read into a volunteer.
type ImportedRow struct {
	// Row and Line are as in Problem.
	Row  int
	Line int
	// Volunteer is the row's record, tidied (see Tidy). It is meaningful only
	// when OK.
	Volunteer Volunteer
	// Problems lists why the row is rejected; empty when it is accepted.
	Problems []Problem
	// Header and Record are the file's header and this row's cells as read, for
	// writing the row back (see RejectWriter). Both are reused for the next row,
	// so copy them to keep them.
	Header []string
	Record []string
}

// OK reports whether the row has no problems.
func (r ImportedRow) OK() bool { return len(r.Problems) == 0 }

// FileError is returned by Import when the file as a whole cannot be imported:
// wrong encoding, malformed CSV, missing columns or a mapping that does not fit
// the file. Its problems are also in the Report.
type FileError struct {
	Problems []Problem
}

// Error lists the problems.
func (e *FileError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, " ")
}

// importColumn is one mapped column of the file.
type importColumn struct {
	index  int
	header string
	field  string
}

// importPlan is what Import works out once from the header and the
// configuration, so each row costs only its own reading.
type importPlan struct {
	cols  []importColumn
	colOf map[string]string // field name → header, for mapping FieldErrors back
	order map[string]int    // header → column index, for sorting problems
	dates dateReader
}

// Import reads a CSV file of volunteers row by row and hands each row, accepted
// or rejected, to each, keeping memory flat however long the file. The file
// must be UTF-8 (a UTF-8 byte order mark is fine); UTF-16 and other encodings
// are refused with the row and column of the first wrong byte, because reading
// them as UTF-8 would corrupt names.
//
// Each row is read into a Volunteer through cfg.Mapping, tidied (see Tidy),
// validated (see ValidateOn) and its codes looked up (see CheckCodes); every
// problem names its row and column. A status column is optional: without one,
// volunteers are active.
//
// Import stops with an error, which wraps a *FileError, when the file cannot be
// imported as a whole, when each returns an error, or when ctx is cancelled.
// Rows already handed over may then have to be undone, so callers import inside
// one transaction.
func Import(ctx context.Context, r io.Reader, cfg ImportConfig, each func(ImportedRow) error) (Report, error) {
	var rep Report
	if cfg.MaxProblems <= 0 {
		cfg.MaxProblems = 1000
	}
	if len(cfg.DateFormats) == 0 {
		cfg.DateFormats = []string{"2006-01-02"}
	}
	if cfg.Today.IsZero() {
		cfg.Today = Today()
	}
	fail := func(ps ...Problem) (Report, error) {
		for _, p := range ps {
			rep.add(p, cfg.MaxProblems)
		}
		return rep, fmt.Errorf("import volunteers: %w", &FileError{Problems: ps})
	}
	if cfg.Lists == nil {
		return rep, errors.New("import volunteers: no list lookup configured")
	}

	br := bufio.NewReaderSize(r, 64<<10)
	bom, _ := br.Peek(4)
	switch {
	case len(bom) >= 2 && (bom[0] == 0xFF && bom[1] == 0xFE || bom[0] == 0xFE && bom[1] == 0xFF),
		len(bom) == 4 && bom[0] == 0 && bom[1] == 0 && bom[2] == 0xFE && bom[3] == 0xFF:
		return fail(Problem{Row: 1, Line: 1, Message: "The file is UTF-16 or UTF-32 encoded (it starts with that byte order mark); save it as \"CSV UTF-8\" and import it again."})
	case len(bom) >= 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF:
		_, _ = br.Discard(3)
	}

	cr := csv.NewReader(br)
	if cfg.Comma != 0 {
		cr.Comma = cfg.Comma
	}
	cr.FieldsPerRecord = -1 // a row with a wrong cell count is the row's problem
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return fail(Problem{Message: "The file is empty; it needs a header row naming the columns."})
	}
	if err != nil {
		return fail(csvProblem(err))
	}
	header = slices.Clone(header) // ReuseRecord would overwrite it
	for i, h := range header {
		if p, bad := encodingProblem(h, 1, 1, "", i+1); bad {
			return fail(p)
		}
	}
	cols, warnings, problems := planColumns(header, cfg.Mapping)
	if len(problems) > 0 {
		return fail(problems...)
	}
	plan := &importPlan{cols: cols, colOf: map[string]string{}, order: map[string]int{}, dates: newDateReader(cfg.DateFormats)}
	for _, c := range cols {
		plan.colOf[c.field] = c.header
		plan.order[c.header] = c.index
	}
	for _, w := range warnings {
		rep.add(w, cfg.MaxProblems)
	}

	// Rows are numbered as a spreadsheet numbers them, which counts the blank
	// lines encoding/csv skips and one row per record however many lines its
	// cells span.
	row, lastLine := 1, endLine(cr, header)
	for {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("import volunteers: stopped at row %d: %w", row, err)
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return rep, nil
		}
		if err != nil {
			p := csvProblem(err)
			p.Row = row + 1
			return fail(p)
		}
		line, _ := cr.FieldPos(0)
		row += 1 + max(line-lastLine-1, 0)
		lastLine = endLine(cr, rec)
		for i, cell := range rec {
			h := ""
			if i < len(header) {
				h = header[i]
			}
			if p, bad := encodingProblem(cell, row, line, h, i+1); bad {
				return fail(p)
			}
		}
		if allEmpty(rec) {
			continue // spreadsheets export trailing rows of empty cells
		}
		ir := ImportedRow{Row: row, Line: line, Header: header, Record: rec}
		if len(rec) != len(header) {
			ir.Problems = append(ir.Problems, Problem{Row: row, Line: line, Message: fmt.Sprintf(
				"The row has %d cells but the header has %d columns; check for a missing or extra separator.", len(rec), len(header))})
		} else {
			ir.Volunteer, ir.Problems = readRow(rec, plan, cfg)
			for i := range ir.Problems {
				ir.Problems[i].Row, ir.Problems[i].Line = row, line
			}
		}
		rep.Rows++
		if ir.OK() {
			rep.Accepted++
		} else {
			rep.Rejected++
			for _, p := range ir.Problems {
				rep.add(p, cfg.MaxProblems)
			}
		}
		if err := each(ir); err != nil {
			return rep, fmt.Errorf("import volunteers: row %d: %w", row, err)
		}
	}
}

// planColumns matches the file's header to the mapping. It returns the mapped
// columns in file order, warnings, and problems that stop the import.
func planColumns(header []string, mapping map[string]string) (cols []importColumn, warnings, problems []Problem) {
	known := map[string]bool{}
	for _, f := range ImportFields() {
		known[f] = true
	}
	index := map[string]int{} // folded header → column index
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if k == "" {
			continue
		}
		if j, dup := index[k]; dup {
			if _, mapped := lookupFold(mapping, k); mapped {
				problems = append(problems, Problem{Row: 1, Line: 1, Column: h, Message: fmt.Sprintf(
					"The header has the column %q twice (columns %d and %d), so it is not clear which to import.", h, j+1, i+1)})
			}
			continue
		}
		index[k] = i
	}
	byField := map[string][]importColumn{}
	absent := map[string][]string{} // field → mapped headers not in the file
	headers := make([]string, 0, len(mapping))
	for h := range mapping {
		headers = append(headers, h)
	}
	slices.Sort(headers) // deterministic messages
	for _, h := range headers {
		f := mapping[h]
		if !known[f] && !(strings.HasPrefix(f, ImportAnswer) && len(f) > len(ImportAnswer)) {
			problems = append(problems, Problem{Column: h, Message: fmt.Sprintf(
				"The mapping sends column %q to %q, which is not a volunteer field.", h, f)})
			continue
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			absent[f] = append(absent[f], h)
			continue
		}
		byField[f] = append(byField[f], importColumn{index: i, header: header[i], field: f})
	}
	for f, cs := range byField {
		if len(cs) > 1 {
			problems = append(problems, Problem{Row: 1, Line: 1, Column: cs[1].header, Field: f, Message: fmt.Sprintf(
				"The columns %q and %q are both mapped to the %s, so it is not clear which to import.", cs[0].header, cs[1].header, importLabel(f))})
		}
		cols = append(cols, cs[0])
	}
	for _, f := range requiredImportFields {
		if len(byField[f]) > 0 {
			continue
		}
		if hs := absent[f]; len(hs) > 0 {
			problems = append(problems, Problem{Row: 1, Line: 1, Column: hs[0], Field: f, Message: fmt.Sprintf(
				"The required column %q (%s) is not in the file.", hs[0], importLabel(f))})
		} else {
			problems = append(problems, Problem{Field: f, Message: fmt.Sprintf(
				"The mapping has no column for the %s, which is required.", importLabel(f))})
		}
		delete(absent, f)
	}
	for _, f := range slices.Sorted(maps.Keys(absent)) {
		if len(byField[f]) == 0 && !slices.Contains(requiredImportFields, f) {
			warnings = append(warnings, Problem{Row: 1, Line: 1, Column: absent[f][0], Field: f, Warning: true, Message: fmt.Sprintf(
				"The column %q (%s) in the mapping is not in the file, so no %s is imported.", absent[f][0], importLabel(f), importLabel(f))})
		}
	}
	mapped := map[int]bool{}
	for _, c := range cols {
		mapped[c.index] = true
	}
	for i, h := range header {
		if !mapped[i] && strings.TrimSpace(h) != "" {
			warnings = append(warnings, Problem{Row: 1, Line: 1, Column: h, Warning: true, Message: fmt.Sprintf(
				"The column %q is not in the mapping, so it is not imported.", h)})
		}
	}
	slices.SortFunc(cols, func(a, b importColumn) int { return a.index - b.index })
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Row - b.Row })
	return cols, warnings, problems
}

func lookupFold(m map[string]string, folded string) (string, bool) {
	for h, f := range m {
		if strings.ToLower(strings.TrimSpace(h)) == folded {
			return f, true
		}
	}
	return "", false
}

func importLabel(field string) string {
	switch {
	case strings.HasPrefix(field, "phone."):
		return field[len("phone."):] + " phone number"
	case strings.HasPrefix(field, ImportAnswer):
		return "answer to question " + field[len(ImportAnswer):]
	}
	return FieldLabel(field)
}

// readRow reads one row into a volunteer and lists its problems (without row
// numbers, which the caller adds).
func readRow(rec []string, plan *importPlan, cfg ImportConfig) (Volunteer, []Problem) {
	var v Volunteer
	var problems []Problem
	v.Status = StatusActive
	var failed []string // fields whose cell could not be read
	var phoneCols, answerCols []string
	bad := func(c importColumn, field, msg string) {
		problems = append(problems, Problem{Column: c.header, Field: field, Message: msg})
		failed = append(failed, field)
	}
	for _, c := range plan.cols {
		cell := strings.TrimSpace(rec[c.index])
		if cell == "" {
			continue
		}
		switch f := c.field; f {
		case FieldNumber:
			v.Number = cell
			if cfg.NumberPattern.re != nil && !cfg.NumberPattern.Matches(cell) {
				bad(c, f, fmt.Sprintf("The volunteer number %q does not match the pattern %s.", cell, cfg.NumberPattern.String()))
			}
		case FieldGivenName:
			v.GivenName = cell
		case FieldFamilyName:
			v.FamilyName = cell
		case FieldOtherNames:
			v.OtherNames = cell
		case FieldBirthDate, FieldNextEligible:
			d, err := plan.dates.read(cell)
			if err != nil {
				bad(c, f, fmt.Sprintf("The %s %q %v", FieldLabel(f), cell, err))
				continue
			}
			if f == FieldBirthDate {
				v.BirthDate = d
			} else {
				v.NextEligible = d
			}
		case FieldSexAtBirth:
			s, err := ParseSex(cell)
			if err != nil {
				bad(c, f, err.Error())
			}
			v.SexAtBirth = s
		case FieldGender:
			g, err := ParseGender(cell)
			if err != nil {
				bad(c, f, err.Error())
			}
			v.Gender = g
		case FieldEthnicity:
			v.Ethnicity = cell
		case FieldRaces:
			// Several races are separated by ";", like coded entries.
			for r := range strings.SplitSeq(cell, ";") {
				v.Races = append(v.Races, strings.TrimSpace(r))
			}
		case ImportMobilePhone, ImportHomePhone, ImportWorkPhone, ImportOtherPhone:
			n, err := NormalizePhone(cell, cfg.DefaultCallingCode)
			if err != nil {
				bad(c, f, err.Error())
				continue
			}
			v.Phones = append(v.Phones, Phone{Kind: PhoneKind(f[len("phone."):]), Number: n})
			phoneCols = append(phoneCols, c.header)
		case FieldEmail:
			v.Email = cell
		case FieldAddressLine1:
			v.Address.Line1 = cell
		case FieldAddressLine2:
			v.Address.Line2 = cell
		case FieldPostalCode:
			v.Address.PostalCode = cell
		case FieldCity:
			v.Address.City = cell
		case FieldRegion:
			v.Address.Region = cell
		case FieldCountry:
			v.Address.Country = strings.ToUpper(cell)
		case FieldPreferredSite:
			v.PreferredSite = cell
		case FieldStatus:
			s, err := ParseStatus(cell)
			if err != nil {
				bad(c, f, err.Error())
				continue
			}
			v.Status = s
		case FieldRecruitmentSource:
			v.RecruitmentSource = cell
		case FieldNotes:
			v.Notes = cell
		case FieldMedicalHistory, FieldMedications, FieldSubstanceUse:
			es, err := parseCodedCell(cell, plan.dates)
			if err != nil {
				bad(c, f, "The "+FieldLabel(f)+" "+err.Error())
				continue
			}
			switch f {
			case FieldMedicalHistory:
				v.MedicalHistory = es
			case FieldMedications:
				v.Medications = es
			default:
				v.SubstanceUse = es
			}
		default: // ImportAnswer prefix, checked by planColumns
			q := f[len(ImportAnswer):]
			v.Answers = append(v.Answers, Answer{Question: q, Value: cell, PHI: cfg.PHIQuestions[q]})
			answerCols = append(answerCols, c.header)
		}
	}
	v = Tidy(v, cfg.DefaultCallingCode)
	errs := ValidateOn(v, cfg.Today)
	mergeProblems(&errs, CheckCodes(v, cfg.Lists))
	if len(errs) == 0 {
		return v, problems
	}
	for _, key := range sortedFields(errs) {
		field, i := key, -1
		if j := strings.IndexByte(key, '['); j >= 0 {
			field = key[:j]
			i, _ = strconv.Atoi(strings.TrimSuffix(key[j+1:], "]"))
		}
		col := plan.colOf[field]
		switch field {
		case FieldPhones:
			if i >= 0 && i < len(phoneCols) {
				col = phoneCols[i]
			}
		case FieldAnswers:
			if i >= 0 && i < len(answerCols) {
				col = answerCols[i]
			}
		}
		if slices.Contains(failed, field) {
			continue // the cell's own problem says it better
		}
		problems = append(problems, Problem{Column: col, Field: key, Message: errs[key]})
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return plan.order[a.Column] - plan.order[b.Column] })
	return v, problems
}

// dateReader reads dates in the layouts a file declares.
type dateReader struct {
	layouts [][2]string // each layout and its lenient form
	names   string      // the layouts as people write them, for messages
}

func newDateReader(layouts []string) dateReader {
	var dr dateReader
	names := make([]string, len(layouts))
	for i, l := range layouts {
		dr.layouts = append(dr.layouts, [2]string{l, lenientLayout.Replace(l)})
		names[i] = humanLayout.Replace(l)
	}
	dr.names = strings.Join(names, " or ")
	return dr
}

// read reads a date in one of the declared layouts, or a (partial) ISO date.
// The error completes a sentence that starts with the date.
func (dr dateReader) read(s string) (Date, error) {
	var found [2]Date
	n := 0
	for _, ls := range dr.layouts {
		for _, layout := range ls {
			if t, err := time.Parse(layout, s); err == nil {
				if d := DateOf(t); n == 0 || d != found[0] {
					found[min(n, 1)] = d
					n++
				}
				break
			}
		}
	}
	switch n {
	case 1:
		return found[0], nil
	case 0:
		if d, err := ParseDate(s); err == nil {
			return d, nil
		}
		return Date{}, fmt.Errorf("is not a date in the declared format %s.", dr.names)
	}
	return Date{}, fmt.Errorf("is ambiguous: the declared formats read it as %s and %s.", found[0], found[1])
}

var (
	// lenientLayout accepts one-digit days and months where the layout has two.
	lenientLayout = strings.NewReplacer("2006", "2006", "01", "1", "02", "2")
	humanLayout   = strings.NewReplacer("2006", "YYYY", "01", "MM", "02", "DD", "06", "YY", "Jan", "Mon")
)

// parseCodedCell reads a cell of coded entries: codes separated by ";", each
// optionally followed by "@" and the date it started ("ASTHMA@2010; HTN").
func parseCodedCell(cell string, dates dateReader) ([]CodedEntry, error) {
	var es []CodedEntry
	for item := range strings.SplitSeq(cell, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		code, date, hasDate := strings.Cut(item, "@")
		e := CodedEntry{Code: strings.TrimSpace(code)}
		if hasDate {
			d, err := dates.read(strings.TrimSpace(date))
			if err != nil {
				return nil, fmt.Errorf("entry %q has the start date %q, which %v", item, strings.TrimSpace(date), err)
			}
			e.Start = d
		}
		es = append(es, e)
	}
	return es, nil
}

// encodingProblem reports bytes that are not UTF-8, or NUL bytes, which UTF-16
// text without a byte order mark is full of.
func encodingProblem(cell string, row, line int, header string, col int) (Problem, bool) {
	if utf8.ValidString(cell) && !strings.ContainsRune(cell, 0) {
		return Problem{}, false
	}
	p := Problem{Row: row, Line: line, Column: header}
	if p.Column == "" {
		p.Column = "column " + strconv.Itoa(col)
	}
	if i := strings.IndexByte(cell, 0); i >= 0 && (utf8.ValidString(cell) || i < invalidAt(cell)) {
		p.Message = "The cell contains NUL bytes: the file looks UTF-16 encoded. Save it as \"CSV UTF-8\" and import it again."
		return p, true
	}
	i := invalidAt(cell)
	p.Message = fmt.Sprintf("Byte 0x%02X at position %d of the cell is not UTF-8: the file seems to be saved in another "+
		"encoding, such as Windows-1252. Save it as \"CSV UTF-8\" and import it again.", cell[i], utf8.RuneCountInString(cell[:i])+1)
	return p, true
}

func invalidAt(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(s)
}

func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.StartLine, Message: fmt.Sprintf(
			"The file is not valid CSV at line %d, character %d: %v.", pe.Line, pe.Column, pe.Err)}
	}
	return Problem{Message: "The file could not be read: " + err.Error() + "."}
}

// endLine returns the line the record just read ends on.
func endLine(cr *csv.Reader, rec []string) int {
	if len(rec) == 0 {
		return 0
	}
	line, _ := cr.FieldPos(len(rec) - 1)
	return line + strings.Count(rec[len(rec)-1], "\n")
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// RejectWriter writes rejected rows back as CSV, with the file's own columns
// and a last column "problem" saying what to fix, so people can correct the
// rows in their spreadsheet and import just those again.
type RejectWriter struct {
	w       *csv.Writer
	started bool
}

// NewRejectWriter returns a RejectWriter writing to w.
func NewRejectWriter(w io.Writer) *RejectWriter { return &RejectWriter{w: csv.NewWriter(w)} }

// Write writes row with its problems; the first call writes the header too.
func (rw *RejectWriter) Write(row ImportedRow) error {
	if !rw.started {
		name := "problem"
		for slices.ContainsFunc(row.Header, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), name) }) {
			name = "import " + name
		}
		if err := rw.w.Write(append(slices.Clone(row.Header), name)); err != nil {
			return fmt.Errorf("write rejected rows: %w", err)
		}
		rw.started = true
	}
	out := slices.Clone(row.Record)
	for len(out) < len(row.Header) {
		out = append(out, "")
	}
	msgs := make([]string, len(row.Problems))
	for i, p := range row.Problems {
		p.Row, p.Line = 0, 0 // the row is right there
		msgs[i] = p.String()
	}
	if err := rw.w.Write(append(out, strings.Join(msgs, " "))); err != nil {
		return fmt.Errorf("write rejected row %d: %w", row.Row, err)
	}
	return nil
}

// Flush writes buffered rows and reports any write error.
func (rw *RejectWriter) Flush() error {
	rw.w.Flush()
	if err := rw.w.Error(); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	return nil
}
