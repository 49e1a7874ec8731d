package migration

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// dateLayout is a parsed date layout such as "DD/MM/YYYY".
type dateLayout struct {
	source string
	parts  []layoutPart
}

type layoutPart struct {
	kind    string // "YYYY", "YY", "M", "D", "MON" or "" for a literal
	literal string
}

// parseLayout reads a date layout written with YYYY, YY, MM (or M), DD (or
// D) and MON (a month name, full or abbreviated); anything else is
// literal.
func parseLayout(s string) (dateLayout, error) {
	l := dateLayout{source: s}
	seen := map[string]bool{}
	for i := 0; i < len(s); {
		var kind string
		n := 0
		for _, t := range []struct {
			tok, kind string
		}{{"YYYY", "YYYY"}, {"YY", "YY"}, {"MON", "MON"}, {"MM", "M"}, {"DD", "D"}, {"M", "M"}, {"D", "D"}} {
			if strings.HasPrefix(s[i:], t.tok) {
				kind, n = t.kind, len(t.tok)
				break
			}
		}
		if kind == "" {
			if len(l.parts) > 0 && l.parts[len(l.parts)-1].kind == "" {
				l.parts[len(l.parts)-1].literal += s[i : i+1]
			} else {
				l.parts = append(l.parts, layoutPart{literal: s[i : i+1]})
			}
			i++
			continue
		}
		group := kind
		if kind == "YY" {
			group = "YYYY"
		}
		if kind == "MON" {
			group = "M"
		}
		if seen[group] {
			return l, fmt.Errorf("the date layout %q has the %s twice", s, map[string]string{"YYYY": "year", "M": "month", "D": "day"}[group])
		}
		seen[group] = true
		l.parts = append(l.parts, layoutPart{kind: kind})
		i += n
	}
	if !seen["YYYY"] || !seen["M"] || !seen["D"] {
		return l, fmt.Errorf("the date layout %q needs a year (YYYY or YY), a month (MM or MON) and a day (DD)", s)
	}
	return l, nil
}

var monthNames = func() map[string]time.Month {
	m := map[string]time.Month{}
	for mo := time.January; mo <= time.December; mo++ {
		name := strings.ToLower(mo.String())
		m[name] = mo
		m[name[:3]] = mo
	}
	m["sept"] = time.September
	return m
}()

// parse reads s in the layout; two-digit years fall in the hundred years
// up to the pivot year.
func (l dateLayout) parse(s string, pivot int) (volunteer.Date, bool) {
	var d volunteer.Date
	i := 0
	digits := func(min, max int) (int, bool) {
		j := i
		for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i < min {
			return 0, false
		}
		n := 0
		for _, c := range s[i:j] {
			n = n*10 + int(c-'0')
		}
		i = j
		return n, true
	}
	for _, p := range l.parts {
		var ok bool
		switch p.kind {
		case "":
			if !strings.HasPrefix(s[i:], p.literal) {
				return d, false
			}
			i += len(p.literal)
			ok = true
		case "YYYY":
			d.Year, ok = digits(4, 4)
		case "YY":
			var y int
			if y, ok = digits(2, 2); ok {
				d.Year = pivot/100*100 + y
				if d.Year > pivot {
					d.Year -= 100
				}
			}
		case "M":
			var m int
			m, ok = digits(1, 2)
			d.Month = time.Month(m)
		case "D":
			d.Day, ok = digits(1, 2)
		case "MON":
			j := i
			for j < len(s) && unicode.IsLetter(rune(s[j])) {
				j++
			}
			d.Month, ok = monthNames[strings.ToLower(strings.TrimSuffix(s[i:j], "."))]
			i = j
			if ok && i < len(s) && s[i] == '.' && !strings.HasPrefix(nextLiteral(l, p), ".") {
				i++
			}
		}
		if !ok {
			return d, false
		}
	}
	if i != len(s) || !d.IsComplete() || !d.Valid() {
		return d, false
	}
	return d, true
}

