package volunteer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// NumberPattern is a parsed volunteer number pattern such as "V{seq:6}" or
// "{site}-{yy}{seq:5}". Literal text is copied; placeholders are:
//
//	{seq:N}  the sequence number, zero-padded to N digits (1–18)
//	{seq}    the sequence number without padding
//	{site}   the site code
//	{yyyy}   the four-digit year of the registration date
//	{yy}     its last two digits
//	{mm}     its two-digit month
//
// "{{" and "}}" write literal braces. Exactly one sequence placeholder is
// required, because it is what makes numbers unique. Whitespace is not allowed:
// numbers are typed, printed on labels and scanned as barcodes, where spaces get
// lost.
type NumberPattern struct {
	source string
	parts  []numberPart
	re     *regexp.Regexp
	seqSub int // submatch index of the sequence in re
}

type numberPart struct {
	kind  string // "lit", "seq", "site", "yyyy", "yy", "mm"
	lit   string
	width int // for seq; 0 means unpadded
}

// ParseNumberPattern parses a volunteer number pattern (see NumberPattern). The
// error is a sentence naming the problem and where it is.
func ParseNumberPattern(pattern string) (NumberPattern, error) {
	p := NumberPattern{source: pattern}
	bad := func(format string, args ...any) (NumberPattern, error) {
		return NumberPattern{}, fmt.Errorf("The volunteer number pattern %q is not valid: %s.", pattern, fmt.Sprintf(format, args...))
	}
	if pattern == "" {
		return bad("it is empty")
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, numberPart{kind: "lit", lit: lit.String()})
			lit.Reset()
		}
	}
	seqs := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '{' && i+1 < len(pattern) && pattern[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(pattern) && pattern[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return bad("the } at position %d closes nothing (write }} for a literal brace)", i+1)
		case c == '{':
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return bad("the { at position %d is never closed", i+1)
			}
			name := pattern[i+1 : i+end]
			part := numberPart{kind: name}
			switch {
			case name == "site" || name == "yyyy" || name == "yy" || name == "mm" || name == "seq":
			case strings.HasPrefix(name, "seq:"):
				w, err := strconv.Atoi(name[4:])
				if err != nil || w < 1 || w > 18 {
					return bad("{%s} at position %d needs a width from 1 to 18, as in {seq:6}", name, i+1)
				}
				part = numberPart{kind: "seq", width: w}
			default:
				return bad("{%s} at position %d is not a placeholder; use {seq:N}, {site}, {yyyy}, {yy} or {mm}", name, i+1)
			}
			if part.kind == "seq" {
				seqs++
			}
			flush()
			p.parts = append(p.parts, part)
			i += end
		case c <= ' ' || c == 0x7f:
			return bad("it contains whitespace or a control character at position %d", i+1)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	switch {
	case seqs == 0:
		return bad("it has no {seq:N} placeholder, so numbers would not be unique")
	case seqs > 1:
		return bad("it has %d sequence placeholders; use exactly one", seqs)
	}
	var re strings.Builder
	re.WriteString("^")
	group := 0
	for _, part := range p.parts {
		switch part.kind {
		case "lit":
			re.WriteString(regexp.QuoteMeta(part.lit))
			continue
		case "seq":
			if part.width > 0 {
				re.WriteString(`(\d{` + strconv.Itoa(part.width) + `})`)
			} else {
				re.WriteString(`(\d+)`)
			}
		case "site":
			re.WriteString(`([A-Za-z0-9]+)`)
		case "yyyy":
			re.WriteString(`(\d{4})`)
		case "yy":
			re.WriteString(`(\d{2})`)
		case "mm":
			re.WriteString(`(0[1-9]|1[0-2])`)
		}
		group++
		if part.kind == "seq" {
			p.seqSub = group
		}
	}
	re.WriteString("$")
	p.re = regexp.MustCompile(re.String())
	return p, nil
}

// ValidateNumberPattern returns an error, as a sentence, when pattern is not a
// valid volunteer number pattern.
func ValidateNumberPattern(pattern string) error {
	_, err := ParseNumberPattern(pattern)
	return err
}

// FormatNumber formats volunteer number seq for a site and registration date
// with pattern; see NumberPattern.Format.
func FormatNumber(pattern, site string, date Date, seq int64) (string, error) {
	p, err := ParseNumberPattern(pattern)
	if err != nil {
		return "", err
	}
	return p.Format(site, date, seq)
}

// String returns the pattern as written.
func (p NumberPattern) String() string { return p.source }

// Format returns the volunteer number for sequence number seq, registered at
// site on date. Site codes must be letters and digits so numbers stay
// parseable. A sequence number too large for its width is an error rather than
// a longer number, which would break label layouts and sorting.
func (p NumberPattern) Format(site string, date Date, seq int64) (string, error) {
	return p.format(site, date, seq, false)
}

// CounterKey returns what the storage layer allocates sequence numbers per:
// the number with the sequence left out. For "{site}-{yy}{seq:5}" each site
// and year has its own counter ("AMS-24{seq}"); for "V{seq:6}" there is one.
func (p NumberPattern) CounterKey(site string, date Date) (string, error) {
	return p.format(site, date, 0, true)
}

func (p NumberPattern) format(site string, date Date, seq int64, key bool) (string, error) {
	if p.re == nil {
		return "", fmt.Errorf("format volunteer number: the pattern was not parsed with ParseNumberPattern")
	}
	var b strings.Builder
	for _, part := range p.parts {
		switch part.kind {
		case "lit":
			b.WriteString(part.lit)
		case "site":
			if site == "" {
				return "", fmt.Errorf("The volunteer number pattern %s needs a site, and none was given.", p.source)
			}
			for i := 0; i < len(site); i++ {
				if c := site[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
					return "", fmt.Errorf("The site code %q cannot be part of a volunteer number: only letters and digits can.", site)
				}
			}
			b.WriteString(site)
		case "yyyy", "yy", "mm":
			if date.Year < 1000 || date.Year > 9999 || date.Month == 0 && part.kind == "mm" {
				return "", fmt.Errorf("The volunteer number pattern %s needs a registration date, and %q was given.", p.source, date.String())
			}
			switch part.kind {
			case "yyyy":
				b.WriteString(strconv.Itoa(date.Year))
			case "yy":
				b.Write(appendPadded(nil, date.Year%100, 2))
			default:
				b.Write(appendPadded(nil, int(date.Month), 2))
			}
		case "seq":
			if key {
				b.WriteString("{seq}")
				continue
			}
			if seq < 0 {
				return "", fmt.Errorf("The sequence number %d is negative.", seq)
			}
			s := strconv.FormatInt(seq, 10)
			if part.width > 0 && len(s) > part.width {
				return "", fmt.Errorf("The sequence number %d does not fit the %d digits of volunteer number pattern %s.", seq, part.width, p.source)
			}
			for i := len(s); i < part.width; i++ {
				b.WriteByte('0')
			}
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

// Matches reports whether number has the shape of the pattern, as a check on
// imported and typed numbers.
func (p NumberPattern) Matches(number string) bool {
	return p.re != nil && p.re.MatchString(number)
}

// Sequence returns the sequence number inside number, so a migration can start
// the counters after the highest imported number.
func (p NumberPattern) Sequence(number string) (seq int64, ok bool) {
	if p.re == nil {
		return 0, false
	}
	m := p.re.FindStringSubmatch(number)
	if m == nil {
		return 0, false
	}
	seq, err := strconv.ParseInt(m[p.seqSub], 10, 64)
	return seq, err == nil
}
