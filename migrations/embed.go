// Package migrations holds the SQL schema migrations of a clinical instance,
// one folder per database engine, applied in order by the store.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
