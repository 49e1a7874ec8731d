package synthetic

import (
	"encoding/csv"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// BenchmarkGenerate makes volunteers in batches of 10,000 (50 batches is the
// 500,000-volunteer benchmark database). The baseline, measured in the same
// run, is writing the same volunteers as CSV rows: the cheapest thing a
// consumer does with them, so a ratio near or below 1 means generation is not
// what a load test waits for.
func BenchmarkGenerate(b *testing.B) {
	const batch = 10000
	cfg := DefaultConfig()
	var vs []volunteer.Volunteer
	if err := Generate(1, batch, cfg, func(v volunteer.Volunteer) error { vs = append(vs, v); return nil }); err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(io.Discard)
	row := make([]string, 12)
	var tb, tw time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for _, v := range vs {
			phone := ""
			if len(v.Phones) > 0 {
				phone = v.Phones[0].Number
			}
			row = append(row[:0], v.Number, v.GivenName, v.FamilyName, v.OtherNames, v.BirthDate.String(), string(v.SexAtBirth),
				phone, v.Email, v.Address.Line1, v.Address.PostalCode, v.Address.City, strconv.Itoa(len(v.Participations)))
			_ = w.Write(row)
		}
		w.Flush()
		t1 := time.Now()
		count := 0
		if err := Generate(int64(n), batch, cfg, func(volunteer.Volunteer) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		tw += time.Since(t1)
		tb += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(tw.Nanoseconds())/float64(n*batch), "ns/volunteer")
	b.ReportMetric(float64(tw)/float64(tb), "x-csv-write")
}
