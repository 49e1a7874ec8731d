package lab

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
)

// ResultType says what a lab test reports.
type ResultType string

// The result types.
const (
	// Numeric results are numbers in the test's unit, flagged against
	// reference ranges.
	Numeric ResultType = "numeric"
	// Coded results are one of the test's choices, e.g. "Negative".
	Coded ResultType = "coded"
	// Text results are free text, e.g. a blood film comment.
	Text ResultType = "text"
)

// Specimen is the material a test is run on.
type Specimen string

// The specimens lab tests in a Phase I unit are run on.
const (
	Serum      Specimen = "serum"
	Plasma     Specimen = "plasma"
	WholeBlood Specimen = "whole_blood"
	Urine      Specimen = "urine"
	Stool      Specimen = "stool"
	Saliva     Specimen = "saliva"
	CSF        Specimen = "csf"
)

// Specimens lists every specimen in the order pickers show them.
func Specimens() []Specimen {
	return []Specimen{Serum, Plasma, WholeBlood, Urine, Stool, Saliva, CSF}
}

// Sex selects the volunteers a reference range applies to.
type Sex string

// The sexes a reference range can apply to; AnySex applies to both.
const (
	AnySex Sex = "any"
	Male   Sex = "male"
	Female Sex = "female"
)

// Test is a lab test as the clinic configures it.
type Test struct {
	Code string
	Name string
	// LOINC is the test's LOINC code, e.g. "2345-7"; optional, as local
	// tests may have none.
	LOINC      string
	Specimen   Specimen
	ResultType ResultType
	// Unit is the UCUM unit numeric results are reported in.
	Unit string
	// DecimalPlaces is how many decimals numeric results are entered and
	// shown with (0–6).
	DecimalPlaces int
	// Choices are the answers a coded test allows, in display order.
	Choices []string
	// Ranges are the reference ranges of a numeric test; at most one may
	// apply to any volunteer.
	Ranges []ReferenceRange
}

// ReferenceRange is the normal interval of a numeric test for volunteers of
// one sex (or any) within an age band. Ages are in completed years and the
// band is half-open, [AgeFrom, AgeTo), so 18–65 and 65–0 meet without
// overlapping.
type ReferenceRange struct {
	Sex     Sex
	AgeFrom int
	// AgeTo is the first age the range no longer applies to; 0 means no
	// upper limit.
	AgeTo int
	// Low and High are the limits; either may be nil for a one-sided
	// range such as CRP < 5 mg/L, but not both.
	Low  *float64
	High *float64
}

// maxAge bounds ages so a typo like 1800 is caught.
const maxAge = 150

// covers reports whether the range's age band includes age.
func (r ReferenceRange) covers(age int) bool {
	return age >= r.AgeFrom && (r.AgeTo == 0 || age < r.AgeTo)
}

// Ages describes the age band, e.g. "ages 18 to under 65".
func (r ReferenceRange) Ages() string {
	switch {
	case r.AgeFrom == 0 && r.AgeTo == 0:
		return "all ages"
	case r.AgeTo == 0:
		return fmt.Sprintf("ages %d and over", r.AgeFrom)
	default:
		return fmt.Sprintf("ages %d to under %d", r.AgeFrom, r.AgeTo)
	}
}

// Who describes whom the range applies to, e.g. "female, ages 18 and over".
func (r ReferenceRange) Who() string {
	sex := string(r.Sex)
	if r.Sex == AnySex {
		sex = "any sex"
	}
	return sex + ", " + r.Ages()
}

// Flag says where a result lies against a reference range.
type Flag string

// The flags a numeric result can get.
const (
	FlagLow    Flag = "L"
	FlagNormal Flag = "N"
	FlagHigh   Flag = "H"
)

// Flag classifies value against the range; a value equal to a limit is
// within the range.
func (r ReferenceRange) Flag(value float64) Flag {
	switch {
	case r.Low != nil && value < *r.Low:
		return FlagLow
	case r.High != nil && value > *r.High:
		return FlagHigh
	default:
		return FlagNormal
	}
}

