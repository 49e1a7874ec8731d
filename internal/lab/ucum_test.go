package lab

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateUnitAcceptsClinicalUnits(t *testing.T) {
	for _, unit := range []string{
		// The units a Phase I unit's haematology, chemistry and vitals use.
		"mmol/L", "10*9/L", "10*12/L", "g/dL", "U/L", "mg/dL", "fL", "pg", "%",
		"mm[Hg]", "/min", "mL/min/{1.73_m2}", "ug/L", "umol/L", "[iU]/L", "s",
		"kg/m2", "Cel", "{ratio}",
		// UCUM has both l and L for litre, and M is a prefix on metric mol.
		"mmol/l", "mg/dl", "Mmol/L",
		// More of the grammar: exponents with signs, factors, parentheses,
		// annotations on units, bracketed atoms with operators inside.
		"m2", "s-1", "m+2", "10*-3", "10^6/uL", "kg.m/s2", "/[HPF]", "mL/(24.h)",
		"(mL/min)/1.73", "10*3{cells}/uL", "[IU]/mL", "m[IU]/L", "mosm/kg",
		"[pH]", "ueq/L", "ukat/L", "{INR}", "1", "%{HbA1c}", "B[10.nV]",
		"[m/s2/Hz^(1/2)]", "%[slope]", "cal_[15]", "kcal", "[lb_av]",
		"mm[H2O]", "[CFU]/mL", "nmol/h/mL", "g/(kg.d)", "KiBy",
	} {
		if err := ValidateUnit(unit); err != nil {
			t.Errorf("ValidateUnit(%q) = %v, want nil", unit, err)
		}
	}
}

func TestValidateUnitRejectsWithPosition(t *testing.T) {
	for _, tc := range []struct {
		unit string
		pos  int
		want string // the complete message
	}{
		{"", 0, `unit "" is not valid UCUM: the unit is empty`},
		{"foo", 1, `unit "foo" is not valid UCUM: at character 1, "foo" is not a UCUM unit`},
		{"mmol//L", 6, `unit "mmol//L" is not valid UCUM: at character 6, a unit is missing after "/"`},
		{"10*/L", 1, `unit "10*/L" is not valid UCUM: at character 1, 10* needs an exponent, as in 10*9/L`},
		{"g/", 3, `unit "g/" is not valid UCUM: at the end, a unit is missing after "/"`},
		{"mm[Hg", 3, `unit "mm[Hg" is not valid UCUM: at character 3, "[" is never closed`},
		{"mg/DL", 4, `unit "mg/DL" is not valid UCUM: at character 4, "DL" is not a UCUM unit (UCUM is case-sensitive: did you mean "dL" or "dl"?)`},
		{"kmin", 1, `unit "kmin" is not valid UCUM: at character 1, "kmin": min (minute) does not take a prefix`},
		{"mmol L", 5, `unit "mmol L" is not valid UCUM: at character 5, a UCUM unit has no spaces`},
		{"µmol/L", 1, `unit "µmol/L" is not valid UCUM: at character 1, UCUM writes micro as "u" (for example umol/L), not "µ"`},
		{"mL/min/{1.73_m2", 8, `unit "mL/min/{1.73_m2" is not valid UCUM: at character 8, "{" is never closed`},
		{"mL)", 3, `unit "mL)" is not valid UCUM: at character 3, ")" has no matching "("`},
		{"(mL", 1, `unit "(mL" is not valid UCUM: at character 1, "(" is never closed`},
		{"/", 2, `unit "/" is not valid UCUM: at the end, a unit is missing after "/"`},
		{".m", 1, `unit ".m" is not valid UCUM: at character 1, expected a unit, found "."`},
		{"mg{}", 3, `unit "mg{}" is not valid UCUM: at character 3, an annotation cannot be empty`},
		{"mg}", 3, `unit "mg}" is not valid UCUM: at character 3, "}" has no matching "{"`},
		{"mg]", 3, `unit "mg]" is not valid UCUM: at character 3, "]" has no matching "["`},
		{"{a{b}", 3, `unit "{a{b}" is not valid UCUM: at character 3, an annotation cannot contain "{"`},
		{"24{h}", 3, `unit "24{h}" is not valid UCUM: at character 3, an annotation cannot follow the number 24`},
		{"{x}mg", 4, `unit "{x}mg" is not valid UCUM: at character 4, expected "." or "/" after "}", found "m"`},
		{"(g)2", 4, `unit "(g)2" is not valid UCUM: at character 4, expected "." or "/" after ")", found "2"`},
		{"mg(L)", 3, `unit "mg(L)" is not valid UCUM: at character 3, expected "." or "/" after "mg", found "("`},
		{"+2", 1, `unit "+2" is not valid UCUM: at character 1, the exponent +2 has no unit before it`},
		{"[xyz]/L", 1, `unit "[xyz]/L" is not valid UCUM: at character 1, "[xyz]" is not a UCUM unit`},
		{"m%", 1, `unit "m%" is not valid UCUM: at character 1, "m%": % (percent) does not take a prefix`},
	} {
		err := ValidateUnit(tc.unit)
		var ue *UnitError
		if !errors.As(err, &ue) {
			t.Errorf("ValidateUnit(%q) = %v, want a *UnitError", tc.unit, err)
			continue
		}
		if ue.Pos != tc.pos {
			t.Errorf("ValidateUnit(%q) position = %d, want %d", tc.unit, ue.Pos, tc.pos)
		}
		if err.Error() != tc.want {
			t.Errorf("ValidateUnit(%q) =\n  %s\nwant\n  %s", tc.unit, err, tc.want)
		}
	}
}

func TestValidateUnitRefusesOverlongInput(t *testing.T) {
	err := ValidateUnit(strings.Repeat("(", 100000))
	want := `unit "((((((((((((((((((((…" is not valid UCUM: the unit is longer than 200 characters`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateUnit(100000 × \"(\") = %v, want %s", err, want)
	}
	if err := ValidateUnit(strings.Repeat("(", 99) + "g" + strings.Repeat(")", 99)); err != nil {
		t.Errorf("deeply nested but short unit refused: %v", err)
	}
}

func TestUCUMTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range ucumAtoms {
		if seen[a.code] {
			t.Errorf("atom %q listed twice", a.code)
		}
		seen[a.code] = true
		// splitExponent relies on no atom ending in a digit outside brackets.
		if last := a.code[len(a.code)-1]; last >= '0' && last <= '9' {
			t.Errorf("atom %q ends in a digit, which the parser would read as an exponent", a.code)
		}
		// Every atom must validate as itself, except the bare powers of ten
		// this package deliberately refuses without an exponent.
		if a.code == "10*" || a.code == "10^" {
			continue
		}
		if err := ValidateUnit(a.code); err != nil {
			t.Errorf("atom %q does not validate: %v", a.code, err)
		}
		if a.metric {
			if err := ValidateUnit("m" + a.code); err != nil && !strings.Contains(a.code, "'") {
				t.Errorf("metric atom %q does not take prefix m: %v", a.code, err)
			}
		}
	}
	if len(ucumAtoms) < 300 {
		t.Errorf("the atom table has %d entries; UCUM's essence has over 300", len(ucumAtoms))
	}
}
