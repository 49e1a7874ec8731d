// Package synthetic generates realistic, deterministic volunteer records for
// demos, tests and benchmarks: names from many cultures spelt with their
// accents, plausible ages for a healthy-volunteer population, contact details
// in reserved or fictional ranges, medical history from the unit's own code
// lists, study participation, and a configurable share of deliberate near
// duplicates for duplicate detection to find.
package synthetic

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Question is a custom registration question the generator answers.
type Question struct {
	Code    string
	Answers []string
	// PHI marks a question collecting identifying free text (see
	// volunteer.Answer.PHI).
	PHI bool
}

// Config says what to generate. Code lists are passed in because they are the
// unit's own; a nil list leaves that part of the record empty.
type Config struct {
	// Today is the date ages and histories are computed from. It is part of
	// the configuration, not the clock, so a seed always gives the same
	// volunteers; zero means 2025-01-01.
	Today volunteer.Date
	// Country decides phones, addresses and the local naming culture: one of
	// Countries(). Empty means "NL".
	Country string
	// Sites are the site codes volunteers prefer; empty means one site "MAIN".
	Sites []string
	// NumberPattern is the volunteer number pattern; empty means "V{seq:7}".
	NumberPattern string

	MedicalHistoryCodes []string
	MedicationCodes     []string
	SubstanceUseCodes   []string
	RecruitmentSources  []string
	Ethnicities         []string
	Races               []string
	// Studies are study codes, oldest first, including archived historical
	// studies; participations use them.
	Studies      []string
	ConsentTypes []string
	Questions    []Question

	// DuplicateRate is the share of generated records that are deliberate near
	// duplicates of an earlier record (0 to 0.5).
	DuplicateRate float64
	// OnDuplicate, if set, is called for each near duplicate before it is
	// handed to each, with the identity of the original (number, names, birth
	// date, sex, gender, email and phones) and the kind of change made.
	OnDuplicate func(original, duplicate volunteer.Volunteer, kind string)
}