// Range returns the reference range of t that applies to a volunteer of the
// given sex and age in completed years, and false when none does. A range
// for the volunteer's own sex is preferred over one for any sex; on a valid
// test at most one range applies anyway. Passing AnySex (sex unknown)
// matches only ranges for any sex.
func Range(t Test, sex Sex, ageYears int) (ReferenceRange, bool) {
	var fallback *ReferenceRange
	for i, r := range t.Ranges {
		if !r.covers(ageYears) {
			continue
		}
		switch {
		case r.Sex == sex && sex != AnySex:
			return r, true
		case r.Sex == AnySex && fallback == nil:
			fallback = &t.Ranges[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return ReferenceRange{}, false
}

// ValidateTest checks a lab test and returns a sentence per field that is
// wrong; the map is empty when the test is valid. Range problems are keyed
// "ranges[i]" or "ranges[i].field" (0-based, as form rows are) and their
// sentences count ranges from 1, as people do.
func ValidateTest(t Test) check.FieldErrors {
	fe := check.FieldErrors{}
	checkCode(fe, "code", t.Code)
	checkName(fe, "name", t.Name)
	if t.LOINC != "" {
		if err := ValidateLOINC(t.LOINC); err != nil {
			fe.Add("loinc", "%s.", capitalize(err.Error()))
		}
	}
	switch {
	case t.Specimen == "":
		fe.Add("specimen", "This field is required.")
	case !knownSpecimen(t.Specimen):
		fe.Add("specimen", "%q is not a specimen this system knows; choose one from the list.", string(t.Specimen))
	}
	if t.DecimalPlaces < 0 || t.DecimalPlaces > 6 {
		fe.Add("decimal_places", "Use 0 to 6 decimal places.")
	}
	switch t.ResultType {
	case Numeric:
		if t.Unit == "" {
			fe.Add("unit", "A numeric test needs a unit (UCUM, e.g. mmol/L; use 1 for a plain number).")
		} else if err := ValidateUnit(t.Unit); err != nil {
			fe.Add("unit", "%s.", capitalize(err.Error()))
		}
		if len(t.Choices) > 0 {
			fe.Add("choices", "Only coded tests have choices.")
		}
		checkRanges(fe, t.Ranges)
	case Coded, Text:
		if t.Unit != "" {
			fe.Add("unit", "Only numeric tests have a unit.")
		}
		if len(t.Ranges) > 0 {
			fe.Add("ranges", "Only numeric tests have reference ranges.")
		}
		if t.ResultType == Coded {
			checkChoices(fe, t.Choices)
		} else if len(t.Choices) > 0 {
			fe.Add("choices", "Only coded tests have choices.")
		}
	case "":
		fe.Add("result_type", "This field is required.")
	default:
		fe.Add("result_type", "Choose numeric, coded or text, not %q.", string(t.ResultType))
	}
	return fe
}

// Validate returns ValidateTest's findings as an error, or nil.
func (t Test) Validate() error { return ValidateTest(t).Err() }

func knownSpecimen(s Specimen) bool {
	for _, k := range Specimens() {
		if s == k {
			return true
		}
	}
	return false
}

func checkChoices(fe check.FieldErrors, choices []string) {
	if len(choices) == 0 {
		fe.Add("choices", "A coded test needs at least one choice.")
		return
	}
	first := map[string]int{}
	for i, c := range choices {
		field := fmt.Sprintf("choices[%d]", i)
		key := strings.ToLower(strings.TrimSpace(c))
		if key == "" {
			fe.Add(field, "A choice cannot be blank.")
			continue
		}
		if at, dup := first[key]; dup {
			fe.Add(field, "Choice %q is listed twice (also at position %d).", c, at+1)
			continue
		}
		first[key] = i
	}
}

func checkRanges(fe check.FieldErrors, ranges []ReferenceRange) {
	valid := make([]bool, len(ranges))
	for i, r := range ranges {
		valid[i] = checkRange(fe, i, r)
	}
	// Overlap is only judged between ranges that are valid on their own:
	// a range with a reversed age band would otherwise be reported twice.
	for j := range ranges {
		if !valid[j] {
			continue
		}
		for i := 0; i < j; i++ {
			if valid[i] && overlap(ranges[i], ranges[j]) {
				fe.Add(fmt.Sprintf("ranges[%d]", j), "Range %d (%s) overlaps range %d (%s): at most one range may apply to a volunteer.",
					j+1, ranges[j].Who(), i+1, ranges[i].Who())
				break
			}
		}
	}
}

// checkRange validates one range on its own and reports whether it passed.
func checkRange(fe check.FieldErrors, i int, r ReferenceRange) bool {
	ok := true
	add := func(field, format string, args ...any) {
		fe.Add(fmt.Sprintf("ranges[%d]%s", i, field), format, args...)
		ok = false
	}
	switch r.Sex {
	case AnySex, Male, Female:
	default:
		add(".sex", "Range %d: choose male, female or any sex.", i+1)
	}
	if r.AgeFrom < 0 || r.AgeFrom > maxAge {
		add(".age_from", "Range %d: use an age from 0 to %d years.", i+1, maxAge)
	}
	switch {
	case r.AgeTo < 0 || r.AgeTo > maxAge:
		add(".age_to", "Range %d: use an age from 0 to %d years, or leave it empty for no upper limit.", i+1, maxAge)
	case r.AgeTo != 0 && r.AgeTo <= r.AgeFrom:
		add(".age_to", "Range %d: the age band ends before it starts (%d to under %d years).", i+1, r.AgeFrom, r.AgeTo)
	}
	for field, v := range map[string]*float64{".low": r.Low, ".high": r.High} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			add(field, "Range %d: the limit must be a number.", i+1)
		}
	}
	if !ok {
		return false
	}
	switch {
	case r.Low == nil && r.High == nil:
		add("", "Range %d: give a low limit, a high limit or both.", i+1)
	case r.Low != nil && r.High != nil && *r.Low >= *r.High:
		add(".high", "Range %d: the high limit (%s) must be above the low limit (%s).", i+1, formatLimit(*r.High), formatLimit(*r.Low))
	}
	return ok
}

// overlap reports whether one volunteer could fall in both ranges: their
// sexes meet (any meets both) and their half-open age bands intersect.
func overlap(a, b ReferenceRange) bool {
	if a.Sex != b.Sex && a.Sex != AnySex && b.Sex != AnySex {
		return false
	}
	aEnd, bEnd := a.AgeTo, b.AgeTo
	if aEnd == 0 {
		aEnd = math.MaxInt
	}
	if bEnd == 0 {
		bEnd = math.MaxInt
	}
	return a.AgeFrom < bEnd && b.AgeFrom < aEnd
}

func formatLimit(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
