package dictionary

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"
)

// ParseError is a problem in a distribution file, located as precisely as
// the problem allows: its Error reads like
//
//	llt.asc line 12: field pt_code: "12x" is not a number
type ParseError struct {
	// File is the file's name in the distribution, e.g. "llt.asc".
	File string
	// Line is the 1-based line, or 0 when the problem concerns the file.
	Line int
	// Field is the field as the distribution's specification names it,
	// with its columns for fixed-width files; empty for the whole line.
	Field string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, such as fs.ErrNotExist for a missing
	// file; nil when the problem is in the content.
	Err error
}

// Error renders the problem as file, line, field and message.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString("field " + e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, so errors.Is(err, fs.ErrNotExist)
// recognises a missing file.
func (e *ParseError) Unwrap() error { return e.Err }

// maxProblems bounds how many problems one parse reports: enough to fix a
// file in one go, few enough to read.
const maxProblems = 20

// problems collects ParseErrors so a user sees every problem in a file at
// once instead of fixing them one upload at a time.
type problems struct {
	errs    []error
	dropped int
}

func (p *problems) add(file string, line int, field, format string, args ...any) {
	if len(p.errs) >= maxProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, &ParseError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) addErr(err error) {
	if len(p.errs) >= maxProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, err)
}

func (p *problems) any() bool { return len(p.errs) > 0 }

// err joins the problems into one error whose lines each name a file, line
// and field; errors.As finds the first *ParseError in it.
func (p *problems) err() error {
	if p.dropped > 0 {
		return errors.Join(append(p.errs, fmt.Errorf("and %d more problems not listed", p.dropped))...)
	}
	return errors.Join(p.errs...)
}

// distribution is a directory of dictionary files whose names are matched
// without regard to case, as older MedDRA releases shipped upper-case names.
type distribution struct {
	fsys  fs.FS
	names map[string]string // lower-case name → name in fsys
}

// openDistribution finds the directory holding marker: fsys itself, or its
// one subdirectory that does (MedDRA ships its files in MedAscii/, and a
// WHODrug download unpacks into a folder named after the release).
func openDistribution(fsys fs.FS, marker string) (*distribution, error) {
	d, err := listDistribution(fsys)
	if err != nil {
		return nil, err
	}
	if d.has(marker) {
		return d, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list distribution: %w", err)
	}
	var found *distribution
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("open folder %s: %w", e.Name(), err)
		}
		sd, err := listDistribution(sub)
		if err != nil {
			return nil, err
		}
		if sd.has(marker) {
			found = sd
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) > 1 {
		return nil, fmt.Errorf("the folders %s all hold %s; import one release at a time", strings.Join(dirs, ", "), marker)
	}
	if found != nil {
		return found, nil
	}
	return d, nil
}

func listDistribution(fsys fs.FS) (*distribution, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list distribution: %w", err)
	}
	d := &distribution{fsys: fsys, names: map[string]string{}}
	for _, e := range entries {
		if !e.IsDir() {
			d.names[strings.ToLower(e.Name())] = e.Name()
		}
	}
	return d, nil
}

func (d *distribution) has(name string) bool {
	_, ok := d.names[strings.ToLower(name)]
	return ok
}

// requireFiles records a problem for each named file the distribution lacks.
func (d *distribution) requireFiles(p *problems, what string, names ...string) {
	for _, n := range names {
		if !d.has(n) {
			p.addErr(&ParseError{File: n, Msg: fmt.Sprintf("the file is missing; a %s distribution has %s", what, strings.Join(names, ", ")), Err: fs.ErrNotExist})
		}
	}
}

// readLines calls fn with each non-blank line of the named file and its
// 1-based number, without line terminators. Lines that are not UTF-8 are
// reported, not guessed at: a wrongly decoded term would be coded to
// silently. It checks ctx every few thousand lines so an import of a real
// dictionary (about 80 000 LLTs) can be cancelled.
func (d *distribution) readLines(ctx context.Context, p *problems, name string, fn func(line int, text string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := d.fsys.Open(d.names[strings.ToLower(name)])
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		text := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if !utf8.ValidString(text) {
			p.add(name, n, "", "the line is not UTF-8 text; convert the file to UTF-8 (for example with iconv -f WINDOWS-1252 -t UTF-8) and import it again")
			continue
		}
		fn(n, text)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s line %d: %w", name, n+1, err)
	}
	return nil
}

// readDollar reads a MedDRA file of $-terminated fields. MedDRA ends every
// field, the last included, with "$", and a line without the final "$" is
// refused: it is how a lost or doubled "$" shows, which would otherwise
// shift every later field into the wrong column. Lines with the wrong
// number of fields are reported and skipped; fn gets the fields of the
// others, trimmed.
func (d *distribution) readDollar(ctx context.Context, p *problems, name string, fields []string, fn func(line int, rec []string)) error {
	return d.readLines(ctx, p, name, func(line int, text string) {
		body, ended := strings.CutSuffix(strings.TrimRight(text, " "), "$")
		if !ended {
			p.add(name, line, "", "the line does not end with \"$\" as every line of %s does", name)
			return
		}
		rec := strings.Split(body, "$")
		if len(rec) != len(fields) {
			p.add(name, line, "", "the line has %d fields where %s has %d (%s$)", len(rec), name, len(fields), strings.Join(fields, "$"))
			return
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		fn(line, rec)
	})
}
