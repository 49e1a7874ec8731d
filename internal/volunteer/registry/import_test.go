package registry_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// importMapping maps the test files' headers, which are the ones a unit's
// old system might write.
var importMapping = map[string]string{
	"First name": volunteer.FieldGivenName, "Surname": volunteer.FieldFamilyName, "DOB": volunteer.FieldBirthDate,
	"Mobile": volunteer.ImportMobilePhone, "Site": volunteer.FieldPreferredSite, "History": volunteer.FieldMedicalHistory,
	"Country": volunteer.FieldCountry, "GP": "answer.GP",
}

const goodRows = "First name,Surname,DOB,Mobile,Site,History,Country,GP\n" +
	"Jan,de Vries,12/05/1984,06 1234 5678,AMS,ASTHMA@2001,NL,Dr. Visser\n" +
	"Anna,Müller,02/01/1990,,LDN,,DE,\n"

// badRows has one good row and one of each kind of bad row.
const badRows = "First name,Surname,DOB,Mobile,Site,History,Country,GP\n" +
	"Piet,Jansen,03/03/1970,,AMS,,NL,\n" + // row 2: fine
	"Sem,Bakker,31/02/1980,,AMS,,NL,\n" + // row 3: no such day
	"Lotte,Smit,04/04/1975,,AMS,GOUT,NL,\n" + // row 4: unknown history code
	"Daan,Visser,05/05/1977,,MARS,,NL,\n" // row 5: unknown site

func count(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM volunteer").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func findProblem(rep volunteer.Report, row int, column, words string) bool {
	for _, p := range rep.Problems {
		if p.Row == row && p.Column == column && strings.Contains(p.Message, words) {
			return true
		}
	}
	return false
}

func TestImportStoresGoodFilesWithNumbersAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		res, err := registry.Import(ctx, db, c.alice, strings.NewReader(goodRows), registry.ImportOptions{
			Mapping: importMapping, DateFormats: []string{"02/01/2006"}, DefaultCallingCode: "31"})
		if err != nil || res.Imported != 2 || res.Rejected != 0 {
			t.Fatalf("good file: %+v %v", res, err)
		}
		jan, err := registry.Get(ctx, db, "V000001")
		if err != nil || jan.GivenName != "Jan" || jan.BirthDate.String() != "1984-05-12" || jan.Phones[0].Number != "+31612345678" ||
			jan.MedicalHistory[0].Code != "ASTHMA" || len(jan.Answers) != 1 || !jan.Answers[0].PHI {
			t.Fatalf("imported volunteer: %+v %v", jan.Volunteer, err)
		}
		trail := c.trail(t, "V000001")
		if len(trail) != 1 || trail[0].Action != audit.Import || trail[0].Field != registry.RecordField || !strings.Contains(trail[0].New, `"given_name":"Jan"`) {
			t.Fatalf("import audit: %+v", trail)
		}
		// The record entry is masked for readers without view_phi.
		if err := registry.MaskTrail(ctx, db, trail, false); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(trail[0].New, "Jan") || strings.Contains(trail[0].New, "Visser") || !strings.Contains(trail[0].New, `"given_name":"J***"`) {
			t.Fatalf("masked import entry: %s", trail[0].New)
		}

		// The same file again: every row is a possible duplicate.
		res, err = registry.Import(ctx, db, c.alice, strings.NewReader(goodRows), registry.ImportOptions{
			Mapping: importMapping, DateFormats: []string{"02/01/2006"}, DefaultCallingCode: "31", Mode: registry.ValidRows})
		if err != nil || res.Imported != 0 || res.Rejected != 2 || res.Duplicates != 2 ||
			!findProblem(res.Report, 2, "Surname", "may already be registered as V000001") {
			t.Fatalf("duplicates without a reason: %+v %v", res, err)
		}
		// With a reason they are imported, and the reason audited.
		res, err = registry.Import(ctx, db, c.alice, strings.NewReader(goodRows), registry.ImportOptions{
			Mapping: importMapping, DateFormats: []string{"02/01/2006"}, DefaultCallingCode: "31", DuplicateReason: "second registration desk"})
		if err != nil || res.Imported != 2 {
			t.Fatalf("duplicates with a reason: %+v %v", res, err)
		}
		var reasoned bool
		for _, e := range c.trail(t, "V000003") {
			reasoned = reasoned || e.Reason == "second registration desk" && e.Field == "possible_duplicates" && strings.Contains(e.New, "V000001")
		}
		if !reasoned {
			t.Fatalf("duplicate reason not audited: %+v", c.trail(t, "V000003"))
		}
	})
}

func TestImportRefusesBadInputRowByRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		opts := registry.ImportOptions{Mapping: importMapping, DateFormats: []string{"02/01/2006"}, DefaultCallingCode: "31"}

		// All or nothing: one bad row and nothing is stored; the report names
		// each row and column.
		res, err := registry.Import(ctx, db, c.alice, strings.NewReader(badRows), opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 0 || count(t, db) != 0 || res.Accepted != 1 || res.Rejected != 3 {
			t.Fatalf("all-or-nothing with bad rows stored %d (report %+v)", count(t, db), res)
		}
		if !findProblem(res.Report, 3, "DOB", "31/02/1980") || !findProblem(res.Report, 4, "History", "GOUT") ||
			!findProblem(res.Report, 5, "Site", "MARS") {
			t.Fatalf("report does not name row and column: %+v", res.Problems)
		}

		// Valid rows: the good row is stored, the bad ones come back as CSV
		// with a problem column.
		var rejects bytes.Buffer
		opts.Mode, opts.Rejects = registry.ValidRows, &rejects
		res, err = registry.Import(ctx, db, c.alice, strings.NewReader(badRows), opts)
		if err != nil || res.Imported != 1 || count(t, db) != 1 {
			t.Fatalf("valid rows: %+v %v (stored %d)", res, err, count(t, db))
		}
		back, err := csv.NewReader(&rejects).ReadAll()
		if err != nil || len(back) != 4 || back[0][len(back[0])-1] != "problem" || back[1][0] != "Sem" || !strings.Contains(back[3][8], "MARS") {
			t.Fatalf("rejected rows: %v %v", back, err)
		}

		// A dry run stores nothing however good the file.
		opts.DryRun, opts.Rejects = true, nil
		res, err = registry.Import(ctx, db, c.alice, strings.NewReader(goodRows), opts)
		if err != nil || res.Accepted != 2 || res.Imported != 0 || count(t, db) != 1 {
			t.Fatalf("dry run: %+v %v (stored %d)", res, err, count(t, db))
		}
		opts.DryRun = false

		// Files that cannot be read at all.
		latin1 := "First name,Surname,DOB\nRen\xe9,Dupont,01/01/1980\n"
		utf16 := "\xff\xfeF\x00i\x00"
		missing := "First name,DOB\nJan,01/01/1980\n"
		for name, file := range map[string]string{"windows-1252": latin1, "utf-16": utf16, "missing column": missing} {
			res, err := registry.Import(ctx, db, c.alice, strings.NewReader(file), opts)
			var fileErr *volunteer.FileError
			if !errors.As(err, &fileErr) || len(res.Problems) == 0 {
				t.Fatalf("%s: %v %+v", name, err, res)
			}
			var p volunteer.Problem
			for _, q := range res.Problems {
				if !q.Warning {
					p = q
					break
				}
			}
			switch name {
			case "windows-1252":
				if p.Row != 2 || p.Column != "First name" || !strings.Contains(p.Message, "UTF-8") {
					t.Errorf("%s: %v", name, p)
				}
			case "utf-16":
				if !strings.Contains(p.Message, "UTF-16") {
					t.Errorf("%s: %v", name, p)
				}
			case "missing column":
				if p.Column != "Surname" || !strings.Contains(p.Message, "required") {
					t.Errorf("%s: %v", name, p)
				}
			}
		}
		if count(t, db) != 1 {
			t.Fatalf("unreadable files stored volunteers: %d", count(t, db))
		}
	})
}

func TestImportFindsDuplicatesWithinTheFileAcrossChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClinic(t, db)
		var b strings.Builder
		b.WriteString("given_name,family_name,birth_date,preferred_site\n")
		// 1200 distinct people, then the first of them again, spelt
		// differently, in a later chunk, and twice in one chunk.
		for i := range 1200 {
			b.WriteString("Person" + strings.Repeat("x", i%7) + ",Family" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "," +
				day(1950+i%50, time.Month(1+i%12), 1+i%28).String() + ",AMS\n")
		}
		b.WriteString("PERSON,FAMILYAA,1950-01-01,AMS\n") // row 1202: the person of row 2
		b.WriteString("Twin,Twain,1999-09-09,AMS\nTwin,Twain,1999-09-09,AMS\n")
		res, err := registry.Import(ctx, db, c.alice, strings.NewReader(b.String()), registry.ImportOptions{
			Mapping: identity("given_name", "family_name", "birth_date", "preferred_site"), Mode: registry.ValidRows})
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 1201 || res.Rejected != 2 || !findProblem(res.Report, 1202, "family_name", "V000001") ||
			!findProblem(res.Report, 1204, "family_name", "row 1203 of this file") {
			t.Fatalf("import of 1203 rows: imported %d, rejected %d, problems %+v", res.Imported, res.Rejected, res.Problems)
		}
		if count(t, db) != 1201 {
			t.Fatalf("%d stored", count(t, db))
		}
	})
}
