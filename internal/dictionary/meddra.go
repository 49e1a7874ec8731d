package dictionary

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The MedDRA ASCII distribution (the MedAscii folder of a release) as the
// MSSO's distribution file format document lays it out: one record a line,
// every field ended by "$". Fields named *_whoart_code, *_harts_code,
// *_costart_sym, *_icd9_code, *_icd9cm_code, *_icd10_code and *_jart_code
// are legacy cross-references, empty since MedDRA 15.0: they are read for
// the field count and ignored, as are the null_field placeholders.
var (
	socFields = []string{"soc_code", "soc_name", "soc_abbrev", "soc_whoart_code", "soc_harts_code",
		"soc_costart_sym", "soc_icd9_code", "soc_icd9cm_code", "soc_icd10_code", "soc_jart_code"}
	hlgtFields = []string{"hlgt_code", "hlgt_name", "hlgt_whoart_code", "hlgt_harts_code",
		"hlgt_costart_sym", "hlgt_icd9_code", "hlgt_icd9cm_code", "hlgt_icd10_code", "hlgt_jart_code"}
	hltFields = []string{"hlt_code", "hlt_name", "hlt_whoart_code", "hlt_harts_code",
		"hlt_costart_sym", "hlt_icd9_code", "hlt_icd9cm_code", "hlt_icd10_code", "hlt_jart_code"}
	ptFields = []string{"pt_code", "pt_name", "null_field", "pt_soc_code", "pt_whoart_code", "pt_harts_code",
		"pt_costart_sym", "pt_icd9_code", "pt_icd9cm_code", "pt_icd10_code", "pt_jart_code"}
	lltFields = []string{"llt_code", "llt_name", "pt_code", "llt_whoart_code", "llt_harts_code",
		"llt_costart_sym", "llt_icd9_code", "llt_icd9cm_code", "llt_icd10_code", "llt_currency", "llt_jart_code"}
	mdhierFields = []string{"pt_code", "hlt_code", "hlgt_code", "soc_code", "pt_name", "hlt_name",
		"hlgt_name", "soc_name", "soc_abbrev", "null_field", "pt_soc_code", "primary_soc_fg"}
	intlOrdFields = []string{"intl_ord_code", "soc_code"}
)

// Files of the MedDRA distribution. meddra_release.asc (version$language$
// followed by three null fields) and intl_ord.asc are optional; the rest
// must all be there.
const (
	socFile      = "soc.asc"
	hlgtFile     = "hlgt.asc"
	hltFile      = "hlt.asc"
	ptFile       = "pt.asc"
	lltFile      = "llt.asc"
	socHLGTFile  = "soc_hlgt.asc"
	hlgtHLTFile  = "hlgt_hlt.asc"
	hltPTFile    = "hlt_pt.asc"
	mdhierFile   = "mdhier.asc"
	releaseFile  = "meddra_release.asc"
	intlOrdFile  = "intl_ord.asc"
	meddraFolder = "MedDRA ASCII"
)

var meddraRequired = []string{socFile, hlgtFile, hltFile, ptFile, lltFile, socHLGTFile, hlgtHLTFile, hltPTFile, mdhierFile}

var termFile = map[Level]string{SOC: socFile, HLGT: hlgtFile, HLT: hltFile, PT: ptFile, LLT: lltFile}

