package odm

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
)

// Lexical checks of the XML Schema types ODM uses. They follow the schema
// closely enough that what passes here passes xmllint.

// isInteger reports whether s is an xs:integer.
func isInteger(s string) bool {
	s = strings.TrimLeft(s, "+-")
	return s != "" && allDigits(s)
}

// isDecimal reports whether s is an xs:decimal: digits with an optional
// sign and fraction, no exponent.
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	if !dot {
		return whole != "" && allDigits(whole)
	}
	return (whole != "" || frac != "") && (whole == "" || allDigits(whole)) && (frac == "" || allDigits(frac))
}

// isDouble reports whether s matches ODM's double type.
func isDouble(s string) bool {
	switch s {
	case "INF", "-INF", "NaN":
		return true
	}
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	mant, exp, hasExp := cutAny(s, "DdEe")
	whole, frac, dot := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || dot && (frac == "" || !allDigits(frac)) {
		return false
	}
	if !hasExp {
		return true
	}
	return len(exp) > 1 && (exp[0] == '+' || exp[0] == '-') && allDigits(exp[1:])
}

func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDate reports whether s is an xs:date: YYYY-MM-DD of a real day, with an
// optional time zone.
func isDate(s string) bool {
	rest, ok := datePart(s)
	return ok && isZone(rest)
}

// isDateTime reports whether s is an xs:dateTime.
func isDateTime(s string) bool {
	rest, ok := datePart(s)
	if !ok || len(rest) == 0 || rest[0] != 'T' {
		return false
	}
	rest, ok = timePart(rest[1:])
	return ok && isZone(rest)
}

// isTime reports whether s is an xs:time.
func isTime(s string) bool {
	rest, ok := timePart(s)
	return ok && isZone(rest)
}

// datePart reads YYYY-MM-DD (years may have more digits, or a sign) and
// returns what follows.
func datePart(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < 4 || (i > 4 && s[0] == '0') || len(s) < i+6 || s[i] != '-' || s[i+3] != '-' {
		return "", false
	}
	year, _ := strconv.Atoi(s[:i])
	month, ok1 := twoDigits(s[i+1 : i+3])
	day, ok2 := twoDigits(s[i+4 : i+6])
	if !ok1 || !ok2 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || year == 0 {
		return "", false
	}
	return s[i+6:], true
}

// timePart reads hh:mm:ss with optional fraction and returns what follows.
func timePart(s string) (string, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return "", false
	}
	h, ok1 := twoDigits(s[0:2])
	m, ok2 := twoDigits(s[3:5])
	sec, ok3 := twoDigits(s[6:8])
	if !ok1 || !ok2 || !ok3 || m > 59 || sec > 59 || h > 24 {
		return "", false
	}
	rest := s[8:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return "", false
		}
		if h == 24 && strings.Trim(rest[1:i], "0") != "" {
			return "", false
		}
		rest = rest[i:]
	}
	if h == 24 && (m != 0 || sec != 0) {
		return "", false
	}
	return rest, true
}

// isZone reports whether s is empty, Z, or ±hh:mm.
func isZone(s string) bool {
	switch {
	case s == "" || s == "Z":
		return true
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		h, ok1 := twoDigits(s[1:3])
		m, ok2 := twoDigits(s[4:6])
		return ok1 && ok2 && m <= 59 && (h < 14 || h == 14 && m == 0)
	}
	return false
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || !allDigits(s) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isPartialDate reports whether s is ODM's partialDate: YYYY, YYYY-MM or
// a full date.
func isPartialDate(s string) bool {
	switch {
	case s == "" || s == " ":
		return true
	case len(s) == 4:
		return allDigits(s)
	case len(s) == 7:
		m, ok := twoDigits(s[5:7])
		return allDigits(s[:4]) && s[4] == '-' && ok && m >= 1 && m <= 12
	}
	return isDate(s)
}

// isPartialDatetime reports whether s is ODM's partialDatetime: a date or
// date-time truncated after any component.
func isPartialDatetime(s string) bool {
	if isPartialDate(s) || isDateTime(s) {
		return true
	}
	d, t, ok := strings.Cut(s, "T")
	if !ok || !isDate(d) {
		return false
	}
	t, zone := splitZone(t)
	if !isZone(zone) {
		return false
	}
	switch len(t) {
	case 2:
		h, ok := twoDigits(t)
		return ok && h <= 23
	case 5:
		h, ok1 := twoDigits(t[:2])
		m, ok2 := twoDigits(t[3:])
		return ok1 && ok2 && t[2] == ':' && h <= 23 && m <= 59
	}
	return false
}

// splitZone splits a trailing time zone off a time of day.
func splitZone(t string) (string, string) {
	if strings.HasSuffix(t, "Z") {
		return t[:len(t)-1], "Z"
	}
	if i := strings.LastIndexAny(t, "+-"); i >= 0 {
		return t[:i], t[i:]
	}
	return t, ""
}

// isBoolean reports whether s is an xs:boolean.
func isBoolean(s string) bool {
	switch s {
	case "true", "false", "1", "0":
		return true
	}
	return false
}

func isHexBinary(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func isBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	return err == nil
}

// isNCName reports whether s is an XML NCName, the type of ODM's ID
// attributes.
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || unicode.IsLetter(c):
		case i > 0 && (c == '-' || c == '.' || unicode.IsDigit(c) || unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Mc, c)):
		default:
			return false
		}
	}
	return true
}

// isLanguage reports whether s is an xs:language tag such as "en" or
// "de-CH".
func isLanguage(s string) bool {
	for i, part := range strings.Split(s, "-") {
		if len(part) < 1 || len(part) > 8 {
			return false
		}
		for _, c := range part {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// isSASName reports whether s is a SAS name of at most 8 characters.
func isSASName(s string) bool { return sasPattern(s, "_", "_") }

// isSASFormat reports whether s is a SAS format name of at most 8
// characters.
func isSASFormat(s string) bool { return sasPattern(s, "_$", "_.") }

func sasPattern(s, firstExtra, restExtra string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case letter:
		case i == 0 && strings.IndexByte(firstExtra, c) >= 0:
		case i > 0 && (c >= '0' && c <= '9' || strings.IndexByte(restExtra, c) >= 0):
		default:
			return false
		}
	}
	return true
}

// isAnyURI reports whether s is an xs:anyURI as libxml2 checks it: after
// whitespace collapsing, and with characters a URI would need escaped read
// as harmless, it must parse as an RFC 3986 URI reference.
func isAnyURI(s string) bool {
	s = strings.Join(strings.Fields(s), " ")
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7F || strings.IndexByte(" <>\"{}|\\^`'", c) >= 0 {
			b[i] = '_'
		}
	}
	s = string(b)
	rest, fragment, hasFragment := strings.Cut(s, "#")
	if hasFragment && !uriChars(fragment, "/?:@") {
		return false
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery && !uriChars(query, "/?:@") {
		return false
	}
	if i := strings.IndexAny(rest, ":/"); i >= 0 && rest[i] == ':' {
		if !isScheme(rest[:i]) {
			return false // a colon in the first segment of a relative reference
		}
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "//") {
		authority, path, _ := strings.Cut(rest[2:], "/")
		if !uriChars(authority, ":@[]") {
			return false
		}
		rest = path
	}
	return uriChars(rest, "/:@")
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// uriChars reports whether s has only unreserved characters, percent
// escapes, sub-delimiters and the extra characters given.
func uriChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~!$&'()*+,;=", c) >= 0:
		case strings.IndexByte(extra, c) >= 0:
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
