package volunteer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func testLists() CodeLists {
	l := CodeLists{}
	l.Add(ListSite, "AMS", "LDN")
	l.Add(ListRace, "WHITE", "BLACK", "ASIAN")
	l.Add(ListRecruitmentSource, "RADIO", "WEB")
	l.Add(ListMedicalHistory, "ASTHMA", "HTN")
	l.Add(ListMedications, "SALBUTAMOL")
	l.Add(ListSubstanceUse, "ALCOHOL", "TOBACCO")
	l.Add(ListQuestion, "GP_NAME", "SMOKER")
	return l
}

func testConfig() ImportConfig {
	return ImportConfig{
		Mapping: map[string]string{
			"Number":          FieldNumber,
			"First name":      FieldGivenName,
			"Surname":         FieldFamilyName,
			"Date of birth":   FieldBirthDate,
			"Sex":             FieldSexAtBirth,
			"Mobile":          ImportMobilePhone,
			"Home phone":      ImportHomePhone,
			"E-mail":          FieldEmail,
			"Site":            FieldPreferredSite,
			"Status":          FieldStatus,
			"Source":          FieldRecruitmentSource,
			"Medical history": FieldMedicalHistory,
			"Smokes":          FieldSubstanceUse,
			"GP":              ImportAnswer + "GP_NAME",
		},
		DateFormats:        []string{"02/01/2006"},
		Lists:              testLists(),
		DefaultCallingCode: "31",
		PHIQuestions:       map[string]bool{"GP_NAME": true},
		Today:              NewDate(2025, time.June, 15),
	}
}

// importAll runs Import and keeps copies of every row.
func importAll(t *testing.T, data string, cfg ImportConfig) ([]ImportedRow, Report, error) {
	t.Helper()
	var rows []ImportedRow
	rep, err := Import(context.Background(), strings.NewReader(data), cfg, func(r ImportedRow) error {
		r.Record = slices.Clone(r.Record)
		rows = append(rows, r)
		return nil
	})
	return rows, rep, err
}

const goodHeader = "number,first name, SURNAME ,Date of birth,Sex,Mobile,Home phone,E-mail,Site,Status,Source,Medical history,Smokes,GP\n"

func TestImportGoodFile(t *testing.T) {
	data := "\xEF\xBB\xBF" + goodHeader +
		`V000001,Jan Willem,de  Vries,12/05/1984,M,06 1234 5678,,JW@Example.COM,AMS,,RADIO,ASTHMA@1995; HTN@03/04/2019,ALCOHOL,"Dr. Bakker, Utrecht"` + "\n" +
		`V000002,Zoë,Ögünleye,1/2/1990,f,+44 7700 900123,020 123 4567,,LDN,Do not contact,WEB,,,` + "\n" +
		",,,,,,,,,,,,,\n"
	rows, rep, err := importAll(t, data, testConfig())
	if err != nil {
		t.Fatalf("Import: %v\n%v", err, rep.Problems)
	}
	if rep.Rows != 2 || rep.Accepted != 2 || rep.Rejected != 0 || len(rep.Problems) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	jan := rows[0].Volunteer
	want := Volunteer{
		Number: "V000001", GivenName: "Jan Willem", FamilyName: "de Vries", BirthDate: NewDate(1984, time.May, 12),
		SexAtBirth: SexMale, Phones: []Phone{{Kind: PhoneMobile, Number: "+31612345678"}}, Email: "JW@example.com",
		PreferredSite: "AMS", Status: StatusActive, RecruitmentSource: "RADIO",
		MedicalHistory: []CodedEntry{{Code: "ASTHMA", Start: Date{Year: 1995}}, {Code: "HTN", Start: NewDate(2019, time.April, 3)}},
		SubstanceUse:   []CodedEntry{{Code: "ALCOHOL"}},
		Answers:        []Answer{{Question: "GP_NAME", Value: "Dr. Bakker, Utrecht", PHI: true}},
	}
	if fmt.Sprintf("%+v", jan) != fmt.Sprintf("%+v", want) {
		t.Errorf("row 2 =\n%+v\nwant\n%+v", jan, want)
	}
	if rows[0].Row != 2 || rows[1].Row != 3 || rows[1].Line != 3 {
		t.Errorf("row numbers %d, %d (line %d)", rows[0].Row, rows[1].Row, rows[1].Line)
	}
	zoe := rows[1].Volunteer
	if zoe.GivenName != "Zoë" || zoe.FamilyName != "Ögünleye" || zoe.BirthDate != NewDate(1990, time.February, 1) ||
		zoe.Status != StatusDoNotContact || len(zoe.Phones) != 2 || zoe.Phones[1] != (Phone{Kind: PhoneHome, Number: "+31201234567"}) {
		t.Errorf("row 3 = %+v", zoe)
	}
}

