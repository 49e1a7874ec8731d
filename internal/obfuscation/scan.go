package obfuscation

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Finding is one place in the copy where an original PHI value was found.
// It names the place and the field of the value, never the value itself,
// so findings can be logged and shown.
type Finding struct {
	Table  string
	Column string
	// Row identifies the row: its integer primary key or rowid, or "#N",
	// its position in the table, when it has neither (a primary key made of
	// text could itself be PHI).
	Row string
	// Field is the PHI field whose value leaked ("email",
	// "given_name+family_name", …).
	Field string
}

func (f Finding) String() string {
	return f.Table + "." + f.Column + " row " + f.Row + ", field " + f.Field
}

// Findings is the outcome of a scan.
type Findings struct {
	// Count is every hit; First the first maxFindings of them.
	Count int
	First []Finding
	// Originals is how many original values were looked for; Tables and
	// Cells how much of the copy was read.
	Originals   int
	Tables      int
	Rows, Cells int64
}

// Clean reports whether nothing was found.
func (f Findings) Clean() bool { return f.Count == 0 }

const maxFindings = 100

// skipColumns are the staff directory's identity columns. They hold the
// unit's own users, not volunteers, and are kept in a copy so people can
// sign in; a member of staff who is also a volunteer would otherwise fail
// every copy. The obfuscation never writes volunteer data there.
var skipColumns = map[string]bool{
	"app_user.username": true, "app_user.display_name": true, "app_user.email": true,
	"audit_entry.actor": true,
}

// Scan looks for every original PHI value of source (see the rule at the
// top of needles.go) in every text column of every table of copy, tables
// and columns discovered from the database's own catalogue so a table
// added by a later release cannot hide PHI. Each cell costs a few hash
// lookups, whatever the number of volunteers. progress, if set, hears each
// table as it is done.
func Scan(ctx context.Context, source, copy *store.DB, progress func(string)) (Findings, error) {
	o, err := ReadOriginals(ctx, source, progress)
	if err != nil {
		return Findings{}, err
	}
	return o.Scan(ctx, copy, progress)
}

// Originals are the original PHI values of a source database, read once
// so the source can be closed while the copy is scanned (a PostgreSQL copy
// of the same source waits for it to have no connections).
type Originals struct{ n *needles }

// ReadOriginals reads the original PHI values of source for Scan.
func ReadOriginals(ctx context.Context, source *store.DB, progress func(string)) (Originals, error) {
	vs, err := readVolunteers(ctx, source)
	if err != nil {
		return Originals{}, fmt.Errorf("scan: originals: %w", err)
	}
	phiQuestions, err := questionsWithPHI(ctx, source)
	if err != nil {
		return Originals{}, fmt.Errorf("scan: originals: %w", err)
	}
	n, err := collect(ctx, source, vs, phiQuestions)
	if err != nil {
		return Originals{}, fmt.Errorf("scan: originals: %w", err)
	}
	if progress != nil {
		progress(fmt.Sprintf("Read %d original PHI values of %d volunteers to look for.", n.Values, len(vs)))
	}
	return Originals{n: n}, nil
}

