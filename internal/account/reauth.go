package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ErrWrongPassword is returned by CheckPassword when the password is not
// the user's.
var ErrWrongPassword = errors.New("The password is not correct.")

// CheckPassword confirms, for an irreversible action such as a privacy
// removal, that the signed-in user is at the keyboard: pw must be their
// current password. It neither counts towards nor resets the lockout,
// because the user already holds a session.
func CheckPassword(ctx context.Context, q store.Querier, userID int64, pw string) error {
	var hash string
	err := q.QueryRow(ctx, "SELECT password_hash FROM app_user WHERE id = ? AND active = ?", userID, true).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrWrongPassword
	}
	if err != nil {
		return fmt.Errorf("check password of user %d: %w", userID, err)
	}
	ok, err := VerifyPassword(hash, pw)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongPassword
	}
	return nil
}

// LockoutFrom reads the lockout rule from the system settings.
func LockoutFrom(v setting.Values) Lockout {
	return Lockout{Threshold: v.Int("lockout.threshold"), Duration: v.Minutes("lockout.minutes")}
}

// FailedSignature counts a wrong password given to sign electronically as a
// failed log-in, so guessing through signature forms locks the account as
// guessing at the login page does (21 CFR 11.300(d)). It returns the
// LockedError when this attempt locked the account, ErrBadCredentials
// otherwise.
func FailedSignature(ctx context.Context, db *store.DB, lock Lockout, u User) error {
	return failed(ctx, db, lock, u, time.Now().UTC(), "wrong password when signing")
}
