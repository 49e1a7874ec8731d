// Package registry stores the volunteer database on SQLite and PostgreSQL:
// volunteers and their child lists, volunteer numbers from the configured
// pattern, search, duplicate detection, privacy removal, CSV import and
// export, and bulk loading of synthetic volunteers. The rules themselves
// (validation, the PHI declaration, masking, name matching, CSV reading)
// live in package volunteer; this package applies them to storage.
//
// # Personal data and the audit trail
//
// Part 11 needs the trail to say what changed, so creations and updates
// record every changed field with its full old and new value, PHI included.
// Who may read those values follows the same permission as the record: the
// audit viewer and the audit CSV export pass entries through MaskTrail,
// which masks volunteer PHI fields (as volunteer.Mask would) for users
// without volunteer.view_phi, and for everyone once the volunteer's
// personal data has been removed. The privacy removal entry itself records
// only masked old values and the erased new values, so it adds no PHI to the
// trail. Entries written before a removal still hold the values in the
// database (the trail is append-only and hash-chained); they are hidden, not
// destroyed.
//
// Imports record one entry per volunteer holding the whole record
// (RecordField, masked the same way); Populate, which makes synthetic
// volunteers for demonstrations and benchmarks, records one entry per batch
// naming its range of numbers and the seed.
//
// Every view of unmasked PHI is recorded: Open writes a "view" entry when it
// returns a record unmasked, which pages do for holders of
// volunteer.view_phi; others get the masked record and nothing is recorded.
// Every export writes an "export" entry naming the search and whether the
// file was masked. Search result lists (number, names, birth date) are not
// recorded row by row.
package registry
