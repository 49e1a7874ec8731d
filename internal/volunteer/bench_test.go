package volunteer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/synthetic"
)

// benchRatio runs baseline and work alternately in each iteration and reports
// work's time per item and its ratio to the baseline measured in the same
// run, so the number means the same on any machine.
func benchRatio(b *testing.B, items int, baseline, work func()) {
	var tb, tw time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		baseline()
		t1 := time.Now()
		work()
		tw += time.Since(t1)
		tb += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(tw.Nanoseconds())/float64(n*items), "ns/item")
	b.ReportMetric(float64(tw)/float64(tb), "x-baseline")
}

func volunteers(b *testing.B, n int) []volunteer.Volunteer {
	b.Helper()
	vs := make([]volunteer.Volunteer, 0, n)
	cfg := synthetic.DefaultConfig()
	cfg.DuplicateRate = 0.02
	if err := synthetic.Generate(1, n, cfg, func(v volunteer.Volunteer) error {
		vs = append(vs, v)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return vs
}

var sink int

// BenchmarkNormalizeName: baseline strings.ToLower of the same names.
func BenchmarkNormalizeName(b *testing.B) {
	var names []string
	for _, v := range volunteers(b, 2000) {
		names = append(names, v.GivenName+" "+v.FamilyName)
	}
	benchRatio(b, len(names), func() {
		for _, s := range names {
			sink += len(strings.ToLower(s))
		}
	}, func() {
		for _, s := range names {
			sink += len(volunteer.NormalizeName(s))
		}
	})
}

// BenchmarkMatchReason compares each volunteer with the next; baseline is
// the same comparisons on match keys computed beforehand, which is how
// storage should run duplicate detection over a birth-date block.
func BenchmarkMatchReason(b *testing.B) {
	vs := volunteers(b, 2000)
	keys := make([]volunteer.MatchKey, len(vs))
	for i, v := range vs {
		keys[i] = volunteer.NewMatchKey(v)
	}
	benchRatio(b, len(vs)-1, func() {
		for i := 1; i < len(keys); i++ {
			if _, ok := keys[i-1].Match(keys[i]); ok {
				sink++
			}
		}
	}, func() {
		for i := 1; i < len(vs); i++ {
			if _, ok := volunteer.MatchReason(vs[i-1], vs[i]); ok {
				sink++
			}
		}
	})
}

// BenchmarkMatchKeyBlock: comparing every pair in blocks of 30 volunteers
// (a birth-date block of a 500,000-volunteer database) with precomputed keys;
// baseline is computing the keys once.
func BenchmarkMatchKeyBlock(b *testing.B) {
	vs := volunteers(b, 3000)
	const block = 30
	var keys []volunteer.MatchKey
	benchRatio(b, len(vs), func() {
		keys = keys[:0]
		for _, v := range vs {
			keys = append(keys, volunteer.NewMatchKey(v))
		}
	}, func() {
		for s := 0; s+block <= len(keys); s += block {
			for i := s; i < s+block; i++ {
				for j := i + 1; j < s+block; j++ {
					if _, ok := keys[i].Match(keys[j]); ok {
						sink++
					}
				}
			}
		}
	})
}

// BenchmarkImport reads a CSV file of synthetic volunteers; baseline is
// encoding/csv reading the same bytes and nothing else.
func BenchmarkImport(b *testing.B) {
	vs := volunteers(b, 20000)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"Number", "Given", "Family", "Other", "Born", "Sex", "Mobile", "Email", "Street", "Postcode", "City", "Country", "Site", "Status", "Source", "History"})
	lists := volunteer.CodeLists{}
	for _, v := range vs {
		mobile := ""
		if len(v.Phones) > 0 {
			mobile = v.Phones[0].Number
		}
		var hist []string
		for _, e := range v.MedicalHistory {
			hist = append(hist, e.Code+"@"+e.Start.ISO())
			lists.Add(volunteer.ListMedicalHistory, e.Code)
		}
		lists.Add(volunteer.ListSite, v.PreferredSite)
		lists.Add(volunteer.ListRecruitmentSource, v.RecruitmentSource)
		born := ""
		if !v.BirthDate.IsZero() {
			born = v.BirthDate.Time(time.UTC).Format("02/01/2006")
		}
		_ = w.Write([]string{v.Number, v.GivenName, v.FamilyName, v.OtherNames, born,
			string(v.SexAtBirth), mobile, v.Email, v.Address.Line1, v.Address.PostalCode, v.Address.City, v.Address.Country,
			v.PreferredSite, string(v.Status), v.RecruitmentSource, strings.Join(hist, "; ")})
	}
	w.Flush()
	data := buf.Bytes()
	cfg := volunteer.ImportConfig{
		Mapping: map[string]string{
			"Number": volunteer.FieldNumber, "Given": volunteer.FieldGivenName, "Family": volunteer.FieldFamilyName,
			"Other": volunteer.FieldOtherNames, "Born": volunteer.FieldBirthDate, "Sex": volunteer.FieldSexAtBirth,
			"Mobile": volunteer.ImportMobilePhone, "Email": volunteer.FieldEmail, "Street": volunteer.FieldAddressLine1,
			"Postcode": volunteer.FieldPostalCode, "City": volunteer.FieldCity, "Country": volunteer.FieldCountry,
			"Site": volunteer.FieldPreferredSite, "Status": volunteer.FieldStatus, "Source": volunteer.FieldRecruitmentSource,
			"History": volunteer.FieldMedicalHistory,
		},
		DateFormats: []string{"02/01/2006"},
		Lists:       lists,
		Today:       volunteer.NewDate(2025, time.January, 1),
	}
	b.SetBytes(int64(len(data)))
	benchRatio(b, len(vs), func() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			sink += len(rec)
		}
	}, func() {
		rep, err := volunteer.Import(context.Background(), bytes.NewReader(data), cfg, func(r volunteer.ImportedRow) error {
			sink += len(r.Problems)
			return nil
		})
		if err != nil || rep.Rejected > 0 {
			b.Fatalf("import: %v, %+v", err, rep.Problems[:min(len(rep.Problems), 3)])
		}
	})
}
