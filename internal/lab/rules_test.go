package lab

import (
	"maps"
	"slices"
	"testing"
)

func num(v float64) *float64 { return &v }

// haemoglobin is a valid numeric test with sex- and age-specific ranges,
// the shape most chemistry and haematology tests have.
func haemoglobin() Test {
	return Test{
		Code: "HB", Name: "Haemoglobin", LOINC: "718-7", Specimen: WholeBlood,
		ResultType: Numeric, Unit: "g/dL", DecimalPlaces: 1,
		Ranges: []ReferenceRange{
			{Sex: Male, AgeFrom: 18, AgeTo: 65, Low: num(13.0), High: num(17.0)},
			{Sex: Female, AgeFrom: 18, AgeTo: 65, Low: num(12.0), High: num(15.5)},
			{Sex: AnySex, AgeFrom: 65, Low: num(11.5), High: num(16.5)},
		},
	}
}

func TestValidateTestAcceptsValidTests(t *testing.T) {
	for name, test := range map[string]Test{
		"numeric with ranges": haemoglobin(),
		"one-sided range": {Code: "CRP", Name: "C-reactive protein", Specimen: Serum, ResultType: Numeric, Unit: "mg/L",
			Ranges: []ReferenceRange{{Sex: AnySex, High: num(5)}}},
		"numeric without ranges": {Code: "BMI", Name: "Body mass index", Specimen: WholeBlood, ResultType: Numeric, Unit: "kg/m2", DecimalPlaces: 1},
		"dimensionless":          {Code: "INR", Name: "INR", LOINC: "6301-6", Specimen: Plasma, ResultType: Numeric, Unit: "{INR}", DecimalPlaces: 2},
		"coded": {Code: "U-PROT", Name: "Urine protein (dipstick)", Specimen: Urine, ResultType: Coded,
			Choices: []string{"Negative", "Trace", "1+", "2+", "3+"}},
		"text":           {Code: "FILM", Name: "Blood film comment", Specimen: WholeBlood, ResultType: Text},
		"adjacent bands": {Code: "ALT", Name: "ALT", LOINC: "1742-6", Specimen: Serum, ResultType: Numeric, Unit: "U/L", Ranges: []ReferenceRange{{Sex: AnySex, AgeTo: 18, High: num(30)}, {Sex: AnySex, AgeFrom: 18, High: num(45)}}},
		"sexes side by side": {Code: "CREA", Name: "Creatinine", LOINC: "2160-0", Specimen: Serum, ResultType: Numeric, Unit: "umol/L",
			Ranges: []ReferenceRange{{Sex: Male, Low: num(60), High: num(110)}, {Sex: Female, Low: num(45), High: num(90)}}},
	} {
		if fe := ValidateTest(test); len(fe) != 0 {
			t.Errorf("%s: ValidateTest = %v, want no errors", name, fe)
		}
		if err := test.Validate(); err != nil {
			t.Errorf("%s: Validate = %v, want nil", name, err)
		}
	}
}

