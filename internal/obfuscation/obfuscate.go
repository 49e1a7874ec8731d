package obfuscation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// Obfuscated is the audit action that records the obfuscation of a copy.
const Obfuscated audit.Action = "obfuscate"

// Entity names the database itself in the audit trail, for the entry that
// records its obfuscation.
const Entity = "database"

// MinSecretBytes is the shortest secret Obfuscate accepts.
const MinSecretBytes = 32

// Origin says where a copy came from and who made it, for its audit entry.
type Origin struct {
	// Source names the database the copy was made from (an instance key
	// such as "acme/prod/main"); never a DSN, which may hold a password.
	Source string
	// By is who made the copy.
	By audit.Actor
}

// Result says what Obfuscate did.
type Result struct {
	Volunteers int
	// Originals is how many original PHI values the copy held.
	Originals int
	// AuditRewritten is how many audit entries had PHI replaced;
	// AuditResealed how many got a new hash because of it.
	AuditRewritten, AuditResealed int
}

// batchSize is how many volunteers one round of statements rewrites.
const batchSize = 5000

// Obfuscate replaces every PHI value in db — a fresh copy that nobody uses
// yet — by a pseudonym keyed with secret, recomputes what is derived from
// it (search tokens, sort keys, phone search keys), scrubs PHI from the
// audit trail and re-seals its hash chain, and records the obfuscation in
// the trail. It runs in one transaction: a failure or cancellation leaves
// the copy as it was. progress, if set, hears what is being done.
//
// secret must be random, at least MinSecretBytes long, used for one copy
// only, and never stored: whoever holds it can test guesses of original
// values against the copy.
func Obfuscate(ctx context.Context, db *store.DB, secret []byte, origin Origin, progress func(string)) (Result, error) {
	return obfuscate(ctx, db, secret, origin, progress, nil)
}

// Obfuscate is the package's Obfuscate for a copy of the database these
// originals were read from: they serve as the values no pseudonym may
// equal, which spares reading them from the copy again.
func (o Originals) Obfuscate(ctx context.Context, db *store.DB, secret []byte, origin Origin, progress func(string)) (Result, error) {
	return obfuscate(ctx, db, secret, origin, progress, o.n)
}