// Countries lists the countries the generator knows.
func Countries() []string {
	cs := make([]string, 0, len(countries))
	for c := range countries {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// DefaultConfig returns a configuration with typical code lists, 1% near
// duplicates and the Netherlands as country.
func DefaultConfig() Config {
	var studies []string
	for y := 2008; y <= 2024; y++ {
		for n := 1; n <= 4; n++ {
			studies = append(studies, "CRU-"+strconv.Itoa(y)+"-"+padded(n*7, 3))
		}
	}
	return Config{
		Country:             "NL",
		Sites:               []string{"AMS", "GRO"},
		NumberPattern:       "V{seq:7}",
		MedicalHistoryCodes: []string{"ASTHMA", "HAY_FEVER", "ECZEMA", "MIGRAINE", "HYPERTENSION", "APPENDECTOMY", "FRACTURE", "DEPRESSION", "HYPOTHYROIDISM", "GERD", "ACNE", "KIDNEY_STONE"},
		MedicationCodes:     []string{"PARACETAMOL", "IBUPROFEN", "CETIRIZINE", "SALBUTAMOL", "LEVOTHYROXINE", "ORAL_CONTRACEPTIVE", "OMEPRAZOLE", "VITAMIN_D"},
		SubstanceUseCodes:   []string{"ALCOHOL", "TOBACCO", "CANNABIS", "CAFFEINE", "VAPING"},
		RecruitmentSources:  []string{"WEB", "RADIO", "SOCIAL", "REFERRAL", "NEWSPAPER", "FLYER", "CAMPUS"},
		Ethnicities:         []string{"NOT_HISPANIC_OR_LATINO", "HISPANIC_OR_LATINO", "NOT_REPORTED"},
		Races:               []string{"WHITE", "BLACK_OR_AFRICAN_AMERICAN", "ASIAN", "AMERICAN_INDIAN_OR_ALASKA_NATIVE", "NATIVE_HAWAIIAN_OR_OTHER_PACIFIC_ISLANDER", "NOT_REPORTED"},
		Studies:             studies,
		ConsentTypes:        []string{"database", "contact"},
		Questions: []Question{
			{Code: "BLOOD_DONOR", Answers: []string{"no", "yes", "former"}},
			{Code: "TRAVEL_TIME", Answers: []string{"<30 min", "30-60 min", ">60 min"}},
			{Code: "GP_NAME", Answers: []string{"Huisartsenpraktijk Centrum", "Gezondheidscentrum Noord", "Dr. Visser", "Dr. Kaya", "Medisch Centrum Zuid"}, PHI: true},
		},
		DuplicateRate: 0.01,
	}
}

// Duplicate kinds passed to Config.OnDuplicate.
const (
	DupAccents       = "accents dropped"
	DupCase          = "capitals"
	DupSwapped       = "given and family name swapped"
	DupTypo          = "typing mistake"
	DupPhonetic      = "spelt as it sounds"
	DupShorterName   = "middle or second family name left out"
	DupMarriedName   = "new family name, old one kept as other name"
	DupBirthDaySwaps = "day and month of birth swapped"
)

// Generate makes n volunteers from seed and hands each to each, in order,
// stopping at the first error each returns. The same seed and configuration
// always give the same volunteers. It keeps no volunteers in memory apart
// from a small window of recent ones to duplicate.
func Generate(seed int64, n int, cfg Config, each func(volunteer.Volunteer) error) error {
	g, err := newGenerator(seed, cfg)
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("generate volunteers: the count %d is negative", n)
	}
	for i := range n {
		var v volunteer.Volunteer
		var c *culture
		if len(g.recent) > 0 && g.r.chance(g.cfg.DuplicateRate) {
			orig := g.recent[g.r.intn(len(g.recent))]
			var kind string
			v, kind, err = g.duplicate(orig)
			c = orig.c
			if err == nil && g.cfg.OnDuplicate != nil {
				g.cfg.OnDuplicate(orig.volunteer(), v, kind)
			}
		} else {
			v, c, err = g.fresh()
		}
		if err != nil {
			return fmt.Errorf("generate volunteer %d: %w", i+1, err)
		}
		g.remember(v, c)
		if err := each(v); err != nil {
			return err
		}
	}
	return nil
}

// identity is what the generator remembers of a recent volunteer in order to
// duplicate it.
type identity struct {
	number, given, family, other, email string
	birth                               volunteer.Date
	sex                                 volunteer.Sex
	gender                              volunteer.Gender
	phones                              []volunteer.Phone
	c                                   *culture
}

func (id identity) volunteer() volunteer.Volunteer {
	return volunteer.Volunteer{
		Number: id.number, GivenName: id.given, FamilyName: id.family, OtherNames: id.other,
		BirthDate: id.birth, SexAtBirth: id.sex, Gender: id.gender, Email: id.email,
		Phones: slices.Clone(id.phones), Status: volunteer.StatusActive,
	}
}

const recentWindow = 512

type generator struct {
	r        rng
	cfg      Config
	country  *country
	pattern  volunteer.NumberPattern
	counters map[string]int64
	weights  []int // cumulative culture weights, in per mille
	recent   []identity
	next     int // where the next recent identity goes
	today    volunteer.Date
}

func newGenerator(seed int64, cfg Config) (*generator, error) {
	if cfg.Today.IsZero() {
		cfg.Today = volunteer.NewDate(2025, time.January, 1)
	}
	if !cfg.Today.IsComplete() || !cfg.Today.Valid() {
		return nil, fmt.Errorf("generate volunteers: today %q is not a complete date", cfg.Today)
	}
	if cfg.Country == "" {
		cfg.Country = "NL"
	}
	if len(cfg.Sites) == 0 {
		cfg.Sites = []string{"MAIN"}
	}
	if cfg.NumberPattern == "" {
		cfg.NumberPattern = "V{seq:7}"
	}
	if cfg.DuplicateRate < 0 || cfg.DuplicateRate > 0.5 {
		return nil, fmt.Errorf("generate volunteers: the duplicate rate %g is not between 0 and 0.5", cfg.DuplicateRate)
	}
	c, ok := countries[cfg.Country]
	if !ok {
		return nil, fmt.Errorf("generate volunteers: the country %q is not one of %s", cfg.Country, strings.Join(Countries(), ", "))
	}
	p, err := volunteer.ParseNumberPattern(cfg.NumberPattern)
	if err != nil {
		return nil, fmt.Errorf("generate volunteers: %w", err)
	}
	g := &generator{
		r:        rng{src: newPCG(seed)},
		cfg:      cfg,
		country:  c,
		pattern:  p,
		counters: map[string]int64{},
		today:    cfg.Today,
	}
	// Half the volunteers come from the country's own naming culture, the
	// rest evenly from the others, as in the cities Phase I units recruit in.
	total := 0
	for _, cu := range cultures {
		w := 500 / (len(cultures) - 1)
		if cu.id == c.local {
			w = 500
		}
		total += w
		g.weights = append(g.weights, total)
	}
	return g, nil
}

func (g *generator) culture() *culture {
	x := g.r.intn(g.weights[len(g.weights)-1])
	for i, w := range g.weights {
		if x < w {
			return cultures[i]
		}
	}
	return cultures[len(cultures)-1]
}

func (g *generator) fresh() (volunteer.Volunteer, *culture, error) {
	r := &g.r
	c := g.culture()
	var v volunteer.Volunteer
	switch x := r.intn(1000); {
	case x < 2:
		v.SexAtBirth = volunteer.SexIntersex
	case x < 501:
		v.SexAtBirth = volunteer.SexFemale
	default:
		v.SexAtBirth = volunteer.SexMale
	}
	v.Gender = g.gender(v.SexAtBirth)
	given, middle := g.givenNames(c, v.SexAtBirth)
	v.GivenName = given.latin
	if middle.latin != "" {
		v.GivenName += " " + middle.latin
	}
	family := g.familyName(c, v.SexAtBirth)
	v.FamilyName = family.latin
	if given.native != "" && family.native != "" && r.chance(c.nativeRate) {
		switch {
		case c.nativeFamilyFirst:
			v.OtherNames = family.native + given.native
		case c.nativeSpaced:
			v.OtherNames = given.native + " " + family.native
		}
	}
	v.BirthDate = g.birthDate()
	err := g.complete(&v, given.ascii, family.ascii)
	return v, c, err
}

// complete adds everything but the identity (names, birth date, sex, gender)
// to a new registration.
func (g *generator) complete(v *volunteer.Volunteer, givenASCII, familyASCII string) error {
	r := &g.r
	registered := g.registration(v.BirthDate)
	v.PreferredSite = g.cfg.Sites[r.intn(len(g.cfg.Sites))]
	num, err := g.number(v.PreferredSite, registered)
	if err != nil {
		return err
	}
	v.Number = num
	g.contact(v, givenASCII, familyASCII)
	v.Status = g.status()
	if len(g.cfg.RecruitmentSources) > 0 {
		v.RecruitmentSource = pick(r, g.cfg.RecruitmentSources)
	}
	if len(g.cfg.Ethnicities) > 0 && r.chance(0.8) {
		v.Ethnicity = pick(r, g.cfg.Ethnicities)
	}
	if len(g.cfg.Races) > 0 && r.chance(0.8) {
		v.Races = distinct(r, g.cfg.Races, 1+pickCount(r, 950, 50))
	}
	g.history(v, registered)
	if r.chance(0.1) {
		v.Notes = pick(r, notes)
	}
	switch v.Status {
	case volunteer.StatusPrivacyRemoved:
		*v = volunteer.ErasePHI(*v)
	case volunteer.StatusDeceased:
		for i := range v.Participations {
			if v.Participations[i].Outcome == volunteer.OutcomeOngoing {
				v.Participations[i].Outcome = volunteer.OutcomeWithdrawn
				v.Participations[i].End = v.Participations[i].Start
			}
		}
	}
	return nil
}

var notes = []string{
	"Prefers morning appointments.", "Needs a parking permit.", "Vegetarian.", "Call after 17:00.",
	"Difficult venous access; use the left arm.", "Interested in long-stay studies.", "Works night shifts.",
	"Only available during school holidays.",
}

func (g *generator) gender(sex volunteer.Sex) volunteer.Gender {
	switch x := g.r.intn(1000); {
	case x < 15:
		return volunteer.GenderNonBinary
	case x < 25:
		return volunteer.GenderUndisclosed
	case x < 30:
		return ""
	}
	switch sex {
	case volunteer.SexFemale:
		return volunteer.GenderWoman
	case volunteer.SexMale:
		return volunteer.GenderMan
	}
	return volunteer.GenderUndisclosed
}

func (g *generator) givenNames(c *culture, sex volunteer.Sex) (given, middle name) {
	list := c.male
	if sex == volunteer.SexFemale || sex == volunteer.SexIntersex && g.r.chance(0.5) {
		list = c.female
	}
	given = pick(&g.r, list)
	if g.r.chance(c.middle) && !strings.Contains(given.latin, " ") {
		if m := pick(&g.r, list); m.latin != given.latin {
			middle = m
		}
	}
	return given, middle
}

func (g *generator) familyName(c *culture, sex volunteer.Sex) name {
	f := pick(&g.r, c.family)
	if sex == volunteer.SexFemale && c.feminineFamily != nil {
		f.latin = c.feminineFamily(f.latin)
		f.ascii = asciiLetters(f.latin)
	}
	if c.doubleFamily {
		second := pick(&g.r, c.family)
		if second.latin != f.latin {
			f = name{latin: f.latin + " " + second.latin, ascii: f.ascii}
		}
	}
	return f
}

// birthDate draws an age from a healthy-volunteer population: most are
// students and young adults, fewer up to the usual upper limit of 65.
func (g *generator) birthDate() volunteer.Date {
	age := 18 + g.r.intn(27) // 18–44
	if g.r.chance(0.3) {
		age = 45 + g.r.intn(21) // 45–65
	}
	// Born on the day that makes this age today, or up to a year before.
	return addYears(g.today, -age).AddDays(-g.r.intn(365))
}

// addYears moves a complete date by whole years; 29 February becomes
// 28 February in common years.
func addYears(d volunteer.Date, n int) volunteer.Date {
	d.Year += n
	if d.Month == time.February && d.Day == 29 && !d.Valid() {
		d.Day = 28
	}
	return d
}

// registration draws the date a volunteer joined the database: an adult, in
// the last 15 years.
func (g *generator) registration(birth volunteer.Date) volunteer.Date {
	earliest := addYears(birth, 18)
	if limit := addYears(g.today, -15); earliest.Before(limit) {
		earliest = limit
	}
	days := earliest.DaysTo(g.today)
	if days <= 0 {
		return g.today
	}
	return earliest.AddDays(g.r.intn(days + 1))
}

func (g *generator) number(site string, d volunteer.Date) (string, error) {
	key, err := g.pattern.CounterKey(site, d)
	if err != nil {
		return "", err
	}
	g.counters[key]++
	return g.pattern.Format(site, d, g.counters[key])
}

var emailDomains = []string{"example.com", "example.net", "example.org"}

func (g *generator) contact(v *volunteer.Volunteer, givenASCII, familyASCII string) {
	r := &g.r
	c := g.country
	v.Phones = make([]volunteer.Phone, 0, 2)
	if r.chance(0.96) {
		v.Phones = append(v.Phones, volunteer.Phone{Kind: volunteer.PhoneMobile, Number: c.mobile(r)})
	}
	if r.chance(0.15) {
		v.Phones = append(v.Phones, volunteer.Phone{Kind: volunteer.PhoneHome, Number: c.landline(r)})
	}
	if r.chance(0.88) && givenASCII != "" && familyASCII != "" {
		v.Email = email(r, givenASCII, familyASCII, v.BirthDate.Year)
	}
	if r.chance(0.93) {
		ct := pick(r, c.cities)
		v.Address = volunteer.Address{
			Line1:      c.line1(r, pick(r, c.streets)),
			PostalCode: c.postal(r, ct),
			City:       ct.name,
			Region:     ct.region,
			Country:    c.code,
		}
		if r.chance(0.2) {
			v.Address.Line2 = c.line2(r)
		}
	}
}

// email derives an address from the names the way people choose theirs, at
// the RFC 2606 example domains so no mail ever reaches anyone.
func email(r *rng, given, family string, year int) string {
	var local string
	switch r.intn(5) {
	case 0:
		local = given + "." + family
	case 1:
		local = given[:1] + "." + family
	case 2:
		local = given + family + padded(year%100, 2)
	case 3:
		local = family + "." + given
	default:
		local = given + "_" + family + strconv.Itoa(1+r.intn(99))
	}
	return local + "@" + pick(r, emailDomains)
}

func (g *generator) status() volunteer.Status {
	switch x := g.r.intn(1000); {
	case x < 860:
		return volunteer.StatusActive
	case x < 940:
		return volunteer.StatusInactive
	case x < 985:
		return volunteer.StatusDoNotContact
	case x < 987:
		return volunteer.StatusDeceased
	}
	return volunteer.StatusPrivacyRemoved
}

func (g *generator) history(v *volunteer.Volunteer, reg volunteer.Date) {
	r := &g.r
	birthYear := v.BirthDate.Year
	if codes := g.cfg.MedicalHistoryCodes; len(codes) > 0 {
		n := pickCount(r, 500, 300, 150, 50)
		v.MedicalHistory = make([]volunteer.CodedEntry, 0, n)
		for _, code := range distinct(r, codes, n) {
			e := volunteer.CodedEntry{Code: code, Start: volunteer.Date{Year: birthYear + 2 + r.intn(max(g.today.Year-birthYear-2, 1))}}
			if r.chance(0.3) {
				e.End = volunteer.Date{Year: min(e.Start.Year+1+r.intn(5), g.today.Year)}
			}
			v.MedicalHistory = append(v.MedicalHistory, e)
		}
	}
	if codes := g.cfg.MedicationCodes; len(codes) > 0 {
		n := pickCount(r, 650, 280, 70)
		v.Medications = make([]volunteer.CodedEntry, 0, n)
		for _, code := range distinct(r, codes, n) {
			start := reg.AddDays(-r.intn(3000))
			e := volunteer.CodedEntry{Code: code, Start: start}
			if r.chance(0.5) {
				if end := start.AddDays(7 + r.intn(400)); end.Before(g.today) {
					e.End = end
				}
			}
			v.Medications = append(v.Medications, e)
		}
	}
	if codes := g.cfg.SubstanceUseCodes; len(codes) > 0 {
		n := pickCount(r, 300, 450, 250)
		v.SubstanceUse = make([]volunteer.CodedEntry, 0, n)
		for _, code := range distinct(r, codes, n) {
			v.SubstanceUse = append(v.SubstanceUse, volunteer.CodedEntry{Code: code, Start: volunteer.Date{Year: min(birthYear+15+r.intn(6), g.today.Year)}})
		}
	}
	if len(g.cfg.ConsentTypes) > 0 {
		version := "1.0"
		switch {
		case reg.Year >= 2022:
			version = "3.0"
		case reg.Year >= 2018:
			version = "2.0" // GDPR
		}
		v.Consents = make([]volunteer.Consent, 1, 2)
		v.Consents[0] = volunteer.Consent{Type: g.cfg.ConsentTypes[0], Version: version, Date: reg}
		if len(g.cfg.ConsentTypes) > 1 && r.chance(0.6) {
			c := volunteer.Consent{Type: g.cfg.ConsentTypes[1], Version: version, Date: reg}
			if r.chance(0.05) {
				c.Withdrawn = reg.AddDays(30 + r.intn(1000))
				if c.Withdrawn.After(g.today) {
					c.Withdrawn = volunteer.Date{}
				}
			}
			v.Consents = append(v.Consents, c)
		}
	}
	if len(g.cfg.Questions) > 0 {
		v.Answers = make([]volunteer.Answer, 0, len(g.cfg.Questions))
	}
	for _, q := range g.cfg.Questions {
		if len(q.Answers) > 0 && r.chance(0.7) {
			v.Answers = append(v.Answers, volunteer.Answer{Question: q.Code, Value: pick(r, q.Answers), PHI: q.PHI})
		}
	}
	g.participations(v, reg)
}

// participations draws the studies a volunteer took part in after
// registering, in order, with a 90-day washout after each dosed study.
func (g *generator) participations(v *volunteer.Volunteer, reg volunteer.Date) {
	r := &g.r
	studies := g.cfg.Studies
	if len(studies) == 0 {
		return
	}
	n := pickCount(r, 550, 200, 120, 70, 40, 20)
	if n == 0 {
		return
	}
	v.Participations = make([]volunteer.Participation, 0, n)
	day := reg.AddDays(r.intn(200))
	span := reg.DaysTo(g.today)
	for range n {
		if !day.Before(g.today) {
			break
		}
		// Later dates use later studies: the list runs oldest first.
		idx := len(studies) - 1
		if span > 0 {
			idx = min(reg.DaysTo(day)*len(studies)/span, idx)
		}
		p := volunteer.Participation{Study: studies[idx], Start: day}
		switch x := r.intn(100); {
		case x < 62:
			p.Outcome = volunteer.OutcomeCompleted
		case x < 82:
			p.Outcome = volunteer.OutcomeScreenFailed
		case x < 93:
			p.Outcome = volunteer.OutcomeReserve
		default:
			p.Outcome = volunteer.OutcomeWithdrawn
		}
		length := 1
		if p.Outcome == volunteer.OutcomeCompleted || p.Outcome == volunteer.OutcomeWithdrawn {
			length = 5 + r.intn(50)
		}
		p.End = day.AddDays(length)
		if p.End.After(g.today) {
			p.Outcome, p.End = volunteer.OutcomeOngoing, volunteer.Date{}
			v.Participations = append(v.Participations, p)
			break
		}
		v.Participations = append(v.Participations, p)
		if p.Outcome == volunteer.OutcomeCompleted || p.Outcome == volunteer.OutcomeWithdrawn {
			v.NextEligible = p.End.AddDays(90)
		}
		day = p.End.AddDays(30 + r.intn(500))
		if day.Before(v.NextEligible) {
			day = v.NextEligible
		}
	}
}

func (g *generator) remember(v volunteer.Volunteer, c *culture) {
	if v.Status == volunteer.StatusPrivacyRemoved || g.cfg.DuplicateRate == 0 {
		return
	}
	id := identity{
		number: v.Number, given: v.GivenName, family: v.FamilyName, other: v.OtherNames, email: v.Email,
		birth: v.BirthDate, sex: v.SexAtBirth, gender: v.Gender, phones: slices.Clone(v.Phones), c: c,
	}
	if len(g.recent) < recentWindow {
		g.recent = append(g.recent, id)
		return
	}
	g.recent[g.next] = id
	g.next = (g.next + 1) % recentWindow
}

// duplicate makes a new registration of the person orig with one of the
// changes that make real duplicates: a new record as if the volunteer
// registered again, with their identity typed differently.
func (g *generator) duplicate(orig identity) (volunteer.Volunteer, string, error) {
	r := &g.r
	v := volunteer.Volunteer{
		GivenName: orig.given, FamilyName: orig.family, OtherNames: orig.other,
		BirthDate: orig.birth, SexAtBirth: orig.sex, Gender: orig.gender,
	}
	if err := g.complete(&v, asciiLetters(strings.Fields(orig.given)[0]), asciiLetters(orig.family)); err != nil {
		return v, "", err
	}
	if v.Status == volunteer.StatusPrivacyRemoved || v.Status == volunteer.StatusDeceased {
		// Someone registering again is alive and has not asked to be
		// forgotten; keep their identity, which erasure removed.
		v.Status = volunteer.StatusActive
		v.GivenName, v.FamilyName, v.OtherNames, v.BirthDate = orig.given, orig.family, orig.other, orig.birth
	}
	if r.chance(0.5) {
		v.Email = orig.email
	}
	if r.chance(0.4) {
		v.Phones = slices.Clone(orig.phones)
	}
	kinds := []string{DupAccents, DupCase, DupSwapped, DupTypo, DupPhonetic, DupMarriedName}
	if len(strings.Fields(orig.family)) > 1 || len(strings.Fields(orig.given)) > 1 {
		kinds = append(kinds, DupShorterName)
	}
	if d := orig.birth; d.Day <= 12 && d.Day != int(d.Month) {
		kinds = append(kinds, DupBirthDaySwaps)
	}
	kind := pick(r, kinds)
	switch kind {
	case DupAccents:
		v.GivenName, v.FamilyName = stripAccents(v.GivenName), stripAccents(v.FamilyName)
	case DupCase:
		v.FamilyName = strings.ToUpper(v.FamilyName)
		if r.chance(0.5) {
			v.GivenName = strings.ToLower(v.GivenName)
		}
	case DupSwapped:
		v.GivenName, v.FamilyName = v.FamilyName, v.GivenName
	case DupTypo:
		if r.chance(0.5) && typo(r, &v.FamilyName) || typo(r, &v.GivenName) || typo(r, &v.FamilyName) {
			break
		}
		kind = DupCase
		v.FamilyName = strings.ToUpper(v.FamilyName)
	case DupPhonetic:
		if !respell(r, &v.FamilyName) && !respell(r, &v.GivenName) {
			kind = DupAccents
			v.GivenName, v.FamilyName = stripAccents(v.GivenName), stripAccents(v.FamilyName)
		}
	case DupShorterName:
		if fs := strings.Fields(v.FamilyName); len(fs) > 1 {
			if isParticle(fs[0]) {
				v.FamilyName = fs[len(fs)-1] // "van den Berg" → "Berg"
			} else {
				v.FamilyName = strings.Join(fs[:len(fs)-1], " ") // "García López" → "García"
			}
		} else {
			v.GivenName = strings.Fields(v.GivenName)[0]
		}
	case DupMarriedName:
		v.OtherNames = strings.TrimSpace(v.OtherNames + " " + v.FamilyName)
		for range 5 {
			if f := g.familyName(orig.c, v.SexAtBirth); f.latin != orig.family {
				v.FamilyName = f.latin
				break
			}
		}
	case DupBirthDaySwaps:
		v.BirthDate = volunteer.NewDate(orig.birth.Year, time.Month(orig.birth.Day), int(orig.birth.Month))
	}
	return v, kind, nil
}

func isParticle(w string) bool {
	switch strings.ToLower(w) {
	case "de", "van", "der", "den", "von", "te", "ter", "ten", "la", "le", "du", "da", "del", "di", "al", "el":
		return true
	}
	return false
}

// stripAccents drops accents but keeps case, as people type on a keyboard
// without them.
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ß':
			b.WriteString("ss")
		case r == 'ł':
			b.WriteByte('l')
		case r == 'Ł':
			b.WriteByte('L')
		case r == 'ı':
			b.WriteByte('i')
		case r == 'ø':
			b.WriteByte('o')
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// typo makes one typing mistake in a name long enough that duplicate
// detection allows one: a doubled, dropped or swapped letter. It reports
// whether it could.
func typo(r *rng, s *string) bool {
	rs := []rune(*s)
	var letters []int // positions of ASCII letters
	for i, c := range rs {
		if c < 0x80 && unicode.IsLetter(c) {
			letters = append(letters, i)
		}
	}
	if len(letters) < 5 {
		return false
	}
	i := letters[1+r.intn(len(letters)-2)] // never the first letter
	switch r.intn(3) {
	case 0: // doubled
		rs = slices.Insert(rs, i, rs[i])
	case 1: // dropped
		rs = slices.Delete(rs, i, i+1)
	default: // swapped with the next letter
		if i+1 >= len(rs) || rs[i+1] >= 0x80 || !unicode.IsLetter(rs[i+1]) || unicode.ToLower(rs[i]) == unicode.ToLower(rs[i+1]) {
			rs = slices.Insert(rs, i, rs[i])
		} else {
			rs[i], rs[i+1] = rs[i+1], rs[i]
		}
	}
	*s = string(rs)
	return true
}

// respellings are spellings that sound the same, in both directions.
var respellings = [][2]string{
	{"ph", "f"}, {"ck", "k"}, {"th", "t"}, {"mm", "m"}, {"nn", "n"}, {"ss", "s"}, {"tt", "t"}, {"rr", "r"},
	{"ff", "f"}, {"dt", "t"}, {"ay", "ai"}, {"ey", "ei"}, {"ie", "i"}, {"ae", "e"},
}

// respell replaces one spelling in a name with another that sounds the same,
// never at the start (where Double Metaphone keeps the vowel). It reports
// whether any applied.
func respell(r *rng, s *string) bool {
	start := r.intn(len(respellings))
	for k := range respellings {
		pair := respellings[(start+k)%len(respellings)]
		from, to := pair[0], pair[1]
		if i := strings.Index((*s)[1:], from); i >= 0 {
			i++
			*s = (*s)[:i] + to + (*s)[i+len(from):]
			return true
		}
	}
	return false
}

// rng draws from PCG, a generator whose output Go promises never to change,
// with its own derivations so the volunteers of a seed stay the same across
// Go releases.
type rng struct{ src *rand.PCG }

// intn returns a number in [0, n) by Lemire's multiply-shift; its bias of at
// most n/2⁶⁴ does not matter here.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

func (r *rng) chance(p float64) bool {
	return float64(r.src.Uint64()>>11)/(1<<53) < p
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// pickCount returns i with probability weights[i] per mille of their sum.
func pickCount(r *rng, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// distinct picks n different codes.
func distinct(r *rng, codes []string, n int) []string {
	n = min(n, len(codes))
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for len(out) < n {
		if c := pick(r, codes); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func newPCG(seed int64) *rand.PCG { return rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15) }
