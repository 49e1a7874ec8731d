package lab

import (
	"fmt"
	"sort"
	"strings"
)

// UnitError says why a unit is not valid UCUM and where: Pos is the 1-based
// character where the problem starts, len(Unit)+1 when something is missing
// at the end, and 0 when the whole unit is at fault (an empty unit).
type UnitError struct {
	Unit string
	Pos  int
	Msg  string
}

// Error renders the problem with the unit and where in it things go wrong.
func (e *UnitError) Error() string {
	switch {
	case e.Pos <= 0:
		return fmt.Sprintf("unit %q is not valid UCUM: %s", e.Unit, e.Msg)
	case e.Pos > len(e.Unit):
		return fmt.Sprintf("unit %q is not valid UCUM: at the end, %s", e.Unit, e.Msg)
	default:
		return fmt.Sprintf("unit %q is not valid UCUM: at character %d, %s", e.Unit, e.Pos, e.Msg)
	}
}

// maxUnitLength bounds the units ValidateUnit parses.
const maxUnitLength = 200

// ValidateUnit checks that s is a unit in UCUM's case-sensitive code, the
// form LOINC, HL7 and CDISC exchange lab units in. It parses the full UCUM
// grammar:
//
//	main-term  = ["/"] term
//	term       = component {("." | "/") component}
//	component  = annotatable [annotation] | annotation | factor | "(" term ")"
//	annotatable = simple-unit [exponent]
//	simple-unit = atom | prefix metric-atom
//	exponent   = ["+" | "-"] digits
//	annotation = "{" printable ASCII except braces "}"
//
// with every atom and prefix of UCUM's table. So "mmol/L", "10*9/L",
// "mm[Hg]", "mL/min/{1.73_m2}" and "[iU]/L" pass; so do "mmol/l" and
// "mg/dl" (UCUM has both l and L for litre) and "Mmol/L" (megamole: M is
// a prefix and mol is metric).
//
// One rule is stricter than UCUM: "10*" and "10^" must carry an exponent.
// UCUM lets "10*" stand alone as the number ten, but in a lab catalogue
// "10*/L" is always a count unit whose exponent was forgotten (10*9/L).
func ValidateUnit(s string) error {
	if s == "" {
		return &UnitError{Unit: s, Msg: "the unit is empty"}
	}
	// Parentheses recurse; the cap keeps hostile input from exhausting the
	// stack, and no lab unit comes near it.
	if len(s) > maxUnitLength {
		return &UnitError{Unit: s[:20] + "…", Msg: fmt.Sprintf("the unit is longer than %d characters", maxUnitLength)}
	}
	for i, r := range s {
		if r >= 33 && r <= 126 {
			continue
		}
		switch {
		case r == 'µ' || r == 'μ':
			return &UnitError{Unit: s, Pos: i + 1, Msg: `UCUM writes micro as "u" (for example umol/L), not "µ"`}
		case r == ' ':
			return &UnitError{Unit: s, Pos: i + 1, Msg: "a UCUM unit has no spaces"}
		default:
			return &UnitError{Unit: s, Pos: i + 1, Msg: fmt.Sprintf("%q is not allowed: UCUM units use printable ASCII only", r)}
		}
	}
	p := &unitParser{s: s}
	if s[0] == '/' {
		p.pos++
	}
	if err := p.term(); err != nil {
		return err
	}
	if p.pos < len(s) {
		// term stops only before a closing parenthesis it cannot match.
		return p.errAt(p.pos, `")" has no matching "("`)
	}
	return nil
}

// unitParser is a recursive-descent parser over an ASCII unit string;
// pos is the 0-based index of the next character.
type unitParser struct {
	s   string
	pos int
}

func (p *unitParser) errAt(i int, msg string) error {
	return &UnitError{Unit: p.s, Pos: i + 1, Msg: msg}
}

func (p *unitParser) term() error {
	if err := p.component(); err != nil {
		return err
	}
	for p.pos < len(p.s) && (p.s[p.pos] == '.' || p.s[p.pos] == '/') {
		p.pos++
		if err := p.component(); err != nil {
			return err
		}
	}
	return nil
}

// missing reports a component that should start at p.pos but does not.
func (p *unitParser) missing() error {
	if p.pos == 0 {
		return p.errAt(0, fmt.Sprintf("expected a unit, found %s", quoteByte(p.s[0])))
	}
	return p.errAt(p.pos, fmt.Sprintf("a unit is missing after %s", quoteByte(p.s[p.pos-1])))
}

func (p *unitParser) component() error {
	if p.pos >= len(p.s) {
		return p.missing()
	}
	switch c := p.s[p.pos]; c {
	case '(':
		open := p.pos
		p.pos++
		if err := p.term(); err != nil {
			return err
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return p.errAt(open, `"(" is never closed`)
		}
		p.pos++
		return p.operatorNext(`")"`)
	case '{':
		return p.annotation()
	case '.', '/', ')':
		return p.missing()
	case '}':
		return p.errAt(p.pos, `"}" has no matching "{"`)
	}
	start := p.pos
	tok, err := p.symbolToken()
	if err != nil {
		return err
	}
	factor, err := p.checkSimpleUnit(tok, start)
	if err != nil {
		return err
	}
	if p.pos < len(p.s) && p.s[p.pos] == '{' {
		if factor {
			return p.errAt(p.pos, fmt.Sprintf("an annotation cannot follow the number %s", tok))
		}
		return p.annotation()
	}
	return p.operatorNext(fmt.Sprintf("%q", tok))
}