func obfuscate(ctx context.Context, db *store.DB, secret []byte, origin Origin, progress func(string), known *needles) (Result, error) {
	var res Result
	if len(secret) < MinSecretBytes {
		return res, fmt.Errorf("obfuscate: the secret has %d bytes; at least %d random bytes are needed", len(secret), MinSecretBytes)
	}
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	if db.Engine == store.SQLite {
		// The rewrite touches most pages of the volunteer tables in one
		// transaction; a 256 MiB page cache on the single writer connection
		// keeps them in memory instead of spilling them to the log midway.
		var before int
		if err := db.Raw().QueryRowContext(ctx, "PRAGMA cache_size").Scan(&before); err != nil {
			return res, fmt.Errorf("obfuscate: %w", err)
		}
		if _, err := db.Exec(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return res, fmt.Errorf("obfuscate: %w", err)
		}
		defer db.Exec(context.WithoutCancel(ctx), "PRAGMA cache_size = "+strconv.Itoa(before))
		// Nobody uses the copy yet and a crash only means copying again, so
		// the rewrite keeps its rollback journal in memory and writes each
		// changed page once, into the file, instead of into the write-ahead
		// log and then the file. The switch needs the copy to have no other
		// connection; where it has one, the rewrite simply stays in WAL.
		var mode string
		if err := db.Raw().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err == nil && mode == "wal" {
			var now string
			if err := db.Raw().QueryRowContext(ctx, "PRAGMA journal_mode = MEMORY").Scan(&now); err == nil && now == "memory" {
				defer db.Raw().ExecContext(context.WithoutCancel(ctx), "PRAGMA journal_mode = WAL")
			}
		}
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		vs, err := readVolunteers(ctx, tx)
		if err != nil {
			return err
		}
		phiQuestions, err := questionsWithPHI(ctx, tx)
		if err != nil {
			return err
		}
		orig := known
		if orig == nil {
			if orig, err = collect(ctx, tx, vs, phiQuestions); err != nil {
				return err
			}
		}
		res.Volunteers, res.Originals = len(vs), orig.Values
		progress(fmt.Sprintf("Found %d volunteers holding %d PHI values.", len(vs), orig.Values))
		p := newPseudonymizer(secret, orig)
		w := newWriter(tx)
		defer w.close()
		if err := clearDerived(ctx, tx); err != nil {
			return err
		}
		// Every row of these tables changes: the indexes are dropped and
		// built again at the end, which sorts once instead of moving every
		// entry of every index.
		rebuild, err := suspendIndexes(ctx, tx, "volunteer", "volunteer_phone")
		if err != nil {
			return err
		}
		// SQLite gets the name-token rows from here; PostgreSQL builds them
		// itself (see insertTokens), and only their number is kept.
		var tokens []tokenRow
		if tx.Engine == store.SQLite {
			tokens = make([]tokenRow, 0, 3*len(vs)) // names have two or three tokens
		}
		ntokens := 0
		sexOf := make(map[string]volunteer.Sex, len(vs))
		for i := range vs {
			sexOf[vs[i].number] = volunteer.Sex(vs[i].sex)
		}
		// The pseudonyms of the next batch are computed while the database
		// writes this one: two cores, two halves of the work.
		stop := make(chan struct{})
		defer close(stop)
		ready := make(chan []volRow, 1)
		go func() {
			defer close(ready)
			for from := 0; from < len(vs); from += batchSize {
				batch := vs[from:min(from+batchSize, len(vs))]
				out := make([]volRow, len(batch))
				for i := range batch {
					out[i] = p.volunteerRow(batch[i])
				}
				select {
				case ready <- out:
				case <-stop:
					return
				}
			}
		}()
		done := 0
		for rows := range ready {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := rewriteVolunteers(ctx, w, rows, &tokens)
			if err != nil {
				return err
			}
			ntokens += n
			done += len(rows)
			progress(fmt.Sprintf("Obfuscated %d of %d volunteers.", done, len(vs)))
		}
		if err := insertTokens(ctx, w, tokens, ntokens); err != nil {
			return err
		}
		if err := rebuild(); err != nil {
			return err
		}
		s := scrubber{p: p, orig: orig, sexOf: sexOf, phiQuestions: phiQuestions}
		if res.AuditRewritten, res.AuditResealed, err = s.run(ctx, tx, w, progress); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: origin.By, Action: Obfuscated, Entity: Entity, EntityID: "copy",
			Reason: "Copy made for validation or testing: volunteer PHI replaced by pseudonyms under a one-time key that was not kept.",
			Changes: []audit.Change{
				{Field: "source", New: origin.Source},
				{Field: "volunteers", New: strconv.Itoa(res.Volunteers)},
				{Field: "audit_entries_scrubbed", New: strconv.Itoa(res.AuditRewritten)},
			}})
	})
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("obfuscate the copy: %w", err)
	}
	// The chain was re-sealed by this package's own copy of the hash rule;
	// the audit package checks it, so a drift between the two is caught
	// here and never ships a copy whose trail fails verification.
	v, err := audit.Verify(ctx, db)
	if err != nil {
		return res, fmt.Errorf("verify the re-sealed audit trail: %w", err)
	}
	if !v.OK() {
		return res, fmt.Errorf("The re-sealed audit trail of the copy does not verify: %s.", v.Problem)
	}
	progress(fmt.Sprintf("Obfuscated %d volunteers and %d audit entries in %.1f s; the audit trail verifies.",
		res.Volunteers, res.AuditRewritten, time.Since(start).Seconds()))
	return res, nil
}

