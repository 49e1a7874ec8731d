// Package check holds the shapes every domain uses to say what is wrong with
// what a user entered: errors per field, and the refusal of a save that
// would overwrite someone else's change.
package check

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// FieldErrors maps a field name to a sentence saying what is wrong with it.
// It is an error so domains can return it; pages show each message beside
// its field and keep what the user typed.
type FieldErrors map[string]string

// Add records a problem with field, keeping the first one reported.
func (fe FieldErrors) Add(field, format string, args ...any) {
	if _, dup := fe[field]; !dup {
		fe[field] = fmt.Sprintf(format, args...)
	}
}

// Err returns fe as an error, or nil when there is nothing wrong.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Error lists the problems in field order.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return strings.Join(parts, "; ")
}

// Fields returns the map, satisfying the small interface web uses to show
// any domain's field errors.
func (fe FieldErrors) Fields() map[string]string { return fe }

// AsFieldErrors unwraps err to FieldErrors if it is one.
func AsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}

// Conflict is returned when a record changed between the moment a user
// opened it and the moment they saved it: the save is refused rather than
// silently overwriting the other change.
type Conflict struct {
	Entity string
	By     string
	At     time.Time
}

func (c *Conflict) Error() string {
	return fmt.Sprintf("This %s was changed by %s at %s UTC after you opened it. Reload it to see their change, then make yours again.",
		c.Entity, c.By, c.At.UTC().Format("2006-01-02 15:04:05"))
}

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// Required adds an error for each named field whose value is blank.
func Required(fe FieldErrors, values map[string]string, fields ...string) {
	for _, f := range fields {
		if strings.TrimSpace(values[f]) == "" {
			fe.Add(f, "This field is required.")
		}
	}
}