var meddraVersion = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]$`)

// ParseMedDRA reads a MedDRA ASCII distribution — the .asc files of a
// release, at the top of fsys or in its MedAscii folder — into a Version.
// Besides each line's shape it checks that the files agree: every code is
// unique within its level, every LLT's PT, every PT's primary SOC and every
// relationship's terms exist, every HLGT, HLT and PT is linked upwards, and
// mdhier.asc's paths, names and primary flags match the other files. Any
// problem fails the whole parse with errors that name file, line and field;
// nothing is returned half-read.
//
// The release comes from meddra_release.asc; without it Release is empty
// and the caller must supply it.
func ParseMedDRA(ctx context.Context, fsys fs.FS) (*Version, error) {
	v, err := parseMedDRA(ctx, fsys)
	if err != nil {
		return nil, fmt.Errorf("read MedDRA distribution: %w", err)
	}
	return v, nil
}

func parseMedDRA(ctx context.Context, fsys fs.FS) (*Version, error) {
	d, err := openDistribution(fsys, lltFile)
	if err != nil {
		return nil, err
	}
	m := &meddraReader{d: d, index: map[TermRef]int{}, lineOf: map[TermRef]int{}, linkLine: map[Link]int{}}
	d.requireFiles(&m.p, meddraFolder, meddraRequired...)
	if m.p.any() {
		return nil, m.p.err()
	}
	// Each stage needs the one before it to be sound: a PT cannot be
	// checked against SOCs that failed to read, so the parse stops at the
	// first stage that found problems instead of burying them in echoes.
	stages := [][]func(context.Context) error{
		{m.readRelease, m.readSOCs, m.readHLGTs, m.readHLTs},
		{m.readPTs},
		{m.readLLTs, m.readIntlOrder, m.readSOCHLGT, m.readHLGTHLT, m.readHLTPT},
		{m.checkLinkedUpwards},
		{m.checkPrimarySOCs},
		{m.readMdhier},
	}
	for _, stage := range stages {
		for _, step := range stage {
			if err := step(ctx); err != nil {
				return nil, err
			}
		}
		if m.p.any() {
			return nil, m.p.err()
		}
	}
	return NewVersion(MedDRA, m.release, m.language, m.terms, m.links)
}

type meddraReader struct {
	d                 *distribution
	p                 problems
	release, language string
	terms             []Term
	index             map[TermRef]int // position in terms
	lineOf            map[TermRef]int // line in the term's file
	links             []Link
	linkLine          map[Link]int
	parents           map[TermRef][]TermRef
}

// code checks a MedDRA code: eight digits.
func (m *meddraReader) code(file string, line int, field, v string) (string, bool) {
	switch {
	case v == "":
		m.p.add(file, line, field, "the field is empty")
	case !isDigits(v):
		m.p.add(file, line, field, "%q is not a number", v)
	case len(v) != 8:
		m.p.add(file, line, field, "%q is not a MedDRA code, which has 8 digits", v)
	default:
		return v, true
	}
	return "", false
}

// flag checks a Y/N field.
func (m *meddraReader) flag(file string, line int, field, v string) (bool, bool) {
	switch v {
	case "Y":
		return true, true
	case "N":
		return false, true
	}
	m.p.add(file, line, field, "%q is neither Y nor N", v)
	return false, false
}

func (m *meddraReader) term(ref TermRef) (*Term, bool) {
	i, ok := m.index[ref]
	if !ok {
		return nil, false
	}
	return &m.terms[i], true
}

// readTerms reads one of the five term files; more checks the fields
// particular to the level and may refuse the line.
func (m *meddraReader) readTerms(ctx context.Context, level Level, fields []string, more func(line int, rec []string, t *Term) bool) error {
	file := termFile[level]
	return m.d.readDollar(ctx, &m.p, file, fields, func(line int, rec []string) {
		code, ok := m.code(file, line, fields[0], rec[0])
		if rec[1] == "" {
			m.p.add(file, line, fields[1], "the name is empty")
			ok = false
		}
		t := Term{Level: level, Code: code, Name: rec[1], Current: true}
		if more != nil && !more(line, rec, &t) {
			ok = false
		}
		if !ok {
			return
		}
		if first, dup := m.lineOf[t.Ref()]; dup {
			m.p.add(file, line, fields[0], "%s %s is listed twice (first on line %d)", level, code, first)
			return
		}
		m.lineOf[t.Ref()] = line
		m.index[t.Ref()] = len(m.terms)
		m.terms = append(m.terms, t)
	})
}

func (m *meddraReader) readRelease(ctx context.Context) error {
	if !m.d.has(releaseFile) {
		return nil
	}
	done := false
	return m.d.readLines(ctx, &m.p, releaseFile, func(line int, text string) {
		if done {
			return
		}
		done = true
		rec := strings.Split(text, "$")
		if len(rec) < 2 {
			m.p.add(releaseFile, line, "", "the line has no language field (version$language$)")
			return
		}
		version, language := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if !meddraVersion.MatchString(version) {
			m.p.add(releaseFile, line, "version", "%q is not a MedDRA version such as 27.0", version)
		}
		m.release, m.language = version, language
	})
}

func (m *meddraReader) readSOCs(ctx context.Context) error {
	return m.readTerms(ctx, SOC, socFields, func(_ int, rec []string, t *Term) bool {
		t.Abbrev = rec[2]
		return true
	})
}

func (m *meddraReader) readHLGTs(ctx context.Context) error {
	return m.readTerms(ctx, HLGT, hlgtFields, nil)
}

func (m *meddraReader) readHLTs(ctx context.Context) error {
	return m.readTerms(ctx, HLT, hltFields, nil)
}

func (m *meddraReader) readPTs(ctx context.Context) error {
	return m.readTerms(ctx, PT, ptFields, func(line int, rec []string, t *Term) bool {
		soc, ok := m.code(ptFile, line, "pt_soc_code", rec[3])
		if !ok {
			return false
		}
		if _, exists := m.term(TermRef{SOC, soc}); !exists {
			m.p.add(ptFile, line, "pt_soc_code", "SOC %s does not exist in %s", soc, socFile)
			return false
		}
		t.PrimarySOC = soc
		return true
	})
}

func (m *meddraReader) readLLTs(ctx context.Context) error {
	ptOf := map[string]string{}
	err := m.readTerms(ctx, LLT, lltFields, func(line int, rec []string, t *Term) bool {
		pt, ok := m.code(lltFile, line, "pt_code", rec[2])
		current, okFlag := m.flag(lltFile, line, "llt_currency", rec[9])
		if !ok || !okFlag {
			return false
		}
		if _, exists := m.term(TermRef{PT, pt}); !exists {
			m.p.add(lltFile, line, "pt_code", "PT %s does not exist in %s", pt, ptFile)
			return false
		}
		t.Current = current
		ptOf[t.Code] = pt
		return true
	})
	for _, t := range m.terms {
		if t.Level == LLT {
			m.links = append(m.links, Link{TermRef{PT, ptOf[t.Code]}, t.Ref()})
		}
	}
	return err
}

func (m *meddraReader) readIntlOrder(ctx context.Context) error {
	if !m.d.has(intlOrdFile) {
		return nil
	}
	orderLine := map[int]int{}
	socLine := map[string]int{}
	return m.d.readDollar(ctx, &m.p, intlOrdFile, intlOrdFields, func(line int, rec []string) {
		order, err := strconv.Atoi(rec[0])
		if err != nil || order < 1 {
			m.p.add(intlOrdFile, line, "intl_ord_code", "%q is not a positive number", rec[0])
			return
		}
		code, ok := m.code(intlOrdFile, line, "soc_code", rec[1])
		if !ok {
			return
		}
		t, exists := m.term(TermRef{SOC, code})
		switch {
		case !exists:
			m.p.add(intlOrdFile, line, "soc_code", "SOC %s does not exist in %s", code, socFile)
		case orderLine[order] != 0:
			m.p.add(intlOrdFile, line, "intl_ord_code", "position %d is given twice (first on line %d)", order, orderLine[order])
		case socLine[code] != 0:
			m.p.add(intlOrdFile, line, "soc_code", "SOC %s is placed twice (first on line %d)", code, socLine[code])
		default:
			orderLine[order], socLine[code] = line, line
			t.Order = order
		}
	})
}

// readRelationship reads one of the two-field relationship files.
func (m *meddraReader) readRelationship(ctx context.Context, file string, parent, child Level) error {
	fields := []string{strings.ToLower(string(parent)) + "_code", strings.ToLower(string(child)) + "_code"}
	return m.d.readDollar(ctx, &m.p, file, fields, func(line int, rec []string) {
		pc, ok1 := m.code(file, line, fields[0], rec[0])
		cc, ok2 := m.code(file, line, fields[1], rec[1])
		if !ok1 || !ok2 {
			return
		}
		l := Link{TermRef{parent, pc}, TermRef{child, cc}}
		if _, pok := m.term(l.Parent); !pok {
			m.p.add(file, line, fields[0], "%s %s does not exist in %s", parent, pc, termFile[parent])
			return
		}
		if _, cok := m.term(l.Child); !cok {
			m.p.add(file, line, fields[1], "%s %s does not exist in %s", child, cc, termFile[child])
			return
		}
		if first, dup := m.linkLine[l]; dup {
			m.p.add(file, line, "", "%s %s is linked to %s %s twice (first on line %d)", parent, pc, child, cc, first)
			return
		}
		m.linkLine[l] = line
		m.links = append(m.links, l)
	})
}

func (m *meddraReader) readSOCHLGT(ctx context.Context) error {
	return m.readRelationship(ctx, socHLGTFile, SOC, HLGT)
}

func (m *meddraReader) readHLGTHLT(ctx context.Context) error {
	return m.readRelationship(ctx, hlgtHLTFile, HLGT, HLT)
}

func (m *meddraReader) readHLTPT(ctx context.Context) error {
	return m.readRelationship(ctx, hltPTFile, HLT, PT)
}

// checkLinkedUpwards reports HLGTs, HLTs and PTs no relationship file
// places under anything: they could never be reached by browsing and would
// drop out of every SOC summary.
func (m *meddraReader) checkLinkedUpwards(context.Context) error {
	m.parents = map[TermRef][]TermRef{}
	for _, l := range m.links {
		m.parents[l.Child] = append(m.parents[l.Child], l.Parent)
	}
	upward := map[Level]struct {
		parent Level
		file   string
	}{HLGT: {SOC, socHLGTFile}, HLT: {HLGT, hlgtHLTFile}, PT: {HLT, hltPTFile}}
	for _, t := range m.terms {
		up, ok := upward[t.Level]
		if ok && len(m.parents[t.Ref()]) == 0 {
			m.p.add(termFile[t.Level], m.lineOf[t.Ref()], "", "%s %s %q is not linked to any %s in %s", t.Level, t.Code, t.Name, up.parent, up.file)
		}
	}
	return nil
}

// socsOf returns the SOCs a PT reaches through HLTs and HLGTs.
func (m *meddraReader) socsOf(pt TermRef) []string {
	seen := map[string]bool{}
	for _, hlt := range m.parents[pt] {
		for _, hlgt := range m.parents[hlt] {
			for _, soc := range m.parents[hlgt] {
				seen[soc.Code] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (m *meddraReader) checkPrimarySOCs(context.Context) error {
	for _, t := range m.terms {
		if t.Level != PT {
			continue
		}
		socs := m.socsOf(t.Ref())
		if !slices.Contains(socs, t.PrimarySOC) {
			m.p.add(ptFile, m.lineOf[t.Ref()], "pt_soc_code", "SOC %s is not among the SOCs PT %s %q is linked to (%s)",
				t.PrimarySOC, t.Code, t.Name, strings.Join(socs, ", "))
		}
	}
	return nil
}

// readMdhier checks mdhier.asc, the flattened hierarchy, against the
// relationship files: it is what most coding tools read, so a release whose
// mdhier.asc disagrees with them would code differently here and there.
func (m *meddraReader) readMdhier(ctx context.Context) error {
	primaries := map[string]int{}
	err := m.d.readDollar(ctx, &m.p, mdhierFile, mdhierFields, func(line int, rec []string) {
		refs := [4]TermRef{{PT, rec[0]}, {HLT, rec[1]}, {HLGT, rec[2]}, {SOC, rec[3]}}
		var ts [4]*Term
		for i, ref := range refs {
			if _, ok := m.code(mdhierFile, line, mdhierFields[i], ref.Code); !ok {
				return
			}
			t, ok := m.term(ref)
			if !ok {
				m.p.add(mdhierFile, line, mdhierFields[i], "%s %s does not exist in %s", ref.Level, ref.Code, termFile[ref.Level])
				return
			}
			ts[i] = t
		}
		for i := 0; i < 3; i++ {
			l := Link{Parent: refs[i+1], Child: refs[i]}
			if _, ok := m.linkLine[l]; !ok {
				m.p.add(mdhierFile, line, mdhierFields[i+1], "%s %s is not linked to %s %s in %s",
					l.Parent.Level, l.Parent.Code, l.Child.Level, l.Child.Code, []string{hltPTFile, hlgtHLTFile, socHLGTFile}[i])
				return
			}
		}
		for i, t := range ts {
			if rec[4+i] != t.Name {
				m.p.add(mdhierFile, line, mdhierFields[4+i], "%q differs from the name in %s (%q)", rec[4+i], termFile[t.Level], t.Name)
			}
		}
		if rec[8] != ts[3].Abbrev {
			m.p.add(mdhierFile, line, "soc_abbrev", "%q differs from the abbreviation in %s (%q)", rec[8], socFile, ts[3].Abbrev)
		}
		if rec[10] != ts[0].PrimarySOC {
			m.p.add(mdhierFile, line, "pt_soc_code", "%q differs from PT %s's primary SOC in %s (%s)", rec[10], ts[0].Code, ptFile, ts[0].PrimarySOC)
		}
		primary, ok := m.flag(mdhierFile, line, "primary_soc_fg", rec[11])
		switch {
		case !ok:
		case primary && ts[3].Code != ts[0].PrimarySOC:
			m.p.add(mdhierFile, line, "primary_soc_fg", "is Y but SOC %s is not PT %s's primary SOC (%s)", ts[3].Code, ts[0].Code, ts[0].PrimarySOC)
		case !primary && ts[3].Code == ts[0].PrimarySOC:
			m.p.add(mdhierFile, line, "primary_soc_fg", "is N but SOC %s is PT %s's primary SOC", ts[3].Code, ts[0].Code)
		case primary:
			primaries[ts[0].Code]++
		}
	})
	if err != nil || m.p.any() {
		return err
	}
	for _, t := range m.terms {
		if t.Level == PT && primaries[t.Code] == 0 {
			m.p.add(mdhierFile, 0, "", "PT %s %q has no primary path (no line with primary_soc_fg Y)", t.Code, t.Name)
		}
	}
	return nil
}

func isDigits(s string) bool {
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
