package obfuscation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/obfuscation"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

var console = audit.Actor{Name: "console test"}

func eachEngine(t *testing.T, fn func(t *testing.T, e store.Engine)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { fn(t, e) })
	}
}

func obfuscate(t *testing.T, db *store.DB, key []byte) obfuscation.Result {
	t.Helper()
	res, err := obfuscation.Obfuscate(context.Background(), db, key, obfuscation.Origin{Source: "acme/prod/main", By: console}, nil)
	if err != nil {
		t.Fatalf("obfuscate: %v", err)
	}
	return res
}

// TestObfuscatedCopy checks one obfuscated copy against its source: no
// original left (the scan is clean and the known values are gone), formats
// kept, derived columns consistent, duplicates still duplicates, the audit
// trail scrubbed, re-sealed and recording the obfuscation.
func TestObfuscatedCopy(t *testing.T) {
	eachEngine(t, func(t *testing.T, e store.Engine) {
		ctx := context.Background()
		src := newSource(t, e)
		cp := src.copyOf(t)
		res := obfuscate(t, cp, secret(1))
		if res.Volunteers != 304 || res.AuditRewritten == 0 {
			t.Fatalf("result %+v: want 304 volunteers and rewritten audit entries", res)
		}

		f, err := obfuscation.Scan(ctx, src.db, cp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Clean() || f.Originals < 1000 || f.Cells == 0 {
			t.Fatalf("scan of the obfuscated copy: %d findings %v, %d originals, %d cells", f.Count, f.First, f.Originals, f.Cells)
		}
		// The scan of an unobfuscated copy must find plenty: the check can fail.
		raw := src.copyOf(t)
		if f, err := obfuscation.Scan(ctx, src.db, raw, nil); err != nil || f.Count < 300 {
			t.Fatalf("scan of a plain copy: %d findings, %v; want every volunteer found", f.Count, err)
		}

		before, after := volunteersOf(t, src.db), volunteersOf(t, cp)
		if len(before) != len(after) {
			t.Fatalf("%d volunteers became %d", len(before), len(after))
		}
		for num, o := range before {
			n := after[num]
			if o.GivenName != "" && (n.GivenName == o.GivenName || n.FamilyName == o.FamilyName) {
				t.Errorf("%s: name %q %q kept as %q %q", num, o.GivenName, o.FamilyName, n.GivenName, n.FamilyName)
			}
			if n.BirthDate.Year != o.BirthDate.Year || (o.BirthDate.IsComplete() && n.BirthDate == o.BirthDate) {
				t.Errorf("%s: birth date %s became %s; want another day of the same year", num, o.BirthDate, n.BirthDate)
			}
			if len(n.Phones) != len(o.Phones) {
				t.Fatalf("%s: %d phones became %d", num, len(o.Phones), len(n.Phones))
			}
			for i := range o.Phones {
				if shape(o.Phones[i].Number) != shape(n.Phones[i].Number) || o.Phones[i].Number == n.Phones[i].Number {
					t.Errorf("%s: phone %q became %q; want the same shape, other digits", num, o.Phones[i].Number, n.Phones[i].Number)
				}
				if o.Phones[i].Number[:3] != n.Phones[i].Number[:3] {
					t.Errorf("%s: phone %q lost its country code: %q", num, o.Phones[i].Number, n.Phones[i].Number)
				}
			}
			if o.Email != "" {
				if err := volunteer.CheckEmail(n.Email); err != nil || n.Email == o.Email {
					t.Errorf("%s: email %q became %q (%v)", num, o.Email, n.Email, err)
				}
			}
			if o.Address.PostalCode != "" && (len(n.Address.PostalCode) != len(o.Address.PostalCode) || n.Address.PostalCode == o.Address.PostalCode) {
				t.Errorf("%s: postal code %q became %q", num, o.Address.PostalCode, n.Address.PostalCode)
			}
			if n.Notes != "" || n.Address.Country != o.Address.Country || n.SexAtBirth != o.SexAtBirth || len(n.Participations) != len(o.Participations) {
				t.Errorf("%s: notes %q, country %q→%q, sex %q→%q, participations %d→%d", num, n.Notes, o.Address.Country,
					n.Address.Country, o.SexAtBirth, n.SexAtBirth, len(o.Participations), len(n.Participations))
			}
			for _, h := range n.MedicalHistory {
				if h.Note != "" {
					t.Errorf("%s: history note kept", num)
				}
			}
		}
		anna := after[src.anna]
		if len(anna.Answers) != 1 || anna.Answers[0].Question != "DONOR" {
			t.Errorf("anna's answers %+v: want the PHI answer (GP) gone and DONOR kept", anna.Answers)
		}
		// Duplicates still look like duplicates.
		t1, t2 := after[src.twin1], after[src.twin2]
		if t1.GivenName != t2.GivenName || t1.FamilyName != t2.FamilyName || t1.BirthDate != t2.BirthDate {
			t.Errorf("the duplicate registrations became %q %q %s and %q %q %s", t1.GivenName, t1.FamilyName, t1.BirthDate, t2.GivenName, t2.FamilyName, t2.BirthDate)
		}
		cands, err := registry.FindDuplicates(ctx, cp, t1.Volunteer, t1.ID)
		if err != nil || len(cands) == 0 {
			t.Errorf("duplicate detection in the copy found %v (%v); want the twin", cands, err)
		}
		// Derived columns: search by the new name finds the volunteer, by
		// the old one nobody; the phone search finds the new number.
		r, err := registry.Search(ctx, cp, registry.Query{Name: anna.GivenName + " " + anna.FamilyName}, true)
		if err != nil || !hasNumber(r, src.anna) {
			t.Errorf("search for %q %q in the copy: %+v, %v", anna.GivenName, anna.FamilyName, r.Rows, err)
		}
		if r, err := registry.Search(ctx, cp, registry.Query{Name: "Annabel Vermeulen"}, true); err != nil || len(r.Rows) != 0 {
			t.Errorf("search for the original name in the copy found %d (%v)", len(r.Rows), err)
		}
		if r, err := registry.Search(ctx, cp, registry.Query{Phone: anna.Phones[0].Number}, true); err != nil || !hasNumber(r, src.anna) {
			t.Errorf("phone search for %q in the copy: %+v, %v", anna.Phones[0].Number, r.Rows, err)
		}

		// The audit trail: verifies, holds no original, ends with the
		// obfuscation entry naming the source; the source's is untouched.
		for name, db := range map[string]*store.DB{"copy": cp, "source": src.db} {
			v, err := audit.Verify(ctx, db)
			if err != nil || !v.OK() {
				t.Fatalf("audit verify on the %s: %+v, %v", name, v, err)
			}
		}
		es, _, err := audit.List(ctx, cp, audit.Filter{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 || es[0].Action != obfuscation.Obfuscated || es[0].Entity != obfuscation.Entity {
			t.Fatalf("the newest entries of the copy are %+v; want the obfuscation entry", es)
		}
		var source bool
		for _, e := range es {
			source = source || (e.Field == "source" && e.New == "acme/prod/main")
		}
		if !source {
			t.Errorf("the obfuscation entry does not name the source: %+v", es)
		}
		trail, _, err := audit.List(ctx, cp, audit.Filter{Entity: registry.Entity, EntityID: src.anna, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range trail {
			for _, s := range []string{e.Old, e.New, e.Reason} {
				low := strings.ToLower(s)
				for _, orig := range []string{"annabel", "vermeulen", "clinicmail", "oosterbeek", "1234 5678", "12345678", "prinsengracht", "1984-05-12"} {
					if strings.Contains(low, orig) {
						t.Errorf("audit entry %d (%s) of the copy still holds %q: %q", e.Seq, e.Field, orig, s)
					}
				}
			}
		}
		// Privacy removal's masked old values stay masked: no name is
		// invented for an erased volunteer.
		erased, _, err := audit.List(ctx, cp, audit.Filter{Entity: registry.Entity, EntityID: src.erased, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var masked bool
		for _, e := range erased {
			masked = masked || (e.Action == registry.PrivacyRemove && e.Field == volunteer.FieldGivenName && e.Old == "C***" && e.New == "")
		}
		if !masked {
			t.Errorf("the privacy removal entry of %s lost its masked old value: %+v", src.erased, erased)
		}
		if _, err := cp.Raw().ExecContext(ctx, "UPDATE audit_entry SET reason = 'x' WHERE seq = 1"); err == nil {
			t.Error("the copy's audit trail accepts an UPDATE after obfuscation; the append-only rule was not restored")
		}
	})
}

func hasNumber(r registry.Result, number string) bool {
	for _, row := range r.Rows {
		if row.Number == number {
			return true
		}
	}
	return false
}

// shape is a phone number with every digit as 9.
func shape(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '9'
		}
		return r
	}, s)
}

// TestObfuscationIsDeterministicPerSecret: one secret gives one copy, the
// same in every run; another secret gives different pseudonyms.
func TestObfuscationIsDeterministicPerSecret(t *testing.T) {
	eachEngine(t, func(t *testing.T, e store.Engine) {
		src := newSource(t, e)
		a, b, c := src.copyOf(t), src.copyOf(t), src.copyOf(t)
		obfuscate(t, a, secret(1))
		obfuscate(t, b, secret(1))
		obfuscate(t, c, secret(2))
		va, vb, vc := volunteersOf(t, a), volunteersOf(t, b), volunteersOf(t, c)
		differ := 0
		for num, x := range va {
			y, z := vb[num], vc[num]
			if x.GivenName != y.GivenName || x.FamilyName != y.FamilyName || x.BirthDate != y.BirthDate || x.Email != y.Email ||
				x.Address != y.Address || phones(x) != phones(y) {
				t.Fatalf("%s differs between two copies with one secret: %+v / %+v", num, x.Volunteer, y.Volunteer)
			}
			if x.GivenName != "" && (x.GivenName != z.GivenName || x.FamilyName != z.FamilyName || phones(x) != phones(z)) {
				differ++
			}
		}
		if differ < len(va)*9/10 {
			t.Errorf("only %d of %d volunteers differ between copies with two secrets", differ, len(va))
		}
	})
}

func phones(r registry.Record) string {
	var s []string
	for _, p := range r.Phones {
		s = append(s, p.Number)
	}
	return strings.Join(s, ",")
}

// TestScanFindsWhatTheObfuscationMissed plants PHI in a table the
// obfuscation knows nothing of; the scan must find it and name the place
// without the value.
func TestScanFindsWhatTheObfuscationMissed(t *testing.T) {
	eachEngine(t, func(t *testing.T, e store.Engine) {
		ctx := context.Background()
		src := newSource(t, e)
		storetest.MustExec(t, src.db, "CREATE TABLE legacy_contact (id INTEGER PRIMARY KEY, remark TEXT NOT NULL, phone TEXT NOT NULL)")
		storetest.MustExec(t, src.db, "INSERT INTO legacy_contact (id, remark, phone) VALUES (1, 'Nothing to see', ''), (2, 'Ring VERMEULEN, Annabel re. visit', ''), (3, 'x', '06-1234 5678')")
		cp := src.copyOf(t)
		obfuscate(t, cp, secret(3))
		f, err := obfuscation.Scan(ctx, src.db, cp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Count != 2 {
			t.Fatalf("scan found %d: %v; want the name in row 2 and the phone in row 3 of legacy_contact", f.Count, f.First)
		}
		want := map[string]bool{
			"legacy_contact.remark row 2, field given_name+family_name": true,
			"legacy_contact.phone row 3, field phones":                  true,
		}
		for _, x := range f.First {
			if !want[x.String()] {
				t.Errorf("unexpected finding %s", x)
			}
			if strings.Contains(strings.ToLower(x.String()), "vermeulen") || strings.Contains(x.String(), "5678") {
				t.Errorf("finding %q shows the value", x)
			}
		}
	})
}

// TestObfuscationCanBeCancelled: a cancelled obfuscation leaves the copy as
// it was, append-only trail included.
func TestObfuscationCanBeCancelled(t *testing.T) {
	eachEngine(t, func(t *testing.T, e store.Engine) {
		src := newSource(t, e)
		cp := src.copyOf(t)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := obfuscation.Obfuscate(ctx, cp, secret(1), obfuscation.Origin{Source: "x", By: console}, func(msg string) {
			if strings.HasPrefix(msg, "Obfuscated ") {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled obfuscation returned %v", err)
		}
		before, after := volunteersOf(t, src.db), volunteersOf(t, cp)
		for num, o := range before {
			if after[num].GivenName != o.GivenName || phones(after[num]) != phones(o) {
				t.Fatalf("%s changed although the obfuscation was cancelled", num)
			}
		}
		f, err := obfuscation.Scan(context.Background(), src.db, cp, nil)
		if err != nil || f.Clean() {
			t.Fatalf("scan after a cancelled obfuscation: %d findings, %v; want the originals found", f.Count, err)
		}
		if _, err := cp.Raw().ExecContext(context.Background(), "DELETE FROM audit_entry"); err == nil {
			t.Error("the audit trail lost its append-only rule after a cancelled obfuscation")
		}
	})
}

// TestShortSecretRefused: a guessable key would make the pseudonyms
// reversible by trying names.
func TestShortSecretRefused(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	if _, err := obfuscation.Obfuscate(context.Background(), db, []byte("short"), obfuscation.Origin{}, nil); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// TestScanSplitsPackedRowsExactly: the scan reads a row's text columns
// joined by a separator. A cell holding the separator itself must not move
// a cell boundary (the table is read column by column instead), and a
// name split over two columns, a NULL and a number in an untyped column
// must read as they would alone.
func TestScanSplitsPackedRowsExactly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e store.Engine) {
		ctx := context.Background()
		src := newSource(t, e)
		storetest.MustExec(t, src.db, "CREATE TABLE legacy_note (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)")
		sep := string(rune(0x1f))
		for _, r := range []struct {
			id      int
			a, b, c any
		}{
			{1, "Annabel", "VERMEULEN", nil}, // a name over two columns
			// The separator in a cell: split there, the street line would be
			// a whole cell and a (false) finding; it is only part of one.
			{2, "unit" + sep + "Prinsengracht 263", nil, "tel"},
			{3, nil, "x", "call 06-1234 5678 today"}, // a phone after a NULL
			{4, "plain", "text", "nothing"},
		} {
			storetest.MustExec(t, src.db, "INSERT INTO legacy_note (id, a, b, c) VALUES (?, ?, ?, ?)", r.id, r.a, r.b, r.c)
		}
		cp := src.copyOf(t)
		obfuscate(t, cp, secret(4))
		f, err := obfuscation.Scan(ctx, src.db, cp, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, x := range f.First {
			got[x.String()] = true
		}
		want := []string{
			"legacy_note.a row 1, field given_name+family_name",
			"legacy_note.c row 3, field phones",
		}
		if f.Count != len(want) {
			t.Fatalf("scan found %d: %v; want %v", f.Count, f.First, want)
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("missing finding %s in %v", w, f.First)
			}
		}
	})
}