func nextLiteral(l dateLayout, p layoutPart) string {
	for i := range l.parts {
		if l.parts[i] == p && i+1 < len(l.parts) {
			return l.parts[i+1].literal
		}
	}
	return ""
}

// parseDate tries each layout in turn; the first that reads the whole value
// wins, so the order of the layouts settles ambiguous dates such as
// 03/04/1990.
func parseDate(s string, layouts []dateLayout, pivot int) (volunteer.Date, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range layouts {
		if d, ok := l.parse(s, pivot); ok {
			return d, true
		}
	}
	return volunteer.Date{}, false
}

// particles are the lower-case words that begin a family name ("van der
// Berg", "de la Cruz", "bin Said").
var particles = map[string]bool{"van": true, "von": true, "der": true, "den": true, "de": true, "del": true, "della": true,
	"la": true, "le": true, "da": true, "das": true, "dos": true, "di": true, "du": true, "ten": true, "ter": true, "bin": true,
	"binti": true, "al": true, "el": true, "st": true, "mac": false}

// splitName splits a full name into given and family name: "LAST, First",
// "First Last", "First van der Last", or "LAST First" when only the first
// word is written in capitals (a common legacy convention).
func splitName(s string) (given, family string) {
	s = strings.Join(strings.Fields(s), " ")
	if before, after, ok := strings.Cut(s, ","); ok {
		return strings.TrimSpace(after), strings.TrimSpace(before)
	}
	words := strings.Fields(s)
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return "", words[0]
	}
	if isUpperWord(words[0]) && !isUpperWord(words[len(words)-1]) {
		return strings.Join(words[1:], " "), words[0]
	}
	cut := len(words) - 1
	for i := 1; i < len(words)-1; i++ {
		if particles[strings.ToLower(words[i])] {
			cut = i
			break
		}
	}
	return strings.Join(words[:cut], " "), strings.Join(words[cut:], " ")
}

func isUpperWord(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
			if !unicode.IsUpper(r) {
				return false
			}
		}
	}
	return letters > 1
}

// titleCase capitalises each word and each part after a hyphen or
// apostrophe ("o'brien-smith" → "O'Brien-Smith"); family-name particles
// after the first word stay lower case ("Jan van der Berg").
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		lw := strings.ToLower(w)
		if i > 0 && particles[lw] {
			words[i] = lw
			continue
		}
		var b strings.Builder
		up := true
		for _, r := range lw {
			if up {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(r)
			}
			up = r == '-' || r == '\'' || r == '’' || r == '.'
		}
		words[i] = b.String()
	}
	return strings.Join(words, " ")
}

// keepDigits keeps the digits of a phone number and a leading plus.
func keepDigits(s string) string {
	var b strings.Builder
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// errUnmapped says a code map has no entry for a value.
type errUnmapped struct{ table, value string }

func (e errUnmapped) Error() string {
	return fmt.Sprintf("the value %q is not in the code map %q", e.value, e.table)
}

// apply runs the field's transforms over v.
func (s *Spec) apply(f *Field, v string) (string, error) {
	for _, t := range f.Transforms {
		switch t {
		case "trim":
			v = strings.TrimSpace(v)
		case "collapse":
			v = strings.Join(strings.Fields(v), " ")
		case "upper":
			v = strings.ToUpper(v)
		case "lower":
			v = strings.ToLower(v)
		case "title":
			v = titleCase(v)
		case "digits":
			v = keepDigits(v)
		case "given_name":
			v, _ = splitName(v)
		case "family_name":
			_, v = splitName(v)
		default:
			name, _ := strings.CutPrefix(t, "map:")
			m := s.CodeMaps[name]
			key := strings.ToLower(strings.TrimSpace(v))
			if key == "" {
				continue
			}
			if mapped, ok := m[key]; ok {
				v = mapped
				continue
			}
			switch f.Unmapped {
			case "keep":
			case "clear":
				v = ""
			default:
				return v, errUnmapped{name, v}
			}
		}
	}
	if !utf8.ValidString(v) {
		return v, fmt.Errorf("the value is not valid text (UTF-8)")
	}
	return v, nil
}
