package dictionary

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

var fold = cases.Fold()

// letters spells out the Latin letters that carry their accent or
// ligature in the letter itself, so Unicode decomposition leaves them
// whole: without this "œdème" would never meet "oedeme". They are applied
// after case folding, so only lower case is listed.
var letters = strings.NewReplacer("œ", "oe", "æ", "ae", "ø", "o", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")

// Normalize returns the form of a term, name or code that search compares:
// accents removed, case folded and runs of white space collapsed to single
// spaces, so "Œdème  Aigu", "oedeme aigu" and "ŒDÈME AIGU" meet, as do
// "Hyperkaliämie" and "hyperkaliamie". Storage keeps this form beside each
// term so that a prefix search is an index range.
//
// It decomposes with NFKD rather than NFD so that compatibility characters
// pasted from documents also match their plain letters: the ligature "ﬁ",
// superscript "²", full-width letters.
func Normalize(term string) string {
	var b strings.Builder
	b.Grow(len(term))
	for _, r := range norm.NFKD.String(term) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(letters.Replace(fold.String(b.String()))), " ")
}
