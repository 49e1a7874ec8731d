package obfuscation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// pseudonymizer turns original values into synthetic ones with a keyed hash
// (HMAC-SHA256 under the copy's secret): the same original gives the same
// pseudonym everywhere in the copy, and without the secret nothing leads
// back. Every candidate is checked against the copy's original values
// (avoid), so a pseudonym is never itself somebody's real name, phone or
// address — which also keeps the PHI-leak scan free of false alarms.
type pseudonymizer struct {
	mac   hash.Hash
	avoid *needles
	memo  map[memoKey]string
	sum   []byte
}

// memoKey is a cached pseudonym's domain and original value; a struct key
// spares building a string per lookup.
type memoKey struct {
	domain string
	role   nameRole
	sex    volunteer.Sex
	value  string
}

func newPseudonymizer(secret []byte, avoid *needles) *pseudonymizer {
	return &pseudonymizer{mac: hmac.New(sha256.New, secret), avoid: avoid, memo: map[memoKey]string{}}
}

// draw returns 64 keyed bits for the value in a domain (what kind of value,
// which attempt), so the same original never yields related numbers in two
// domains.
func (p *pseudonymizer) draw(domain string, attempt int, value string) uint64 {
	p.mac.Reset()
	p.mac.Write([]byte(domain))
	p.mac.Write([]byte{0, byte(attempt), byte(attempt >> 8), 0})
	p.mac.Write([]byte(value))
	p.sum = p.mac.Sum(p.sum[:0])
	return binary.BigEndian.Uint64(p.sum)
}

// stream returns n keyed bytes for the value, for digit-by-digit rewrites.
func (p *pseudonymizer) stream(domain string, attempt int, value string, n int) []byte {
	out := make([]byte, 0, n)
	for block := 0; len(out) < n; block++ {
		p.mac.Reset()
		p.mac.Write([]byte(domain))
		p.mac.Write([]byte{0, byte(attempt), byte(attempt >> 8), byte(block)})
		p.mac.Write([]byte(value))
		out = append(out, p.mac.Sum(nil)...)
	}
	return out[:n]
}

// once computes a pseudonym of a value that is mostly unique (phones,
// emails, street lines, postal codes), where a cache would cost more than
// the keyed hash it saves; the result is the same every time.
func (p *pseudonymizer) once(make func() string) string { return make() }

// memoized caches pseudonyms per domain and value: a copy of 100,000
// volunteers has a few thousand distinct names.
func (p *pseudonymizer) memoized(key memoKey, make func() string) string {
	if s, ok := p.memo[key]; ok {
		return s
	}
	s := make()
	p.memo[key] = s
	return s
}

// nameRole says which list a name word is replaced from.
type nameRole int

const (
	roleGiven nameRole = iota
	roleFamily
)

// Name replaces a name word by word: particles (van, de, …) stay, every
// other word becomes a name from the lists — given names matching the sex
// recorded at birth where known — keeping the original's capitalisation.
func (p *pseudonymizer) Name(role nameRole, sex volunteer.Sex, s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	// Whole names repeat as often as their words: the result depends on
	// nothing else, so it is cached as a whole too.
	return p.memoized(memoKey{domain: "name", role: role, sex: sex, value: s}, func() string { return p.name(role, sex, s) })
}

func (p *pseudonymizer) name(role nameRole, sex volunteer.Sex, s string) string {
	words := strings.Fields(s)
	onlyParticles := true
	for _, w := range words {
		onlyParticles = onlyParticles && particles[volunteer.NormalizeName(w)]
	}
	for i, w := range words {
		norm := volunteer.NormalizeName(w)
		// A particle is kept inside a name ("van Dijk"), never as the whole
		// name: "Das" is an Indian family name.
		if norm == "" || particles[norm] && !onlyParticles {
			continue
		}
		words[i] = matchCase(w, p.nameWord(role, sex, norm))
	}
	return strings.Join(words, " ")
}

