package study

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cohort-clinical/cohort/internal/odm"
)

// canonical returns v (a tree of internal/odm values) as JSON that depends
// only on the design, not on the file it was read from: source line numbers
// of vendor elements are cleared first, so that the same form read from two
// files stores, digests and compares the same.
func canonical(v any) ([]byte, error) {
	clearLines(reflect.ValueOf(v))
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode design: %w", err)
	}
	return b, nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var nodeType = reflect.TypeOf(odm.Node{})

// clearLines zeroes Node.Line everywhere under v.
func clearLines(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearLines(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			clearLines(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == nodeType && v.CanSet() {
			v.FieldByName("Line").SetInt(0)
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				clearLines(v.Field(i))
			}
		}
	}
}

// decode reads JSON written by canonical into v.
func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode stored design: %w", err)
	}
	return nil
}
