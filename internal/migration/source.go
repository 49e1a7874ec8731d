package migration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the SQLite driver "sqlite", for SQLite sources and SQL dumps
)

// Row is one row of a source table.
type Row struct {
	// Number is the row's position in its table, counting from 1 (for a
	// CSV file, the data rows after the header).
	Number int
	cols   map[string]int
	values []string
}

// Get returns the value of a column (names compared without case) and
// whether the table has that column.
func (r Row) Get(column string) (string, bool) {
	i, ok := r.cols[strings.ToLower(strings.TrimSpace(column))]
	if !ok || i >= len(r.values) {
		return "", ok
	}
	return r.values[i], true
}

// Source is a legacy database the migration reads, table by table.
type Source interface {
	// Tables lists the source's tables.
	Tables(ctx context.Context) ([]string, error)
	// Columns lists a table's columns.
	Columns(ctx context.Context, table string) ([]string, error)
	// Rows calls each for every row of table, in order; it stops at the
	// first error each returns.
	Rows(ctx context.Context, table string, each func(Row) error) error
	Close() error
}

// ErrNoTable says a source has no table of that name.
var ErrNoTable = errors.New("no such table")

// OpenSource opens a legacy source: a directory of CSV files (one table per
// file, named after it), a SQLite database file, or an SQL dump (.sql): a
// PostgreSQL plain dump with COPY blocks is read directly, any other dump is
// loaded into an in-memory SQLite database.
func OpenSource(ctx context.Context, p string) (Source, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("open the legacy source: %w", err)
	}
	if st.IsDir() {
		return CSVSource(os.DirFS(p)), nil
	}
	if strings.EqualFold(filepath.Ext(p), ".sql") {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("open the legacy source: %w", err)
		}
		if bytes.Contains(data, []byte("\nCOPY ")) || bytes.HasPrefix(data, []byte("COPY ")) {
			return parsePGDump(data)
		}
		return loadSQLDump(ctx, string(data))
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open the legacy source: %w", err)
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if string(head[:n]) != "SQLite format 3\x00" {
		return nil, fmt.Errorf("open the legacy source: %s is neither a directory of CSV files, a SQLite database nor an .sql dump", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(p)+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open the legacy source: %w", err)
	}
	return &sqlSource{db: db}, nil
}

// CSVSource reads a directory of CSV files, one table per file: the table
// "patients" is patients.csv. The first line holds the column names; a
// byte-order mark is ignored; the separator is a comma, or a semicolon or
// tab when the header line has those and no comma.
func CSVSource(fsys fs.FS) Source { return &csvSource{fsys: fsys} }

type csvSource struct{ fsys fs.FS }

func (s *csvSource) Close() error { return nil }

func (s *csvSource) Tables(ctx context.Context) ([]string, error) {
	ms, err := fs.Glob(s.fsys, "*.csv")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		out = append(out, strings.TrimSuffix(path.Base(m), ".csv"))
	}
	return out, nil
}

func (s *csvSource) file(table string) (fs.File, string, error) {
	ms, _ := fs.Glob(s.fsys, "*.csv")
	for _, m := range ms {
		if strings.EqualFold(strings.TrimSuffix(m, ".csv"), table) {
			f, err := s.fsys.Open(m)
			return f, m, err
		}
	}
	return nil, "", fmt.Errorf("the source has no file %s.csv: %w", table, ErrNoTable)
}

func (s *csvSource) reader(table string) (*csv.Reader, []string, func() error, string, error) {
	f, name, err := s.file(table)
	if err != nil {
		return nil, nil, nil, "", err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	first, _ := br.Peek(4096)
	line, _, _ := bytes.Cut(first, []byte("\n"))
	r := csv.NewReader(br)
	if !bytes.Contains(line, []byte(",")) {
		switch {
		case bytes.Contains(line, []byte(";")):
			r.Comma = ';'
		case bytes.Contains(line, []byte("\t")):
			r.Comma = '\t'
		}
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		f.Close()
		return nil, nil, nil, "", fmt.Errorf("%s: read the header line: %w", name, err)
	}
	return r, slices.Clone(header), f.Close, name, nil
}

func (s *csvSource) Columns(ctx context.Context, table string) ([]string, error) {
	_, header, closer, _, err := s.reader(table)
	if err != nil {
		return nil, err
	}
	closer()
	return header, nil
}

func (s *csvSource) Rows(ctx context.Context, table string, each func(Row) error) error {
	r, header, closer, name, err := s.reader(table)
	if err != nil {
		return err
	}
	defer closer()
	cols := columnIndex(header)
	for n := 1; ; n++ {
		if n%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i, v := range rec {
			if !utf8.ValidString(v) {
				rec[i] = latin1(v)
			}
		}
		if err := each(Row{Number: n, cols: cols, values: rec}); err != nil {
			return err
		}
	}
}

// latin1 reads bytes that are not UTF-8 as ISO 8859-1, the commonest
// encoding of old clinic systems' exports.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func columnIndex(header []string) map[string]int {
	cols := make(map[string]int, len(header))
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[k]; !dup {
			cols[k] = i
		}
	}
	return cols
}

// sqlSource reads tables of a SQLite database.
type sqlSource struct{ db *sql.DB }

