// Command gen writes the sample legacy source of the migration program:
// the CSV export of "ClinBase 4", the old system of the fictional
// Harbourview Clinical Research Unit, with about 10,000 volunteers and the
// mess such exports have (duplicates exact and near, mixed date formats,
// free-text codes, stray whitespace, missing and invalid values). It is
// deterministic: the same seed writes the same bytes.
//
//	go run ./internal/migration/sample/gen [-seed 7] [-count 10000] [-out internal/migration/sample/source]
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/synthetic"
)

func main() {
	seed := flag.Int64("seed", 7, "seed of the generator")
	count := flag.Int("count", 10000, "distinct people before duplicates are added")
	out := flag.String("out", "internal/migration/sample/source", "directory to write the CSV files to")
	flag.Parse()
	if err := generate(*seed, *count, *out); err != nil {
		log.Fatal(err)
	}
}

// medHist are the legacy medical-history lookup codes and descriptions;
// the last is retired.
var medHist = [][3]string{
	{"HTN", "Hypertension", "Y"}, {"ASTH", "Asthma", "Y"}, {"DM2", "Diabetes mellitus type 2", "Y"}, {"MIGR", "Migraine", "Y"},
	{"ECZ", "Eczema", "Y"}, {"HAYF", "Hay fever", "Y"}, {"DEPR", "Depression", "Y"}, {"GORD", "Gastro-oesophageal reflux", "Y"},
	{"HYPOT", "Hypothyroidism", "Y"}, {"IBS", "Irritable bowel syndrome", "Y"}, {"PSOR", "Psoriasis", "Y"}, {"ANX", "Anxiety disorder", "Y"},
	{"HCHOL", "Hypercholesterolaemia", "Y"}, {"APPX", "Appendicectomy", "Y"}, {"FRAC", "Fracture (healed)", "Y"}, {"GLAND", "Glandular fever", "N"},
}

var sources = [][2]string{{"NEWS", "Newspaper advertisement"}, {"RADIO", "Radio advertisement"}, {"WEB", "Website"},
	{"FRIEND", "Friend or family"}, {"GP", "General practitioner"}, {"POSTER", "Poster or leaflet"}, {"SOCIAL", "Social media"}}

// heardVia are the free-text spellings staff typed for each source.
var heardVia = map[string][]string{
	"NEWS":   {"Newspaper", "newspaper", "NEWSPAPER AD", "Evening Standard", "paper"},
	"RADIO":  {"Radio", "radio ad", "RADIO"},
	"WEB":    {"Web", "website", "internet", "WWW", "Google"},
	"FRIEND": {"Friend", "friend", "word of mouth", "Family"},
	"GP":     {"GP", "gp", "doctor"},
	"POSTER": {"Poster", "leaflet", "flyer"},
	"SOCIAL": {"Facebook", "facebook", "Instagram", "social media"},
}

var ethnic = [][2]string{{"WB", "White British"}, {"WO", "White other"}, {"AS", "Asian or Asian British"},
	{"BL", "Black or Black British"}, {"MX", "Mixed"}, {"OT", "Other"}, {"NS", "Not stated"}}

var sexSpellings = map[volunteer.Sex][]string{
	volunteer.SexMale:   {"M", "M", "M", "male", "Male", "Man", "1", "m", " M "},
	volunteer.SexFemale: {"F", "F", "F", "female", "Female", "Woman", "2", "f", "W"},
}

var statusSpellings = []string{"A", "A", "A", "Active", "ACTIVE", "active ", "A", "A"}

type person struct {
	v       volunteer.Volunteer
	key     string
	ethnic  string
	source  string
	regDate volunteer.Date
}

