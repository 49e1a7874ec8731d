package volunteer

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "1984-05-12", want: NewDate(1984, time.May, 12)},
		{in: " 1984-05-12 ", want: NewDate(1984, time.May, 12)},
		{in: "1984-05-**", want: Date{Year: 1984, Month: time.May}},
		{in: "1984-**-**", want: Date{Year: 1984}},
		{in: "1984-05", want: Date{Year: 1984, Month: time.May}},
		{in: "1984", want: Date{Year: 1984}},
		{in: "2024-02-29", want: NewDate(2024, time.February, 29)},
		{in: "2023-02-29", wantErr: true},
		{in: "1984-13-01", wantErr: true},
		{in: "1984-00-01", wantErr: true},
		{in: "1984-**-12", wantErr: true},
		{in: "84-05-12", wantErr: true},
		{in: "1984-5-12", wantErr: true},
		{in: "12/05/1984", wantErr: true},
		{in: "", wantErr: true},
		{in: "0000-01-01", wantErr: true},
		{in: "1984-05-12-01", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDate(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestDateStringISORoundTrip(t *testing.T) {
	tests := []struct {
		d          Date
		str, iso   string
		complete   bool
		validParts bool
	}{
		{NewDate(1984, time.May, 2), "1984-05-02", "1984-05-02", true, true},
		{Date{Year: 1984, Month: time.May}, "1984-05-**", "1984-05", false, true},
		{Date{Year: 984}, "0984-**-**", "0984", false, true},
		{Date{}, "", "", false, true},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.str {
			t.Errorf("%#v.String() = %q, want %q", tt.d, got, tt.str)
		}
		if got := tt.d.ISO(); got != tt.iso {
			t.Errorf("%#v.ISO() = %q, want %q", tt.d, got, tt.iso)
		}
		if got := tt.d.IsComplete(); got != tt.complete {
			t.Errorf("%#v.IsComplete() = %v", tt.d, got)
		}
		if tt.d.IsZero() {
			continue
		}
		for _, s := range []string{tt.str, tt.iso} {
			back, err := ParseDate(s)
			if err != nil || back != tt.d {
				t.Errorf("ParseDate(%q) = %#v, %v; want %#v", s, back, err, tt.d)
			}
		}
	}
}

func TestDateValid(t *testing.T) {
	tests := []struct {
		d    Date
		want bool
	}{
		{Date{}, true},
		{NewDate(2000, time.February, 29), true},
		{NewDate(1900, time.February, 29), false},
		{NewDate(2001, time.April, 31), false},
		{Date{Year: 2001, Day: 3}, false},
		{Date{Year: 2001, Month: 13}, false},
		{Date{Year: 10000}, false},
		{Date{Year: 2001, Month: time.April, Day: -1}, false},
	}
	for _, tt := range tests {
		if got := tt.d.Valid(); got != tt.want {
			t.Errorf("%#v.Valid() = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestAgeOn(t *testing.T) {
	tests := []struct {
		birth, on Date
		want      int
	}{
		{NewDate(1984, time.May, 12), NewDate(2024, time.May, 11), 39},
		{NewDate(1984, time.May, 12), NewDate(2024, time.May, 12), 40},
		{NewDate(1984, time.May, 12), NewDate(2024, time.December, 1), 40},
		// A leap-day birthday comes of age on 1 March in common years.
		{NewDate(2004, time.February, 29), NewDate(2022, time.February, 28), 17},
		{NewDate(2004, time.February, 29), NewDate(2022, time.March, 1), 18},
		{NewDate(2004, time.February, 29), NewDate(2024, time.February, 29), 20},
	}
	for _, tt := range tests {
		if got := tt.birth.AgeOn(tt.on); got != tt.want {
			t.Errorf("%v.AgeOn(%v) = %d, want %d", tt.birth, tt.on, got, tt.want)
		}
	}
}

func TestDateCompareAndAddDays(t *testing.T) {
	a, b := NewDate(2024, time.January, 31), NewDate(2024, time.February, 1)
	if !a.Before(b) || !b.After(a) || a.Compare(a) != 0 {
		t.Errorf("ordering of %v and %v is wrong", a, b)
	}
	if !(Date{Year: 2024}).Before(a) {
		t.Errorf("a year-only date should sort before the dates of its year")
	}
	if got := a.AddDays(1); got != b {
		t.Errorf("%v.AddDays(1) = %v, want %v", a, got, b)
	}
	if got := NewDate(2024, time.March, 1).AddDays(-1); got != NewDate(2024, time.February, 29) {
		t.Errorf("AddDays(-1) across a leap day = %v", got)
	}
	if got := (Date{Year: 2024, Month: time.June}).Time(time.UTC); !got.Equal(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time of a partial date = %v", got)
	}
}

func TestDateJSON(t *testing.T) {
	type rec struct {
		Born Date `json:"born"`
		Seen Date `json:"seen"`
	}
	in := rec{Born: NewDate(1990, time.July, 4), Seen: Date{Year: 2010}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"born":"1990-07-04","seen":"2010-**-**"}` {
		t.Errorf("json = %s", b)
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %#v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"born":"1990-02-30"}`), &out); err == nil {
		t.Errorf("an impossible date unmarshalled without error")
	}
	if err := json.Unmarshal([]byte(`{"born":""}`), &out); err != nil || !out.Born.IsZero() {
		t.Errorf("empty text should be the zero date, got %#v, %v", out.Born, err)
	}
}

func TestAddDaysAgreesWithTime(t *testing.T) {
	start := time.Date(1899, time.December, 25, 0, 0, 0, 0, time.UTC)
	base := DateOf(start)
	for n := -800; n < 60000; n += 7 {
		want := DateOf(start.AddDate(0, 0, n))
		if got := base.AddDays(n); got != want {
			t.Fatalf("%v.AddDays(%d) = %v, want %v", base, n, got, want)
		}
		if got := base.DaysTo(want); got != n {
			t.Fatalf("%v.DaysTo(%v) = %d, want %d", base, want, got, n)
		}
	}
	if got := NewDate(1970, time.January, 1).days(); got != 0 {
		t.Errorf("days of the Unix epoch = %d", got)
	}
}