func (p *pseudonymizer) nameWord(role nameRole, sex volunteer.Sex, norm string) string {
	var list []string
	domain := "family"
	if role == roleGiven {
		switch sex {
		case volunteer.SexFemale:
			list, domain = femaleNames, "given-f"
		case volunteer.SexMale:
			list, domain = maleNames, "given-m"
		default:
			list, domain = givenNames, "given"
		}
	} else {
		list = familyNames
	}
	return p.memoized(memoKey{domain: domain, value: norm}, func() string {
		for attempt := 0; ; attempt++ {
			h := p.draw(domain, attempt, norm)
			var c string
			switch {
			case attempt < 8:
				c = list[h%uint64(len(list))]
			default:
				// The lists are exhausted by this clinic's real names: blend
				// two list names into one that nobody in the copy has.
				a, b := list[h%uint64(len(list))], list[(h>>20)%uint64(len(list))]
				c = blend(a, b)
				if attempt > 40 {
					c += string(rune('a' + (h>>40)%26))
				}
			}
			if !p.avoid.isNameToken(volunteer.NormalizeName(c)) {
				return c
			}
		}
	})
}

// blend joins the start of one name and the end of another at a vowel, as
// "Marlen" + "Tobias" → "Marias".
func blend(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	cut := len(ra) / 2
	for cut < len(ra)-1 && !isVowel(ra[cut]) {
		cut++
	}
	tail := len(rb) / 2
	for tail < len(rb)-1 && !isVowel(rb[tail]) {
		tail++
	}
	return string(ra[:cut]) + string(rb[tail:])
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouy", unicode.ToLower(r)) }

// matchCase writes a pseudonym in the original's case style: all capitals
// stay all capitals, all lower case stays lower case.
func matchCase(orig, pseudo string) string {
	switch {
	case orig == strings.ToUpper(orig) && orig != strings.ToLower(orig) && utf8.RuneCountInString(orig) > 1:
		return strings.ToUpper(pseudo)
	case orig == strings.ToLower(orig) && orig != strings.ToUpper(orig):
		return strings.ToLower(pseudo)
	}
	return pseudo
}

// BirthDate moves a complete date to another day of the same year, the
// same for every record with that date, so ages and age bands stay what
// they were and volunteers born on one day still share a birthday. A
// partial date (year, or year and month) is coarse already and stays.
func (p *pseudonymizer) BirthDate(s string) string {
	return p.memoized(memoKey{domain: "date", value: s}, func() string {
		d, err := volunteer.ParseDate(s)
		if err != nil || !d.IsComplete() {
			return s
		}
		first := volunteer.NewDate(d.Year, 1, 1)
		days := first.DaysTo(volunteer.NewDate(d.Year+1, 1, 1))
		doy := first.DaysTo(d)
		shift := 1 + int(p.draw("date", 0, s)%uint64(days-1))
		return first.AddDays((doy + shift) % days).String()
	})
}

// Phone keeps the number's shape — its length, its separators, the leading
// + and the country calling code — and replaces every other digit, the
// first of them never by 0 so the number stays dialable in form.
func (p *pseudonymizer) Phone(s string) string {
	if s == "" {
		return s
	}
	return p.once(func() string {
		keep := 0 // digits kept: the country calling code of an international number
		if strings.HasPrefix(strings.TrimSpace(s), "+") {
			keep = 2
			if d := strings.TrimLeft(strings.TrimSpace(s), "+"); d != "" && (d[0] == '1' || d[0] == '7') {
				keep = 1
			}
		}
		for attempt := 0; ; attempt++ {
			key := p.stream("phone", attempt, s, len(s))
			b := []byte(s)
			seen := 0
			for i := range b {
				if b[i] < '0' || b[i] > '9' {
					continue
				}
				seen++
				if seen <= keep {
					continue
				}
				if seen == keep+1 {
					b[i] = '1' + key[i]%9
				} else {
					b[i] = '0' + key[i]%10
				}
			}
			c := string(b)
			// The copy also stores the digits reversed (the phone search
			// key); neither form may look like an original number.
			k, ok := phoneKey(c)
			r, rok := phoneKey(registry.PhoneSearchKey(c))
			if (!ok || !p.avoid.isPhone(k)) && (!rok || !p.avoid.isPhone(r)) {
				return c
			}
		}
	})
}

// Email gives an address made of list names at a reserved example domain,
// so no message can ever reach anyone.
func (p *pseudonymizer) Email(s string) string {
	if s == "" {
		return s
	}
	return p.once(func() string {
		low := strings.ToLower(s)
		for attempt := 0; ; attempt++ {
			h := p.draw("email", attempt, low)
			given := asciiLower(givenNames[h%uint64(len(givenNames))])
			family := asciiLower(familyNames[(h>>16)%uint64(len(familyNames))])
			n := strconv.Itoa(int((h >> 32) % 100))
			var local string
			switch (h >> 40) % 3 {
			case 0:
				local = given + "." + family + n
			case 1:
				local = given[:1] + "." + family + n
			default:
				local = family + "_" + given + n
			}
			c := local + "@" + emailDomains[(h>>48)%uint64(len(emailDomains))]
			if !p.avoid.isWhole(c) {
				return c
			}
		}
	})
}

// AddressLine replaces a street address by a street from the list with a
// house number, keeping whether the number came first ("12 High Street")
// or last ("Kerkstraat 12"). A second line becomes a flat number.
func (p *pseudonymizer) AddressLine(second bool, s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	return p.once(func() string {
		numberFirst := strings.IndexFunc(s, unicode.IsDigit) == 0
		for attempt := 0; ; attempt++ {
			h := p.draw("address", attempt, s)
			n := strconv.Itoa(1 + int(h%199))
			var c string
			switch {
			case second:
				c = flatWords[(h>>16)%uint64(len(flatWords))] + " " + strconv.Itoa(1+int((h>>24)%60))
			case numberFirst:
				c = n + " " + streetsNumberFirst[(h>>16)%uint64(len(streetsNumberFirst))]
			default:
				c = streetsNumberLast[(h>>16)%uint64(len(streetsNumberLast))] + " " + n
			}
			if !p.avoid.isWhole(c) {
				return c
			}
		}
	})
}

// PostalCode keeps the code's format — letters stay letters, digits
// digits, separators where they were — and replaces each character.
func (p *pseudonymizer) PostalCode(s string) string {
	if s == "" {
		return s
	}
	return p.once(func() string {
		for attempt := 0; ; attempt++ {
			key := p.stream("postal", attempt, s, len(s))
			b := []byte(s)
			for i, c := range b {
				switch {
				case c >= '0' && c <= '9':
					b[i] = '0' + key[i]%10
					if i == 0 && c != '0' && b[i] == '0' {
						b[i] = '1' + key[i]%9
					}
				case c >= 'A' && c <= 'Z':
					b[i] = 'A' + key[i]%26
				case c >= 'a' && c <= 'z':
					b[i] = 'a' + key[i]%26
				}
			}
			c := string(b)
			if !p.avoid.isPostal(c) {
				return c
			}
		}
	})
}

// City picks a town from the list; region and country, which are not PHI,
// stay as they were.
func (p *pseudonymizer) City(s string) string {
	if s == "" {
		return s
	}
	return p.memoized(memoKey{domain: "city", value: s}, func() string {
		return cities[p.draw("city", 0, strings.ToLower(s))%uint64(len(cities))]
	})
}

func asciiLower(s string) string {
	n := volunteer.NormalizeName(s)
	b := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if n[i] >= 'a' && n[i] <= 'z' {
			b = append(b, n[i])
		}
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}

// The lists. They are deliberately not the synthetic generator's lists, so
// a copy of a demonstration database visibly changes.
var (
	femaleNames = []string{
		"Astrid", "Beatrix", "Cordelia", "Dagny", "Elodie", "Freya", "Greta", "Helga", "Ingrid", "Josefine",
		"Karolina", "Liesel", "Marit", "Nadia", "Odette", "Paulina", "Rosalind", "Solveig", "Tamsin", "Ulla",
		"Vera", "Wilma", "Xenia", "Yvonne", "Zelda", "Adela", "Brigitta", "Celestine", "Dorothea", "Edith",
		"Flavia", "Gwendolyn", "Henrietta", "Imogen", "Jacinta", "Kirsten", "Leonie", "Mirela", "Nerys", "Ottilie",
	}
	maleNames = []string{
		"Anselm", "Bertil", "Casimir", "Dorian", "Evander", "Fabian", "Gunnar", "Horatio", "Ignaz", "Jasper",
		"Konrad", "Leopold", "Magnus", "Nikolai", "Osric", "Percival", "Quentin", "Roderick", "Severin", "Tobiah",
		"Ulrich", "Valentin", "Wendell", "Xaver", "Yannick", "Zoltan", "Albrecht", "Balthasar", "Cornelius", "Desmond",
		"Emil", "Fridolin", "Gideon", "Hector", "Isidor", "Joachim", "Kasimir", "Lorenz", "Matthias", "Norbert",
	}
	givenNames  = append(append([]string(nil), femaleNames...), maleNames...)
	familyNames = []string{
		"Abernathy", "Blackwood", "Castellan", "Drummond", "Eversley", "Fairbairn", "Greenhalgh", "Holloway", "Ingleby", "Jarrold",
		"Kettering", "Lindqvist", "Marchetti", "Northcott", "Oakhurst", "Penhaligon", "Quarrie", "Rosenthal", "Sandoval", "Thornbury",
		"Underhill", "Vasquez", "Whitlock", "Yardley", "Zabrowski", "Ashdown", "Brightwell", "Calloway", "Dunleavy", "Ellingham",
		"Falconer", "Galbraith", "Hartigan", "Irvine", "Jessop", "Kilbride", "Lockhart", "Merriweather", "Nettleton", "Ormsby",
		"Pemberton", "Radcliffe", "Stanhope", "Tregarthen", "Upshaw", "Villiers", "Wainwright", "Westergaard", "Aldana", "Bergstrand",
	}
	emailDomains       = []string{"mail.example", "post.example", "inbox.example"}
	streetsNumberFirst = []string{"Alder Way", "Beacon Road", "Chestnut Lane", "Dovecote Close", "Elmstead Avenue", "Foxglove Street", "Harbour View", "Juniper Drive", "Larkspur Road", "Meadowbank Crescent"}
	streetsNumberLast  = []string{"Lindenlaan", "Eikenweg", "Ahornstraße", "Birkenweg", "Rue des Tilleuls", "Calle de los Olmos", "Ulica Lipowa", "Kastanjelaan", "Wilgenhof", "Ulmenallee"}
	flatWords          = []string{"Apartment", "Flat", "Unit"}
	cities             = []string{"Northfield", "Eastbrook", "Westerhaven", "Southmoor", "Kingsbridge", "Ashbury", "Millbrook", "Riverside", "Oakvale", "Stonebridge"}
	// particles are the words of family names that are not names on their
	// own; they stay as they are and the scan never looks for them.
	particles = map[string]bool{
		"van": true, "von": true, "der": true, "den": true, "de": true, "da": true, "di": true, "du": true, "del": true,
		"della": true, "la": true, "le": true, "los": true, "las": true, "bin": true, "ben": true, "al": true, "el": true,
		"ter": true, "ten": true, "het": true, "t": true, "dos": true, "das": true, "do": true, "ibn": true, "abu": true,
		"y": true, "e": true, "mc": true, "mac": true,
	}
)
