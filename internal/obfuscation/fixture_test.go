package obfuscation_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// source is an instance database with volunteers, and its DSN so tests can
// copy it the way the console does.
type source struct {
	db     *store.DB
	dsn    string
	engine store.Engine
	alice  audit.Actor
	// Known volunteers: anna (full PHI, renamed with a reason naming her
	// old name), and twins — two registrations of one person (a duplicate).
	anna, twin1, twin2 string
	// erased had their personal data removed.
	erased string
}

// newSource makes an instance with two sites, Configure lists with a PHI
// question, a user, 300 synthetic volunteers and three hand-made ones whose
// audit trail holds PHI in old values, new values, a whole record and a
// reason.
func newSource(t *testing.T, e store.Engine) *source {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.NewDSN(t, e)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []site.Site{{Code: "AMS", Name: "Amsterdam", TimeZone: "Europe/Amsterdam"}, {Code: "LDN", Name: "London", TimeZone: "Europe/London"}} {
		if _, err := site.Create(ctx, db, audit.System, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, en := range []configlist.Entry{
		{List: configlist.MedicalHistory, Code: "ASTHMA", Label: "Asthma"},
		{List: configlist.Medications, Code: "IBUPROFEN", Label: "Ibuprofen"},
		{List: configlist.RecruitmentSource, Code: "WEBSITE", Label: "Website"},
		{List: configlist.Race, Code: "WHITE", Label: "White"},
		{List: configlist.Question, Code: "GP", Label: "Your GP", AnswerType: configlist.AnswerText, PHI: true},
		{List: configlist.Question, Code: "DONOR", Label: "Blood donor?", AnswerType: configlist.AnswerYesNo},
	} {
		if _, err := configlist.Create(ctx, db, audit.System, en); err != nil {
			t.Fatal(err)
		}
	}
	if err := access.SeedRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	u, err := account.Create(ctx, db, audit.System, account.Policy{MinLength: 8, MinClasses: 1}, account.NewUser{
		Username: "alice", DisplayName: "Alice Admin", Password: "Obfuscation test 1", Grants: []access.Grant{{RoleCode: "administrator"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &source{db: db, dsn: dsn, engine: e, alice: u.Actor()}
	if _, err := registry.Populate(ctx, db, s.alice, registry.PopulateOptions{Count: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	anna := volunteer.Volunteer{
		GivenName: "Annabel", FamilyName: "Jansen-Vermeulen", OtherNames: "Wilhelmina", BirthDate: volunteer.NewDate(1984, time.May, 12),
		SexAtBirth: volunteer.SexFemale, PreferredSite: "AMS", Email: "annabel.vermeulen@clinicmail.nl",
		Phones:         []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+31 6 1234 5678"}, {Kind: volunteer.PhoneHome, Number: "+31 20 765 4321"}},
		Address:        volunteer.Address{Line1: "Prinsengracht 263", Line2: "3rd floor back", PostalCode: "1016 GV", City: "Amsterdam", Country: "NL"},
		Notes:          "Sister of the ward nurse Gertruida Vermeulen; call before 9.",
		Answers:        []volunteer.Answer{{Question: "GP", Value: "Dr. Hendrika Oosterbeek, Keizersgracht"}, {Question: "DONOR", Value: "yes"}},
		MedicalHistory: []volunteer.CodedEntry{{Code: "ASTHMA", Start: volunteer.NewDate(2001, 0, 0), Note: "treated at Slotervaart hospital by Dr Oosterbeek"}},
	}
	rec, err := registry.Create(ctx, db, s.alice, anna, registry.CreateOptions{DuplicateReason: "test data"})
	if err != nil {
		t.Fatal(err)
	}
	s.anna = rec.Number
	renamed := rec.Volunteer
	renamed.FamilyName = "Vermeulen"
	renamed.Email = "a.vermeulen@clinicmail.nl"
	if err := registry.Update(ctx, db, s.alice, rec.Number, rec.Version, renamed, "Married; was Jansen-Vermeulen, see annabel.vermeulen@clinicmail.nl"); err != nil {
		t.Fatal(err)
	}
	twin := volunteer.Volunteer{GivenName: "Bartholomeus", FamilyName: "Oudendijk", BirthDate: volunteer.NewDate(1990, time.March, 3),
		SexAtBirth: volunteer.SexMale, PreferredSite: "LDN", Address: volunteer.Address{Country: "GB"},
		Phones: []volunteer.Phone{{Kind: volunteer.PhoneMobile, Number: "+44 7700 900123"}}}
	r1, err := registry.Create(ctx, db, s.alice, twin, registry.CreateOptions{DuplicateReason: "test data"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := registry.Create(ctx, db, s.alice, twin, registry.CreateOptions{DuplicateReason: "registered twice on purpose"})
	if err != nil {
		t.Fatal(err)
	}
	s.twin1, s.twin2 = r1.Number, r2.Number
	gone, err := registry.Create(ctx, db, s.alice, volunteer.Volunteer{GivenName: "Cornelis", FamilyName: "Achterberg",
		BirthDate: volunteer.NewDate(1970, time.July, 1), SexAtBirth: volunteer.SexMale, PreferredSite: "AMS", Address: volunteer.Address{Country: "NL"}},
		registry.CreateOptions{DuplicateReason: "test data"})
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.RemovePersonalData(ctx, db, s.alice, gone.Number, gone.Version, "Obfuscation test 1", "erasure request 2026-11"); err != nil {
		t.Fatal(err)
	}
	s.erased = gone.Number
	return s
}

// copyOf copies the source database the way the console does (VACUUM
// INTO; CREATE DATABASE … TEMPLATE) and opens the copy.
func (s *source) copyOf(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	if s.engine == store.SQLite {
		path := filepath.Join(t.TempDir(), "copy.db")
		if _, err := s.db.Raw().ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
			t.Fatal(err)
		}
		return open(t, path)
	}
	// TEMPLATE needs the source without connections.
	s.db.Close()
	u, _ := url.Parse(s.dsn)
	src := strings.TrimPrefix(u.Path, "/")
	dst := src + "_c" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	admin, err := sql.Open("pgx", storetest.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dst+" TEMPLATE "+src); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", storetest.PostgresDSN())
		if err == nil {
			a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+dst+" WITH (FORCE)")
			a.Close()
		}
	})
	s.db = open(t, s.dsn)
	u.Path = "/" + dst
	return open(t, u.String())
}

// open opens a database, closed when the test ends.
func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// secret returns a fixed 32-byte secret for determinism tests.
func secret(b byte) []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

// volunteersOf returns every stored volunteer of db by number.
func volunteersOf(t *testing.T, db *store.DB) map[string]registry.Record {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, "SELECT number FROM volunteer ORDER BY number")
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	out := map[string]registry.Record{}
	for _, n := range numbers {
		r, err := registry.Get(ctx, db, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = r
	}
	return out
}