// Scan looks for the originals in every text column of every table of
// copy (see the package's Scan).
func (o Originals) Scan(ctx context.Context, copy *store.DB, progress func(string)) (Findings, error) {
	var out Findings
	if progress == nil {
		progress = func(string) {}
	}
	n := o.n
	out.Originals = n.Values
	tables, err := textTables(ctx, copy)
	if err != nil {
		return out, fmt.Errorf("scan: %w", err)
	}
	out.Tables = len(tables)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	work := make(chan tableCols)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &matcher{n: n}
			for t := range work {
				rows, cells, fs, count, err := m.scanTable(ctx, copy, t)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				out.Rows += rows
				out.Cells += cells
				out.Count += count
				for _, f := range fs {
					if len(out.First) < maxFindings {
						out.First = append(out.First, f)
					}
				}
				// Under the lock: callers' progress functions need not be
				// safe for concurrent use.
				if err == nil && rows > 0 {
					progress(fmt.Sprintf("Scanned %s: %d rows, %d hits.", t.name, rows, count))
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range tables {
		if ctx.Err() != nil {
			break
		}
		work <- t
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("scan: %w", errs[0])
	}
	sort.SliceStable(out.First, func(i, j int) bool { return out.First[i].Table < out.First[j].Table })
	return out, nil
}

// tableCols is a table with the columns the scan reads.
type tableCols struct {
	name string
	// rowID is the expression naming a row, "" to count rows instead.
	rowID string
	cols  []string
	// casts are the columns as selected (jsonb cast to text).
	casts []string
}

// textTables lists every table of db with text columns.
func textTables(ctx context.Context, db *store.DB) ([]tableCols, error) {
	if db.Engine == store.Postgres {
		return postgresTables(ctx, db)
	}
	rows, err := db.Query(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	type tdef struct{ name, sql string }
	var defs []tdef
	for rows.Next() {
		var d tdef
		var s sql.NullString
		if err := rows.Scan(&d.name, &s); err != nil {
			rows.Close()
			return nil, err
		}
		d.sql = s.String
		defs = append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []tableCols
	for _, d := range defs {
		t := tableCols{name: d.name}
		if !strings.Contains(strings.ToUpper(d.sql), "WITHOUT ROWID") {
			t.rowID = "rowid"
		}
		cr, err := db.Query(ctx, "SELECT name, type, pk FROM pragma_table_info(?)", d.name)
		if err != nil {
			return nil, fmt.Errorf("list the columns of %s: %w", d.name, err)
		}
		for cr.Next() {
			var name, typ string
			var pk int
			if err := cr.Scan(&name, &typ, &pk); err != nil {
				cr.Close()
				return nil, err
			}
			u := strings.ToUpper(typ)
			if u == "" || strings.Contains(u, "TEXT") || strings.Contains(u, "CHAR") || strings.Contains(u, "CLOB") || strings.Contains(u, "JSON") {
				t.cols = append(t.cols, name)
				t.casts = append(t.casts, quoteIdent(name))
			}
		}
		cr.Close()
		if err := cr.Err(); err != nil {
			return nil, err
		}
		if len(t.cols) > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

func postgresTables(ctx context.Context, db *store.DB) ([]tableCols, error) {
	rows, err := db.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []tableCols
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].name != table {
			out = append(out, tableCols{name: table})
		}
		t := &out[len(out)-1]
		switch typ {
		case "text", "character varying", "character", "name":
			t.cols, t.casts = append(t.cols, col), append(t.casts, quoteIdent(col))
		case "json", "jsonb", "xml", "ARRAY", "USER-DEFINED":
			t.cols, t.casts = append(t.cols, col), append(t.casts, quoteIdent(col)+"::text")
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(t tableCols) bool { return len(t.cols) == 0 })
	// A row is named by a single integer primary key column where there is
	// one; otherwise by its position.
	for i := range out {
		var col string
		err := db.QueryRow(ctx, `SELECT MIN(a.attname) FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = to_regclass(?) AND i.indisprimary AND format_type(a.atttypid, a.atttypmod) IN ('bigint', 'integer', 'smallint')
			GROUP BY i.indexrelid HAVING COUNT(*) = 1 AND MAX(i.indnatts) = 1`, quoteIdent(out[i].name)).Scan(&col)
		if err == nil && col != "" {
			out[i].rowID = quoteIdent(col)
		} else if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("find the primary key of %s: %w", out[i].name, err)
		}
	}
	return out, nil
}

// splitCells splits a packed row into cells; false when the separators do
// not match the number of cells.
func splitCells(row []byte, cells []sql.RawBytes) bool {
	for i := range cells {
		if i == len(cells)-1 {
			if bytes.IndexByte(row, fieldSep) >= 0 {
				return false
			}
			cells[i] = row
			return true
		}
		j := bytes.IndexByte(row, fieldSep)
		if j < 0 {
			return false
		}
		cells[i], row = row[:j:j], row[j+1:]
	}
	return true
}

// matcher checks cells against the needles; one per scanning goroutine.
type matcher struct {
	n     *needles
	buf   []byte
	lower []byte
	hits  []tokenHit
}

type tokenHit struct {
	token string
	col   int
}

// fieldSep joins the text columns of a row into one value on the packed
// read (see scanTable).
const fieldSep = 0x1f

// errAmbiguousRow stops a packed read of a table whose text holds the
// separator itself, so its cells cannot be told apart; the table is then
// read again column by column.
var errAmbiguousRow = errors.New("a cell holds the column separator")

// scanTable scans one table. A table of several text columns is read
// packed — every row's text columns joined by the database into one value
// with a separator, which spares the driver most of its per-column work —
// and split into the same cells again here. Should any cell hold the
// separator, the packed read could misplace a cell boundary; the table is
// then read again, column by column, from the start.
func (m *matcher) scanTable(ctx context.Context, db *store.DB, t tableCols) (nrows, ncells int64, fs []Finding, count int, err error) {
	if len(t.cols) > 1 {
		nrows, ncells, fs, count, err = m.scanRows(ctx, db, t, true)
		if !errors.Is(err, errAmbiguousRow) {
			return nrows, ncells, fs, count, err
		}
	}
	return m.scanRows(ctx, db, t, false)
}

func (m *matcher) scanRows(ctx context.Context, db *store.DB, t tableCols, packed bool) (nrows, ncells int64, fs []Finding, count int, err error) {
	sel := strings.Join(t.casts, ", ")
	if packed {
		parts := make([]string, len(t.casts))
		sep := "char(31)"
		if db.Engine == store.Postgres {
			sep = "chr(31)"
		}
		for i, c := range t.casts {
			// Every column as text (NULL as empty), so no cell is lost to
			// the concatenation and none becomes NULL.
			parts[i] = "coalesce(CAST(" + c + " AS TEXT), '')"
		}
		sel = strings.Join(parts, " || "+sep+" || ")
	}
	id := t.rowID
	if id == "" {
		id = "NULL"
	}
	rows, err := db.Query(ctx, "SELECT "+id+", "+sel+" FROM "+quoteIdent(t.name))
	if err != nil {
		return 0, 0, nil, 0, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	ncol := len(t.cols) + 1
	if packed {
		ncol = 2
	}
	raw := make([]sql.RawBytes, ncol)
	dest := make([]any, ncol)
	for i := range raw {
		dest[i] = &raw[i]
	}
	cells := make([]sql.RawBytes, len(t.cols)+1)
	seen := map[Finding]bool{}
	report := func(col int, row, field string) {
		count++
		f := Finding{Table: t.name, Column: t.cols[col], Row: row, Field: field}
		if !seen[f] && len(fs) < maxFindings {
			seen[f] = true
			fs = append(fs, f)
		}
	}
	skip := make([]bool, len(t.cols))
	for i, c := range t.cols {
		skip[i] = skipColumns[t.name+"."+c]
	}
	for rows.Next() {
		if nrows%4096 == 0 && ctx.Err() != nil {
			return nrows, ncells, fs, count, ctx.Err()
		}
		if err := rows.Scan(dest...); err != nil {
			return nrows, ncells, fs, count, fmt.Errorf("read %s: %w", t.name, err)
		}
		if packed {
			cells[0] = raw[0]
			if !splitCells(raw[1], cells[1:]) {
				return nrows, ncells, fs, count, errAmbiguousRow
			}
		} else {
			copy(cells, raw)
		}
		nrows++
		rowName := func() string {
			if t.rowID == "" {
				return fmt.Sprintf("#%d", nrows)
			}
			return string(cells[0])
		}
		m.hits = m.hits[:0]
		for i, c := range cells[1:] {
			if len(c) < minNameRunes || skip[i] {
				continue
			}
			ncells++
			if field, ok := m.cell(c, i); ok {
				report(i, rowName(), field)
			}
		}
		if len(m.hits) > 1 {
			for a := 0; a < len(m.hits); a++ {
				for b := a + 1; b < len(m.hits); b++ {
					if label, ok := m.n.pairs[m.n.pairKey(m.hits[a].token, m.hits[b].token)]; ok {
						col := m.hits[a].col
						report(col, rowName(), label)
					}
				}
			}
		}
	}
	return nrows, ncells, fs, count, rows.Err()
}

// cell checks one cell for whole values, email addresses and phones, and
// collects its name words into m.hits for the row's pair check.
func (m *matcher) cell(c []byte, col int) (field string, found bool) {
	ascii := true
	special := false
	digits := 0
	for _, b := range c {
		if b >= utf8.RuneSelf {
			ascii = false
		}
		if b >= '0' && b <= '9' {
			digits++
		}
		switch b {
		case '"', '{', '}', '[', ']', ';', '|', '=', '\n', '\r', '\t', '@':
			special = true
		}
	}
	// Whole values: the cell, and each element of a list or JSON text.
	if f, ok := m.whole(c, ascii); ok {
		return f, true
	}
	if special {
		start := 0
		for i := 0; i <= len(c); i++ {
			if i < len(c) && !strings.ContainsRune("\"{}[];|=\n\r\t", rune(c[i])) {
				continue
			}
			if seg := c[start:i]; len(seg) >= minNameRunes && len(seg) < len(c) {
				if f, ok := m.whole(seg, ascii); ok {
					return f, true
				}
			}
			start = i + 1
		}
		if f, ok := m.emails(c); ok {
			return f, true
		}
	}
	// Phones.
	var phoneField string
	if digits >= minPhoneDigits {
		eachPhoneKey(c, func(k string) {
			if f, ok := m.n.phones[k]; ok && phoneField == "" {
				phoneField = f
			}
		})
	}
	if phoneField != "" {
		return phoneField, true
	}
	// Name words.
	if !ascii {
		for _, w := range strings.Fields(volunteer.NormalizeName(string(c))) {
			if _, ok := m.n.tokens[w]; ok {
				m.hit(w, col)
			}
		}
		return "", false
	}
	m.buf = m.buf[:0]
	flush := func() {
		if len(m.buf) >= minNameRunes {
			if _, ok := m.n.tokens[string(m.buf)]; ok {
				m.hit(string(m.buf), col)
			}
		}
		m.buf = m.buf[:0]
	}
	for _, b := range c {
		switch {
		case b >= 'A' && b <= 'Z':
			m.buf = append(m.buf, b+'a'-'A')
		case b >= 'a' && b <= 'z' || b >= '0' && b <= '9':
			m.buf = append(m.buf, b)
		case b == '\'' || b == '`':
		default:
			flush()
		}
	}
	flush()
	return "", false
}

func (m *matcher) hit(token string, col int) {
	for _, h := range m.hits {
		if h.token == token {
			return
		}
	}
	m.hits = append(m.hits, tokenHit{token: token, col: col})
}

// whole looks a trimmed, lower-cased text up among the whole values.
func (m *matcher) whole(c []byte, ascii bool) (string, bool) {
	s := c
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	if len(s) < minNameRunes || len(s) < m.n.minWhole {
		return "", false
	}
	if !ascii {
		low := strings.ToLower(string(s))
		if !m.n.mayBeWhole([]byte(low)) {
			return "", false
		}
		f, ok := m.n.whole[low]
		return f, ok
	}
	m.lower = m.lower[:0]
	for _, b := range s {
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		m.lower = append(m.lower, b)
	}
	if !m.n.mayBeWhole(m.lower) {
		return "", false
	}
	f, ok := m.n.whole[string(m.lower)]
	return f, ok
}

// emails looks up every email address in the text.
func (m *matcher) emails(c []byte) (string, bool) {
	for i, b := range c {
		if b != '@' {
			continue
		}
		lo, hi := i, i+1
		for lo > 0 && emailChar(c[lo-1]) {
			lo--
		}
		for hi < len(c) && emailChar(c[hi]) {
			hi++
		}
		for hi > i+1 && c[hi-1] == '.' {
			hi--
		}
		if f, ok := m.whole(c[lo:hi], true); ok {
			return f, true
		}
	}
	return "", false
}

func emailChar(b byte) bool {
	return isAlnum(b) || strings.IndexByte("._%+-'", b) >= 0
}
