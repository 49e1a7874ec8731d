package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ErrBadCredentials is the one answer to a wrong user name, a wrong password
// or a deactivated account, so a login page never tells which it was.
var ErrBadCredentials = errors.New("The user name or password is not correct.")

// LockedError says an account is locked after too many failed logins.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("This account is locked after too many failed logins. Try again after %s UTC or ask an administrator to reset your password.",
		e.Until.UTC().Format("15:04"))
}

// Lockout is the lockout rule, from the system settings.
type Lockout struct {
	Threshold int
	Duration  time.Duration
}

// Authenticate checks a user name and password, counts failures, locks the
// account at the threshold, and audits every attempt.
func Authenticate(ctx context.Context, db *store.DB, lock Lockout, username, password string) (User, error) {
	now := time.Now().UTC()
	u, err := GetByUsername(ctx, db, username)
	if errors.Is(err, check.ErrNotFound) {
		// Hash anyway so a wrong user name takes as long as a wrong password.
		HashPassword(password)
		name := username
		if len(name) > 64 {
			name = name[:64]
		}
		recordAttempt(ctx, db, audit.Actor{Name: "anonymous"}, audit.LoginFailed, name, "unknown user name")
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("log in: %w", err)
	}
	if u.LockedUntil.Valid && u.LockedUntil.Time.After(now) {
		recordAttempt(ctx, db, u.Actor(), audit.LoginFailed, u.Username, "account locked")
		return User{}, &LockedError{Until: u.LockedUntil.Time}
	}
	var hash string
	if err := db.QueryRow(ctx, "SELECT password_hash FROM app_user WHERE id = ?", u.ID).Scan(&hash); err != nil {
		return User{}, fmt.Errorf("log in: %w", err)
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("log in %s: %w", u.Username, err)
	}
	if !ok || !u.Active {
		why := "wrong password"
		if !u.Active {
			why = "account deactivated"
		}
		return User{}, failed(ctx, db, lock, u, now, why)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE app_user SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?`, now, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: u.Actor(), Action: audit.Login, Entity: "user", EntityID: u.Username})
	})
	if err != nil {
		return User{}, fmt.Errorf("log in %s: %w", u.Username, err)
	}
	return u, nil
}

func failed(ctx context.Context, db *store.DB, lock Lockout, u User, now time.Time, why string) error {
	var locked *LockedError
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `UPDATE app_user SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins`, u.ID).Scan(&n); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: u.Actor(), Action: audit.LoginFailed, Entity: "user", EntityID: u.Username,
			Changes: []audit.Change{{Field: "outcome", New: why}}}); err != nil {
			return err
		}
		if u.Active && n >= lock.Threshold {
			until := now.Add(lock.Duration)
			if _, err := tx.Exec(ctx, `UPDATE app_user SET locked_until = ?, failed_logins = 0 WHERE id = ?`, until, u.ID); err != nil {
				return err
			}
			locked = &LockedError{Until: until}
			return audit.Record(ctx, tx, audit.Event{Actor: u.Actor(), Action: audit.Lockout, Entity: "user", EntityID: u.Username,
				Changes: []audit.Change{{Field: "locked_until", New: until.Format(time.RFC3339)}}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log in %s: %w", u.Username, err)
	}
	if locked != nil {
		return locked
	}
	return ErrBadCredentials
}

func recordAttempt(ctx context.Context, db *store.DB, who audit.Actor, action audit.Action, username, why string) {
	db.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, audit.Event{Actor: who, Action: action, Entity: "user", EntityID: username,
			Changes: []audit.Change{{Field: "outcome", New: why}}})
	})
}

// Session is a signed-in browser.
type Session struct {
	UserID    int64
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
}

// ErrNoSession means the token is unknown or the session timed out.
var ErrNoSession = errors.New("no session")

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what the database keeps: a stolen copy of the session table
// does not let anyone sign in.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// StartSession creates a new session for the user and returns its token.
// Called at every login, so the session id is always fresh (no fixation);
// previous is the browser's old token, ended here if there was one.
func StartSession(ctx context.Context, db *store.DB, userID int64, previous string) (string, Session, error) {
	token := randomToken()
	now := time.Now().UTC()
	s := Session{UserID: userID, CSRFToken: randomToken(), CreatedAt: now, LastSeen: now}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if previous != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM user_session WHERE token_hash = ?`, tokenHash(previous)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash(token), userID, s.CSRFToken, now, now)
		return err
	})
	if err != nil {
		return "", s, fmt.Errorf("start session: %w", err)
	}
	return token, s, nil
}

// Timeouts are the session limits, from the system settings.
type Timeouts struct {
	Idle     time.Duration
	Absolute time.Duration
}

// touchEvery limits how often a busy session writes its last-seen time.
const touchEvery = 30 * time.Second

// LookupSession returns the live session and active user for a token. A
// session past its idle or absolute timeout is ended and ErrNoSession
// returned.
func LookupSession(ctx context.Context, db *store.DB, token string, t Timeouts) (Session, User, error) {
	if token == "" {
		return Session{}, User{}, ErrNoSession
	}
	var s Session
	h := tokenHash(token)
	err := db.QueryRow(ctx, `SELECT user_id, csrf_token, created_at, last_seen_at FROM user_session WHERE token_hash = ?`, h).
		Scan(&s.UserID, &s.CSRFToken, &s.CreatedAt, &s.LastSeen)
	if err != nil {
		return s, User{}, ErrNoSession
	}
	now := time.Now().UTC()
	if now.Sub(s.LastSeen) > t.Idle || now.Sub(s.CreatedAt) > t.Absolute {
		db.Exec(ctx, `DELETE FROM user_session WHERE token_hash = ?`, h)
		return s, User{}, ErrNoSession
	}
	u, err := Get(ctx, db, s.UserID)
	if err != nil || !u.Active {
		return s, User{}, ErrNoSession
	}
	if now.Sub(s.LastSeen) > touchEvery {
		if _, err := db.Exec(ctx, `UPDATE user_session SET last_seen_at = ? WHERE token_hash = ?`, now, h); err == nil {
			s.LastSeen = now
		}
	}
	return s, u, nil
}

// EndSession signs the browser out and audits it.
func EndSession(ctx context.Context, db *store.DB, token string, u User) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM user_session WHERE token_hash = ?`, tokenHash(token)); err != nil {
			return fmt.Errorf("log out: %w", err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: u.Actor(), Action: audit.Logout, Entity: "user", EntityID: u.Username})
	})
}
