package migration_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/migration"
	"github.com/cohort-clinical/cohort/internal/migration/sample"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

func TestSpecProblemsNameLineAndKey(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"syntax", "{\n  \"name\": \"x\",\n  \"lists\": [\n}", []string{"line 4", "cannot be read"}},
		{"unknown key", "{\n  \"name\": \"x\",\n  \"volunters\": {}\n}", []string{"line 3", `"volunters" is not a key`}},
		{"wrong type", "{\n  \"name\": \"x\",\n  \"lists\": {}\n}", []string{"line 3"}},
		{"bad transform", `{
  "name": "x",
  "volunteers": {"table": "P", "key": "ID", "duplicates": "merge", "fields": [
    {"field": "given_name", "column": "N", "transforms": ["trim", "uper"]},
    {"field": "family_name", "column": "N"},
    {"field": "birth_date", "column": "D", "date_layouts": ["DD/MM"]}
  ]}
}`, []string{`line 4 (volunteers.fields[0].transforms[1]): "uper" is not a transform`,
			`line 6 (volunteers.fields[2].date_layouts[0])`, "needs a year"}},
		{"missing map and field", `{
  "name": "x",
  "code_maps": {"sex": {"M": "male"}},
  "volunteers": {"table": "P", "key": "ID", "duplicates": "keep", "fields": [
    {"field": "given_name", "column": "N", "transforms": ["map:gender"]},
    {"field": "shoe_size", "column": "S"}
  ]}
}`, []string{`there is no code map "gender"`, `"shoe_size" is not a field`, `the field "family_name" is required`, `"reject" or "merge"`}},
		{"duplicate table", `{"name": "x", "lists": [{"table": "L", "list": "race", "fields": [{"field": "code", "column": "C"}]},
 {"table": "l", "list": "medications", "fields": [{"field": "code", "column": "C"}]}]}`, []string{"already mapped"}},
		{"bad pattern and range", `{"name": "x", "studies": {"table": "S", "fields": [
 {"field": "code", "column": "C", "pattern": "[A-"},
 {"field": "title", "column": "T", "after": "1900-01-01"}]}}`, []string{"pattern cannot be read", "date fields only"}},
		{"conflicting map", `{"name": "x", "code_maps": {"sex": {"M": "male", "m": "female"}}, "studies": {"table": "S", "fields": [{"field": "code", "column": "C"}]}}`,
			[]string{"maps to both"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := migration.ParseSpec(strings.NewReader(tc.spec))
			var se migration.SpecErrors
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want SpecErrors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q\ndoes not say %q", err, w)
				}
			}
		})
	}
	if _, err := sample.Spec(); err != nil {
		t.Fatalf("the shipped specification: %v", err)
	}
}

