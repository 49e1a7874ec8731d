// Package console holds the SQL schema migrations of the lifecycle
// console's own database — its registry of organisations, environments and
// instances, its operation queue, users and audit trail — one folder per
// database engine. They are applied by internal/console with their own goose
// version table, so a console database and an instance database never mix.
package console

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
