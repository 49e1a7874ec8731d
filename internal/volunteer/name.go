package volunteer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName folds a name into the form search and duplicate detection
// compare: case-folded, without accents, with hyphens and other punctuation as
// word breaks, apostrophes removed and spaces collapsed.
// "  Jean-Pierre  O’Brien " and "JEAN PIERRE OBRIEN" both become
// "jean pierre obrien".
//
// Accents are marks on letters of Latin, Greek, Cyrillic, Arabic and Hebrew
// script, where people leave them out when typing (Müller, Muller; أحمد,
// احمد). Marks in scripts where they are part of the letter (Devanagari vowel
// signs, Japanese voicing marks, Thai vowels) are kept, because dropping them
// would make different names equal. Letters that Unicode does not decompose are
// spelled out as people transliterate them: ß→ss, æ→ae, ø→o, œ→oe, ł→l, đ→d,
// þ→th, and Turkish dotless ı→i. Compatibility forms (full-width letters,
// ligatures) become their plain letters.
func NormalizeName(s string) string {
	if isASCII(s) {
		return normalizeASCII(s)
	}
	if strings.ContainsFunc(s, isApostrophe) {
		// Before decomposition, which turns ´ into a space and a mark.
		s = strings.Map(func(r rune) rune {
			if isApostrophe(r) {
				return -1
			}
			return r
		}, s)
	}
	s = norm.NFKD.String(s)
	b := make([]byte, 0, len(s))
	pending := false // a word break is due before the next letter
	strip := true    // marks after the last letter are accents to drop
	ascii := true
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case r >= 'A' && r <= 'Z':
				r += 'a' - 'A'
				fallthrough
			case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				if pending && len(b) > 0 {
					b = append(b, ' ')
				}
				pending, strip = false, true
				b = append(b, byte(r))
			default:
				pending = true
			}
			continue
		}
		switch {
		case unicode.Is(unicode.M, r):
			if strip || pending || len(b) == 0 {
				continue
			}
			b = utf8.AppendRune(b, r)
			ascii = false
		case r == '\u0640': // Arabic tatweel only stretches the line
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if pending && len(b) > 0 {
				b = append(b, ' ')
			}
			pending = false
			r = unicode.ToLower(r)
			n := len(b)
			b = appendFolded(b, r)
			for _, c := range b[n:] {
				ascii = ascii && c < utf8.RuneSelf
			}
			strip = !unicode.IsLetter(r) || accentScript(r)
		default:
			pending = true
		}
	}
	if ascii {
		return string(b)
	}
	return norm.NFC.String(string(b))
}

// accentScript reports whether r is a letter of a script whose marks are
// accents people leave out: Latin, Greek, Cyrillic, Hebrew and Arabic. The
// common blocks are tested by range because unicode.In over five tables is
// most of the cost of normalising a name.
func accentScript(r rune) bool {
	switch {
	case r < 0x0530: // Latin, IPA, Greek, Cyrillic
		return true
	case r < 0x0590: // Armenian
		return false
	case r < 0x0700: // Hebrew, Arabic
		return true
	case r >= 0x1E00 && r < 0x2000: // Latin and Greek extended
		return true
	}
	return unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew)
}

func normalizeASCII(s string) string {
	b := make([]byte, 0, len(s))
	pending := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if pending && len(b) > 0 {
				b = append(b, ' ')
			}
			pending = false
			b = append(b, c)
		case c == '\'' || c == '`':
		default:
			pending = true
		}
	}
	return string(b)
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u00b4', '\u2018', '\u2019', '\u02bc', '\u02bb', '\u02b9', '\u2032', '\uff07':
		return true
	}
	return false
}

// appendFolded appends lower-case letter r as NormalizeName spells it.
func appendFolded(b []byte, r rune) []byte {
	switch r {
	case 'ß':
		return append(b, "ss"...)
	case 'æ':
		return append(b, "ae"...)
	case 'œ':
		return append(b, "oe"...)
	case 'ø':
		return append(b, 'o')
	case 'đ', 'ð':
		return append(b, 'd')
	case 'ł', 'ŀ':
		return append(b, 'l')
	case 'þ':
		return append(b, "th"...)
	case 'ħ':
		return append(b, 'h')
	case 'ı':
		return append(b, 'i')
	case 'ŧ':
		return append(b, 't')
	case 'ς':
		return utf8.AppendRune(b, 'σ')
	// Arabic letters that people write interchangeably.
	case 'ى', 'ی':
		return utf8.AppendRune(b, 'ي')
	case 'ة':
		return utf8.AppendRune(b, 'ه')
	case 'ٱ':
		return utf8.AppendRune(b, 'ا')
	case 'ک':
		return utf8.AppendRune(b, 'ك')
	// Hebrew final forms are the same letters at the end of a word.
	case 'ך':
		return utf8.AppendRune(b, 'כ')
	case 'ם':
		return utf8.AppendRune(b, 'מ')
	case 'ן':
		return utf8.AppendRune(b, 'נ')
	case 'ף':
		return utf8.AppendRune(b, 'פ')
	case 'ץ':
		return utf8.AppendRune(b, 'צ')
	}
	return utf8.AppendRune(b, r)
}

// SearchKey returns the normalised words of a name, sorted, so that
// "de Vries, Jan" and "Jan de Vries" have the same key.
func SearchKey(name string) string {
	ws := strings.Fields(NormalizeName(name))
	slices.Sort(ws)
	return strings.Join(ws, " ")
}

// NameTokens returns what the storage layer indexes for name search: the
// normalised words of the given, family and other names, plus each multi-word
// given or family name written as one word, so "de Vries" is found by "devr"
// as well as by "vr". The tokens are sorted and distinct.
func NameTokens(v Volunteer) []string {
	var toks []string
	for i, s := range []string{v.GivenName, v.FamilyName, v.OtherNames} {
		ws := strings.Fields(NormalizeName(s))
		toks = append(toks, ws...)
		if len(ws) > 1 && i < 2 {
			toks = append(toks, strings.Join(ws, ""))
		}
	}
	slices.Sort(toks)
	return slices.Compact(toks)
}

// SearchTokens returns the normalised, distinct words of a search query.
func SearchTokens(query string) []string {
	ws := strings.Fields(NormalizeName(query))
	slices.Sort(ws)
	return slices.Compact(ws)
}

// MatchesNameQuery reports whether v is found by a name search: every word of
// the query starts one of the volunteer's NameTokens, in any order, whatever the
// case and accents. "vries ja", "JAN DE" and "Müll" find "Jan de Vries" and
// "Anna Müller". An empty query finds nobody. This is the rule the storage
// layer implements with its token index; it is the reference for its tests.
func MatchesNameQuery(v Volunteer, query string) bool {
	qs := SearchTokens(query)
	if len(qs) == 0 {
		return false
	}
	toks := NameTokens(v)
	for _, q := range qs {
		// toks is sorted, so the first token >= q is the only candidate that
		// can start with q and come first.
		i, _ := slices.BinarySearch(toks, q)
		if i == len(toks) || !strings.HasPrefix(toks[i], q) {
			return false
		}
	}
	return true
}
