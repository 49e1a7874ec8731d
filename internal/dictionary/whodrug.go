package dictionary

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// The WHODrug Global B3 distribution: fixed-width text files, one record a
// line, fields at fixed character columns. cohort reads three of them:
//
//	DD.txt   drug names
//	  1–6    drug_record_number   (digits)
//	  7–8    sequence_number_1    (digits; 01 is the base substance, others salts and variants)
//	  9–11   sequence_number_2    (digits or capitals; 001 is the preferred name)
//	  12     check_digit
//	  13–30  designation, source year and code, company code, number of
//	         ingredients, salt/ester code and year-quarter; not used here
//	  31–    drug_name            (up to 1500 characters in B3)
//	DDA.txt  ATC classification of each drug name
//	  1–12   drug code and check digit, as in DD.txt
//	  13–19  atc_code             (left-justified, space-padded)
//	INA.txt  the ATC classification's texts
//	  1–7    atc_code             (left-justified, space-padded)
//	  8      level                (1–5)
//	  9–     atc_text
//
// and, when present, version.txt, whose first line names the release.
// Drug code, drug record number and sequences 1 and 2 together identify a
// drug name, written as one code of 11 characters such as "00109201A3D".
const (
	ddFile      = "DD.txt"
	ddaFile     = "DDA.txt"
	inaFile     = "INA.txt"
	versionFile = "version.txt"

	drugCodeEnd = 11 // drug record number + sequence 1 + sequence 2
	drugNameAt  = 30
	atcAt       = 12
	atcEnd      = 19
	atcTextAt   = 8
)

// atcLength is the length of an ATC code at each level.
var atcLength = map[int]int{1: 1, 2: 3, 3: 4, 4: 5, 5: 7}

var atcLevel = map[int]Level{1: ATC1, 2: ATC2, 3: ATC3, 4: ATC4, 5: ATC5}

// atcShape is the pattern of an ATC code: group letter, two digits,
// two letters, two digits, cut at the level's length.
var atcShape = regexp.MustCompile(`^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$`)

var seq2Shape = regexp.MustCompile(`^[0-9A-Z]{3}$`)

// ParseWHODrug reads a WHODrug B3 distribution — DD.txt, DDA.txt and
// INA.txt, at the top of fsys or in its one subfolder — into a Version:
// the ATC groups (levels ATC1–ATC5) linked by code, and the drug names
// (level Drug, code drug record number + sequence 1 + sequence 2) linked
// to the ATC groups DDA.txt classifies them under. It checks each field's
// shape, that no code appears twice, that every ATC group's parent group
// exists, and that DDA.txt names only existing drugs and ATC groups. Any
// problem fails the whole parse with errors naming file, line and field.
//
// The release is the first line of version.txt; without it Release is
// empty and the caller must supply it.
func ParseWHODrug(ctx context.Context, fsys fs.FS) (*Version, error) {
	v, err := parseWHODrug(ctx, fsys)
	if err != nil {
		return nil, fmt.Errorf("read WHODrug distribution: %w", err)
	}
	return v, nil
}

type whodrugReader struct {
	d         *distribution
	p         problems
	release   string
	terms     []Term
	lineOf    map[TermRef]int
	atcByCode map[string]Level
	links     []Link
}

func parseWHODrug(ctx context.Context, fsys fs.FS) (*Version, error) {
	d, err := openDistribution(fsys, ddFile)
	if err != nil {
		return nil, err
	}
	w := &whodrugReader{d: d, lineOf: map[TermRef]int{}, atcByCode: map[string]Level{}}
	d.requireFiles(&w.p, "WHODrug B3", ddFile, ddaFile, inaFile)
	if w.p.any() {
		return nil, w.p.err()
	}
	for _, stage := range [][]func(context.Context) error{
		{w.readVersion, w.readINA, w.readDD},
		{w.readDDA},
	} {
		for _, step := range stage {
			if err := step(ctx); err != nil {
				return nil, err
			}
		}
		if w.p.any() {
			return nil, w.p.err()
		}
	}
	return NewVersion(WHODrug, w.release, "", w.terms, w.links)
}

func (w *whodrugReader) readVersion(ctx context.Context) error {
	if !w.d.has(versionFile) {
		return nil
	}
	return w.d.readLines(ctx, &w.p, versionFile, func(_ int, text string) {
		if w.release == "" {
			w.release = strings.TrimSpace(text)
		}
	})
}

// column returns the text between 0-based byte offsets from and to,
// clipped to the line. The columns before the drug name are ASCII, so byte
// offsets are character columns there.
func column(text string, from, to int) string {
	if from >= len(text) {
		return ""
	}
	if to > len(text) || to < 0 {
		to = len(text)
	}
	return text[from:to]
}

func cols(field string, from, to int) string {
	if to < 0 {
		return fmt.Sprintf("%s (columns %d–)", field, from+1)
	}
	if to-from == 1 {
		return fmt.Sprintf("%s (column %d)", field, from+1)
	}
	return fmt.Sprintf("%s (columns %d–%d)", field, from+1, to)
}

