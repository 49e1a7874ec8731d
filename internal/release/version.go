package release

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a release version: YY.N for the N-th release of year 20YY, or
// YY.N.H for its H-th hotfix.
type Version struct {
	Year, Release, Hotfix int
}

var versionPattern = regexp.MustCompile(`^([0-9]{2})\.([1-9][0-9]{0,3})(?:\.([1-9][0-9]{0,3}))?$`)

// ParseVersion reads YY.N or YY.N.H; anything else (dev, v26.1, 26.01) is
// refused with a sentence saying what a version looks like.
func ParseVersion(s string) (Version, error) {
	m := versionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a release version; a release is YY.N (e.g. 26.2) and a hotfix YY.N.H (e.g. 26.2.1).", s)
	}
	var v Version
	v.Year, _ = strconv.Atoi(m[1])
	v.Release, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Hotfix, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// IsRelease reports whether s is a release or hotfix version.
func IsRelease(s string) bool {
	_, err := ParseVersion(s)
	return err == nil
}

// String writes the version as YY.N or YY.N.H.
func (v Version) String() string {
	s := fmt.Sprintf("%02d.%d", v.Year, v.Release)
	if v.Hotfix > 0 {
		s += fmt.Sprintf(".%d", v.Hotfix)
	}
	return s
}

// IsHotfix reports whether the version is a hotfix (YY.N.H).
func (v Version) IsHotfix() bool { return v.Hotfix > 0 }

// Base is the release a hotfix fixes; a release is its own base.
func (v Version) Base() Version { return Version{Year: v.Year, Release: v.Release} }

// Compare orders versions: by year, release, then hotfix (a release comes
// before its hotfixes). It returns -1, 0 or +1.
func Compare(a, b Version) int {
	if c := cmp.Compare(a.Year, b.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Release, b.Release); c != 0 {
		return c
	}
	return cmp.Compare(a.Hotfix, b.Hotfix)
}

var numberPattern = regexp.MustCompile(`^[0-9]{1,9}$`)

// ValidNumber reports whether s is a build number: 1 to 9 digits.
func ValidNumber(s string) bool { return numberPattern.MatchString(s) }

// CompareBuilds orders two builds of any versions: by version (release
// versions parsed, others by text, before any release), then by build
// number numerically.
func CompareBuilds(av, an, bv, bn string) int {
	a, aerr := ParseVersion(av)
	b, berr := ParseVersion(bv)
	switch {
	case aerr == nil && berr == nil:
		if c := Compare(a, b); c != 0 {
			return c
		}
	case aerr == nil:
		return 1
	case berr == nil:
		return -1
	default:
		if c := strings.Compare(av, bv); c != 0 {
			return c
		}
	}
	x, _ := strconv.ParseInt(an, 10, 64)
	y, _ := strconv.ParseInt(bn, 10, 64)
	if c := cmp.Compare(x, y); c != 0 {
		return c
	}
	return strings.Compare(an, bn)
}

// ParseRef reads a build reference as the CLI takes it: VERSION or
// VERSION+NUMBER (26.2, 26.2+7). An empty number means the version's latest
// registered build.
func ParseRef(s string) (version, number string, err error) {
	version, number, _ = strings.Cut(strings.TrimSpace(s), "+")
	if version == "" {
		return "", "", fmt.Errorf("%q names no build; write VERSION or VERSION+NUMBER, e.g. 26.2 or 26.2+7.", s)
	}
	if strings.Contains(s, "+") && !ValidNumber(number) {
		return "", "", fmt.Errorf("%q names no build: the build number after + must be digits, e.g. 26.2+7.", s)
	}
	return version, number, nil
}
