package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Helpers the configuration categories share for keys, active flags and
// values whose exact spelling matters.

// splitKey splits a compound key such as "type/ECG" or "medical_history/ASTHMA"
// at its first slash; the part before names the kind of record within the
// category, the part after its code.
func splitKey(key string) (kind, code string, ok bool) {
	kind, code, ok = strings.Cut(key, "/")
	return kind, code, ok && kind != "" && code != ""
}

// activeSkip says why an incoming record is left out because its active
// flag differs from the record this instance has, or "" when they agree.
// An import creates records as active or inactive as the source has them,
// but never changes an existing record's state: deactivating is this
// instance's decision (the rule every import keeps), and reactivating what
// this instance deactivated would undo one of its decisions.
func activeSkip(noun string, here, incoming bool) string {
	switch {
	case here && !incoming:
		return "deactivated in the bundle but active in this instance: an import never deactivates a " + noun
	case !here && incoming:
		return "deactivated in this instance: an import never reactivates a " + noun
	}
	return ""
}

// activeField reads a record's "active" flag without decoding the rest,
// for Skip; a record without a valid one reads as active and is left for
// Apply to refuse with a sentence.
func activeField(r Record) bool {
	a, ok := r.Fields["active"].(bool)
	return a || !ok
}

// decimalText writes a number as the shortest text that reads back as
// exactly the same number, e.g. "0.17" or "13.5": bundles carry decimals
// as text so that no JSON reader rounds them.
func decimalText(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// optionalDecimal is decimalText, or "" for zero (a value not set).
func optionalDecimal(v float64) string {
	if v == 0 {
		return ""
	}
	return decimalText(v)
}

// parseDecimal reads a decimal written as text; "" is zero when optional.
func parseDecimal(field, s string, optional bool) (float64, error) {
	if s == "" && optional {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s holds %q, which is not a decimal number", field, s)
	}
	return v, nil
}

// dateText writes a calendar date as YYYY-MM-DD, or "" for none.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// parseDate reads a date written as YYYY-MM-DD; "" is no date.
func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s holds %q, which is not a date written as YYYY-MM-DD", field, s)
	}
	return t, nil
}

// orEmpty makes a nil list an empty one, so that a record has one form.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
