package volunteer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Phonetic keys use Double Metaphone (Lawrence Philips, C/C++ Users Journal,
// June 2000), not Soundex. Soundex was designed for English surnames in the
// 1880 US census: it keeps the first letter as is (so Catherine and Kathryn,
// or Fischer and Visser, never match) and knows nothing of other spelling
// systems. Double Metaphone encodes the pronunciation rules of English,
// Germanic, Slavic, Romance, Celtic, Greek and Chinese-transliterated names,
// and gives a second "alternate" key where a spelling has two plausible
// readings (Schmidt: XMT and SMT, matching Smith's SM0 and XMT), which is what
// a unit recruiting from a mixed population needs. It works on Latin letters,
// so Cyrillic and Greek names are transliterated first; names in other scripts
// have no phonetic key and are matched by their normalised spelling instead.

// metaphoneLength is the standard Double Metaphone key length. Longer keys
// separate long names better but stop matching the published test data; the
// birth date, which every duplicate rule also requires, does the separating.
const metaphoneLength = 4

// DoubleMetaphone returns the primary and alternate Double Metaphone keys of a
// word (the alternate equals the primary when the spelling has one reading).
// Case and accents do not matter; spaces, hyphens and apostrophes are ignored,
// so "O'Brien" is encoded as "OBRIEN". A word with no Latin, Cyrillic or Greek
// letters has empty keys.
func DoubleMetaphone(word string) (primary, alternate string) {
	m := metaphone{w: metaphoneLetters(word)}
	return m.encode()
}

// PhoneticKeys returns the distinct Double Metaphone keys, primary and
// alternate, of every word of a name, for a "sounds like" index.
func PhoneticKeys(name string) []string {
	var keys []string
	for _, w := range strings.Fields(NormalizeName(name)) {
		p, a := DoubleMetaphone(w)
		for _, k := range []string{p, a} {
			if k != "" && !containsString(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// metaphoneLetters turns a word into the upper-case letters Double Metaphone
// reads. Ç and Ñ are kept because the algorithm has rules for them; other
// accents are dropped.
func metaphoneLetters(s string) []rune {
	out := make([]rune, 0, len(s))
	if !isASCII(s) {
		s = norm.NFC.String(s)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			out = append(out, r-'a'+'A')
		case r >= 'A' && r <= 'Z':
			out = append(out, r)
		case r == 'ç' || r == 'Ç':
			out = append(out, 'Ç')
		case r == 'ñ' || r == 'Ñ':
			out = append(out, 'Ñ')
		case r < 0x80 || !unicode.IsLetter(r):
		default:
			for _, c := range NormalizeName(string(r)) {
				if t, ok := transliteration[c]; ok {
					out = append(out, []rune(t)...)
				} else if c >= 'a' && c <= 'z' {
					out = append(out, c-'a'+'A')
				}
			}
		}
	}
	return out
}

// transliteration spells normalised Cyrillic and Greek letters in Latin the
// way names in those scripts are usually romanised (BGN/PCGN, simplified).
var transliteration = map[rune]string{
	'а': "A", 'б': "B", 'в': "V", 'г': "G", 'д': "D", 'е': "E", 'ж': "ZH", 'з': "Z", 'и': "I",
	'к': "K", 'л': "L", 'м': "M", 'н': "N", 'о': "O", 'п': "P", 'р': "R", 'с': "S", 'т': "T",
	'у': "U", 'ф': "F", 'х': "KH", 'ц': "TS", 'ч': "CH", 'ш': "SH", 'щ': "SHCH", 'ъ': "", 'ы': "Y",
	'ь': "", 'э': "E", 'ю': "YU", 'я': "YA", 'і': "I", 'є': "YE", 'ґ': "G", 'ђ': "DJ", 'ј': "J",
	'љ': "LJ", 'њ': "NJ", 'ћ': "C", 'џ': "DZ", 'ѕ': "DZ",
	'α': "A", 'β': "V", 'γ': "G", 'δ': "D", 'ε': "E", 'ζ': "Z", 'η': "I", 'θ': "TH", 'ι': "I",
	'κ': "K", 'λ': "L", 'μ': "M", 'ν': "N", 'ξ': "X", 'ο': "O", 'π': "P", 'ρ': "R", 'σ': "S",
	'τ': "T", 'υ': "Y", 'φ': "F", 'χ': "CH", 'ψ': "PS", 'ω': "O",
}

// metaphone holds the state of one encoding. The rules below follow Philips'
// reference implementation (as ported in Apache Commons Codec) case by case;
// the comments with names are his examples of what each rule is for.
type metaphone struct {
	w         []rune
	p, a      []byte
	slavoGerm bool
}

func (m *metaphone) at(i int) rune {
	if i < 0 || i >= len(m.w) {
		return 0
	}
	return m.w[i]
}

// is reports whether the letters from start spell one of subs.
func (m *metaphone) is(start int, subs ...string) bool {
	if start < 0 {
		return false
	}
next:
	for _, s := range subs {
		if start+len(s) > len(m.w) {
			continue
		}
		for i := 0; i < len(s); i++ {
			if m.w[start+i] != rune(s[i]) {
				continue next
			}
		}
		return true
	}
	return false
}

// isAt reports whether the single letter at i is one of letters.
func (m *metaphone) isAt(i int, letters string) bool {
	r := m.at(i)
	return r != 0 && r < 0x80 && strings.IndexByte(letters, byte(r)) >= 0
}

func isMetaphoneVowel(r rune) bool {
	switch r {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

func (m *metaphone) vowelAt(i int) bool { return isMetaphoneVowel(m.at(i)) }

func (m *metaphone) add(s string) { m.add2(s, s) }

func (m *metaphone) add2(primary, alternate string) {
	m.p = appendLimited(m.p, primary)
	m.a = appendLimited(m.a, alternate)
}

func appendLimited(b []byte, s string) []byte {
	if room := metaphoneLength - len(b); room < len(s) {
		s = s[:max(room, 0)]
	}
	return append(b, s...)
}

func (m *metaphone) complete() bool {
	return len(m.p) >= metaphoneLength && len(m.a) >= metaphoneLength
}

func (m *metaphone) encode() (string, string) {
	n := len(m.w)
	if n == 0 {
		return "", ""
	}
	for _, r := range m.w {
		if r == 'W' || r == 'K' {
			m.slavoGerm = true
		}
	}
	m.slavoGerm = m.slavoGerm || strings.Contains(string(m.w), "CZ")
	i := 0
	if m.is(0, "GN", "KN", "PN", "WR", "PS") {
		i = 1
	}
	for !m.complete() && i < n {
		switch c := m.w[i]; c {
		case 'A', 'E', 'I', 'O', 'U', 'Y':
			if i == 0 {
				m.add("A")
			}
			i++
		case 'B':
			m.add("P")
			i += skipDouble(m, i, "B")
		case 'Ç':
			m.add("S")
			i++
		case 'C':
			i = m.c(i)
		case 'D':
			i = m.d(i)
		case 'F':
			m.add("F")
			i += skipDouble(m, i, "F")
		case 'G':
			i = m.g(i)
		case 'H':
			// Only kept at the start or between vowels.
			if (i == 0 || m.vowelAt(i-1)) && m.vowelAt(i+1) {
				m.add("H")
				i += 2
			} else {
				i++
			}
		case 'J':
			i = m.j(i)
		case 'K':
			m.add("K")
			i += skipDouble(m, i, "K")
		case 'L':
			if m.at(i+1) == 'L' {
				if m.spanishLL(i) {
					m.add2("L", "")
				} else {
					m.add("L")
				}
				i += 2
			} else {
				m.add("L")
				i++
			}
		case 'M':
			m.add("M")
			if m.at(i+1) == 'M' || (m.is(i-1, "UMB") && (i+1 == n-1 || m.is(i+2, "ER"))) {
				i += 2 // "dumb", "thumb"
			} else {
				i++
			}
		case 'N':
			m.add("N")
			i += skipDouble(m, i, "N")
		case 'Ñ':
			m.add("N")
			i++
		case 'P':
			if m.at(i+1) == 'H' {
				m.add("F")
				i += 2
			} else {
				m.add("P")
				i += skipDouble(m, i, "PB")
			}
		case 'Q':
			m.add("K")
			i += skipDouble(m, i, "Q")
		case 'R':
			// French "Rogier": the final R is silent in the primary reading.
			if i == n-1 && !m.slavoGerm && m.is(i-2, "IE") && !m.is(i-4, "ME", "MA") {
				m.add2("", "R")
			} else {
				m.add("R")
			}
			i += skipDouble(m, i, "R")
		case 'S':
			i = m.s(i)
		case 'T':
			i = m.t(i)
		case 'V':
			m.add("F")
			i += skipDouble(m, i, "V")
		case 'W':
			i = m.wLetter(i)
		case 'X':
			i = m.x(i)
		case 'Z':
			i = m.z(i)
		default:
			i++
		}
	}
	return string(m.p), string(m.a)
}

// skipDouble returns 2 when the letter after i is one of next, else 1.
func skipDouble(m *metaphone, i int, next string) int {
	if m.isAt(i+1, next) {
		return 2
	}
	return 1
}

func (m *metaphone) c(i int) int {
	switch {
	case m.germanicCH(i):
		m.add("K") // "Bacher", "Macher"
		return i + 2
	case i == 0 && m.is(i, "CAESAR"):
		m.add("S")
		return i + 2
	case m.is(i, "CH"):
		return m.ch(i)
	case m.is(i, "CZ") && !m.is(i-2, "WICZ"):
		m.add2("S", "X") // "Czerny"
		return i + 2
	case m.is(i+1, "CIA"):
		m.add("X") // "focaccia"
		return i + 3
	case m.is(i, "CC") && !(i == 1 && m.at(0) == 'M'):
		// Double C, but not "McClelland".
		if m.isAt(i+2, "IEH") && !m.is(i+2, "HU") {
			// "Bellocchio", but not "Bacchus".
			if (i == 1 && m.at(i-1) == 'A') || m.is(i-1, "UCCEE", "UCCES") {
				m.add("KS") // "accident", "accede", "succeed"
			} else {
				m.add("X") // "bacci", "Bertucci"
			}
			return i + 3
		}
		m.add("K") // Pierce's rule
		return i + 2
	case m.is(i, "CK", "CG", "CQ"):
		m.add("K")
		return i + 2
	case m.is(i, "CI", "CE", "CY"):
		if m.is(i, "CIO", "CIE", "CIA") {
			m.add2("S", "X") // Italian
		} else {
			m.add("S")
		}
		return i + 2
	}
	m.add("K")
	switch {
	case m.is(i+1, " C", " Q", " G"):
		return i + 3 // "Mac Caffrey", "Mac Gregor"
	case m.isAt(i+1, "CKQ") && !m.is(i+1, "CE", "CI"):
		return i + 2
	}
	return i + 1
}

// germanicCH is Philips' test for a hard "ch" after A in Germanic names.
func (m *metaphone) germanicCH(i int) bool {
	switch {
	case m.is(i, "CHIA"):
		return true
	case i <= 1, m.vowelAt(i - 2), !m.is(i-1, "ACH"):
		return false
	}
	c := m.at(i + 2)
	return (c != 'I' && c != 'E') || m.is(i-2, "BACHER", "MACHER")
}

func (m *metaphone) ch(i int) int {
	switch {
	case i > 0 && m.is(i, "CHAE"):
		m.add2("K", "X") // "Michael"
		return i + 2
	case m.greekCH(i):
		m.add("K") // "chemistry", "chorus"
		return i + 2
	case m.kCH(i):
		m.add("K") // Germanic, Greek, or otherwise "ch" for "kh"
		return i + 2
	case i > 0:
		if m.is(0, "MC") {
			m.add("K") // "McHugh"
		} else {
			m.add2("X", "K")
		}
		return i + 2
	}
	m.add("X")
	return i + 2
}

func (m *metaphone) greekCH(i int) bool {
	if i != 0 {
		return false
	}
	if !m.is(i+1, "HARAC", "HARIS") && !m.is(i+1, "HOR", "HYM", "HIA", "HEM") {
		return false
	}
	return !m.is(0, "CHORE")
}

func (m *metaphone) kCH(i int) bool {
	return m.is(0, "VAN ", "VON ", "SCH") ||
		m.is(i-2, "ORCHES", "ARCHIT", "ORCHID") ||
		m.isAt(i+2, "TS") ||
		((m.isAt(i-1, "AOUE") || i == 0) && (m.isAt(i+2, "LRNMBHFVW ") || i+1 == len(m.w)-1))
}

func (m *metaphone) d(i int) int {
	switch {
	case m.is(i, "DG"):
		if m.isAt(i+2, "IEY") {
			m.add("J") // "edge"
			return i + 3
		}
		m.add("TK") // "Edgar"
		return i + 2
	case m.is(i, "DT", "DD"):
		m.add("T")
		return i + 2
	}
	m.add("T")
	return i + 1
}

func (m *metaphone) g(i int) int {
	switch {
	case m.at(i+1) == 'H':
		return m.gh(i)
	case m.at(i+1) == 'N':
		switch {
		case i == 1 && m.vowelAt(0) && !m.slavoGerm:
			m.add2("KN", "N")
		case !m.is(i+2, "EY") && m.at(i+1) != 'Y' && !m.slavoGerm:
			m.add2("N", "KN")
		default:
			m.add("KN")
		}
		return i + 2
	case m.is(i+1, "LI") && !m.slavoGerm:
		m.add2("KL", "L") // "tagliaro"
		return i + 2
	case i == 0 && (m.at(i+1) == 'Y' || m.is(i+1, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER")):
		m.add2("K", "J") // -ges-, -gep-, -gel-, -gie- at the start
		return i + 2
	case (m.is(i+1, "ER") || m.at(i+1) == 'Y') && !m.is(0, "DANGER", "RANGER", "MANGER") &&
		!m.isAt(i-1, "EI") && !m.is(i-1, "RGY", "OGY"):
		m.add2("K", "J") // -ger-, -gy-
		return i + 2
	case m.isAt(i+1, "EIY") || m.is(i-1, "AGGI", "OGGI"):
		switch {
		case m.is(0, "VAN ", "VON ", "SCH") || m.is(i+1, "ET"):
			m.add("K") // obviously Germanic
		case m.is(i+1, "IER"):
			m.add("J")
		default:
			m.add2("J", "K")
		}
		return i + 2
	case m.at(i+1) == 'G':
		m.add("K")
		return i + 2
	}
	m.add("K")
	return i + 1
}

func (m *metaphone) gh(i int) int {
	switch {
	case i > 0 && !m.vowelAt(i-1):
		m.add("K")
	case i == 0:
		if m.at(i+2) == 'I' {
			m.add("J") // "Ghislane"
		} else {
			m.add("K") // "Ghana"
		}
	case (i > 1 && m.isAt(i-2, "BHD")) || (i > 2 && m.isAt(i-3, "BHD")) || (i > 3 && m.isAt(i-4, "BH")):
		// Parker's rule: "Hugh", "bough", "broughton" are silent.
	case i > 2 && m.at(i-1) == 'U' && m.isAt(i-3, "CGLRT"):
		m.add("F") // "laugh", "McLaughlin", "cough", "rough", "tough"
	case i > 0 && m.at(i-1) != 'I':
		m.add("K")
	}
	return i + 2
}

func (m *metaphone) j(i int) int {
	n := len(m.w)
	if m.is(i, "JOSE") || m.is(0, "SAN ") {
		// Obviously Spanish: "Jose", "San Jacinto".
		if (i == 0 && m.at(i+4) == ' ') || n == 4 || m.is(0, "SAN ") {
			m.add("H")
		} else {
			m.add2("J", "H")
		}
		return i + 1
	}
	switch {
	case i == 0:
		m.add2("J", "A") // "Yankelovich", "Jankelowicz"
	case m.vowelAt(i-1) && !m.slavoGerm && (m.at(i+1) == 'A' || m.at(i+1) == 'O'):
		m.add2("J", "H") // Spanish pronunciation of "bajador"
	case i == n-1:
		m.add2("J", "")
	case !m.isAt(i+1, "LTKSNMBZ") && !m.isAt(i-1, "SKL"):
		m.add("J")
	}
	return i + skipDouble(m, i, "J")
}

// spanishLL reports the Spanish "ll" of "cabrillo" and "gallegos", which the
// primary reading leaves out.
func (m *metaphone) spanishLL(i int) bool {
	n := len(m.w)
	if i == n-3 && m.is(i-1, "ILLO", "ILLA", "ALLE") {
		return true
	}
	return (m.is(n-2, "AS", "OS") || m.isAt(n-1, "AO")) && m.is(i-1, "ALLE")
}

func (m *metaphone) s(i int) int {
	n := len(m.w)
	switch {
	case m.is(i-1, "ISL", "YSL"):
		return i + 1 // "island", "isle", "Carlisle", "Carlysle"
	case i == 0 && m.is(i, "SUGAR"):
		m.add2("X", "S")
		return i + 1
	case m.is(i, "SH"):
		if m.is(i+1, "HEIM", "HOEK", "HOLM", "HOLZ") {
			m.add("S") // Germanic
		} else {
			m.add("X")
		}
		return i + 2
	case m.is(i, "SIO", "SIA") || m.is(i, "SIAN"):
		// Italian and Armenian.
		if m.slavoGerm {
			m.add("S")
		} else {
			m.add2("S", "X")
		}
		return i + 3
	case (i == 0 && m.isAt(i+1, "MNLW")) || m.at(i+1) == 'Z':
		// German and anglicisations: "Smith" matches "Schmidt", "Snider"
		// matches "Schneider"; also Slavic -sz-.
		m.add2("S", "X")
		return i + skipDouble(m, i, "Z")
	case m.is(i, "SC"):
		return m.sc(i)
	}
	if i == n-1 && m.is(i-2, "AI", "OI") {
		m.add2("", "S") // French "Resnais", "Artois"
	} else {
		m.add("S")
	}
	return i + skipDouble(m, i, "SZ")
}

func (m *metaphone) sc(i int) int {
	switch {
	case m.at(i+2) == 'H':
		// Schlesinger's rule.
		switch {
		case m.is(i+3, "OO", "ER", "EN", "UY", "ED", "EM"):
			// Dutch origin: "school", "schooner".
			if m.is(i+3, "ER", "EN") {
				m.add2("X", "SK") // "Schermerhorn", "Schenker"
			} else {
				m.add("SK")
			}
		case i == 0 && !m.vowelAt(3) && m.at(3) != 'W':
			m.add2("X", "S")
		default:
			m.add("X")
		}
	case m.isAt(i+2, "IEY"):
		m.add("S")
	default:
		m.add("SK")
	}
	return i + 3
}

func (m *metaphone) t(i int) int {
	switch {
	case m.is(i, "TION"):
		m.add("X")
		return i + 3
	case m.is(i, "TIA", "TCH"):
		m.add("X")
		return i + 3
	case m.is(i, "TH") || m.is(i, "TTH"):
		if m.is(i+2, "OM", "AM") || m.is(0, "VAN ", "VON ", "SCH") {
			m.add("T") // "Thomas", "Thames", or Germanic
		} else {
			m.add2("0", "T")
		}
		return i + 2
	}
	m.add("T")
	return i + skipDouble(m, i, "TD")
}

func (m *metaphone) wLetter(i int) int {
	n := len(m.w)
	switch {
	case m.is(i, "WR"):
		m.add("R")
		return i + 2
	case i == 0 && (m.vowelAt(i+1) || m.is(i, "WH")):
		if m.vowelAt(i + 1) {
			m.add2("A", "F") // "Wasserman" should match "Vasserman"
		} else {
			m.add("A") // "Uomo" should match "Womo"
		}
		return i + 1
	case (i == n-1 && m.vowelAt(i-1)) || m.is(i-1, "EWSKI", "EWSKY", "OWSKI", "OWSKY") || m.is(0, "SCH"):
		m.add2("", "F") // "Arnow" should match "Arnoff"
		return i + 1
	case m.is(i, "WICZ", "WITZ"):
		m.add2("TS", "FX") // Polish "Filipowicz"
		return i + 4
	}
	return i + 1
}

func (m *metaphone) x(i int) int {
	if i == 0 {
		m.add("S") // "Xavier"
		return i + 1
	}
	n := len(m.w)
	if !(i == n-1 && (m.is(i-3, "IAU", "EAU") || m.is(i-2, "AU", "OU"))) {
		m.add("KS") // but not French "Breaux"
	}
	return i + skipDouble(m, i, "CX")
}

func (m *metaphone) z(i int) int {
	if m.at(i+1) == 'H' {
		m.add("J") // Chinese pinyin "Zhao"
		return i + 2
	}
	if m.is(i+1, "ZO", "ZI", "ZA") || (m.slavoGerm && i > 0 && m.at(i-1) != 'T') {
		m.add2("S", "TS")
	} else {
		m.add("S")
	}
	return i + skipDouble(m, i, "Z")
}
