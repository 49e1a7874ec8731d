// Package volunteer is the database-free core of the volunteer database: the
// record of a healthy volunteer and its child lists, the rules that validate
// it, the single declaration of which fields are protected health information
// (PHI) and how they are masked, volunteer number patterns, name normalisation
// and phonetic matching for search and duplicate detection, and the streaming
// CSV import.
//
// Everything here is plain types and pure functions so that storage (SQLite and
// PostgreSQL), pages and permissions can be layered on top without this package
// knowing about any of them.
package volunteer
