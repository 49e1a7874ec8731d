package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