func generate(seed int64, count int, out string) error {
	r := rand.New(rand.NewPCG(uint64(seed), 0x4841524256))
	cfg := synthetic.DefaultConfig()
	cfg.Country = "GB"
	cfg.Today = volunteer.NewDate(2025, time.June, 30)
	cfg.MedicalHistoryCodes, cfg.MedicationCodes, cfg.SubstanceUseCodes = nil, nil, nil
	cfg.RecruitmentSources, cfg.Ethnicities, cfg.Races, cfg.Studies, cfg.ConsentTypes, cfg.Questions = nil, nil, nil, nil, nil, nil
	var people []person
	err := synthetic.Generate(seed, count, cfg, func(v volunteer.Volunteer) error {
		if v.Status == volunteer.StatusPrivacyRemoved || v.GivenName == "" {
			return nil
		}
		p := person{v: v, ethnic: ethnic[r.IntN(len(ethnic))][0], source: sources[r.IntN(len(sources))][0]}
		p.regDate = v.BirthDate.AddDays(365*18 + r.IntN(365*20))
		if p.regDate.After(cfg.Today) {
			p.regDate = cfg.Today.AddDays(-r.IntN(2000))
		}
		people = append(people, p)
		return nil
	})
	if err != nil {
		return err
	}
	// Duplicates: the same person registered again, exactly or with a typo,
	// swapped names, or day and month of birth swapped.
	var rows []person
	for i, p := range people {
		p.key = fmt.Sprintf("%06d", 100000+len(rows)*3+r.IntN(3))
		rows = append(rows, p)
		if i > 0 && r.Float64() < 0.06 {
			d := p
			d.key = fmt.Sprintf("%06d", 100000+len(rows)*3+r.IntN(3))
			switch x := r.IntN(10); {
			case x < 4: // exact re-registration
			case x < 7:
				d.v.FamilyName = typo(r, d.v.FamilyName)
			case x < 9:
				d.v.GivenName, d.v.FamilyName = d.v.FamilyName, d.v.GivenName
			default:
				if b := d.v.BirthDate; b.Day <= 12 && b.Day != int(b.Month) {
					d.v.BirthDate = volunteer.NewDate(b.Year, time.Month(b.Day), int(b.Month))
				} else {
					d.v.GivenName = strings.ToUpper(d.v.GivenName)
				}
			}
			d.v.Email = ""
			rows = append(rows, d)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	write := func(name string, header []string, recs [][]string) error {
		f, err := os.Create(filepath.Join(out, name))
		if err != nil {
			return err
		}
		w := csv.NewWriter(f)
		w.Write(header)
		w.WriteAll(recs)
		if err := w.Error(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	var lk [][]string
	for _, m := range medHist {
		lk = append(lk, []string{m[0], m[1], m[2]})
	}
	if err := write("LKP_MEDHIST.csv", []string{"CODE", "DESCRIPTION", "ACTIVE"}, lk); err != nil {
		return err
	}
	lk = nil
	for _, s := range sources {
		lk = append(lk, []string{s[0], s[1]})
	}
	if err := write("LKP_SOURCE.csv", []string{"CODE", "DESCRIPTION"}, lk); err != nil {
		return err
	}
	lk = nil
	for _, e := range ethnic {
		lk = append(lk, []string{e[0], e[1]})
	}
	if err := write("LKP_ETHNIC.csv", []string{"ETH_CODE", "ETH_DESC"}, lk); err != nil {
		return err
	}

	var pats [][]string
	for _, p := range rows {
		pats = append(pats, patientRow(r, p))
	}
	if err := write("PATIENT.csv", []string{"PAT_ID", "PAT_NAME", "DOB", "SEX", "ETHNIC", "TEL_HOME", "TEL_MOB", "EMAIL",
		"ADDR1", "ADDR2", "POSTCODE", "TOWN", "COUNTRY", "STATUS", "HEARD_VIA", "REG_DATE", "REMARKS"}, pats); err != nil {
		return err
	}

	var mh [][]string
	for _, p := range rows {
		for range r.IntN(4) / 2 * (1 + r.IntN(2)) {
			m := medHist[r.IntN(len(medHist))]
			code := m[0]
			switch x := r.IntN(20); {
			case x == 0:
				code = strings.ToLower(code)
			case x == 1:
				code = " " + code + " "
			case x == 2 && r.IntN(5) == 0:
				code = "XX" + code // a code the lookup never had
			}
			onset := p.v.BirthDate.AddDays(365*5 + r.IntN(365*25))
			if onset.After(cfg.Today) {
				onset = cfg.Today.AddDays(-r.IntN(300) - 1)
			}
			resolved := ""
			if r.IntN(3) == 0 {
				end := onset.AddDays(r.IntN(2000))
				if r.IntN(40) == 0 {
					end = onset.AddDays(-30 - r.IntN(300)) // resolved before onset
				}
				if !end.After(cfg.Today) {
					resolved = legacyDate(r, end, true)
				}
			}
			mh = append(mh, []string{p.key, code, legacyDate(r, onset, true), resolved, pickNote(r)})
		}
	}
	mh = append(mh, []string{"999999", "HTN", "01/01/2001", "", ""}) // a patient deleted long ago
	if err := write("PAT_MEDHIST.csv", []string{"PAT_ID", "MH_CODE", "ONSET", "RESOLVED", "COMMENT"}, mh); err != nil {
		return err
	}

	// Studies 2004–2024, three or four a year, and who took part.
	var studies [][]string
	type st struct {
		code  string
		start volunteer.Date
		n     int
	}
	var sts []st
	sponsors := []string{"Northwind Pharma", "Aldergrove Biologics", "Kestrel Therapeutics", "Meridian Vaccines", "Bramble Bio"}
	for y := 2004; y <= 2024; y++ {
		for n := 1; n <= 3+r.IntN(2); n++ {
			code := fmt.Sprintf("HB%02d-%03d", y%100, n)
			s := st{code: code, start: volunteer.NewDate(y, time.Month(1+r.IntN(12)), 1+r.IntN(28)), n: 60 + r.IntN(140)}
			sts = append(sts, s)
			phase := []string{"I", "I", "Ia", "Ib", "I/II"}[r.IntN(5)]
			studies = append(studies, []string{code, fmt.Sprintf("%s of HV-%d in healthy volunteers", []string{"First-in-human single ascending dose study",
				"Multiple ascending dose study", "Food-effect study", "Drug-drug interaction study", "Bioequivalence study"}[r.IntN(5)], 100+r.IntN(900)),
				phase, sponsors[r.IntN(len(sponsors))], fmt.Sprintf("PRT-%d-%04d", y, r.IntN(10000))})
		}
	}
	studies = append(studies, []string{"hb 07/ext", "Extension study with a code that is not a code", "I", "Kestrel Therapeutics", ""})
	if err := write("STUDY.csv", []string{"STUDY_NO", "TITLE", "PHASE", "SPONSOR", "PROTOCOL"}, studies); err != nil {
		return err
	}
	outcomes := []string{"COMP", "COMP", "COMP", "Completed", "completed", "C", "SF", "Screen fail", "screen failure", "WD", "Withdrawn", "RES", "Reserve", "R"}
	var subj [][]string
	for _, s := range sts {
		seen := map[string]bool{}
		for k := range s.n {
			p := rows[r.IntN(len(rows))]
			if seen[p.key] || p.v.BirthDate.AddDays(365*18).After(s.start) {
				continue
			}
			seen[p.key] = true
			end := s.start.AddDays(2 + r.IntN(60))
			out := outcomes[r.IntN(len(outcomes))]
			if r.IntN(150) == 0 {
				out = "??"
			}
			start := legacyDate(r, s.start.AddDays(r.IntN(5)), true)
			subj = append(subj, []string{p.key, s.code, fmt.Sprintf("%s-%03d", strings.ReplaceAll(s.code, "-", ""), 101+k),
				start, legacyDate(r, end, true), out})
		}
	}
	subj = append(subj, []string{rows[5].key, "HB99-001", "HB99001-101", "12/03/1999", "20/03/1999", "COMP"}) // a study not in STUDY
	if err := write("STUDY_SUBJECT.csv", []string{"PAT_ID", "STUDY_NO", "SUBJ_NO", "FIRST_DOSE", "LAST_VISIT", "OUTCOME"}, subj); err != nil {
		return err
	}
	fmt.Printf("wrote %d patients (%d people), %d history rows, %d studies, %d participations to %s\n", len(rows), len(people), len(mh), len(studies), len(subj), out)
	return nil
}

func patientRow(r *rand.Rand, p person) []string {
	v := p.v
	var name string
	switch x := r.IntN(100); {
	case x < 50:
		name = strings.ToUpper(v.FamilyName) + ", " + v.GivenName
	case x < 60:
		name = v.FamilyName + ",  " + v.GivenName
	case x < 85:
		name = v.GivenName + " " + v.FamilyName
	case x < 92:
		name = strings.ToLower(v.GivenName + " " + v.FamilyName)
	default:
		name = "  " + strings.ToUpper(v.FamilyName) + ", " + strings.ToUpper(v.GivenName) + " "
	}
	dob := legacyDate(r, v.BirthDate, false)
	switch x := r.IntN(1000); {
	case x < 12:
		dob = ""
	case x < 15:
		dob = "unknown"
	case x < 18:
		dob = fmt.Sprintf("31/02/%d", v.BirthDate.Year)
	case x < 20:
		dob = fmt.Sprintf("%02d/%02d/%d", v.BirthDate.Day, v.BirthDate.Month, 2031)
	}
	sex := ""
	if sp, ok := sexSpellings[v.SexAtBirth]; ok {
		sex = sp[r.IntN(len(sp))]
	}
	switch x := r.IntN(1000); {
	case x < 10:
		sex = "U"
	case x < 14:
		sex = "Q"
	}
	var home, mob string
	for _, ph := range v.Phones {
		n := localPhone(r, ph.Number)
		if ph.Kind == volunteer.PhoneHome {
			home = n
		} else {
			mob = n
		}
	}
	if r.IntN(200) == 0 {
		mob = []string{"12345", "n/a", "07700", "ring reception"}[r.IntN(4)]
	}
	email := v.Email
	switch x := r.IntN(300); {
	case x == 0:
		email = strings.Replace(email, "@", " at ", 1)
	case x == 1:
		email = "none"
	case x == 2 && email != "":
		email = strings.ToUpper(email)
	}
	status := statusSpellings[r.IntN(len(statusSpellings))]
	switch x := r.IntN(100); {
	case x < 6:
		status = []string{"I", "Inactive", "INACT"}[r.IntN(3)]
	case x < 8:
		status = []string{"DNC", "Do not contact", "do-not-contact"}[r.IntN(3)]
	case x < 9:
		status = []string{"Deceased", "D", "RIP"}[r.IntN(3)]
	}
	heard := ""
	if r.IntN(10) > 0 {
		sp := heardVia[p.source]
		heard = sp[r.IntN(len(sp))]
	}
	if r.IntN(150) == 0 {
		heard = "bus stop"
	}
	eth := p.ethnic
	if r.IntN(8) == 0 {
		eth = ""
	}
	town := v.Address.City
	if r.IntN(10) == 0 {
		town = strings.ToUpper(town)
	}
	country := v.Address.Country
	if country == "GB" && r.IntN(3) == 0 {
		country = []string{"UK", "United Kingdom", "England", "gb"}[r.IntN(4)]
	}
	remark := ""
	if r.IntN(12) == 0 {
		remark = []string{"Prefers mornings", "needle phobic - ok with numbing cream", "Call after 5pm", "Vegetarian",
			"Works nights", "Do NOT call at work"}[r.IntN(6)]
	}
	return []string{p.key, name, dob, sex, eth, home, mob, email, v.Address.Line1, v.Address.Line2, v.Address.PostalCode,
		town, country, status, heard, legacyDate(r, p.regDate, true), remark}
}

// legacyDate writes a date the way different generations of the old system
// and its users did.
func legacyDate(r *rand.Rand, d volunteer.Date, recent bool) string {
	mon := d.Time(time.UTC).Format("Jan")
	switch x := r.IntN(100); {
	case x < 35:
		return fmt.Sprintf("%02d/%02d/%04d", d.Day, d.Month, d.Year)
	case x < 60:
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	case x < 72:
		return fmt.Sprintf("%02d.%02d.%02d", d.Day, d.Month, d.Year%100)
	case x < 84:
		return fmt.Sprintf("%d %s %d", d.Day, mon, d.Year)
	case x < 92:
		return fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
	case recent:
		return fmt.Sprintf("%d-%s-%d", d.Day, strings.ToUpper(mon), d.Year)
	}
	return fmt.Sprintf("%d/%d/%04d", d.Day, d.Month, d.Year)
}

// localPhone writes an E.164 number as staff typed it: British numbers in
// national form with spaces, others with their country code.
func localPhone(r *rand.Rand, e164 string) string {
	if rest, ok := strings.CutPrefix(e164, "+44"); ok {
		n := "0" + rest
		if len(n) == 11 {
			switch r.IntN(3) {
			case 0:
				return n[:5] + " " + n[5:]
			case 1:
				return n[:3] + " " + n[3:7] + " " + n[7:]
			}
		}
		return n
	}
	return e164
}

func typo(r *rand.Rand, s string) string {
	rs := []rune(s)
	if len(rs) < 5 {
		return s
	}
	i := 1 + r.IntN(len(rs)-2)
	switch r.IntN(3) {
	case 0:
		rs[i], rs[i+1] = rs[i+1], rs[i]
	case 1:
		rs = append(rs[:i], rs[i+1:]...)
	default:
		rs[i] = rune('a' + r.IntN(26))
	}
	return string(rs)
}

func pickNote(r *rand.Rand) string {
	if r.IntN(6) != 0 {
		return ""
	}
	return []string{"controlled", "on treatment", "childhood", "mild", "see GP letter"}[r.IntN(5)]
}
