package obfuscation

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// entryHash seals a rewritten trail row by the trail's own rule.
func entryHash(e trailRow) string {
	return audit.Hash(e.seq, e.at, e.actorID, e.actor, e.action, e.entity, e.entityID, e.field, e.old, e.new, e.reason, e.prevHash)
}

// maxParams bounds the parameters of one SQLite statement (its limit is
// 32766).
const maxParams = 30000

// writer writes rows in bulk inside the obfuscation's transaction. On
// SQLite it keeps each multi-row statement prepared for the rest of the
// transaction: the batches come in a few fixed sizes, and parsing a
// statement of thirty thousand parameters again for every chunk would cost
// more than binding them.
type writer struct {
	tx    *store.Tx
	stmts map[string]*sql.Stmt
}

func newWriter(tx *store.Tx) *writer { return &writer{tx: tx, stmts: map[string]*sql.Stmt{}} }

// exec runs q with args, prepared once per distinct q on SQLite.
func (w *writer) exec(ctx context.Context, q string, args []any) error {
	if w.tx.Engine != store.SQLite {
		_, err := w.tx.Exec(ctx, q, args...)
		return err
	}
	st, ok := w.stmts[q]
	if !ok {
		var err error
		if st, err = w.tx.Prepare(ctx, q); err != nil {
			return err
		}
		w.stmts[q] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

// close releases the prepared statements.
func (w *writer) close() {
	for q, st := range w.stmts {
		st.Close()
		delete(w.stmts, q)
	}
}

// bulkInsert inserts rows given flat (one row after another) with a few
// multi-row statements: VALUES lists on SQLite, unnest of one array per
// column on PostgreSQL.
func bulkInsert(ctx context.Context, w *writer, table string, cols []string, flat []any) error {
	tx := w.tx
	if len(flat) == 0 {
		return nil
	}
	if tx.Engine == store.Postgres {
		arrays, casts, err := columnArrays(cols, flat)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT * FROM unnest(" + strings.Join(casts, ", ") + ")"
		if _, err := tx.Exec(ctx, q, arrays...); err != nil {
			return fmt.Errorf("insert %d rows into %s: %w", len(flat)/len(cols), table, err)
		}
		return nil
	}
	return sqliteChunks(flat, len(cols), func(values string, args []any) error {
		if err := w.exec(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES "+values, args); err != nil {
			return fmt.Errorf("insert %d rows into %s: %w", len(args)/len(cols), table, err)
		}
		return nil
	})
}

// bulkUpdate sets cols[1:] of the rows whose key column cols[0] matches,
// from rows given flat, with one UPDATE … FROM per chunk.
func bulkUpdate(ctx context.Context, w *writer, table string, cols []string, flat []any) error {
	tx := w.tx
	if len(flat) == 0 {
		return nil
	}
	if tx.Engine == store.Postgres {
		arrays, casts, err := columnArrays(cols, flat)
		if err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
		sets := make([]string, 0, len(cols)-1)
		for _, c := range cols[1:] {
			sets = append(sets, c+" = n."+c)
		}
		q := "UPDATE " + table + " AS t SET " + strings.Join(sets, ", ") + " FROM unnest(" + strings.Join(casts, ", ") +
			") AS n(" + strings.Join(cols, ", ") + ") WHERE t." + cols[0] + " = n." + cols[0]
		if _, err := tx.Exec(ctx, q, arrays...); err != nil {
			return fmt.Errorf("update %d rows of %s: %w", len(flat)/len(cols), table, err)
		}
		return nil
	}
	sets := make([]string, 0, len(cols)-1)
	for i, c := range cols[1:] {
		sets = append(sets, c+" = n.column"+strconv.Itoa(i+2))
	}
	return sqliteChunks(flat, len(cols), func(values string, args []any) error {
		q := "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " FROM (VALUES " + values + ") AS n WHERE " +
			table + "." + cols[0] + " = n.column1"
		if err := w.exec(ctx, q, args); err != nil {
			return fmt.Errorf("update %d rows of %s: %w", len(args)/len(cols), table, err)
		}
		return nil
	})
}

// sqliteChunks calls fn with a VALUES list and its arguments for as many
// rows at a time as the parameter limit allows.
func sqliteChunks(flat []any, cols int, fn func(values string, args []any) error) error {
	per := maxParams / cols
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for start := 0; start < len(flat); start += per * cols {
		end := min(start+per*cols, len(flat))
		n := (end - start) / cols
		if err := fn(strings.TrimSuffix(strings.Repeat(row+", ", n), ", "), flat[start:end]); err != nil {
			return err
		}
	}
	return nil
}

// columnArrays turns flat rows into one typed array per column, with the
// casts PostgreSQL needs to read them.
func columnArrays(cols []string, flat []any) ([]any, []string, error) {
	nc := len(cols)
	n := len(flat) / nc
	arrays := make([]any, nc)
	casts := make([]string, nc)
	for j := range nc {
		switch flat[j].(type) {
		case string:
			a := make([]string, n)
			for i := range n {
				a[i] = flat[i*nc+j].(string)
			}
			arrays[j], casts[j] = a, "?::text[]"
		case int:
			a := make([]int64, n)
			for i := range n {
				a[i] = int64(flat[i*nc+j].(int))
			}
			arrays[j], casts[j] = a, "?::bigint[]"
		case int64:
			a := make([]int64, n)
			for i := range n {
				a[i] = flat[i*nc+j].(int64)
			}
			arrays[j], casts[j] = a, "?::bigint[]"
		default:
			return nil, nil, fmt.Errorf("column %s holds a %T", cols[j], flat[j])
		}
	}
	return arrays, casts, nil
}
