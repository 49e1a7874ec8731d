package obfuscation

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// Which original values the scan looks for — the rule, driven by the PHI
// declaration (volunteer.PHIFields):
//
//   - Names: a person is identified by a name, not by one word of it. The
//     scan therefore looks for two words of one volunteer's names from two
//     different name fields (a given name and a family or other name, or a
//     family and an other name) in one row of the copy, in any column, any
//     order and any case or accents. Single words are not identifying on
//     their own (thousands share "Smith"; "White" and "Rose" are words of
//     configuration lists), and words shorter than three letters and name
//     particles (van, de, bin, …) are never looked for.
//   - Phones: any run of at least 7 digits in any text, compared on its last
//     9 digits, so "+31 6 1234 5678" finds "+31612345678".
//   - Email addresses: anywhere in any text, whatever the case.
//   - Street address lines (6 characters or more) and free text (notes,
//     answers to PHI questions, notes on history entries; 8 characters or
//     more): as a whole cell, or as a whole element of a list or JSON text
//     (split at quotes, brackets, semicolons, "=" and line breaks).
//   - Not looked for alone: birth dates (a date is shared by thousands and
//     every table holds dates; the copy's are shifted), postal codes and
//     cities (quasi-identifiers that name only a place; the copy's are
//     replaced), sex, gender, ethnicity, race, region and country (declared
//     not PHI).
//
// Originals come from the volunteer tables and from the volunteer entries
// of the audit trail (old values of changed fields too).
const (
	minNameRunes     = 3
	minAddressRunes  = 6
	minFreeTextRunes = 8
	minPhoneDigits   = 7
	phoneKeyDigits   = 9
)

// needles are the original PHI values of one database, in the shapes the
// scan looks them up by.
type needles struct {
	tokens map[string]struct{}
	pairs  map[uint64]string
	whole  map[string]string
	phones map[string]string
	postal map[string]struct{}
	seed   maphash.Seed
	// wholeBits is a one-bit-per-hash filter of the whole values: most
	// cells of a copy miss it, and a 1 MiB bit set answers that from the
	// cache where the map would not.
	wholeBits []uint64
	// minWhole is the length in bytes of the shortest whole value; shorter
	// text is not looked up.
	minWhole int
	// phiQuestions are the custom questions whose answers are PHI; the
	// answers to the others are not looked for.
	phiQuestions map[string]bool
	// Values counts the originals collected, for the report.
	Values int
}

func newNeedles() *needles {
	return &needles{tokens: map[string]struct{}{}, pairs: map[uint64]string{}, whole: map[string]string{},
		phones: map[string]string{}, postal: map[string]struct{}{}, seed: maphash.MakeSeed(), wholeBits: make([]uint64, wholeFilterBits/64)}
}

func (n *needles) isNameToken(t string) bool {
	for _, w := range strings.Fields(t) {
		if _, ok := n.tokens[w]; ok {
			return true
		}
	}
	return false
}
func (n *needles) isPhone(key string) bool { _, ok := n.phones[key]; return ok }
func (n *needles) isWhole(s string) bool {
	_, ok := n.whole[strings.ToLower(strings.TrimSpace(s))]
	return ok
}
func (n *needles) isPostal(s string) bool {
	_, ok := n.postal[strings.ToLower(strings.TrimSpace(s))]
	return ok
}

