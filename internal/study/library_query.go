package study

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/store"
)

// PublishedVersions maps each library form's OID to the numbers of its
// published versions, newest first: the versions a study may choose.
func PublishedVersions(ctx context.Context, db store.Querier) (map[string][]int, error) {
	rows, err := db.Query(ctx, "SELECT form_oid, number FROM library_form_version WHERE status = ? ORDER BY form_oid, number DESC", string(Published))
	if err != nil {
		return nil, fmt.Errorf("list published form versions: %w", err)
	}
	defer rows.Close()
	out := map[string][]int{}
	for rows.Next() {
		var oid string
		var n int
		if err := rows.Scan(&oid, &n); err != nil {
			return nil, fmt.Errorf("list published form versions: %w", err)
		}
		out[oid] = append(out[oid], n)
	}
	return out, rows.Err()
}

// FormUse is a study that uses a version of a library form.
type FormUse struct {
	StudyCode string
	Status    Status
	Version   int
}

// UsesOf lists the studies that use a library form, with the version each
// chose, by study code: what a change to the form would concern.
func UsesOf(ctx context.Context, db store.Querier, formOID string) ([]FormUse, error) {
	rows, err := db.Query(ctx, `SELECT s.code, s.status, sf.form_version FROM study_form sf JOIN study s ON s.id = sf.study_id
		WHERE sf.form_oid = ? ORDER BY s.code`, formOID)
	if err != nil {
		return nil, fmt.Errorf("list studies using form %s: %w", formOID, err)
	}
	defer rows.Close()
	var out []FormUse
	for rows.Next() {
		var u FormUse
		if err := rows.Scan(&u.StudyCode, &u.Status, &u.Version); err != nil {
			return nil, fmt.Errorf("list studies using form %s: %w", formOID, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
