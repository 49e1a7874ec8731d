// Package lab keeps the clinic's laboratory configuration: the labs that
// analyse samples, the lab tests they report with units and reference
// ranges, and the panels that order tests together. Lab configuration is
// promoted from a Sandbox or Pre-PROD instance into VAL and PROD, so its
// rules live here, independent of storage and pages: every check a page
// makes before saving, and every check a promotion makes before copying,
// is one of the Validate functions below. Storage (labstore.go,
// teststore.go, panelstore.go) keeps them by code, versioned and audited,
// deactivated rather than deleted, and validates with the same functions.
package lab

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
)

// Kind says where a lab is: in the clinic itself or an external central lab
// shared by a study's sites.
type Kind string

// The kinds of lab.
const (
	Local   Kind = "local"
	Central Kind = "central"
)

// Lab is a laboratory that analyses the clinic's samples.
type Lab struct {
	Code string
	Name string
	Kind Kind
	// Address is where samples are shipped; free text over several lines.
	Address string
	// Accreditation names the lab's accreditation, e.g. "ISO 15189, RvA
	// M123", which auditors ask for when results support safety decisions.
	Accreditation string
}

// codePattern is the shape of lab, test and panel codes: they appear in
// CRFs, ODM exports and transfer files from central labs, so they stay
// short, upper case and free of spaces, like site codes.
var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,15}$`)

const codeAdvice = "Use 1–16 capital letters, digits, - or _ (for example HAEM or ALT-01)."

func checkCode(fe check.FieldErrors, field, code string) {
	switch {
	case strings.TrimSpace(code) == "":
		fe.Add(field, "This field is required.")
	case !codePattern.MatchString(code):
		fe.Add(field, codeAdvice)
	}
}

func checkName(fe check.FieldErrors, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		fe.Add(field, "This field is required.")
	case len(name) > 200:
		fe.Add(field, "Keep the name under 200 characters.")
	}
}

// ValidateLab checks a lab's fields and returns a sentence per field that
// is wrong; the map is empty when the lab is valid.
func ValidateLab(l Lab) check.FieldErrors {
	fe := check.FieldErrors{}
	checkCode(fe, "code", l.Code)
	checkName(fe, "name", l.Name)
	switch l.Kind {
	case Local, Central:
	case "":
		fe.Add("kind", "This field is required.")
	default:
		fe.Add("kind", "Choose local or central, not %q.", string(l.Kind))
	}
	if len(l.Address) > 1000 {
		fe.Add("address", "Keep the address under 1000 characters.")
	}
	if len(l.Accreditation) > 200 {
		fe.Add("accreditation", "Keep the accreditation under 200 characters.")
	}
	return fe
}

// Validate returns ValidateLab's findings as an error, or nil.
func (l Lab) Validate() error { return ValidateLab(l).Err() }

// Panel is a named, ordered group of lab tests ordered together, e.g. a
// haematology panel; the order is the order results are shown and entered.
type Panel struct {
	Code  string
	Name  string
	Tests []string
}

// ValidatePanel checks a panel's fields; testExists says whether a lab test
// with the given code is configured and must not be nil. Problems with one
// listed test are reported under "tests[i]" (0-based, as form rows are).
func ValidatePanel(p Panel, testExists func(code string) bool) check.FieldErrors {
	fe := check.FieldErrors{}
	checkCode(fe, "code", p.Code)
	checkName(fe, "name", p.Name)
	if len(p.Tests) == 0 {
		fe.Add("tests", "Add at least one lab test to the panel.")
	}
	first := map[string]int{}
	for i, code := range p.Tests {
		field := fmt.Sprintf("tests[%d]", i)
		if at, dup := first[code]; dup {
			fe.Add(field, "Test %s is listed twice (also at position %d).", code, at+1)
			continue
		}
		first[code] = i
		switch {
		case strings.TrimSpace(code) == "":
			fe.Add(field, "Choose a lab test.")
		case !testExists(code):
			fe.Add(field, "No lab test has code %q.", code)
		}
	}
	return fe
}

// Validate returns ValidatePanel's findings as an error, or nil.
func (p Panel) Validate(testExists func(code string) bool) error {
	return ValidatePanel(p, testExists).Err()
}
