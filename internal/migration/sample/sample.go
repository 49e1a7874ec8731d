// Package sample ships the migration program's sample legacy source: the
// CSV export of ClinBase 4, the old volunteer system of the fictional
// Harbourview Clinical Research Unit (about 10,000 volunteers with the mess
// such exports have), and the Migration Specification that migrates it.
// The demo and the tests use it; gen/ regenerates it deterministically.
package sample

import (
	"bytes"
	"embed"
	"io/fs"

	"github.com/cohort-clinical/cohort/internal/migration"
)

//go:embed spec.json source/*.csv
var files embed.FS

// SpecJSON returns the sample specification's bytes.
func SpecJSON() []byte {
	b, err := files.ReadFile("spec.json")
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// Spec returns the sample specification, parsed.
func Spec() (*migration.Spec, error) { return migration.ParseSpec(bytes.NewReader(SpecJSON())) }

// SourceFS is the sample legacy source: one CSV file per table.
func SourceFS() fs.FS {
	sub, err := fs.Sub(files, "source")
	if err != nil {
		panic(err)
	}
	return sub
}

// Source opens the sample legacy source.
func Source() migration.Source { return migration.CSVSource(SourceFS()) }
