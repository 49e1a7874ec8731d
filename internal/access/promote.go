package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ImportRole brings the role with r's code to r's name, description and
// permissions inside tx: it creates the role when this instance has none
// with that code and updates it otherwise, auditing either with reason.
// Configuration promotion uses it; an unchanged role records nothing. It
// never removes a role or a grant.
func ImportRole(ctx context.Context, tx *store.Tx, by audit.Actor, r Role, reason string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing this role."}
	}
	old, err := roleInTx(ctx, tx, r.Code)
	if errors.Is(err, check.ErrNotFound) {
		return createRole(ctx, tx, by, r, reason)
	}
	if err != nil {
		return err
	}
	changes := audit.Diff(roleFields, old.fields(), r.fields())
	if len(changes) == 0 {
		return nil
	}
	now := time.Now().UTC()
	res, err := tx.Exec(ctx, `UPDATE role SET name = ?, description = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?`,
		r.Name, r.Description, now, by.Name, old.ID, old.Version)
	if err != nil {
		return fmt.Errorf("import role %s: %w", r.Code, err)
	}
	// On PostgreSQL another transaction may have saved the role since it
	// was read here; the import then must not overwrite that change.
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "role", By: "another user", At: now}
	}
	if err := writePermissions(ctx, tx, old.ID, r.Permissions); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "role", EntityID: r.Code, Reason: reason, Changes: changes})
}