// operatorNext checks that what follows a finished component can continue
// the term: an operator, a closing parenthesis, or the end.
func (p *unitParser) operatorNext(after string) error {
	if p.pos >= len(p.s) {
		return nil
	}
	switch c := p.s[p.pos]; c {
	case '.', '/', ')':
		return nil
	case '}':
		return p.errAt(p.pos, `"}" has no matching "{"`)
	default:
		return p.errAt(p.pos, fmt.Sprintf(`expected "." or "/" after %s, found %s`, after, quoteByte(c)))
	}
}

// quoteByte quotes an ASCII character the way messages quote units, with
// double quotes, so users read one style throughout.
func quoteByte(c byte) string { return `"` + string(rune(c)) + `"` }

// symbolToken reads a simple unit with its exponent: everything up to the
// next operator, parenthesis or brace. Square brackets are read whole, as
// atoms like "B[10.nV]" hold operators inside them.
func (p *unitParser) symbolToken() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case '[':
			end := strings.IndexByte(p.s[p.pos+1:], ']')
			if end < 0 {
				return "", p.errAt(p.pos, `"[" is never closed`)
			}
			p.pos += end + 2
			continue
		case ']':
			return "", p.errAt(p.pos, `"]" has no matching "["`)
		case '.', '/', '(', ')', '{', '}':
			return p.s[start:p.pos], nil
		}
		p.pos++
	}
	return p.s[start:], nil
}

func (p *unitParser) annotation() error {
	open := p.pos
	end := strings.IndexByte(p.s[open+1:], '}')
	if end < 0 {
		return p.errAt(open, `"{" is never closed`)
	}
	body := p.s[open+1 : open+1+end]
	if i := strings.IndexByte(body, '{'); i >= 0 {
		return p.errAt(open+1+i, `an annotation cannot contain "{"`)
	}
	if body == "" {
		return p.errAt(open, "an annotation cannot be empty")
	}
	p.pos = open + end + 2
	return p.operatorNext(`"}"`)
}

// checkSimpleUnit validates tok, which starts at index start, as a factor
// or an atom with optional prefix and exponent. It reports whether tok was
// a bare number (a factor).
func (p *unitParser) checkSimpleUnit(tok string, start int) (factor bool, err error) {
	if allDigits(tok) {
		return true, nil
	}
	symbol, exponent := splitExponent(tok)
	if symbol == "" {
		return false, p.errAt(start, fmt.Sprintf("the exponent %s has no unit before it", tok))
	}
	if exponent == "" && (symbol == "10*" || symbol == "10^") {
		return false, p.errAt(start, fmt.Sprintf("%s needs an exponent, as in %s9/L", symbol, symbol))
	}
	if msg := resolveSymbol(symbol); msg != "" {
		return false, p.errAt(start, msg)
	}
	return false, nil
}

// splitExponent splits "m2" into "m" and "2", "10*-3" into "10*" and "-3".
// No UCUM atom ends in a digit outside brackets, so trailing digits are
// always an exponent.
func splitExponent(tok string) (symbol, exponent string) {
	j := len(tok)
	for j > 0 && tok[j-1] >= '0' && tok[j-1] <= '9' {
		j--
	}
	if j == len(tok) {
		return tok, ""
	}
	if j > 0 && (tok[j-1] == '+' || tok[j-1] == '-') {
		j--
	}
	return tok[:j], tok[j:]
}

// resolveSymbol returns "" when symbol is an atom or a prefix on a metric
// atom, and otherwise a sentence saying what is wrong with it.
func resolveSymbol(symbol string) string {
	if _, ok := atomByCode[symbol]; ok {
		return ""
	}
	var nonMetric string
	for _, pre := range ucumPrefixes {
		rest, ok := strings.CutPrefix(symbol, pre)
		if !ok || rest == "" {
			continue
		}
		if a, ok := atomByCode[rest]; ok {
			if a.metric {
				return ""
			}
			nonMetric = fmt.Sprintf("%q: %s (%s) does not take a prefix", symbol, rest, a.name)
		}
	}
	if nonMetric != "" {
		return nonMetric
	}
	if hints := caseHints(symbol); len(hints) > 0 {
		return fmt.Sprintf("%q is not a UCUM unit (UCUM is case-sensitive: did you mean %s?)", symbol, strings.Join(hints, " or "))
	}
	return fmt.Sprintf("%q is not a UCUM unit", symbol)
}

// caseHints lists the valid units that differ from symbol only in case, so
// "DL" can be answered with "dL".
func caseHints(symbol string) []string {
	seen := map[string]bool{}
	consider := func(code string) {
		if strings.EqualFold(code, symbol) && !seen[code] {
			seen[code] = true
		}
	}
	for _, a := range ucumAtoms {
		consider(a.code)
		if a.metric {
			for _, pre := range ucumPrefixes {
				consider(pre + a.code)
			}
		}
	}
	hints := make([]string, 0, len(seen))
	for h := range seen {
		hints = append(hints, fmt.Sprintf("%q", h))
	}
	sort.Strings(hints)
	if len(hints) > 3 {
		hints = hints[:3]
	}
	return hints
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
