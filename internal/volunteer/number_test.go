package volunteer

import (
	"strings"
	"testing"
	"time"
)

func TestFormatNumber(t *testing.T) {
	reg := NewDate(2024, time.March, 7)
	tests := []struct {
		pattern, site string
		seq           int64
		want          string
	}{
		{"V{seq:6}", "", 42, "V000042"},
		{"V{seq:6}", "AMS", 999999, "V999999"},
		{"{site}-{yy}{seq:5}", "AMS", 17, "AMS-2400017"},
		{"{site}/{yyyy}/{mm}/{seq}", "B2", 5, "B2/2024/03/5"},
		{"{{V}}{seq:3}", "", 1, "{V}001"},
		{"{seq:1}", "", 0, "0"},
	}
	for _, tt := range tests {
		got, err := FormatNumber(tt.pattern, tt.site, reg, tt.seq)
		if err != nil || got != tt.want {
			t.Errorf("FormatNumber(%q, %q, %v, %d) = %q, %v; want %q", tt.pattern, tt.site, reg, tt.seq, got, err, tt.want)
			continue
		}
		p, _ := ParseNumberPattern(tt.pattern)
		if !p.Matches(got) {
			t.Errorf("pattern %q does not match its own number %q", tt.pattern, got)
		}
		if seq, ok := p.Sequence(got); !ok || seq != tt.seq {
			t.Errorf("Sequence(%q) = %d, %v; want %d", got, seq, ok, tt.seq)
		}
	}
}

func TestFormatNumberErrors(t *testing.T) {
	reg := NewDate(2024, time.March, 7)
	tests := []struct {
		pattern, site string
		date          Date
		seq           int64
		want          string
	}{
		{"V{seq:6}", "", reg, 1000000, "does not fit the 6 digits"},
		{"V{seq:6}", "", reg, -1, "negative"},
		{"{site}{seq:4}", "", reg, 1, "needs a site"},
		{"{site}{seq:4}", "AM S", reg, 1, `"AM S" cannot be part of a volunteer number`},
		{"{yy}{seq:4}", "", Date{}, 1, "needs a registration date"},
		{"{mm}{seq:4}", "", Date{Year: 2024}, 1, "needs a registration date"},
		{"V{seq:4}{seq:2}", "", reg, 1, "2 sequence placeholders"},
	}
	for _, tt := range tests {
		_, err := FormatNumber(tt.pattern, tt.site, tt.date, tt.seq)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FormatNumber(%q, %q, %v, %d) error = %v, want %q", tt.pattern, tt.site, tt.date, tt.seq, err, tt.want)
		}
	}
	var unparsed NumberPattern
	if _, err := unparsed.Format("", reg, 1); err == nil {
		t.Errorf("the zero NumberPattern formatted a number")
	}
}

func TestValidateNumberPattern(t *testing.T) {
	tests := map[string]string{
		"V{seq:6}":             "",
		"{site}-{yy}{seq:5}":   "",
		"":                     "it is empty",
		"V000":                 "has no {seq:N} placeholder",
		"V{seq:0}":             "width from 1 to 18",
		"V{seq:19}":            "width from 1 to 18",
		"V{seq:x}":             "width from 1 to 18",
		"V{sequence}":          "{sequence} at position 2 is not a placeholder",
		"V{seq:6":              "{ at position 2 is never closed",
		"V}{seq:6}":            "} at position 2 closes nothing",
		"V {seq:6}":            "whitespace",
		"{site}{seq:3}{seq:3}": "2 sequence placeholders",
	}
	for pattern, want := range tests {
		err := ValidateNumberPattern(pattern)
		switch {
		case want == "" && err != nil:
			t.Errorf("ValidateNumberPattern(%q) = %v", pattern, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ValidateNumberPattern(%q) = %v, want error containing %q", pattern, err, want)
		}
	}
}

func TestNumberPatternMatchesAndCounterKey(t *testing.T) {
	p, err := ParseNumberPattern("{site}-{yy}{seq:5}")
	if err != nil {
		t.Fatal(err)
	}
	for number, want := range map[string]bool{
		"AMS-2400017": true, "AMS-240017": false, "AMS-24000170": false, "-2400017": false, "AMS2400017": false, "ams-2400017": true,
	} {
		if got := p.Matches(number); got != want {
			t.Errorf("Matches(%q) = %v, want %v", number, got, want)
		}
	}
	if _, ok := p.Sequence("nonsense"); ok {
		t.Errorf("Sequence of a number that does not match")
	}
	k1, _ := p.CounterKey("AMS", NewDate(2024, time.January, 1))
	k2, _ := p.CounterKey("AMS", NewDate(2024, time.December, 31))
	k3, _ := p.CounterKey("AMS", NewDate(2025, time.January, 1))
	k4, _ := p.CounterKey("LDN", NewDate(2024, time.January, 1))
	if k1 != "AMS-24{seq}" || k1 != k2 || k1 == k3 || k1 == k4 {
		t.Errorf("counter keys: %q %q %q %q", k1, k2, k3, k4)
	}
	single, _ := ParseNumberPattern("V{seq:6}")
	a, _ := single.CounterKey("AMS", NewDate(2024, time.January, 1))
	b, _ := single.CounterKey("LDN", NewDate(2030, time.May, 1))
	if a != b {
		t.Errorf("a pattern without site or date should have one counter: %q, %q", a, b)
	}
	if single.String() != "V{seq:6}" {
		t.Errorf("String() = %q", single.String())
	}
}