func TestImportRowProblems(t *testing.T) {
	cfg := testConfig()
	cfg.DateFormats = []string{"02/01/2006", "2006-01-02"}
	data := goodHeader +
		"V1,Jan,Smit,31/02/1990,M,,,,,,,,,\n" + // row 2: impossible date
		"V2,Jan,Smit,12/05/2090,M,,,,,,,,,\n" + // row 3: future
		"V3,Jan,Smit,1990,M,,,,,,,,,\n" + // row 4: partial
		"V4,Jan,Smit,12/05/1990,M,,,,PAR,,TV,ASTHMA; GOUT,CANNABIS,\n" + // row 5: unknown codes
		"V5,,Smit,12/05/1990,Q,12ab,,jan@,AMS,retired,,,,\n" + // row 6: several problems
		"V6,Jan,Smit\n" + // row 7: too few cells
		"V7,Jan,Smit,12/05/1990,M,,,,,,,ASTHMA@13/13/2010,,\n" // row 8: bad date in a coded entry
	rows, rep, err := importAll(t, data, cfg)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if rep.Rows != 7 || rep.Rejected != 7 || rep.Accepted != 0 || len(rows) != 7 {
		t.Fatalf("report = %+v", rep)
	}
	want := []string{
		`Row 2, column "Date of birth": The date of birth "31/02/1990" is not a date in the declared format DD/MM/YYYY or YYYY-MM-DD.`,
		`Row 3, column "Date of birth": The date of birth 2090-05-12 is in the future.`,
		`Row 4, column "Date of birth": The date of birth 1990-**-** is incomplete; eligibility needs the exact day.`,
		`Row 5, column "Site": The site PAR is not one of the unit's sites.`,
		`Row 5, column "Source": The recruitment source TV is not in the recruitment source list.`,
		`Row 5, column "Medical history": The code GOUT is not in the medical history list.`,
		`Row 5, column "Smokes": The code CANNABIS is not in the substance use list.`,
		`Row 6, column "first name": The given name is missing.`,
		`Row 6, column "Sex": The sex at birth "Q" is not known; use "female" (F), "male" (M) or "intersex" (X).`,
		`Row 6, column "Mobile": The phone number "12ab" is not valid: it contains letters (put an extension in the notes).`,
		`Row 6, column "E-mail": The email address "jan@" is not valid: there is nothing after the @.`,
		`Row 6, column "Status": The status "retired" is not known; use "active", "inactive", "do-not-contact", "deceased" or "privacy-removed".`,
		`Row 7: The row has 3 cells but the header has 14 columns; check for a missing or extra separator.`,
		`Row 8, column "Medical history": The medical history entry "ASTHMA@13/13/2010" has the start date "13/13/2010", which is not a date in the declared format DD/MM/YYYY or YYYY-MM-DD.`,
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each rejected row carries its own problems.
	if len(rows[4].Problems) != 5 || rows[4].Problems[0].Field != FieldGivenName || rows[4].Problems[0].Row != 6 {
		t.Errorf("row 6 problems = %+v", rows[4].Problems)
	}
}

func TestImportRaces(t *testing.T) {
	cfg := testConfig()
	cfg.Mapping = map[string]string{"First name": FieldGivenName, "Surname": FieldFamilyName, "Date of birth": FieldBirthDate, "Race": FieldRaces}
	rows, rep, err := importAll(t, "First name,Surname,Date of birth,Race\nJan,Smit,12/05/1990,WHITE; ASIAN\nPiet,Bos,12/05/1990,WHITE;PURPLE\n", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0].Volunteer.Races, []string{"WHITE", "ASIAN"}) || !rows[0].OK() {
		t.Errorf("row 2 = %+v", rows[0])
	}
	if rows[1].OK() || rep.Problems[0].String() != `Row 3, column "Race": The race PURPLE is not in the race list.` {
		t.Errorf("problems = %v", rep.Problems)
	}
}