func (w *whodrugReader) readINA(ctx context.Context) error {
	// Codes on lines refused for another reason are remembered so their
	// children are not reported as orphans as well.
	mentioned := map[string]bool{}
	var groups []Term
	err := w.d.readLines(ctx, &w.p, inaFile, func(line int, text string) {
		code := strings.TrimSpace(column(text, 0, 7))
		mentioned[code] = true
		levelText := column(text, 7, 8)
		name := strings.TrimSpace(column(text, atcTextAt, -1))
		n := 0
		if len(levelText) == 1 && levelText[0] >= '1' && levelText[0] <= '5' {
			n = int(levelText[0] - '0')
		}
		switch {
		case code == "":
			w.p.add(inaFile, line, cols("atc_code", 0, 7), "the field is empty")
			return
		case n == 0:
			w.p.add(inaFile, line, cols("level", 7, 8), "%q is not an ATC level from 1 to 5", levelText)
			return
		case len(code) != atcLength[n] || !atcShape.MatchString(code):
			w.p.add(inaFile, line, cols("atc_code", 0, 7), "%q is not an ATC code of level %d (such as %s)", code, n, "N02BE01"[:atcLength[n]])
			return
		case name == "":
			w.p.add(inaFile, line, cols("atc_text", atcTextAt, -1), "the field is empty")
			return
		}
		if prev, dup := w.atcByCode[code]; dup {
			w.p.add(inaFile, line, cols("atc_code", 0, 7), "ATC %s is listed twice (first on line %d)", code, w.lineOf[TermRef{prev, code}])
			return
		}
		t := Term{Level: atcLevel[n], Code: code, Name: name, Current: true}
		w.atcByCode[code] = t.Level
		w.lineOf[t.Ref()] = line
		groups = append(groups, t)
	})
	if err != nil {
		return err
	}
	for _, t := range groups {
		n := t.Level.Depth()
		if n > 1 {
			parent := t.Code[:atcLength[n-1]]
			if _, ok := w.atcByCode[parent]; ok {
				w.links = append(w.links, Link{TermRef{atcLevel[n-1], parent}, t.Ref()})
			} else if !mentioned[parent] {
				w.p.add(inaFile, w.lineOf[t.Ref()], cols("atc_code", 0, 7), "ATC %s's parent group %s is not in %s", t.Code, parent, inaFile)
			}
		}
		w.terms = append(w.terms, t)
	}
	return nil
}

// drugCode checks the first eleven columns of a DD.txt or DDA.txt line and
// returns the drug code they form.
func (w *whodrugReader) drugCode(file string, line int, text string) (string, bool) {
	drn, seq1, seq2 := column(text, 0, 6), column(text, 6, 8), column(text, 8, 11)
	switch {
	case !isDigits(drn) || len(drn) != 6:
		w.p.add(file, line, cols("drug_record_number", 0, 6), "%q is not a number of 6 digits", drn)
	case !isDigits(seq1) || len(seq1) != 2:
		w.p.add(file, line, cols("sequence_number_1", 6, 8), "%q is not a number of 2 digits", seq1)
	case !seq2Shape.MatchString(seq2):
		w.p.add(file, line, cols("sequence_number_2", 8, 11), "%q is not 3 digits or capital letters", seq2)
	default:
		return drn + seq1 + seq2, true
	}
	return "", false
}

func (w *whodrugReader) readDD(ctx context.Context) error {
	return w.d.readLines(ctx, &w.p, ddFile, func(line int, text string) {
		code, ok := w.drugCode(ddFile, line, text)
		if !ok {
			return
		}
		name := strings.TrimSpace(column(text, drugNameAt, -1))
		if name == "" {
			w.p.add(ddFile, line, cols("drug_name", drugNameAt, -1), "the field is empty")
			return
		}
		t := Term{Level: Drug, Code: code, Name: name, Current: true, Preferred: code[8:] == "001"}
		if first, dup := w.lineOf[t.Ref()]; dup {
			w.p.add(ddFile, line, cols("drug code", 0, drugCodeEnd), "drug %s is listed twice (first on line %d)", code, first)
			return
		}
		w.lineOf[t.Ref()] = line
		w.terms = append(w.terms, t)
	})
}

func (w *whodrugReader) readDDA(ctx context.Context) error {
	linkLine := map[Link]int{}
	return w.d.readLines(ctx, &w.p, ddaFile, func(line int, text string) {
		code, ok := w.drugCode(ddaFile, line, text)
		if !ok {
			return
		}
		atc := strings.TrimSpace(column(text, atcAt, atcEnd))
		drug := TermRef{Drug, code}
		if _, exists := w.lineOf[drug]; !exists {
			w.p.add(ddaFile, line, cols("drug code", 0, drugCodeEnd), "drug %s does not exist in %s", code, ddFile)
			return
		}
		level, exists := w.atcByCode[atc]
		switch {
		case atc == "":
			w.p.add(ddaFile, line, cols("atc_code", atcAt, atcEnd), "the field is empty")
			return
		case !exists:
			w.p.add(ddaFile, line, cols("atc_code", atcAt, atcEnd), "ATC %s does not exist in %s", atc, inaFile)
			return
		}
		l := Link{TermRef{level, atc}, drug}
		if first, dup := linkLine[l]; dup {
			w.p.add(ddaFile, line, "", "drug %s is classified under ATC %s twice (first on line %d)", code, atc, first)
			return
		}
		linkLine[l] = line
		w.links = append(w.links, l)
	})
}
