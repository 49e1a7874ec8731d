package account

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/store"
)

// EndAllSessions signs everybody out, inside tx, and returns how many
// sessions ended. A copy of an instance calls it first: sessions copied
// from the source must not open the copy.
func EndAllSessions(ctx context.Context, tx *store.Tx) (int64, error) {
	res, err := tx.Exec(ctx, "DELETE FROM user_session")
	if err != nil {
		return 0, fmt.Errorf("end all sessions: %w", err)
	}
	return res.RowsAffected()
}