// questionsWithPHI returns the codes of custom questions whose answers are
// PHI, from the configuration and from stored answers.
func questionsWithPHI(ctx context.Context, tx store.Querier) (map[string]bool, error) {
	out := map[string]bool{}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"SELECT code FROM config_list_entry WHERE list = ? AND phi = ?", []any{configlist.Question, true}},
		{"SELECT DISTINCT question FROM volunteer_answer WHERE phi = ?", []any{true}},
	} {
		rows, err := tx.Query(ctx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("read questions that collect PHI: %w", err)
		}
		for rows.Next() {
			var code string
			if err := rows.Scan(&code); err != nil {
				rows.Close()
				return nil, err
			}
			out[code] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// clearDerived empties what is rebuilt from the new names and phones, and
// clears the free text that may hold PHI: notes on history entries and
// answers to questions that collect PHI (an erased answer is no answer,
// as privacy removal stores it). Sessions of the source's users end: a
// copy starts with nobody signed in.
func clearDerived(ctx context.Context, tx *store.Tx) error {
	empty := "DELETE FROM " // SQLite empties a table without WHERE at once
	if tx.Engine == store.Postgres {
		empty = "TRUNCATE "
		// The copy is not released before this transaction commits, so a
		// crash loses nothing that the retry would not redo; the index
		// builds at the end get memory to sort in.
		for _, set := range []string{"SET LOCAL synchronous_commit = off", "SET LOCAL maintenance_work_mem = '256MB'"} {
			if _, err := tx.Exec(ctx, set); err != nil {
				return fmt.Errorf("%s: %w", set, err)
			}
		}
	}
	for _, s := range []struct {
		sql  string
		args []any
	}{
		{empty + "volunteer_name_token", nil},
		{empty + "volunteer_token_count", nil},
		{empty + "volunteer_phone", nil},
		{"UPDATE volunteer_coded_entry SET note = '' WHERE note <> ''", nil},
		{"DELETE FROM volunteer_answer WHERE phi = ?", []any{true}},
		{"DELETE FROM user_session", nil},
	} {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.sql, err)
		}
	}
	return nil
}

// volunteerRow returns the volunteer row with every PHI value replaced.
func (p *pseudonymizer) volunteerRow(v volRow) volRow {
	sex := volunteer.Sex(v.sex)
	v.given = p.Name(roleGiven, sex, v.given)
	v.family = p.Name(roleFamily, sex, v.family)
	v.other = p.Name(roleFamily, sex, v.other)
	v.birth = p.BirthDate(v.birth)
	v.email = p.Email(v.email)
	v.line1 = p.AddressLine(false, v.line1)
	v.line2 = p.AddressLine(true, v.line2)
	v.postal = p.PostalCode(v.postal)
	v.city = p.City(v.city)
	v.notes = ""
	phones := make([]phoneRow, len(v.phones))
	for i, ph := range v.phones {
		ph.number = p.Phone(ph.number)
		phones[i] = ph
	}
	v.phones = phones
	return v
}

// tokenRow is one row of volunteer_name_token.
type tokenRow struct {
	token              string
	id                 int64
	number, key, birth string
	all                string
}

// rewriteVolunteers writes a batch of volunteers with their pseudonyms,
// name tokens and sort keys, and their phones; it returns how many name
// tokens the batch has, for insertTokens to check, and on SQLite adds
// their rows to tokens.
func rewriteVolunteers(ctx context.Context, w *writer, batch []volRow, tokens *[]tokenRow) (ntokens int, err error) {
	cols := []string{"id", "given_name", "family_name", "other_names", "name_tokens", "family_key", "birth_date",
		"email", "address_line1", "address_line2", "postal_code", "city", "notes"}
	upd := make([]any, 0, len(batch)*len(cols))
	phones := make([]any, 0, 6*len(batch))
	sqlite := w.tx.Engine == store.SQLite
	for _, v := range batch {
		nt, fk, toks := registry.SearchColumns(volunteer.Volunteer{GivenName: v.given, FamilyName: v.family, OtherNames: v.other})
		upd = append(upd, v.id, v.given, v.family, v.other, nt, fk, v.birth, v.email, v.line1, v.line2, v.postal, v.city, v.notes)
		ntokens += len(toks)
		if sqlite {
			for _, t := range toks {
				*tokens = append(*tokens, tokenRow{token: t, id: v.id, number: v.number, key: fk, birth: v.birth, all: nt})
			}
		}
		for _, ph := range v.phones {
			phones = append(phones, v.id, ph.position, ph.kind, ph.number, registry.PhoneSearchKey(ph.number))
		}
	}
	if err := bulkUpdate(ctx, w, "volunteer", cols, upd); err != nil {
		return 0, err
	}
	return ntokens, bulkInsert(ctx, w, "volunteer_phone", []string{"volunteer_id", "position", "kind", "number", "digits_rev"}, phones)
}