func TestValidateTestReportsEachField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Test)
		want   map[string]string
	}{
		{"blank code and name", func(t *Test) { t.Code, t.Name = "", " " }, map[string]string{
			"code": "This field is required.", "name": "This field is required.",
		}},
		{"lower-case code", func(t *Test) { t.Code = "hb" }, map[string]string{"code": codeAdvice}},
		{"mistyped LOINC", func(t *Test) { t.LOINC = "718-8" }, map[string]string{
			"loinc": `LOINC code "718-8" has check digit 8, but 718 gives 7: the code is mistyped.`,
		}},
		{"unknown specimen", func(t *Test) { t.Specimen = "blood" }, map[string]string{
			"specimen": `"blood" is not a specimen this system knows; choose one from the list.`,
		}},
		{"non-UCUM unit", func(t *Test) { t.Unit = "g/DL" }, map[string]string{
			"unit": `Unit "g/DL" is not valid UCUM: at character 3, "DL" is not a UCUM unit (UCUM is case-sensitive: did you mean "dL" or "dl"?).`,
		}},
		{"numeric without unit", func(t *Test) { t.Unit = "" }, map[string]string{
			"unit": "A numeric test needs a unit (UCUM, e.g. mmol/L; use 1 for a plain number).",
		}},
		{"too many decimals", func(t *Test) { t.DecimalPlaces = 7 }, map[string]string{"decimal_places": "Use 0 to 6 decimal places."}},
		{"negative decimals", func(t *Test) { t.DecimalPlaces = -1 }, map[string]string{"decimal_places": "Use 0 to 6 decimal places."}},
		{"no result type", func(t *Test) { t.ResultType = "" }, map[string]string{"result_type": "This field is required."}},
		{"unknown result type", func(t *Test) { t.ResultType = "graph" }, map[string]string{"result_type": `Choose numeric, coded or text, not "graph".`}},
		{"numeric with choices", func(t *Test) { t.Choices = []string{"Low"} }, map[string]string{"choices": "Only coded tests have choices."}},
		{"coded with ranges and unit", func(t *Test) { t.ResultType = Coded; t.Choices = []string{"Positive", "Negative"} }, map[string]string{
			"unit": "Only numeric tests have a unit.", "ranges": "Only numeric tests have reference ranges.",
		}},
		{"coded without choices", func(t *Test) { t.ResultType, t.Unit, t.Ranges = Coded, "", nil }, map[string]string{
			"choices": "A coded test needs at least one choice.",
		}},
		{"coded with repeated and blank choices", func(t *Test) {
			t.ResultType, t.Unit, t.Ranges = Coded, "", nil
			t.Choices = []string{"Positive", "", "positive "}
		}, map[string]string{
			"choices[1]": "A choice cannot be blank.",
			"choices[2]": `Choice "positive " is listed twice (also at position 1).`,
		}},
		{"text with choices", func(t *Test) { t.ResultType, t.Unit, t.Ranges, t.Choices = Text, "", nil, []string{"x"} }, map[string]string{
			"choices": "Only coded tests have choices.",
		}},
		{"low above high", func(t *Test) { t.Ranges[0].Low, t.Ranges[0].High = num(17), num(13) }, map[string]string{
			"ranges[0].high": "Range 1: the high limit (13) must be above the low limit (17).",
		}},
		{"low equal to high", func(t *Test) { t.Ranges[1].High = num(12) }, map[string]string{
			"ranges[1].high": "Range 2: the high limit (12) must be above the low limit (12).",
		}},
		{"no limits", func(t *Test) { t.Ranges[2].Low, t.Ranges[2].High = nil, nil }, map[string]string{
			"ranges[2]": "Range 3: give a low limit, a high limit or both.",
		}},
		{"reversed age band", func(t *Test) { t.Ranges[0].AgeFrom, t.Ranges[0].AgeTo = 65, 18 }, map[string]string{
			"ranges[0].age_to": "Range 1: the age band ends before it starts (65 to under 18 years).",
		}},
		{"empty age band", func(t *Test) { t.Ranges[0].AgeTo = 18 }, map[string]string{
			"ranges[0].age_to": "Range 1: the age band ends before it starts (18 to under 18 years).",
		}},
		{"impossible ages", func(t *Test) { t.Ranges[2].AgeFrom, t.Ranges[1].AgeTo = -1, 651 }, map[string]string{
			"ranges[2].age_from": "Range 3: use an age from 0 to 150 years.",
			"ranges[1].age_to":   "Range 2: use an age from 0 to 150 years, or leave it empty for no upper limit.",
		}},
		{"unknown sex", func(t *Test) { t.Ranges[0].Sex = "m" }, map[string]string{
			"ranges[0].sex": "Range 1: choose male, female or any sex.",
		}},
		{"same sex, overlapping ages", func(t *Test) { t.Ranges[1].Sex, t.Ranges[1].AgeFrom = Male, 60 }, map[string]string{
			"ranges[1]": "Range 2 (male, ages 60 to under 65) overlaps range 1 (male, ages 18 to under 65): at most one range may apply to a volunteer.",
		}},
		{"any sex overlaps a male range", func(t *Test) { t.Ranges[2].AgeFrom = 64 }, map[string]string{
			"ranges[2]": "Range 3 (any sex, ages 64 and over) overlaps range 1 (male, ages 18 to under 65): at most one range may apply to a volunteer.",
		}},
		{"any sex overlaps a female range", func(t *Test) {
			t.Ranges = append(t.Ranges, ReferenceRange{Sex: AnySex, AgeFrom: 40, AgeTo: 41, High: num(20)})
			t.Ranges[0].AgeTo = 40
		}, map[string]string{
			"ranges[3]": "Range 4 (any sex, ages 40 to under 41) overlaps range 2 (female, ages 18 to under 65): at most one range may apply to a volunteer.",
		}},
		{"open-ended bands overlap", func(t *Test) { t.Ranges[0].AgeTo, t.Ranges[1].Sex = 0, Male }, map[string]string{
			"ranges[1]": "Range 2 (male, ages 18 to under 65) overlaps range 1 (male, ages 18 and over): at most one range may apply to a volunteer.",
			"ranges[2]": "Range 3 (any sex, ages 65 and over) overlaps range 1 (male, ages 18 and over): at most one range may apply to a volunteer.",
		}},
	} {
		test := haemoglobin()
		tc.change(&test)
		got := ValidateTest(test)
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %v\n want %v", tc.name, got, tc.want)
		}
		if err := test.Validate(); err == nil {
			t.Errorf("%s: Validate returned nil for an invalid test", tc.name)
		}
	}
}