func TestImportRowNumbers(t *testing.T) {
	cfg := testConfig()
	cfg.Mapping = map[string]string{"First name": FieldGivenName, "Surname": FieldFamilyName, "Date of birth": FieldBirthDate, "Notes": FieldNotes}
	data := "First name,Surname,Date of birth,Notes\n" + // row 1
		"Jan,Smit,12/05/1990,\n" + // row 2
		"\n" + // row 3: blank, skipped by encoding/csv
		",,,\n" + // row 4: empty cells
		"Piet,Bos,01/01/1990,\"two\nlines\"\n" + // row 5, lines 5-6
		"Kees,,01/01/1990,\n" // row 6, line 7
	rows, rep, err := importAll(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	type pos struct{ row, line int }
	var got []pos
	for _, r := range rows {
		got = append(got, pos{r.Row, r.Line})
	}
	if want := []pos{{2, 2}, {5, 5}, {6, 7}}; !slices.Equal(got, want) {
		t.Errorf("row and line numbers = %v, want %v", got, want)
	}
	if rep.Rows != 3 || len(rep.Problems) != 1 || rep.Problems[0].String() != `Row 6 (line 7), column "Surname": The family name is missing.` {
		t.Errorf("report = %+v", rep)
	}
}

func TestImportAmbiguousDate(t *testing.T) {
	cfg := testConfig()
	cfg.DateFormats = []string{"02/01/2006", "01/02/2006"}
	data := goodHeader + "V1,Jan,Smit,03/04/1990,M,,,,,,,,,\nV2,Jan,Smit,13/04/1990,M,,,,,,,,,\n"
	rows, rep, err := importAll(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 1 || !strings.Contains(rep.Problems[0].Message, "is ambiguous: the declared formats read it as 1990-04-03 and 1990-03-04") {
		t.Errorf("problems = %v", rep.Problems)
	}
	if !rows[1].OK() || rows[1].Volunteer.BirthDate != NewDate(1990, time.April, 13) {
		t.Errorf("a date only one format reads should be accepted: %+v", rows[1])
	}
}

func TestImportEncodings(t *testing.T) {
	utf16 := func(s string, bom bool) string {
		var b []byte
		if bom {
			b = append(b, 0xFF, 0xFE)
		}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return string(b)
	}
	tests := []struct {
		name     string
		data     string
		row      int
		column   string
		want     string
		accepted int // rows handed over before the problem
	}{
		{"UTF-16 with BOM", utf16(goodHeader, true), 1, "", "UTF-16 or UTF-32 encoded", 0},
		{"UTF-16 big-endian BOM", "\xFE\xFF\x00n", 1, "", "UTF-16 or UTF-32 encoded", 0},
		{"UTF-16 without BOM", utf16(goodHeader, false), 1, "column 1", "NUL bytes: the file looks UTF-16 encoded", 0},
		{"Latin-1 in a row", goodHeader + "V1,Jan,Smit,12/05/1990,M,,,,,,,,,\nV2,Ren\xE9,Smit,12/05/1990,M,,,,,,,,,\n", 3, "first name",
			"Byte 0xE9 at position 4 of the cell is not UTF-8: the file seems to be saved in another encoding, such as Windows-1252", 1},
		{"Latin-1 in an unmapped column", strings.TrimSuffix(goodHeader, "\n") + ",Remark\nV1,Jan,Smit,12/05/1990,M,,,,,,,,,,caf\xE9\n", 2, "Remark",
			"Byte 0xE9 at position 4", 0},
		{"Windows-1252 in the header", "First name,Surname,Geb\x9Ertedatum\n", 1, "column 3", "Byte 0x9E at position 4", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rep, err := importAll(t, tt.data, testConfig())
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Import error = %v, want a FileError", err)
			}
			p := fe.Problems[0]
			if p.Row != tt.row || p.Column != tt.column || !strings.Contains(p.Message, tt.want) {
				t.Errorf("problem = %+v, want row %d column %q message containing %q", p, tt.row, tt.column, tt.want)
			}
			if len(rows) != tt.accepted {
				t.Errorf("%d rows handed over before the problem, want %d", len(rows), tt.accepted)
			}
			if len(rep.Problems) == 0 || rep.Problems[len(rep.Problems)-1] != p {
				t.Errorf("the report does not end with the file problem: %v", rep.Problems)
			}
		})
	}
}

