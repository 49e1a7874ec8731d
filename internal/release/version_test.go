package release_test

import (
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/release"
)

func TestVersionsParseAndCompare(t *testing.T) {
	for _, s := range []string{"26.1", "26.12", "26.1.1", "99.9999.9999", "05.3"} {
		v, err := release.ParseVersion(s)
		if err != nil || v.String() != s {
			t.Errorf("ParseVersion(%q) = %v, %v; want it back unchanged", s, v, err)
		}
	}
	for _, s := range []string{"", "dev", "26", "v26.1", "2026.1", "26.0", "26.01", "26.1.0", "26.1.1.1", "26.1-rc1", " 26.1x"} {
		if _, err := release.ParseVersion(s); err == nil || !strings.Contains(err.Error(), "a release is YY.N") {
			t.Errorf("ParseVersion(%q) accepted or said %v", s, err)
		}
	}
	order := []string{"25.9", "26.1", "26.1.1", "26.1.2", "26.1.10", "26.2", "26.10", "27.1"}
	for i := range order {
		for j := range order {
			a, _ := release.ParseVersion(order[i])
			b, _ := release.ParseVersion(order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := release.Compare(a, b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	if v, _ := release.ParseVersion("26.2.3"); !v.IsHotfix() || v.Base().String() != "26.2" {
		t.Errorf("26.2.3: hotfix %v of %s", v.IsHotfix(), v.Base())
	}
	if release.CompareBuilds("26.1", "9", "26.1", "10") >= 0 {
		t.Error("build 9 is not older than build 10 (build numbers compare as numbers)")
	}
	if release.CompareBuilds("dev", "0", "26.1", "1") >= 0 {
		t.Error("a development build sorts after a release")
	}
}

func TestBuildReferences(t *testing.T) {
	for in, want := range map[string][2]string{"26.2": {"26.2", ""}, "26.2+7": {"26.2", "7"}, " 26.2.1+12 ": {"26.2.1", "12"}, "test+42": {"test", "42"}} {
		v, n, err := release.ParseRef(in)
		if err != nil || v != want[0] || n != want[1] {
			t.Errorf("ParseRef(%q) = %q, %q, %v; want %q", in, v, n, err, want)
		}
	}
	for _, in := range []string{"", "+7", "26.2+", "26.2+x"} {
		if _, _, err := release.ParseRef(in); err == nil {
			t.Errorf("ParseRef(%q) accepted", in)
		}
	}
}

func TestWhichHotfixesAreOffered(t *testing.T) {
	hotfix := func(v, n string) release.Build {
		b := release.Build{Version: v, Number: n}
		if pv, err := release.ParseVersion(v); err == nil && pv.IsHotfix() {
			b.Base = pv.Base().String()
		}
		return b
	}
	run := func(v, n string) console.Build { return console.Build{Version: v, Number: n} }
	cases := []struct {
		hotfix  release.Build
		running console.Build
		offered bool
	}{
		{hotfix("26.1.1", "8"), run("26.1", "7"), true},
		{hotfix("26.1.2", "9"), run("26.1.1", "8"), true},  // an earlier hotfix of the base
		{hotfix("26.1.1", "9"), run("26.1.1", "8"), true},  // a newer build of the same hotfix
		{hotfix("26.1.1", "8"), run("26.1.1", "8"), false}, // already running it
		{hotfix("26.1.1", "8"), run("26.1.2", "9"), false}, // running a later hotfix
		{hotfix("26.1.1", "8"), run("26.2", "10"), false},  // another release
		{hotfix("26.2.1", "11"), run("26.1", "7"), false},  // a hotfix of another release
		{hotfix("26.2", "10"), run("26.1", "7"), false},    // a release is never offered
		{hotfix("26.1.1", "8"), run("dev", "0"), false},    // a development build
		{hotfix("26.1.1", "8"), run("test", "42"), false},
	}
	for _, c := range cases {
		if got := release.Offered(c.hotfix, c.running); got != c.offered {
			t.Errorf("hotfix %s to an instance on %s: offered %v, want %v", c.hotfix, c.running, got, c.offered)
		}
	}
}
