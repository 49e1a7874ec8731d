package volunteer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date without a time of day or time zone. A birth date is
// the same day wherever the server runs, which time.Time cannot promise.
//
// A Date may be partial: Day 0 means only the year and month are known and
// Month 0 means only the year is known. Migrated medical history ("asthma since
// 2010") and masked birth dates need partial dates; rules that need a complete
// date check IsComplete. The zero Date means "not recorded".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the complete date y-m-d. It does not normalise out-of-range
// values (unlike time.Date), so Valid reports them instead of silently moving
// the date.
func NewDate(y int, m time.Month, d int) Date { return Date{Year: y, Month: m, Day: d} }

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// Today returns the current date in the server's local time zone, which is the
// clinic's: "in the future" must mean the clinic's tomorrow, not UTC's.
func Today() Date { return DateOf(time.Now()) }

// IsZero reports whether the date is not recorded.
func (d Date) IsZero() bool { return d == Date{} }

// IsComplete reports whether year, month and day are all known.
func (d Date) IsComplete() bool { return d.Day != 0 && d.Month != 0 && d.Year != 0 }

// Valid reports whether the date is zero or exists in the calendar (a partial
// date is valid when its known parts are).
func (d Date) Valid() bool {
	if d.IsZero() {
		return true
	}
	if d.Year < 1 || d.Year > 9999 || d.Month < 0 || d.Month > 12 || d.Day < 0 {
		return false
	}
	if d.Month == 0 {
		return d.Day == 0
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String formats the date for people and for storage: "1984-05-12", or with
// unknown parts as stars, "1984-05-**" and "1984-**-**", which reads as
// "unknown" on screen where a bare "1984" reads as a number. The zero date is
// "". ParseDate reads every form String writes.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	b := make([]byte, 0, 10)
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	if d.Month == 0 {
		return string(append(b, "**-**"...))
	}
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	if d.Day == 0 {
		return string(append(b, "**"...))
	}
	return string(appendPadded(b, d.Day, 2))
}

// ISO formats the date as ISO 8601 with reduced precision ("1984-05-12",
// "1984-05", "1984"), the form CDISC ODM and other exchange formats expect.
func (d Date) ISO() string {
	switch {
	case d.IsZero():
		return ""
	case d.Month == 0:
		return string(appendPadded(nil, d.Year, 4))
	case d.Day == 0:
		return d.String()[:7]
	}
	return d.String()
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// ParseDate reads a date written by String or ISO: "1984-05-12", "1984-05-**",
// "1984-**-**", "1984-05" or "1984". Other layouts (such as "12/05/1984") are
// the CSV import's business, where the file declares them.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "-")
	if s == "" || len(parts) > 3 {
		return Date{}, fmt.Errorf("%q is not a date like 1984-05-12", s)
	}
	var d Date
	var err error
	if d.Year, err = datePart(parts[0], 4); err != nil || d.Year == 0 {
		return Date{}, fmt.Errorf("%q is not a date like 1984-05-12: the year must have four digits", s)
	}
	if len(parts) > 1 {
		m, err := datePart(parts[1], 2)
		if err != nil {
			return Date{}, fmt.Errorf("%q is not a date like 1984-05-12: the month must have two digits or be **", s)
		}
		d.Month = time.Month(m)
	}
	if len(parts) > 2 {
		if d.Day, err = datePart(parts[2], 2); err != nil {
			return Date{}, fmt.Errorf("%q is not a date like 1984-05-12: the day must have two digits or be **", s)
		}
		if d.Month == 0 && d.Day != 0 {
			return Date{}, fmt.Errorf("%q has a day but no month", s)
		}
	}
	if !d.Valid() {
		return Date{}, fmt.Errorf("%q is not a day in the calendar", s)
	}
	return d, nil
}

// datePart reads a fixed-width number, or stars for an unknown part (0).
func datePart(s string, width int) (int, error) {
	if len(s) != width {
		return 0, fmt.Errorf("want %d characters", width)
	}
	if s == strings.Repeat("*", width) {
		return 0, nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o. Unknown
// parts count as 0, so a partial date sorts before every complete date in its
// year or month.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	}
	return cmpInt(d.Day, o.Day)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before o (see Compare).
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o (see Compare).
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Time returns midnight at the start of the date in loc. Unknown parts are taken
// as the first month or day.
func (d Date) Time(loc *time.Location) time.Time {
	m, day := d.Month, d.Day
	if m == 0 {
		m = time.January
	}
	if day == 0 {
		day = 1
	}
	return time.Date(d.Year, m, day, 0, 0, 0, 0, loc)
}

// AddDays returns the complete date n days after d (before, when n < 0).
// Unknown parts are taken as the first month or day.
func (d Date) AddDays(n int) Date { return dateOfDays(d.days() + n) }

// DaysTo returns the number of days from d to o, negative when o is before d.
// Unknown parts are taken as the first month or day.
func (d Date) DaysTo(o Date) int { return o.days() - d.days() }

// days returns the number of days from 1970-01-01 to d, with the proleptic
// Gregorian calendar arithmetic of Howard Hinnant's "chrono-compatible
// low-level date algorithms": generators and washout rules add days to
// hundreds of thousands of dates, and going through time.Time costs more
// than the rest of their work.
func (d Date) days() int {
	y, m, day := d.Year, int(d.Month), d.Day
	if m == 0 {
		m = 1
	}
	if day == 0 {
		day = 1
	}
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func dateOfDays(z int) Date {
	z += 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return Date{Year: y, Month: time.Month(m), Day: d}
}

// AgeOn returns the number of whole years from d to on: a volunteer born on
// 29 February turns a year older on 1 March in common years. Both dates must
// be complete.
func (d Date) AgeOn(on Date) int {
	age := on.Year - d.Year
	if on.Month < d.Month || (on.Month == d.Month && on.Day < d.Day) {
		age--
	}
	return age
}

// MarshalText writes the date as String does, so JSON and form values carry the
// same text people see.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the date as ParseDate does; empty text is the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
