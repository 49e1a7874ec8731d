package lab

import (
	"fmt"
	"strings"
)

// ValidateLOINC checks that code is a LOINC code: a number of one to seven
// digits, a hyphen and its check digit, as in "2345-7". The check digit
// catches most mistyped codes before they are sent to a central lab.
func ValidateLOINC(code string) error {
	number, check, ok := strings.Cut(code, "-")
	if !ok || len(check) != 1 || !allDigits(check) || !allDigits(number) || len(number) > 7 {
		return fmt.Errorf("LOINC code %q is not of the form 12345-6 (digits, a hyphen and one check digit)", code)
	}
	want, err := LOINCCheckDigit(number)
	if err != nil {
		return err
	}
	if int(check[0]-'0') != want {
		return fmt.Errorf("LOINC code %q has check digit %s, but %s gives %d: the code is mistyped", code, check, number, want)
	}
	return nil
}

// LOINCCheckDigit computes the check digit LOINC appends to number, using
// LOINC's mod 10 algorithm (the Luhn scheme): from the rightmost digit
// leftwards, every other digit starting with the rightmost is doubled, the
// digits of all the results are summed, and the check digit is what brings
// that sum to a multiple of ten.
func LOINCCheckDigit(number string) (int, error) {
	if !allDigits(number) {
		return 0, fmt.Errorf("LOINC number %q must be digits only", number)
	}
	sum := 0
	for i := 0; i < len(number); i++ {
		d := int(number[len(number)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10, nil
}