// insertTokens writes the name-token index and the token counts. want is
// how many tokens the rewrite computed.
//
// On SQLite the rows computed in Go are inserted in token order, so each
// B-tree grows at its end, and the counts are the lengths of the runs of
// one token. PostgreSQL builds the rows itself from the rewritten volunteer
// rows: name_tokens holds " " and the volunteer's distinct tokens joined by
// single spaces (tokens never hold a space), so splitting it gives exactly
// the tokens registry.SearchColumns computed, without sending 280,000 rows
// of six values to the server. Any other number of rows than want fails
// the obfuscation rather than leave search inconsistent. (SQLite's own
// split and sort cost more than the bound rows they save.)
func insertTokens(ctx context.Context, w *writer, tokens []tokenRow, want int) error {
	tx := w.tx
	if tx.Engine == store.Postgres {
		// The table was emptied in this transaction: its primary key is
		// dropped and built again by one sort after the insert, instead of
		// taking 280,000 entries one by one.
		var pk, def string
		if err := tx.QueryRow(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = to_regclass('volunteer_name_token') AND contype = 'p'`).Scan(&pk, &def); err != nil {
			return fmt.Errorf("read the primary key of volunteer_name_token: %w", err)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE volunteer_name_token DROP CONSTRAINT "+quoteIdent(pk)); err != nil {
			return fmt.Errorf("drop the primary key of volunteer_name_token for the rebuild: %w", err)
		}
		res, err := tx.Exec(ctx, `INSERT INTO volunteer_name_token (token, volunteer_id, number, family_key, birth_date, name_tokens)
			SELECT t.token, v.id, v.number, v.family_key, v.birth_date, v.name_tokens
			FROM volunteer v CROSS JOIN LATERAL unnest(string_to_array(substr(v.name_tokens, 2), ' ')) AS t(token)
			WHERE v.name_tokens <> ''`)
		if err != nil {
			return fmt.Errorf("rebuild the name-token index: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("rebuild the name-token index: %w", err)
		} else if n != int64(want) {
			return fmt.Errorf("rebuild the name-token index: %d tokens written where the names have %d", n, want)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE volunteer_name_token ADD CONSTRAINT "+quoteIdent(pk)+" "+def); err != nil {
			return fmt.Errorf("rebuild the primary key of volunteer_name_token: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO volunteer_token_count (token, volunteers)
			SELECT token, COUNT(*) FROM volunteer_name_token GROUP BY token`); err != nil {
			return fmt.Errorf("rebuild the name-token counts: %w", err)
		}
		return nil
	}
	if len(tokens) != want {
		return fmt.Errorf("rebuild the name-token index: %d tokens collected where the names have %d", len(tokens), want)
	}
	slices.SortFunc(tokens, func(a, b tokenRow) int {
		if c := strings.Compare(a.token, b.token); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	const per = 20000
	for start := 0; start < len(tokens); start += per {
		part := tokens[start:min(start+per, len(tokens))]
		flat := make([]any, 0, 6*len(part))
		for _, t := range part {
			flat = append(flat, t.token, t.id, t.number, t.key, t.birth, t.all)
		}
		if err := bulkInsert(ctx, w, "volunteer_name_token", []string{"token", "volunteer_id", "number", "family_key", "birth_date", "name_tokens"}, flat); err != nil {
			return err
		}
	}
	var flat []any
	for i := 0; i < len(tokens); {
		j := i + 1
		for j < len(tokens) && tokens[j].token == tokens[i].token {
			j++
		}
		flat = append(flat, tokens[i].token, j-i)
		i = j
	}
	return bulkInsert(ctx, w, "volunteer_token_count", []string{"token", "volunteers"}, flat)
}

// suspendIndexes drops the secondary indexes of tables (not those behind a
// primary key or unique constraint) and returns the function that creates
// them again from their own definitions.
func suspendIndexes(ctx context.Context, tx *store.Tx, tables ...string) (rebuild func() error, err error) {
	var q string
	if tx.Engine == store.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?
			AND indexname NOT IN (SELECT conname FROM pg_constraint)`
	} else {
		q = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
	}
	var names, defs []string
	for _, t := range tables {
		rows, err := tx.Query(ctx, q, t)
		if err != nil {
			return nil, fmt.Errorf("read the indexes of %s: %w", t, err)
		}
		for rows.Next() {
			var n, d string
			if err := rows.Scan(&n, &d); err != nil {
				rows.Close()
				return nil, err
			}
			names, defs = append(names, n), append(defs, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+quoteIdent(n)); err != nil {
			return nil, fmt.Errorf("drop index %s for the rewrite: %w", n, err)
		}
	}
	return func() error {
		for i, d := range defs {
			if _, err := tx.Exec(ctx, d); err != nil {
				return fmt.Errorf("rebuild index %s: %w", names[i], err)
			}
		}
		return nil
	}, nil
}

// scrubber rewrites the PHI in the audit trail's volunteer entries with
// the same pseudonyms the records got.
type scrubber struct {
	p            *pseudonymizer
	orig         *needles
	sexOf        map[string]volunteer.Sex
	phiQuestions map[string]bool
}

// withheld replaces a volunteer entry's reason for change that names
// personal data.
const withheld = "(reason withheld in this obfuscated copy: it named personal data)"

// value returns an audit value of a volunteer field with its PHI replaced.
func (s *scrubber) value(number, field, value string) string {
	if value == "" {
		return value
	}
	if field == registry.RecordField {
		rec := map[string]string{}
		if json.Unmarshal([]byte(value), &rec) != nil {
			return "" // not a record this version wrote: drop rather than guess
		}
		for k, v := range rec {
			if nv := s.value(number, k, v); nv != "" {
				rec[k] = nv
			} else {
				delete(rec, k)
			}
		}
		b, _ := json.Marshal(rec)
		return string(b)
	}
	f, ok := registry.TrailPHIField(field)
	if !ok {
		return value
	}
	if strings.Contains(value, "***") && f.Kind != volunteer.PHIFreeText {
		// Masked already (privacy removal writes the old values so): an
		// initial says nothing, and a pseudonym here would invent a name.
		return value
	}
	p, sex := s.p, s.sexOf[number]
	sep := registry.TrailListSeparator
	switch f.Kind {
	case volunteer.PHIName:
		if f.Field == volunteer.FieldGivenName {
			return p.Name(roleGiven, sex, value)
		}
		return p.Name(roleFamily, sex, value)
	case volunteer.PHIDate:
		return p.BirthDate(value)
	case volunteer.PHIPhone:
		els := strings.Split(value, sep)
		for i, el := range els {
			// "mobile +31612345678" in a record's trail; the bare number in
			// a search.
			if kind, num, ok := strings.Cut(el, " "); ok && !strings.ContainsAny(kind, "0123456789+") {
				els[i] = kind + " " + p.Phone(num)
			} else {
				els[i] = p.Phone(el)
			}
		}
		return strings.Join(els, sep)
	case volunteer.PHIEmail:
		return p.Email(value)
	case volunteer.PHIAddress:
		switch f.Field {
		case volunteer.FieldAddressLine1:
			return p.AddressLine(false, value)
		case volunteer.FieldAddressLine2:
			return p.AddressLine(true, value)
		case volunteer.FieldPostalCode:
			return p.PostalCode(value)
		case volunteer.FieldCity:
			return p.City(value)
		}
		return ""
	case volunteer.PHIFreeText:
		if f.Field != volunteer.FieldAnswers {
			return ""
		}
		var kept []string
		for _, el := range strings.Split(value, sep) {
			if q, _, ok := strings.Cut(el, "="); ok && !s.phiQuestions[q] {
				kept = append(kept, el)
			}
		}
		return strings.Join(kept, sep)
	}
	return ""
}

// namesPHI reports whether free text names any original value: a name
// word (stricter than the scan's pairs, because a reason is short and
// about one volunteer), an email address, a phone number or a whole value.
func (s *scrubber) namesPHI(text string) bool {
	for _, w := range strings.Fields(volunteer.NormalizeName(text)) {
		if _, ok := s.orig.tokens[w]; ok {
			return true
		}
	}
	hit := false
	eachPhoneKey(text, func(k string) { hit = hit || s.orig.isPhone(k) })
	if hit || s.orig.isWhole(text) {
		return true
	}
	for _, w := range strings.Fields(text) {
		if strings.Contains(w, "@") && s.orig.isWhole(strings.Trim(w, ".,;:()<>\"'")) {
			return true
		}
	}
	return false
}

type trailRow struct {
	seq                                        int64
	at, actor, action, entity, entityID, field string
	old, new, reason, prevHash, hash           string
	actorID                                    int64
}

// run rewrites the volunteer entries and re-seals the chain from the first
// changed entry on, page by page, with the append-only triggers lifted for
// the duration of the transaction only.
func (s *scrubber) run(ctx context.Context, tx *store.Tx, w *writer, progress func(string)) (rewritten, resealed int, err error) {
	restore, err := liftAppendOnly(ctx, tx)
	if err != nil {
		return 0, 0, err
	}
	const page = 5000
	prev := audit.Genesis
	var after int64 = -1
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		rows, err := tx.Query(ctx, `SELECT seq, at, actor_id, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash
			FROM audit_entry WHERE seq > ? ORDER BY seq LIMIT ?`, after, page)
		if err != nil {
			return 0, 0, fmt.Errorf("read the audit trail: %w", err)
		}
		var es []trailRow
		for rows.Next() {
			var e trailRow
			if err := rows.Scan(&e.seq, &e.at, &e.actorID, &e.actor, &e.action, &e.entity, &e.entityID, &e.field,
				&e.old, &e.new, &e.reason, &e.prevHash, &e.hash); err != nil {
				rows.Close()
				return 0, 0, fmt.Errorf("read the audit trail: %w", err)
			}
			es = append(es, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, fmt.Errorf("read the audit trail: %w", err)
		}
		if len(es) == 0 {
			break
		}
		var upd []any
		for _, e := range es {
			changed := false
			if e.entity == registry.Entity {
				old, nu := s.value(e.entityID, e.field, e.old), s.value(e.entityID, e.field, e.new)
				reason := e.reason
				if reason != "" && s.namesPHI(reason) {
					reason = withheld
				}
				changed = old != e.old || nu != e.new || reason != e.reason
				e.old, e.new, e.reason = old, nu, reason
			}
			if changed {
				rewritten++
			}
			if changed || e.prevHash != prev {
				e.prevHash = prev
				e.hash = entryHash(e)
				upd = append(upd, e.seq, e.old, e.new, e.reason, e.prevHash, e.hash)
				resealed++
			}
			prev = e.hash
		}
		if err := bulkUpdate(ctx, w, "audit_entry", []string{"seq", "old_value", "new_value", "reason", "prev_hash", "hash"}, upd); err != nil {
			return 0, 0, fmt.Errorf("re-seal the audit trail: %w", err)
		}
		after = es[len(es)-1].seq
		progress(fmt.Sprintf("Scrubbed the audit trail up to entry %d.", after))
	}
	if err := restore(); err != nil {
		return 0, 0, err
	}
	return rewritten, resealed, nil
}

// liftAppendOnly removes the triggers that make audit_entry append-only,
// inside tx, and returns the function that puts them back; both happen in
// the one transaction, so no other connection ever sees the trail
// unprotected and a failure restores them by rolling back.
func liftAppendOnly(ctx context.Context, tx *store.Tx) (restore func() error, err error) {
	if tx.Engine == store.Postgres {
		if _, err := tx.Exec(ctx, "ALTER TABLE audit_entry DISABLE TRIGGER USER"); err != nil {
			return nil, fmt.Errorf("lift the append-only rule of the copy's audit trail: %w", err)
		}
		return func() error {
			if _, err := tx.Exec(ctx, "ALTER TABLE audit_entry ENABLE TRIGGER USER"); err != nil {
				return fmt.Errorf("restore the append-only rule of the copy's audit trail: %w", err)
			}
			return nil
		}, nil
	}
	rows, err := tx.Query(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entry'")
	if err != nil {
		return nil, fmt.Errorf("read the audit trail's triggers: %w", err)
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("the copy's audit trail has no append-only triggers; it is not an instance database")
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP TRIGGER "+quoteIdent(n)); err != nil {
			return nil, fmt.Errorf("lift the append-only rule of the copy's audit trail: %w", err)
		}
	}
	return func() error {
		for _, d := range defs {
			if _, err := tx.Exec(ctx, d); err != nil {
				return fmt.Errorf("restore the append-only rule of the copy's audit trail: %w", err)
			}
		}
		return nil
	}, nil
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