func TestTransforms(t *testing.T) {
	for in, want := range map[string][2]string{
		"SMITH, John":          {"John", "SMITH"},
		"  de Vries,  Anna ":   {"Anna", "de Vries"},
		"Jan van der Berg":     {"Jan", "van der Berg"},
		"Mary Ann Jones":       {"Mary Ann", "Jones"},
		"NGUYEN Thi Lan":       {"Thi Lan", "NGUYEN"},
		"Prince":               {"", "Prince"},
		"maría   josé  garcía": {"maría josé", "garcía"},
	} {
		if g, f := migration.SplitName(in); g != want[0] || f != want[1] {
			t.Errorf("split %q = %q / %q, want %q / %q", in, g, f, want[0], want[1])
		}
	}
	for in, want := range map[string]string{"o'brien-SMITH": "O'Brien-Smith", "JAN VAN DER BERG": "Jan van der Berg", "éLODIE": "Élodie"} {
		if got := migration.TitleCase(in); got != want {
			t.Errorf("title %q = %q, want %q", in, got, want)
		}
	}
	layouts := []string{"DD/MM/YYYY", "YYYY-MM-DD", "DD.MM.YY", "D MON YYYY", "D-MON-YYYY", "YYYYMMDD"}
	for in, want := range map[string]string{
		"03/04/1990": "1990-04-03", "3/4/1990": "1990-04-03", "1990-04-03": "1990-04-03", "03.04.90": "1990-04-03",
		"03.04.05": "2005-04-03", "3 Apr 1990": "1990-04-03", "3 april 1990": "1990-04-03", "3-APR-1990": "1990-04-03",
		"19900403": "1990-04-03", " 3  Apr 1990 ": "1990-04-03",
	} {
		if got, ok := migration.ParseDateIn(in, layouts...); !ok || got != want {
			t.Errorf("date %q = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"31/02/1990", "unknown", "1990-13-01", "03/04/1990x", ""} {
		if got, ok := migration.ParseDateIn(bad, layouts...); ok {
			t.Errorf("date %q read as %q", bad, got)
		}
	}
}

// legacyTables is a small legacy source written three ways.
const legacyCSV = "ID,NAME,DOB,SEX\n1,\"SMITH, John\",03/04/1980,M\n2,Jane Doe,1975-12-01,F\n3,\"SMITH, Jon\",03/04/1980,male\n4,No Birth,,F\n"

const smallSpec = `{
  "name": "small",
  "date_layouts": ["DD/MM/YYYY", "YYYY-MM-DD"],
  "code_maps": {"sex": {"M": "male", "male": "male", "F": "female"}},
  "volunteers": {"table": "people", "key": "ID", "duplicates": "reject", "fields": [
    {"field": "given_name", "column": "NAME", "transforms": ["given_name", "title"], "required": true},
    {"field": "family_name", "column": "NAME", "transforms": ["family_name", "title"], "required": true},
    {"field": "birth_date", "column": "DOB", "required": true},
    {"field": "sex_at_birth", "column": "SEX", "transforms": ["map:sex"]}
  ]}
}`

func TestSourcesAndDuplicateRejection(t *testing.T) {
	dir := t.TempDir()
	csvDir := filepath.Join(dir, "csv")
	os.MkdirAll(csvDir, 0o755)
	os.WriteFile(filepath.Join(csvDir, "people.csv"), []byte("\ufeff"+legacyCSV), 0o644)
	pgDump := "--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\nCREATE TABLE public.people (id integer, name text, dob text, sex text);\n" +
		"COPY public.people (\"ID\", \"NAME\", \"DOB\", \"SEX\") FROM stdin;\n1\tSMITH, John\t03/04/1980\tM\n2\tJane Doe\t1975-12-01\tF\n3\tSMITH, Jon\t03/04/1980\tmale\n4\tNo Birth\t\\N\tF\n\\.\n"
	os.WriteFile(filepath.Join(dir, "pg.sql"), []byte(pgDump), 0o644)
	sqlDump := "CREATE TABLE people (ID INTEGER, NAME TEXT, DOB TEXT, SEX TEXT);\nINSERT INTO people VALUES (1, 'SMITH, John', '03/04/1980', 'M'), (2, 'Jane Doe', '1975-12-01', 'F'), (3, 'SMITH, Jon', '03/04/1980', 'male'), (4, 'No Birth', NULL, 'F');\n"
	os.WriteFile(filepath.Join(dir, "dump.sql"), []byte(sqlDump), 0o644)
	ctx := context.Background()
	// A SQLite file made from the same dump.
	sqliteSrc := filepath.Join(dir, "legacy.sqlite")
	{
		db, err := store.Open(ctx, sqliteSrc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, sqlDump); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	for _, src := range []string{csvDir, filepath.Join(dir, "pg.sql"), filepath.Join(dir, "dump.sql"), sqliteSrc} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			spec, err := migration.ParseSpec(strings.NewReader(smallSpec))
			if err != nil {
				t.Fatal(err)
			}
			s, err := migration.OpenSource(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			db := storetest.Open(t, store.SQLite)
			rep, err := migration.Run(ctx, db, spec, s, migration.Options{Run: "small", Today: sampleToday})
			if err != nil {
				t.Fatal(err)
			}
			p := rep.Table("people")
			if p.Read != 4 || p.Migrated != 2 || p.Rejected != 2 || p.ByReason["duplicate"] != 1 || p.ByReason["required"] != 1 || rep.Duplicates != 1 {
				t.Fatalf("report %+v", p)
			}
			for _, r := range p.Rejections {
				if r.Row == 3 && (r.Key != "3" || !strings.Contains(r.Message, "row 1 (key 1)")) {
					t.Errorf("duplicate rejection %+v should name row 1", r)
				}
				if r.Row == 4 && r.Field != "birth_date" {
					t.Errorf("missing birth date rejection %+v", r)
				}
			}
			// Row 4 stops at its birth date, so three sexes are counted, two of them mapped from a code.
			if f := p.Field("sex_at_birth"); f.Filled != 3 || f.Transformed != 2 || f.Distinct != 2 {
				t.Errorf("sex statistics %+v", f)
			}
		})
	}
	// A specification naming a column the source lacks is refused before
	// anything is read, naming the key.
	spec, _ := migration.ParseSpec(strings.NewReader(strings.Replace(smallSpec, `"column": "DOB"`, `"column": "BIRTH"`, 1)))
	_, err := migration.Run(ctx, storetest.Open(t, store.SQLite), spec, migration.CSVSource(os.DirFS(csvDir)), migration.Options{})
	if err == nil || !strings.Contains(err.Error(), `volunteers.fields[2].column`) || !strings.Contains(err.Error(), `no column "BIRTH"`) {
		t.Errorf("a missing column: %v", err)
	}
}

// TestACancelledRunStoresNothing cancels a run of the sample while it
// stores and checks the target is untouched (one transaction).
func TestACancelledRunStoresNothing(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	spec, err := sample.Spec()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = migration.Run(ctx, db, spec, sample.Source(), migration.Options{Today: sampleToday, Progress: func(p migration.Progress) {
		if p.Phase == "store" {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	var n int
	if err := db.QueryRow(context.Background(), "SELECT (SELECT COUNT(*) FROM volunteer) + (SELECT COUNT(*) FROM study) + (SELECT COUNT(*) FROM config_list_entry)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d records left behind by a cancelled run", n)
	}
}
