package volunteer

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MatchKey is what duplicate detection compares of a volunteer, computed once:
// normalised names, their words and phonetic keys, and the birth date. Storage
// computes a key per record in a birth-date block and compares each pair with
// Match, instead of normalising names again for every pair.
type MatchKey struct {
	birth          Date
	given, family  string   // normalised, spaces removed: "de Vries" is "devries"
	words          []string // normalised words of given and family name, sorted
	other          []string // normalised words of other names, in order
	givenP, givenA string   // Double Metaphone of given
	famP, famA     string   // and of family
}

// NewMatchKey computes the match key of v.
func NewMatchKey(v Volunteer) MatchKey {
	g, f := NormalizeName(v.GivenName), NormalizeName(v.FamilyName)
	k := MatchKey{
		birth:  v.BirthDate,
		given:  strings.ReplaceAll(g, " ", ""),
		family: strings.ReplaceAll(f, " ", ""),
		words:  append(strings.Fields(g), strings.Fields(f)...),
		other:  strings.Fields(NormalizeName(v.OtherNames)),
	}
	slices.Sort(k.words)
	// Encoding the normalised names, not the originals, makes "François" and
	// "Francois" sound alike although Double Metaphone reads Ç as S and C
	// before O as K.
	k.givenP, k.givenA = DoubleMetaphone(k.given)
	k.famP, k.famA = DoubleMetaphone(k.family)
	return k
}

// MatchReason reports whether a and b may be the same person, and why, as a
// phrase for the duplicate review page. It is NewMatchKey(a).Match(NewMatchKey(b)).
func MatchReason(a, b Volunteer) (reason string, ok bool) {
	return NewMatchKey(a).Match(NewMatchKey(b))
}

// Match reports whether the volunteers of k and o may be the same person, and
// why. Every rule needs both complete birth dates to agree (or, for an
// otherwise identical name, to have day and month swapped, the commonest date
// typo), so storage only compares volunteers whose birth date is one of
// DuplicateBirthDates. Then, strongest first:
//
//   - the same normalised given and family name (case, accents, spaces,
//     hyphens and apostrophes ignored);
//   - given and family name swapped, as happens with Chinese, Hungarian and
//     Vietnamese names written in Western order or not;
//   - the same words, split differently between given and family name;
//   - the words of one name all in the other (a missing middle name or second
//     Spanish family name);
//   - the same given name with a family name that is among the other's other
//     names (a former or married name);
//   - given and family names that sound alike (share a Double Metaphone key);
//   - names a typing mistake or two apart (optimal string alignment distance
//     of 1 for names of 4–7 letters, 2 from 8 letters, at most 2 in all).
func (k MatchKey) Match(o MatchKey) (reason string, ok bool) {
	if k.given == "" || k.family == "" || o.given == "" || o.family == "" ||
		!k.birth.IsComplete() || !o.birth.IsComplete() {
		return "", false
	}
	sameName := k.given == o.given && k.family == o.family
	swapped := k.given == o.family && k.family == o.given
	if k.birth != o.birth {
		if (sameName || swapped) && slices.Contains(DuplicateBirthDates(k.birth), o.birth) {
			return "same name, with day and month of birth swapped", true
		}
		return "", false
	}
	switch {
	case sameName:
		return "same name and date of birth", true
	case swapped:
		return "given and family names swapped, same date of birth", true
	case slices.Equal(k.words, o.words):
		return "same names in a different order, same date of birth", true
	case contains(k.words, o.words) || contains(o.words, k.words):
		return "one name is part of the other (a middle name or second family name is missing), same date of birth", true
	case k.given == o.given && (allIn(o.other, k.family) || allIn(k.other, o.family)):
		return "same given name, and one family name is among the other's former or other names, same date of birth", true
	case soundAlike(k.givenP, k.givenA, o.givenP, o.givenA) && soundAlike(k.famP, k.famA, o.famP, o.famA),
		soundAlike(k.givenP, k.givenA, o.famP, o.famA) && soundAlike(k.famP, k.famA, o.givenP, o.givenA):
		return "names sound alike, same date of birth", true
	}
	d, ok := typoDistance(k.given, o.given, k.family, o.family)
	if !ok {
		d, ok = typoDistance(k.given, o.family, k.family, o.given)
	}
	if ok {
		letters := "letters"
		if d == 1 {
			letters = "letter"
		}
		return "names differ by " + strconv.Itoa(d) + " " + letters + ", same date of birth", true
	}
	return "", false
}

// DuplicateBirthDates returns the birth dates a duplicate of someone born on d
// may have: d itself, and d with day and month swapped when that is another
// date. Storage uses them to find the records to compare with Match.
func DuplicateBirthDates(d Date) []Date {
	out := []Date{d}
	if d.IsComplete() && d.Day <= 12 && d.Day != int(d.Month) {
		out = append(out, Date{Year: d.Year, Month: time.Month(d.Day), Day: int(d.Month)})
	}
	return out
}

// contains reports whether every word of small is in big (both sorted), with
// at least two words, so one shared first name alone never makes a match.
func contains(big, small []string) bool {
	if len(small) < 2 || len(small) >= len(big) {
		return false
	}
	i := 0
	for _, w := range small {
		for i < len(big) && big[i] < w {
			i++
		}
		if i == len(big) || big[i] != w {
			return false
		}
		i++
	}
	return true
}

// allIn reports whether family, a normalised name with its spaces removed, is
// one of the words of other or several adjacent ones ("de boer").
func allIn(other []string, family string) bool {
	for i := range other {
		joined := ""
		for _, w := range other[i:] {
			joined += w
			if joined == family {
				return true
			}
			if len(joined) >= len(family) {
				break
			}
		}
	}
	return false
}

func soundAlike(ap, aa, bp, ba string) bool {
	return ap != "" && bp != "" && (ap == bp || ap == ba || aa == bp || aa == ba)
}

// typoDistance returns the edit distance of two name pairs and whether it is
// small enough to be typing mistakes.
func typoDistance(g1, g2, f1, f2 string) (int, bool) {
	dg := osaDistance(g1, g2)
	df := osaDistance(f1, f2)
	if dg > typoAllowance(g1, g2) || df > typoAllowance(f1, f2) || dg+df > 2 {
		return 0, false
	}
	return dg + df, true
}

// typoAllowance is how many mistakes a name of this length may carry: none in
// a name of up to three letters (Li and Lu are different names), one up to
// seven, two from eight.
func typoAllowance(a, b string) int {
	n := min(utf8.RuneCountInString(a), utf8.RuneCountInString(b))
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	}
	return 2
}

// osaDistance is the optimal string alignment distance: insertions, deletions,
// substitutions and transpositions of adjacent letters, each counting one.
func osaDistance(a, b string) int {
	if a == b {
		return 0
	}
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
