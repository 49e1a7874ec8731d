package lab

import "testing"

func TestValidateLOINCAcceptsPublishedCodes(t *testing.T) {
	// Codes as LOINC publishes them, check digit included.
	for _, code := range []string{
		"2345-7",  // glucose, serum or plasma
		"718-7",   // haemoglobin, blood
		"2160-0",  // creatinine, serum or plasma
		"1742-6",  // ALT, serum or plasma
		"6690-2",  // leukocytes, blood
		"777-3",   // platelets, blood
		"2823-3",  // potassium, serum or plasma
		"2951-2",  // sodium, serum or plasma
		"8867-4",  // heart rate
		"8480-6",  // systolic blood pressure
		"33914-3", // eGFR (MDRD)
		"1-8",     // the shortest possible number
	} {
		if err := ValidateLOINC(code); err != nil {
			t.Errorf("ValidateLOINC(%q) = %v, want nil", code, err)
		}
	}
}

func TestValidateLOINCRejects(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{"2345-8", `LOINC code "2345-8" has check digit 8, but 2345 gives 7: the code is mistyped`},
		{"3245-7", `LOINC code "3245-7" has check digit 7, but 3245 gives 8: the code is mistyped`},
		{"2345", `LOINC code "2345" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
		{"2345-77", `LOINC code "2345-77" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
		{"23a5-7", `LOINC code "23a5-7" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
		{"-7", `LOINC code "-7" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
		{"12345678-9", `LOINC code "12345678-9" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
		{"LP12345-6", `LOINC code "LP12345-6" is not of the form 12345-6 (digits, a hyphen and one check digit)`},
	} {
		err := ValidateLOINC(tc.code)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ValidateLOINC(%q) = %v, want %s", tc.code, err, tc.want)
		}
	}
}

func TestLOINCCheckDigit(t *testing.T) {
	for _, tc := range []struct {
		number string
		want   int
	}{
		{"2345", 7}, {"718", 7}, {"2160", 0}, {"0", 0}, {"5", 9}, {"33914", 3},
	} {
		got, err := LOINCCheckDigit(tc.number)
		if err != nil || got != tc.want {
			t.Errorf("LOINCCheckDigit(%q) = %d, %v; want %d", tc.number, got, err, tc.want)
		}
	}
	if _, err := LOINCCheckDigit("12a"); err == nil {
		t.Error(`LOINCCheckDigit("12a") accepted a non-digit`)
	}
}
