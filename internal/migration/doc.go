// Package migration is the migration program: it turns a legacy clinic
// database (a directory of CSV files, a SQLite database, an SQL dump or a
// PostgreSQL plain dump) into cohort volunteers, Volunteer Configure list
// entries and archived studies with their historical participation,
// following a declarative Migration Specification (see docs/migration-spec.md).
//
// A run reads every source table row by row, applies the specification's
// transforms and validation rules, checks each volunteer with the volunteer
// database's own rules and duplicate detection, and stores what passed in
// one transaction, audited as done by the actor "migration" with the run
// named as the reason. Its Report says, per source table, how many rows were
// read, migrated, merged and rejected (each rejected row with its row number
// and reason) and, per field, how many values were filled, empty,
// transformed, defaulted, cleared and rejected, and how many were distinct.
package migration
