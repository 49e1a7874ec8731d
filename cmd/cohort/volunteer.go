package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

func runVolunteer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{"say import: cohort volunteer import FILE --mapping … --mode all-or-nothing|valid-rows"}
	}
	fs := flag.NewFlagSet("volunteer import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbf := addDatabaseFlags(fs)
	mapping := fs.String("mapping", "", "a file of header=field lines, or header=field pairs separated by commas (default: columns named like fields)")
	mode := fs.String("mode", string(registry.AllOrNothing), "all-or-nothing: store nothing if a row is rejected; valid-rows: store the valid rows")
	rejects := fs.String("rejects", "", "valid-rows mode: write the rejected rows, with a problem column, to this CSV file")
	dateFormat := fs.String("date-format", "YYYY-MM-DD", "how the file writes dates: YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY or DD-MMM-YYYY")
	callingCode := fs.String("calling-code", "", "country calling code for phone numbers written without one, e.g. 31")
	sep := fs.String("separator", ",", "field separator: , or ;")
	dupReason := fs.String("duplicate-reason", "", "import rows that look like registered volunteers, with this reason in the audit trail")
	dryRun := fs.Bool("dry-run", false, "check the file and report; store nothing")
	files, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{"name one CSV file: cohort volunteer import FILE --mapping … --mode all-or-nothing|valid-rows"}
	}
	m, err := registry.ParseImportMode(*mode)
	if err != nil {
		return usageError{"--mode: " + err.Error()}
	}
	layout, ok := setting.DateFormats[*dateFormat]
	if !ok {
		return usageError{"--date-format: use YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY or DD-MMM-YYYY"}
	}
	if *sep != "," && *sep != ";" {
		return usageError{"--separator: use , or ;"}
	}
	if *rejects != "" && m != registry.ValidRows {
		return usageError{"--rejects needs --mode valid-rows: in all-or-nothing mode no row is stored"}
	}
	opts := registry.ImportOptions{DateFormats: []string{layout}, DefaultCallingCode: *callingCode, Comma: rune((*sep)[0]),
		Mode: m, DryRun: *dryRun, DuplicateReason: *dupReason}
	if *mapping == "" {
		opts.Mapping, err = mappingFromHeader(files[0], opts.Comma)
	} else {
		opts.Mapping, err = readMapping(*mapping)
	}
	if err != nil {
		return err
	}
	in, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer in.Close()
	if *rejects != "" {
		out, err := os.Create(*rejects)
		if err != nil {
			return err
		}
		defer out.Close()
		opts.Rejects = out
	}
	start := time.Now()
	progressed := false
	opts.Progress = func(rows int) {
		progressed = true
		fmt.Fprintf(stderr, "\r%d rows read, %.0f rows/s", rows, float64(rows)/time.Since(start).Seconds())
	}
	db, _, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	res, err := registry.Import(ctx, db, audit.Actor{ID: 0, Name: "cli:" + user}, in, opts)
	if progressed {
		fmt.Fprintln(stderr)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	if res.Omitted > 0 {
		fmt.Fprintf(stdout, "… and %d more problems.\n", res.Omitted)
	}
	var fileErr *volunteer.FileError
	switch {
	case errors.As(err, &fileErr):
		fmt.Fprintln(stdout, "The file cannot be imported as it is; nothing was stored.")
		return errSilentFailure
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stdout, "Interrupted: nothing was stored.")
		return errSilentFailure
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "%d rows read: %d valid, %d with problems", res.Rows, res.Accepted, res.Rejected)
	if res.Duplicates > 0 {
		fmt.Fprintf(stdout, ", %d possible duplicates", res.Duplicates)
	}
	fmt.Fprintln(stdout, ".")
	switch {
	case *dryRun:
		fmt.Fprintln(stdout, "Dry run: nothing was stored.")
	case m == registry.AllOrNothing && res.Rejected > 0:
		fmt.Fprintln(stdout, "Nothing was stored: in all-or-nothing mode every row must be valid.")
		return errSilentFailure
	default:
		fmt.Fprintf(stdout, "%s imported in %.1f s.\n", plural(res.Imported, "volunteer"), time.Since(start).Seconds())
		if res.Rejected > 0 && *rejects != "" {
			fmt.Fprintf(stdout, "Rejected rows (%d) are in %s.\n", res.Rejected, *rejects)
		}
	}
	return nil
}

// readMapping reads a column mapping: a file of header=field lines (blank
// lines and # comments ignored), or header=field pairs separated by commas.
func readMapping(spec string) (map[string]string, error) {
	var lines []string
	if f, err := os.Open(spec); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read mapping %s: %w", spec, err)
		}
	} else if strings.Contains(spec, "=") {
		lines = strings.Split(spec, ",")
	} else {
		return nil, usageError{fmt.Sprintf("--mapping: %s is neither a file nor header=field pairs", spec)}
	}
	m := map[string]string{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		header, field, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(header) == "" || strings.TrimSpace(field) == "" {
			return nil, usageError{fmt.Sprintf("--mapping: entry %d (%q) is not header=field", i+1, line)}
		}
		m[strings.TrimSpace(header)] = strings.TrimSpace(field)
	}
	return m, nil
}

// mappingFromHeader maps every column whose header is an import field name
// to that field, which is how cohort's own export names its columns.
func mappingFromHeader(path string, comma rune) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header of %s: %w", path, err)
	}
	fields := map[string]bool{}
	for _, name := range volunteer.ImportFields() {
		fields[name] = true
	}
	m := map[string]string{}
	for _, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if fields[h] || strings.HasPrefix(h, volunteer.ImportAnswer) {
			m[h] = h
		}
	}
	return m, nil
}

// plural writes "1 volunteer" or "3 volunteers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