func TestValidateTestRejectsNonFiniteLimits(t *testing.T) {
	test := haemoglobin()
	zero := 0.0
	nan := zero / zero
	test.Ranges[0].Low = &nan
	fe := ValidateTest(test)
	if fe["ranges[0].low"] != "Range 1: the limit must be a number." {
		t.Errorf("NaN limit: got %v", fe)
	}
}

func TestRangePicksTheApplicableRange(t *testing.T) {
	test := haemoglobin()
	for _, tc := range []struct {
		sex     Sex
		age     int
		want    int // index into test.Ranges, -1 for none
		comment string
	}{
		{Male, 30, 0, "male adult"},
		{Female, 30, 1, "female adult"},
		{Male, 18, 0, "the lower age is inclusive"},
		{Female, 65, 2, "the upper age is exclusive, so 65 falls in the next band"},
		{Male, 80, 2, "an any-sex range applies to men"},
		{AnySex, 70, 2, "sex unknown matches an any-sex range"},
		{AnySex, 30, -1, "sex unknown matches no sex-specific range"},
		{Female, 17, -1, "no range below 18"},
	} {
		got, ok := Range(test, tc.sex, tc.age)
		switch {
		case tc.want < 0 && ok:
			t.Errorf("%s: Range(%s, %d) = %+v, want none", tc.comment, tc.sex, tc.age, got)
		case tc.want >= 0 && (!ok || !sameRange(got, test.Ranges[tc.want])):
			t.Errorf("%s: Range(%s, %d) = %+v, %v; want range %d", tc.comment, tc.sex, tc.age, got, ok, tc.want+1)
		}
	}

	// A sex-specific range wins over an any-sex one that also covers the
	// volunteer, whichever comes first.
	both := Test{Ranges: []ReferenceRange{
		{Sex: AnySex, High: num(50)},
		{Sex: Female, High: num(40)},
	}}
	if got, ok := Range(both, Female, 30); !ok || *got.High != 40 {
		t.Errorf("sex-specific range should win: got %+v, %v", got, ok)
	}
	if got, ok := Range(both, Male, 30); !ok || *got.High != 50 {
		t.Errorf("any-sex range should apply to a man: got %+v, %v", got, ok)
	}
}

func sameRange(a, b ReferenceRange) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Sex == b.Sex && a.AgeFrom == b.AgeFrom && a.AgeTo == b.AgeTo && eq(a.Low, b.Low) && eq(a.High, b.High)
}

