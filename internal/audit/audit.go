// Package audit is the instance's Part 11 audit trail (21 CFR 11.10(e)): one
// append-only store of who did what, when, to which record, from which old
// value to which new value, and why.
//
// Every entry carries a SHA-256 hash over its own content and the previous
// entry's hash, so changing, removing or reordering an entry breaks the chain
// and Verify names the first entry that does not match. Entries are written
// in the same transaction as the change they describe.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Actor is who caused a change: a user, or the system itself (ID 0).
type Actor struct {
	ID   int64
	Name string
}

// System is the actor for changes cohort makes by itself (migrations, seeding).
var System = Actor{ID: 0, Name: "system"}

// Action says what kind of event an entry records.
type Action string

// The actions recorded in the trail.
const (
	Create         Action = "create"
	Update         Action = "update"
	Archive        Action = "archive"
	Deactivate     Action = "deactivate"
	Reactivate     Action = "reactivate"
	Login          Action = "login"
	LoginFailed    Action = "login_failed"
	Logout         Action = "logout"
	Lockout        Action = "lockout"
	PasswordChange Action = "password_change"
	PasswordReset  Action = "password_reset"
	View           Action = "view"
	Export         Action = "export"
	Import         Action = "import"
)

// needsReason lists the actions that change an existing record; Part 11
// practice asks the user to say why.
var needsReason = map[Action]bool{Update: true, Archive: true, Deactivate: true, Reactivate: true, PasswordReset: true}

// ErrReasonRequired is returned when a change to an existing record comes
// without a reason for change.
var ErrReasonRequired = errors.New("a reason for change is required")

// Change is one field's old and new value.
type Change struct {
	Field string
	Old   string
	New   string
}

// Event is one thing that happened to one record, possibly changing several
// fields. Record writes one entry per changed field.
type Event struct {
	Actor    Actor
	Action   Action
	Entity   string // the kind of record, e.g. "site"
	EntityID string // the record's natural key or id
	Reason   string
	Changes  []Change
}

// Entry is one row of the audit trail.
type Entry struct {
	Seq      int64
	At       time.Time
	ActorID  int64
	Actor    string
	Action   Action
	Entity   string
	EntityID string
	Field    string
	Old      string
	New      string
	Reason   string
	PrevHash string
	Hash     string
}

// timeLayout is fixed so the hashed text is the same on every engine.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// genesis is the previous hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock is the PostgreSQL advisory lock that serialises writers of the
// chain; SQLite's single immediate writer already does.
const chainLock = 727201101

// now is the server clock, in UTC, at the precision both engines keep.
var now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Diff returns the changes between two field maps, in the order of fields.
func Diff(fields []string, old, new map[string]string) []Change {
	var out []Change
	for _, f := range fields {
		if old[f] != new[f] {
			out = append(out, Change{Field: f, Old: old[f], New: new[f]})
		}
	}
	return out
}

// Record appends ev to the trail inside tx, one entry per change (or one
// entry without a field when there are no changes, e.g. a login).
func Record(ctx context.Context, tx *store.Tx, ev Event) error {
	if needsReason[ev.Action] && ev.Reason == "" {
		return ErrReasonRequired
	}
	if ev.Entity == "" || ev.Action == "" {
		return errors.New("audit: an event needs an entity and an action")
	}
	if tx.Engine == store.Postgres {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", chainLock); err != nil {
			return fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	var seq int64
	prev := genesis
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	changes := ev.Changes
	if len(changes) == 0 {
		changes = []Change{{}}
	}
	at := now()
	for _, c := range changes {
		seq++
		e := Entry{Seq: seq, At: at, ActorID: ev.Actor.ID, Actor: ev.Actor.Name, Action: ev.Action,
			Entity: ev.Entity, EntityID: ev.EntityID, Field: c.Field, Old: c.Old, New: c.New,
			Reason: ev.Reason, PrevHash: prev}
		e.Hash = e.computeHash()
		_, err := tx.Exec(ctx, `INSERT INTO audit_entry
			(seq, at, actor_id, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.At.Format(timeLayout), e.ActorID, e.Actor, string(e.Action), e.Entity, e.EntityID,
			e.Field, e.Old, e.New, e.Reason, e.PrevHash, e.Hash)
		if err != nil {
			return fmt.Errorf("audit: append entry %d: %w", seq, err)
		}
		prev = e.Hash
	}
	return nil
}

// computeHash hashes every field of the entry with length prefixes, so no
// two different entries can produce the same hashed text.
func (e Entry) computeHash() string {
	return Hash(e.Seq, e.At.UTC().Format(timeLayout), e.ActorID, e.Actor, string(e.Action), e.Entity, e.EntityID,
		e.Field, e.Old, e.New, e.Reason, e.PrevHash)
}

// Genesis is the previous hash of the first entry of every trail.
const Genesis = genesis

// Hash is the chain's hash of one entry as its row stores it (at as stored
// text). Only Record writes an instance's trail; the one other writer is
// the obfuscation of a copy, which rewrites PHI inside old entries and must
// seal the chain again by the same rule.
func Hash(seq int64, at string, actorID int64, actor, action, entity, entityID, field, old, new, reason, prevHash string) string {
	h := sha256.New()
	for _, s := range []string{
		strconv.FormatInt(seq, 10), at, strconv.FormatInt(actorID, 10),
		actor, action, entity, entityID, field, old, new, reason, prevHash,
	} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
