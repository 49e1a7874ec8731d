package migration_test

import (
	"reflect"
	"testing"

	"github.com/cohort-clinical/cohort/internal/migration"
)

// TestCompareLinesUpTablesAndFieldsByName compares two reports whose tables
// and fields differ in membership as well as in figures: a table or field
// in one run only is compared with zeros, and the differences come in the
// order the names first appear (the earlier run's first).
func TestCompareLinesUpTablesAndFieldsByName(t *testing.T) {
	before := &migration.Report{Tables: []*migration.TableReport{
		{Table: "PATIENT", Read: 10, Migrated: 10, ByReason: map[string]int{},
			Fields: []*migration.FieldStats{{Field: "family_name", Filled: 10}, {Field: "notes", Filled: 2, Empty: 8}}},
		{Table: "STUDY", Read: 3, Migrated: 3, ByReason: map[string]int{}},
	}}
	after := &migration.Report{Tables: []*migration.TableReport{
		{Table: "LKP_SOURCE", Read: 4, Migrated: 4, ByReason: map[string]int{}},
		{Table: "PATIENT", Read: 10, Migrated: 9, Rejected: 1, ByReason: map[string]int{"bad_date": 1},
			Fields: []*migration.FieldStats{{Field: "birth_date", Filled: 9, Rejected: 1}, {Field: "family_name", Filled: 10}}},
	}}
	got := migration.Compare(before, after)
	want := []migration.Difference{
		{Table: "PATIENT", Figure: "migrated", Before: 10, After: 9},
		{Table: "PATIENT", Figure: "rejected", Before: 0, After: 1},
		{Table: "PATIENT", Figure: "rejected: bad_date", Before: 0, After: 1},
		{Table: "PATIENT", Field: "notes", Figure: "filled", Before: 2, After: 0},
		{Table: "PATIENT", Field: "notes", Figure: "empty", Before: 8, After: 0},
		{Table: "PATIENT", Field: "birth_date", Figure: "filled", Before: 0, After: 9},
		{Table: "PATIENT", Field: "birth_date", Figure: "rejected", Before: 0, After: 1},
		{Table: "STUDY", Figure: "read", Before: 3, After: 0},
		{Table: "STUDY", Figure: "migrated", Before: 3, After: 0},
		{Table: "LKP_SOURCE", Figure: "read", Before: 0, After: 4},
		{Table: "LKP_SOURCE", Figure: "migrated", Before: 0, After: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences:\n got %+v\nwant %+v", got, want)
	}
}
