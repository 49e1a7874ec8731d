package volunteer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizePhone turns a phone number as people write it into E.164 form
// ("+31612345678"). It accepts spaces, hyphens, dots, slashes and parentheses,
// the "(0)" that Dutch, British and German numbers carry for national callers,
// and "00" for "+". A number without a country code is completed with
// defaultCallingCode (such as "31"), dropping the national trunk prefix 0; with
// an empty defaultCallingCode such a number is an error, because guessing the
// country would dial a stranger.
//
// Errors are sentences that quote the number.
func NormalizePhone(s, defaultCallingCode string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", &sentenceError{"The phone number is empty."}
	}
	if !isASCII(t) {
		t = norm.NFKC.String(t) // full-width digits from East Asian keyboards
	}
	t = strings.ReplaceAll(t, "(0)", "")
	digits := make([]byte, 0, 16)
	intl := false
	for i, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			intl = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		case unicode.IsLetter(r):
			return "", phoneError(s, "it contains letters (put an extension in the notes)")
		default:
			return "", phoneError(s, "it contains "+quoteRune(r)+", which is not part of a phone number")
		}
	}
	if len(digits) == 0 {
		return "", phoneError(s, "it has no digits")
	}
	if !intl && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		digits, intl = digits[2:], true
	}
	if !intl {
		cc := strings.TrimPrefix(strings.TrimSpace(defaultCallingCode), "+")
		if cc == "" {
			return "", phoneError(s, "it has no country code; write it as + and the country code, for example +31 6 12345678")
		}
		national := digits
		switch {
		case cc == "1" && len(national) == 11 && national[0] == '1':
			national = national[1:] // North American trunk prefix
		case national[0] == '0':
			national = national[1:]
		}
		digits = append([]byte(cc), national...)
	}
	switch {
	case digits[0] == '0':
		return "", phoneError(s, "country codes never start with 0")
	case len(digits) < 7:
		return "", phoneError(s, "it is too short")
	case len(digits) > 15:
		return "", phoneError(s, "it has more than the 15 digits a phone number can have")
	}
	return "+" + string(digits), nil
}

func phoneError(number, why string) error {
	return &sentenceError{"The phone number \"" + number + "\" is not valid: " + why + "."}
}

func quoteRune(r rune) string { return "\"" + string(r) + "\"" }

// CheckEmail returns an error, as a sentence quoting the address, when s is not
// a plausible email address. It is deliberately stricter than RFC 5322 (no
// quoted local parts, comments or display names: nobody registers with those
// and they hide typing mistakes) and accepts international letters on both
// sides of the @.
func CheckEmail(s string) error {
	bad := func(why string) error {
		return &sentenceError{"The email address \"" + s + "\" is not valid: " + why + "."}
	}
	at := strings.LastIndexByte(s, '@')
	switch {
	case s == "":
		return &sentenceError{"The email address is empty."}
	case strings.ContainsFunc(s, unicode.IsSpace):
		return bad("it contains a space")
	case at < 0:
		return bad("it has no @")
	case strings.Count(s, "@") > 1:
		return bad("it has more than one @")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return bad("there is nothing before the @")
	case len(local) > 64:
		return bad("the part before the @ is longer than 64 characters")
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return bad("the part before the @ has a dot at its start or end, or two dots in a row")
	case domain == "":
		return bad("there is nothing after the @")
	case len(s) > 254:
		return bad("it is longer than 254 characters")
	}
	for _, r := range local {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r)) {
			return bad("the part before the @ contains " + quoteRune(r))
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("the domain \"" + domain + "\" has no dot, as in example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad("the domain \"" + domain + "\" is not a valid domain name")
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
				return bad("the domain contains " + quoteRune(r))
			}
		}
	}
	tld := labels[len(labels)-1]
	if utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, unicode.IsLetter) < 0 {
		return bad("the domain \"" + domain + "\" does not end in a top-level domain such as .com or .nl")
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
