package console

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cohort-clinical/cohort/internal/store"
)

// Places says where instances keep their files and databases: a SQLite file
// per instance under the console's data directory or, when the console runs
// on PostgreSQL, a PostgreSQL database per instance on the same server.
// Logs, process files and SQLite archives always live under DataDir.
type Places struct {
	DataDir string
	// Postgres is the console's own database URL when it runs on
	// PostgreSQL; instance databases are created beside it. Empty: SQLite.
	Postgres string
}

// Engine is the engine new instances get.
func (p Places) Engine() store.Engine {
	if p.Postgres != "" {
		return store.Postgres
	}
	return store.SQLite
}

// Dir is the instance's directory under the data directory.
func (p Places) Dir(key string) string {
	return filepath.Join(p.DataDir, "instances", filepath.FromSlash(key))
}

// ArchiveDir holds the final backups of destroyed SQLite instances.
func (p Places) ArchiveDir() string { return filepath.Join(p.DataDir, "archive") }

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName is where a new instance's database goes: a path relative to
// the data directory for SQLite, a database named after the instance for
// PostgreSQL. The console database's own name leads, so two consoles on one
// server never collide, and the instance's id keeps names unique however
// codes are spelled (PostgreSQL cuts names at 63 bytes).
func (p Places) databaseName(id int64, key string) string {
	if p.Engine() == store.SQLite {
		return filepath.ToSlash(filepath.Join("instances", key, "cohort.db"))
	}
	name := fmt.Sprintf("%s_%d_%s", p.consoleName(), id, strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(key), "_"), "_"))
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// consoleName is the console database's name, cut to leave room for the
// instance's id and name.
func (p Places) consoleName() string {
	name := "cohort"
	if u, err := url.Parse(p.Postgres); err == nil {
		if n := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(strings.TrimPrefix(u.Path, "/")), "_"), "_"); n != "" {
			name = n
		}
	}
	if len(name) > 30 {
		name = name[:30]
	}
	return name
}

// DSN is the database URL or file path an instance opens.
func (p Places) DSN(inst Instance) string {
	if inst.Engine == store.SQLite {
		return p.path(inst.Database)
	}
	return p.postgresDSN(inst.Database)
}

func (p Places) path(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(p.DataDir, filepath.FromSlash(rel))
}

// postgresDSN is the console's URL pointed at another database.
func (p Places) postgresDSN(name string) string {
	u, err := url.Parse(p.Postgres)
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	return u.String()
}