func TestImportMissingColumns(t *testing.T) {
	data := "number,first name,Sex,Mobile\nV1,Jan,M,0612345678\n"
	_, rep, err := importAll(t, data, testConfig())
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Import error = %v, want a FileError", err)
	}
	want := []string{
		`Row 1, column "Surname": The required column "Surname" (family name) is not in the file.`,
		`Row 1, column "Date of birth": The required column "Date of birth" (date of birth) is not in the file.`,
	}
	var got []string
	for _, p := range fe.Problems {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Rows != 0 {
		t.Errorf("rows were read although the file cannot be imported: %d", rep.Rows)
	}

	cfg := testConfig()
	delete(cfg.Mapping, "Surname")
	_, _, err = importAll(t, goodHeader, cfg)
	if !errors.As(err, &fe) || len(fe.Problems) != 1 || fe.Problems[0].String() != "The mapping has no column for the family name, which is required." {
		t.Errorf("mapping without a required field: %v", err)
	}
}

func TestImportMappingProblems(t *testing.T) {
	t.Run("unknown field", func(t *testing.T) {
		cfg := testConfig()
		cfg.Mapping["Shoe size"] = "shoe_size"
		_, _, err := importAll(t, goodHeader, cfg)
		if err == nil || !strings.Contains(err.Error(), `The mapping sends column "Shoe size" to "shoe_size", which is not a volunteer field.`) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("two present columns for one field", func(t *testing.T) {
		cfg := testConfig()
		cfg.Mapping["Last name"] = FieldFamilyName
		_, _, err := importAll(t, "First name,Surname,Last name,Date of birth\n", cfg)
		if err == nil || !strings.Contains(err.Error(), `"Last name" and "Surname" are both mapped to the family name`) &&
			!strings.Contains(err.Error(), `"Surname" and "Last name" are both mapped to the family name`) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("alternative headers", func(t *testing.T) {
		cfg := testConfig()
		cfg.Mapping["Last name"] = FieldFamilyName
		rows, rep, err := importAll(t, "First name,Last name,Date of birth\nJan,Smit,12/05/1990\n", cfg)
		if err != nil || len(rows) != 1 || rows[0].Volunteer.FamilyName != "Smit" {
			t.Fatalf("rows = %+v, err = %v", rows, err)
		}
		// Optional mapped columns that are absent are warned about once each.
		var warned []string
		for _, p := range rep.Problems {
			if !p.Warning {
				t.Errorf("unexpected problem %v", p)
			}
			warned = append(warned, p.Column)
		}
		if slices.Contains(warned, "Surname") || !slices.Contains(warned, "E-mail") || !slices.Contains(warned, "GP") {
			t.Errorf("warnings for columns %v", warned)
		}
	})
	t.Run("repeated header", func(t *testing.T) {
		_, _, err := importAll(t, "First name,Surname,Date of birth,surname\n", testConfig())
		if err == nil || !strings.Contains(err.Error(), `The header has the column "surname" twice (columns 2 and 4)`) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("unmapped column", func(t *testing.T) {
		_, rep, err := importAll(t, "First name,Surname,Date of birth,Shoe size\nJan,Smit,12/05/1990,44\n", testConfig())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range rep.Problems {
			if p.Warning && p.String() == `Row 1, column "Shoe size": warning: The column "Shoe size" is not in the mapping, so it is not imported.` {
				found = true
			}
		}
		if !found || rep.Accepted != 1 {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, _, err := importAll(t, "", testConfig())
		if err == nil || !strings.Contains(err.Error(), "The file is empty") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("malformed quotes", func(t *testing.T) {
		_, rep, err := importAll(t, "First name,Surname,Date of birth\nJan,\"Smit,12/05/1990\nPiet,Bos\"x,1/1/1990\n", testConfig())
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Problems[0].Message, "not valid CSV at line 3") {
			t.Errorf("error = %v, report %+v", err, rep)
		}
	})
	t.Run("no list lookup", func(t *testing.T) {
		cfg := testConfig()
		cfg.Lists = nil
		if _, _, err := importAll(t, goodHeader, cfg); err == nil {
			t.Errorf("Import without lists succeeded")
		}
	})
}

func TestImportSemicolonsAndNumberPattern(t *testing.T) {
	cfg := testConfig()
	cfg.Comma = ';'
	p, err := ParseNumberPattern("V{seq:6}")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumberPattern = p
	data := "Number;First name;Surname;Date of birth\nV000001;Jan;Smit;12/05/1990\nX12;Piet;Bos;01/01/1990\n"
	rows, rep, err := importAll(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].OK() || rows[1].OK() {
		t.Fatalf("rows = %+v", rows)
	}
	var msgs []string
	for _, p := range rep.Problems {
		if !p.Warning {
			msgs = append(msgs, p.String())
		}
	}
	if want := `Row 3, column "Number": The volunteer number "X12" does not match the pattern V{seq:6}.`; !slices.Equal(msgs, []string{want}) {
		t.Errorf("problems = %q", msgs)
	}
}

func TestRejectWriter(t *testing.T) {
	data := "First name,Surname,Date of birth,Problem\nJan,Smit,12/05/2090,x\nPiet,Bos,01/01/1990,y\n,\"de Vries, Jr.\",1/1/1990\n"
	var out bytes.Buffer
	rw := NewRejectWriter(&out)
	rep, err := Import(context.Background(), strings.NewReader(data), testConfig(), func(r ImportedRow) error {
		if r.OK() {
			return nil
		}
		return rw.Write(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "First name,Surname,Date of birth,Problem,import problem\n" +
		"Jan,Smit,12/05/2090,x,\"Column \"\"Date of birth\"\": The date of birth 2090-05-12 is in the future.\"\n" +
		",\"de Vries, Jr.\",1/1/1990,,The row has 3 cells but the header has 4 columns; check for a missing or extra separator.\n"
	if out.String() != want {
		t.Errorf("rejected rows:\n%s\nwant:\n%s", out.String(), want)
	}
	if rep.Rejected != 2 || rep.Accepted != 1 {
		t.Errorf("report = %+v", rep)
	}
	// The output is CSV the import reads again.
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Errorf("reading rejected rows back: %d records, %v", len(recs), err)
	}
}

func TestImportCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("First name,Surname,Date of birth\n")
	for range 50 {
		b.WriteString(",Smit,1990\n") // two problems a row
	}
	cfg := testConfig()
	cfg.Mapping = map[string]string{"First name": FieldGivenName, "Surname": FieldFamilyName, "Date of birth": FieldBirthDate}
	cfg.MaxProblems = 10
	rows, rep, err := importAll(t, b.String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 10 || rep.Omitted != 90 || rep.Rejected != 50 || len(rows) != 50 {
		t.Errorf("kept %d problems, omitted %d, rejected %d, handed over %d", len(rep.Problems), rep.Omitted, rep.Rejected, len(rows))
	}
	if len(rows[49].Problems) != 2 {
		t.Errorf("the last row lost its problems: %v", rows[49].Problems)
	}
}

func TestImportStops(t *testing.T) {
	data := goodHeader + strings.Repeat("V1,Jan,Smit,12/05/1990,M,,,,,,,,,\n", 10)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Import(ctx, strings.NewReader(data), testConfig(), func(ImportedRow) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("after cancel: %d rows, err %v", n, err)
	}
	stop := errors.New("disk full")
	_, err = Import(context.Background(), strings.NewReader(data), testConfig(), func(r ImportedRow) error {
		if r.Row == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "row 4") {
		t.Errorf("callback error = %v", err)
	}
	_, err = Import(context.Background(), iotestErrReader{}, testConfig(), func(ImportedRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "could not be read") {
		t.Errorf("read error = %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