func (s *sqlSource) Close() error { return s.db.Close() }

func (s *sqlSource) Tables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list the source's tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *sqlSource) resolve(ctx context.Context, table string) (string, error) {
	ts, err := s.Tables(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		if strings.EqualFold(t, table) {
			return t, nil
		}
	}
	return "", fmt.Errorf("the source has no table %s: %w", table, ErrNoTable)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *sqlSource) Columns(ctx context.Context, table string) ([]string, error) {
	t, err := s.resolve(ctx, table)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(t)+" LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t, err)
	}
	defer rows.Close()
	return rows.Columns()
}

func (s *sqlSource) Rows(ctx context.Context, table string, each func(Row) error) error {
	t, err := s.resolve(ctx, table)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(t))
	if err != nil {
		return fmt.Errorf("read table %s: %w", t, err)
	}
	defer rows.Close()
	header, err := rows.Columns()
	if err != nil {
		return err
	}
	cols := columnIndex(header)
	raw := make([]any, len(header))
	ptrs := make([]any, len(header))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	vals := make([]string, len(header))
	for n := 1; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read table %s row %d: %w", t, n, err)
		}
		for i, v := range raw {
			vals[i] = text(v)
		}
		if err := each(Row{Number: n, cols: cols, values: vals}); err != nil {
			return err
		}
	}
	return rows.Err()
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return latin1(string(x))
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// loadSQLDump runs a dump's statements into an in-memory SQLite database.
func loadSQLDump(ctx context.Context, script string) (Source, error) {
	db, err := sql.Open("sqlite", "file:migration-dump-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"?mode=memory&cache=shared")
	if err != nil {
		return nil, fmt.Errorf("load the SQL dump: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, script); err != nil {
		db.Close()
		return nil, fmt.Errorf("load the SQL dump into SQLite: %w", err)
	}
	return &sqlSource{db: db}, nil
}

// pgDump holds the tables of a PostgreSQL plain dump, read from its COPY
// blocks.
type pgDump struct {
	tables map[string]*pgTable
	order  []string
}

type pgTable struct {
	name   string
	header []string
	rows   [][]string
}

// parsePGDump reads the COPY … FROM stdin blocks of a pg_dump plain dump;
// the rest (schema, SET, sequences) is not needed to migrate.
func parsePGDump(data []byte) (Source, error) {
	d := &pgDump{tables: map[string]*pgTable{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var cur *pgTable
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if cur != nil {
			if l == `\.` {
				cur = nil
				continue
			}
			fields := strings.Split(l, "\t")
			for i, f := range fields {
				fields[i] = pgUnescape(f)
			}
			cur.rows = append(cur.rows, fields)
			continue
		}
		rest, ok := strings.CutPrefix(l, "COPY ")
		if !ok {
			continue
		}
		open, close := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
		if open < 0 || close < open || !strings.Contains(rest[close:], "FROM stdin") {
			return nil, fmt.Errorf("the PostgreSQL dump's line %d is a COPY this reader does not understand: %s", line, l)
		}
		name := strings.TrimSpace(rest[:open])
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		name = strings.Trim(name, `"`)
		t := &pgTable{name: name}
		for _, c := range strings.Split(rest[open+1:close], ",") {
			t.header = append(t.header, strings.Trim(strings.TrimSpace(c), `"`))
		}
		d.tables[strings.ToLower(name)] = t
		d.order = append(d.order, name)
		cur = t
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the PostgreSQL dump: %w", err)
	}
	if cur != nil {
		return nil, fmt.Errorf("the PostgreSQL dump ends inside the COPY of %s (no \\. line)", cur.name)
	}
	return d, nil
}

func pgUnescape(s string) string {
	if s == `\N` {
		return ""
	}
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func (d *pgDump) Close() error { return nil }

func (d *pgDump) Tables(ctx context.Context) ([]string, error) { return slices.Clone(d.order), nil }

func (d *pgDump) table(name string) (*pgTable, error) {
	t, ok := d.tables[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("the dump has no COPY of table %s: %w", name, ErrNoTable)
	}
	return t, nil
}

func (d *pgDump) Columns(ctx context.Context, table string) ([]string, error) {
	t, err := d.table(table)
	if err != nil {
		return nil, err
	}
	return slices.Clone(t.header), nil
}

func (d *pgDump) Rows(ctx context.Context, table string, each func(Row) error) error {
	t, err := d.table(table)
	if err != nil {
		return err
	}
	cols := columnIndex(t.header)
	for i, r := range t.rows {
		if i%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := each(Row{Number: i + 1, cols: cols, values: r}); err != nil {
			return err
		}
	}
	return nil
}

// Fingerprint is the SHA-256 of a specification or source: of the file, or
// of a directory's CSV files (names and contents, in name order), so the
// same legacy export always gives the same fingerprint.
func Fingerprint(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return FingerprintFS(os.DirFS(p))
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FingerprintFS is Fingerprint of the CSV files at the top of fsys.
func FingerprintFS(fsys fs.FS) (string, error) {
	ms, err := fs.Glob(fsys, "*.csv")
	if err != nil {
		return "", err
	}
	slices.Sort(ms)
	h := sha256.New()
	for _, m := range ms {
		f, err := fsys.Open(m)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", m)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