func TestFlag(t *testing.T) {
	r := ReferenceRange{Sex: AnySex, Low: num(3.5), High: num(5.1)}
	upper := ReferenceRange{Sex: AnySex, High: num(5)}
	for _, tc := range []struct {
		r    ReferenceRange
		v    float64
		want Flag
	}{
		{r, 3.4, FlagLow}, {r, 3.5, FlagNormal}, {r, 4.2, FlagNormal}, {r, 5.1, FlagNormal}, {r, 5.2, FlagHigh},
		{upper, -100, FlagNormal}, {upper, 5.01, FlagHigh},
	} {
		if got := tc.r.Flag(tc.v); got != tc.want {
			t.Errorf("%s: Flag(%v) = %s, want %s", tc.r.Who(), tc.v, got, tc.want)
		}
	}
}

func TestRangeDescriptions(t *testing.T) {
	for _, tc := range []struct {
		r    ReferenceRange
		want string
	}{
		{ReferenceRange{Sex: AnySex}, "any sex, all ages"},
		{ReferenceRange{Sex: Female, AgeFrom: 18}, "female, ages 18 and over"},
		{ReferenceRange{Sex: Male, AgeFrom: 18, AgeTo: 65}, "male, ages 18 to under 65"},
		{ReferenceRange{Sex: Male, AgeTo: 12}, "male, ages 0 to under 12"},
	} {
		if got := tc.r.Who(); got != tc.want {
			t.Errorf("Who() = %q, want %q", got, tc.want)
		}
	}
}

func TestValidateLab(t *testing.T) {
	valid := Lab{Code: "CLIN", Name: "Clinic laboratory", Kind: Local, Accreditation: "ISO 15189"}
	if fe := ValidateLab(valid); len(fe) != 0 {
		t.Errorf("valid lab: %v", fe)
	}
	if err := valid.Validate(); err != nil {
		t.Errorf("valid lab: Validate = %v", err)
	}
	long := string(make([]byte, 1001))
	for _, tc := range []struct {
		name string
		lab  Lab
		want map[string]string
	}{
		{"empty", Lab{}, map[string]string{
			"code": "This field is required.", "name": "This field is required.", "kind": "This field is required.",
		}},
		{"bad code and kind", Lab{Code: "central lab", Name: "X", Kind: "remote"}, map[string]string{
			"code": codeAdvice, "kind": `Choose local or central, not "remote".`,
		}},
		{"too long", Lab{Code: "C", Name: long[:201], Kind: Central, Address: long, Accreditation: long[:201]}, map[string]string{
			"name":          "Keep the name under 200 characters.",
			"address":       "Keep the address under 1000 characters.",
			"accreditation": "Keep the accreditation under 200 characters.",
		}},
	} {
		if got := ValidateLab(tc.lab); !maps.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %v\n want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidatePanel(t *testing.T) {
	configured := []string{"HB", "WBC", "PLT", "RBC"}
	exists := func(code string) bool { return slices.Contains(configured, code) }

	valid := Panel{Code: "FBC", Name: "Full blood count", Tests: []string{"HB", "WBC", "PLT"}}
	if fe := ValidatePanel(valid, exists); len(fe) != 0 {
		t.Errorf("valid panel: %v", fe)
	}
	if err := valid.Validate(exists); err != nil {
		t.Errorf("valid panel: Validate = %v", err)
	}
	for _, tc := range []struct {
		name  string
		panel Panel
		want  map[string]string
	}{
		{"empty", Panel{}, map[string]string{
			"code": "This field is required.", "name": "This field is required.", "tests": "Add at least one lab test to the panel.",
		}},
		{"duplicate and unknown tests", Panel{Code: "FBC", Name: "Full blood count", Tests: []string{"HB", "MCV", "WBC", "HB", ""}}, map[string]string{
			"tests[1]": `No lab test has code "MCV".`,
			"tests[3]": "Test HB is listed twice (also at position 1).",
			"tests[4]": "Choose a lab test.",
		}},
	} {
		if got := ValidatePanel(tc.panel, exists); !maps.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %v\n want %v", tc.name, got, tc.want)
		}
	}
}
