package setting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Values is the instance's settings, defaults included.
type Values struct {
	m         map[string]string
	updatedBy string
	updatedAt time.Time
}

// Get returns the value of key (its default when never set).
func (v Values) Get(key string) string { return v.m[key] }

// Int returns an integer setting.
func (v Values) Int(key string) int {
	n, _ := strconv.Atoi(v.m[key])
	return n
}

// Bool returns a boolean setting.
func (v Values) Bool(key string) bool { return v.m[key] == "true" }

// Minutes returns an integer setting as a duration in minutes.
func (v Values) Minutes(key string) time.Duration { return time.Duration(v.Int(key)) * time.Minute }

// Fingerprint identifies the values of one scope as loaded; a save carrying
// an older fingerprint is refused rather than overwriting a newer change.
func (v Values) Fingerprint(s Scope) string {
	h := sha256.New()
	for _, d := range InScope(s) {
		fmt.Fprintf(h, "%s=%d:%s\n", d.Key, len(v.m[d.Key]), v.m[d.Key])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Defaults returns every setting at its default value.
func Defaults() Values {
	m := map[string]string{}
	for _, d := range Definitions {
		m[d.Key] = d.Default
	}
	return Values{m: m}
}

// Load reads the stored settings over their defaults, from the database or
// inside a transaction. Keys in the database that this build no longer
// declares are ignored.
func Load(ctx context.Context, q store.Querier) (Values, error) {
	v := Defaults()
	rows, err := q.Query(ctx, `SELECT key, value, updated_at, updated_by FROM setting`)
	if err != nil {
		return v, fmt.Errorf("load settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, val, by string
		var at time.Time
		if err := rows.Scan(&k, &val, &at, &by); err != nil {
			return v, fmt.Errorf("load settings: %w", err)
		}
		if _, ok := Lookup(k); ok {
			v.m[k] = val
		}
		if at.After(v.updatedAt) {
			v.updatedAt, v.updatedBy = at, by
		}
	}
	return v, rows.Err()
}

// display hides secrets in the audit trail and on pages.
func display(d Definition, v string) string {
	if d.Kind == Secret && v != "" {
		return "(secret, " + strconv.Itoa(len(v)) + " characters)"
	}
	return v
}

// Display returns the value of key as a page may show it.
func (v Values) Display(key string) string {
	d, _ := Lookup(key)
	return display(d, v.m[key])
}

// Save validates and stores changed values of one scope in one transaction,
// auditing each. fingerprint is Values.Fingerprint as the user loaded it.
// A secret left blank keeps its stored value, so a form never has to echo it.
func Save(ctx context.Context, db *store.DB, by audit.Actor, scope Scope, fingerprint string, in map[string]string, reason string) error {
	fe := check.FieldErrors{}
	clean := map[string]string{}
	for k, raw := range in {
		d, ok := Lookup(k)
		if !ok || d.Scope != scope {
			return fmt.Errorf("save settings: %q is not a %s setting", k, scope)
		}
		if d.Kind == Secret && raw == "" {
			continue
		}
		v, err := d.Normalize(raw)
		if err != nil {
			fe.Add(k, "%s.", capitalise(err.Error()))
			continue
		}
		clean[k] = v
	}
	if strings.TrimSpace(reason) == "" {
		fe.Add("reason", "Say why you are changing these settings (reason for change).")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if fingerprint != "" && cur.Fingerprint(scope) != fingerprint {
			return &check.Conflict{Entity: string(scope) + " settings", By: cur.updatedBy, At: cur.updatedAt}
		}
		keys := make([]string, 0, len(clean))
		for k := range clean {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		now := time.Now().UTC()
		for _, k := range keys {
			old, v := cur.m[k], clean[k]
			if old == v {
				continue
			}
			if err := upsert(ctx, tx, k, v, now, by.Name); err != nil {
				return err
			}
			d, _ := Lookup(k)
			if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "setting", EntityID: k, Reason: reason,
				Changes: []audit.Change{{Field: "value", Old: display(d, old), New: display(d, v)}}}); err != nil {
				return err
			}
		}
		return nil
	})
}

func upsert(ctx context.Context, tx *store.Tx, key, value string, at time.Time, by string) error {
	_, err := tx.Exec(ctx, `INSERT INTO setting (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by, version = setting.version + 1`, key, value, at, by)
	if err != nil {
		return fmt.Errorf("save setting %s: %w", key, err)
	}
	return nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
