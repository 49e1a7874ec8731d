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
