package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Record is one item of configuration: a role, a site, a setting. Key is its
// natural key within its category (a code or setting key, never a database
// id); Fields are its values in canonical JSON form — text, json.Number,
// booleans, null, lists and objects — so that a record exported here and the
// same record read back from a file compare equal.
type Record struct {
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// NewRecord makes a record from a struct or map of fields; struct fields
// need json tags, which become the field names in the bundle.
func NewRecord(key string, fields any) (Record, error) {
	r := Record{Key: key}
	b, err := json.Marshal(fields)
	if err != nil {
		return r, fmt.Errorf("record %s: %w", key, err)
	}
	r.Fields, err = decodeFields(b)
	if err != nil {
		return r, fmt.Errorf("record %s: the fields are not a JSON object: %w", key, err)
	}
	return r, nil
}

// decodeFields reads a JSON object into canonical field values.
func decodeFields(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Decode reads the record's fields into dst, a pointer to the same struct
// the category exported. A field dst does not have, or a value of the wrong
// type, is an error that names the field.
func (r Record) Decode(dst any) error {
	b, err := json.Marshal(r.Fields)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("field %s holds %s where cohort expects %s", typeErr.Field, article(typeErr.Value), kindOf(typeErr.Type))
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("field %s is not one this build of cohort knows", strings.Trim(f, `"`))
		}
		return err
	}
	return nil
}

func article(jsonKind string) string {
	switch jsonKind {
	case "string":
		return "text"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	return jsonKind
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(kindOf(t.Elem()), "a ")
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// Display returns a field's value as a person reads it: text as it is,
// lists of text joined with commas, anything else as compact JSON.
func (r Record) Display(field string) string { return display(r.Fields[field]) }

// FieldNames returns the record's field names in order.
func (r Record) FieldNames() []string {
	out := make([]string, 0, len(r.Fields))
	for f := range r.Fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		if items, ok := texts(v); ok {
			return strings.Join(items, ", ")
		}
		// A dictionary's terms run to tens of thousands of tuples: a
		// preview says how many rather than printing them all.
		if len(v) > maxShownItems {
			return fmt.Sprintf("%d entries", len(v))
		}
	}
	return canonical(v)
}

// maxShownItems is the longest list of non-text items Display spells out.
const maxShownItems = 20

// texts returns a list's items when every one is text.
func texts(list []any) ([]string, bool) {
	out := make([]string, 0, len(list))
	for _, it := range list {
		s, ok := it.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// canonical is the compact canonical JSON of a field value, the form two
// values are compared in.
func canonical(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