func (n *needles) pairKey(a, b string) uint64 {
	if a > b {
		a, b = b, a
	}
	var h maphash.Hash
	h.SetSeed(n.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return h.Sum64()
}

// nameTokens returns the words of a name the scan looks for.
// A particle counts as a word of the name when the name has no other word
// ("Das").
func nameTokens(s string) []string {
	ws := strings.Fields(volunteer.NormalizeName(s))
	onlyParticles := true
	for _, w := range ws {
		onlyParticles = onlyParticles && particles[w]
	}
	var out []string
	for _, w := range ws {
		if utf8.RuneCountInString(w) >= minNameRunes && (!particles[w] || onlyParticles) && !hasDigit(w) {
			out = append(out, w)
		}
	}
	return out
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func (n *needles) addTokens(toks []string) {
	for _, t := range toks {
		n.tokens[t] = struct{}{}
	}
}

func (n *needles) addPairs(a, b []string, label string) {
	for _, x := range a {
		for _, y := range b {
			if x != y {
				n.pairs[n.pairKey(x, y)] = label
			}
		}
	}
}

func (n *needles) addWhole(field, s string, min int) {
	s = strings.ToLower(strings.TrimSpace(s))
	if utf8.RuneCountInString(s) >= min {
		n.whole[s] = field
		if n.minWhole == 0 || len(s) < n.minWhole {
			n.minWhole = len(s)
		}
		h := maphash.String(n.seed, s) & (wholeFilterBits - 1)
		n.wholeBits[h/64] |= 1 << (h % 64)
		n.Values++
	}
}

const wholeFilterBits = 1 << 23

// mayBeWhole reports whether lowered may be a whole value: false is
// certain, true needs the map.
func (n *needles) mayBeWhole(lowered []byte) bool {
	h := maphash.Bytes(n.seed, lowered) & (wholeFilterBits - 1)
	return n.wholeBits[h/64]&(1<<(h%64)) != 0
}

func (n *needles) addPhone(field, s string) {
	eachPhoneKey(s, func(k string) {
		n.phones[k] = field
		n.Values++
	})
}

// names are one volunteer's name words by field, to pair them.
type names struct{ given, family, other []string }

func (n *needles) addNames(nm names) {
	n.addTokens(nm.given)
	n.addTokens(nm.family)
	n.addTokens(nm.other)
	n.addPairs(nm.given, nm.family, volunteer.FieldGivenName+"+"+volunteer.FieldFamilyName)
	n.addPairs(nm.given, nm.other, volunteer.FieldGivenName+"+"+volunteer.FieldOtherNames)
	n.addPairs(nm.family, nm.other, volunteer.FieldFamilyName+"+"+volunteer.FieldOtherNames)
	n.Values += len(nm.given) + len(nm.family) + len(nm.other)
}

// volRow is a volunteer row as the obfuscation and the scan read it.
type volRow struct {
	id                                int64
	number, given, family, other      string
	birth, sex, email                 string
	line1, line2, postal, city, notes string
	phones                            []phoneRow
}

type phoneRow struct {
	position int
	kind     string
	number   string
}

func (v *volRow) names() names {
	return names{given: nameTokens(v.given), family: nameTokens(v.family), other: nameTokens(v.other)}
}

// addVolunteer adds a volunteer row's PHI; nm are its names (v.names()).
func (n *needles) addVolunteer(v *volRow, nm names) {
	n.addNames(nm)
	if v.email != "" {
		n.addWhole(volunteer.FieldEmail, v.email, 3)
	}
	n.addWhole(volunteer.FieldAddressLine1, v.line1, minAddressRunes)
	n.addWhole(volunteer.FieldAddressLine2, v.line2, minAddressRunes)
	if p := strings.ToLower(strings.TrimSpace(v.postal)); p != "" {
		n.postal[p] = struct{}{}
	}
	n.addWhole(volunteer.FieldNotes, v.notes, minFreeTextRunes)
	for _, p := range v.phones {
		n.addPhone(volunteer.FieldPhones, p.number)
	}
}

// readVolunteers reads every volunteer with the columns that hold PHI, and
// their phones, in id order.
func readVolunteers(ctx context.Context, q store.Querier) ([]volRow, error) {
	// Sized up front: growing a slice of 100,000 rows copies it many times.
	var count int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM volunteer").Scan(&count); err != nil {
		return nil, fmt.Errorf("count volunteers: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT id, number, given_name, family_name, other_names, birth_date, sex_at_birth, email,
		address_line1, address_line2, postal_code, city, notes FROM volunteer ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read volunteers: %w", err)
	}
	vs := make([]volRow, 0, count)
	for rows.Next() {
		var v volRow
		if err := rows.Scan(&v.id, &v.number, &v.given, &v.family, &v.other, &v.birth, &v.sex, &v.email,
			&v.line1, &v.line2, &v.postal, &v.city, &v.notes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read volunteers: %w", err)
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read volunteers: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	index := make(map[int64]int, len(vs))
	for i := range vs {
		index[vs[i].id] = i
	}
	rows, err = q.Query(ctx, "SELECT volunteer_id, position, kind, number FROM volunteer_phone ORDER BY volunteer_id, position")
	if err != nil {
		return nil, fmt.Errorf("read volunteer phones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p phoneRow
		if err := rows.Scan(&id, &p.position, &p.kind, &p.number); err != nil {
			return nil, fmt.Errorf("read volunteer phones: %w", err)
		}
		if i, ok := index[id]; ok {
			vs[i].phones = append(vs[i].phones, p)
		}
	}
	return vs, rows.Err()
}

// collect gathers the original PHI of a database: its volunteers (vs, as
// readVolunteers returned them), the free text of their child rows, and
// the volunteer entries of its audit trail.
func collect(ctx context.Context, q store.Querier, vs []volRow, phiQuestions map[string]bool) (*needles, error) {
	n := newNeedles()
	n.phiQuestions = phiQuestions
	// Sized for what a volunteer typically holds (an email, a street line,
	// a phone, three name pairs), so the maps are not rebuilt as they grow.
	n.whole = make(map[string]string, 2*len(vs))
	n.phones = make(map[string]string, len(vs)+len(vs)/4)
	n.pairs = make(map[uint64]string, 3*len(vs))
	byNumber := make(map[string]names, len(vs))
	for i := range vs {
		nm := vs[i].names()
		n.addVolunteer(&vs[i], nm)
		byNumber[vs[i].number] = nm
	}
	for _, s := range []struct{ query, field string }{
		{"SELECT value FROM volunteer_answer WHERE phi = ?", volunteer.FieldAnswers},
		{"SELECT note FROM volunteer_coded_entry WHERE note <> ''", volunteer.FieldMedicalHistory + ".note"},
	} {
		var args []any
		if strings.Contains(s.query, "?") {
			args = []any{true}
		}
		rows, err := q.Query(ctx, s.query, args...)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.field, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read %s: %w", s.field, err)
			}
			n.addWhole(s.field, v, minFreeTextRunes)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := q.Query(ctx, "SELECT entity_id, field, old_value, new_value FROM audit_entry WHERE entity = ? AND field <> ''", registry.Entity)
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var number, field, old, nu string
		if err := rows.Scan(&number, &field, &old, &nu); err != nil {
			return nil, fmt.Errorf("read the audit trail: %w", err)
		}
		for _, v := range []string{old, nu} {
			if v != "" {
				n.addTrailValue(field, v, byNumber[number])
			}
		}
	}
	return n, rows.Err()
}

// addTrailValue adds the PHI in one audit value of a volunteer entry;
// current are the volunteer's names now, to pair an old name with.
func (n *needles) addTrailValue(field, value string, current names) {
	if field == registry.RecordField {
		rec := map[string]string{}
		if json.Unmarshal([]byte(value), &rec) != nil {
			return
		}
		nm := names{given: nameTokens(rec[volunteer.FieldGivenName]), family: nameTokens(rec[volunteer.FieldFamilyName]),
			other: nameTokens(rec[volunteer.FieldOtherNames])}
		n.addNames(nm)
		for k, v := range rec {
			if f, ok := registry.TrailPHIField(k); ok && f.Kind != volunteer.PHIName && v != "" {
				n.addTrailValue(k, v, current)
			}
		}
		return
	}
	f, ok := registry.TrailPHIField(field)
	if !ok {
		return
	}
	switch f.Kind {
	case volunteer.PHIName:
		toks := nameTokens(value)
		nm := current
		switch f.Field {
		case volunteer.FieldGivenName:
			nm.given = toks
		case volunteer.FieldFamilyName:
			nm.family = toks
		default:
			nm.other = toks
		}
		n.addNames(nm)
	case volunteer.PHIPhone:
		n.addPhone(field, value)
	case volunteer.PHIEmail:
		n.addWhole(field, value, 3)
	case volunteer.PHIAddress:
		if f.Field == volunteer.FieldAddressLine1 || f.Field == volunteer.FieldAddressLine2 {
			n.addWhole(field, value, minAddressRunes)
		}
		if f.Field == volunteer.FieldPostalCode {
			n.postal[strings.ToLower(strings.TrimSpace(value))] = struct{}{}
		}
	case volunteer.PHIFreeText:
		for _, el := range strings.Split(value, registry.TrailListSeparator) {
			// "QUESTION=answer" and "CODE: note" hold the text after the
			// separator; the whole element is looked for as well.
			if f.Field == volunteer.FieldAnswers {
				if q, after, ok := strings.Cut(el, "="); ok && n.phiQuestions[q] {
					n.addWhole(field, el, minFreeTextRunes)
					n.addWhole(field, after, minFreeTextRunes)
				}
				continue
			}
			n.addWhole(field, el, minFreeTextRunes)
			if _, after, ok := strings.Cut(el, ": "); ok {
				n.addWhole(field, after, minFreeTextRunes)
			}
		}
	}
}

// eachPhoneKey calls fn with the key of every phone-like run of digits in
// s: at least minPhoneDigits digits, possibly split by spaces, dashes and
// brackets, not touching a letter (so hashes and codes are not phones), a
// "+" starting a new number. The key is the last phoneKeyDigits digits.
func eachPhoneKey[T string | []byte](s T, fn func(string)) {
	var digits [64]byte
	i := 0
	for i < len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '+') || (i > 0 && isAlnum(s[i-1])) {
			i++
			continue
		}
		nd := 0
		j := i
		if s[j] == '+' {
			j++
		}
		last := j
		for j < len(s) {
			c := s[j]
			if c >= '0' && c <= '9' {
				if nd < len(digits) {
					digits[nd] = c
				}
				nd++
				j++
				last = j
				continue
			}
			if c == ' ' || c == '-' || c == '(' || c == ')' {
				j++
				continue
			}
			break
		}
		touching := last < len(s) && isLetter(s[last])
		if nd >= minPhoneDigits && nd <= len(digits) && !touching {
			d := digits[:nd]
			if nd > phoneKeyDigits {
				d = d[nd-phoneKeyDigits:]
			}
			fn(string(d))
		}
		if last > i {
			i = last
		} else {
			i++
		}
	}
}

// phoneKey returns the key of a single phone number.
func phoneKey(s string) (key string, ok bool) {
	eachPhoneKey(s, func(k string) {
		if !ok {
			key, ok = k, true
		}
	})
	return key, ok
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }
