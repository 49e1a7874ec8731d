package dictionary

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Name returns the dictionary's name as people write it: MedDRA, WHODrug.
func (k Kind) Name() string {
	switch k {
	case MedDRA:
		return "MedDRA"
	case WHODrug:
		return "WHODrug"
	}
	return string(k)
}

// Kinds lists the dictionaries in the order pages show them.
func Kinds() []Kind { return []Kind{MedDRA, WHODrug} }

// StoredVersion is a dictionary version as the instance keeps it: its
// release and whether it is the one coding uses now. Exactly one version of
// each dictionary that has any is active; older ones stay, and may be
// retired, but are never deleted, because data coded with them points at
// them.
type StoredVersion struct {
	ID       int64
	Kind     Kind
	Release  string
	Language string
	// Active marks the version coding and search use for its dictionary.
	Active bool
	// Retired versions are kept for data coded with them but can no longer
	// be activated.
	Retired bool
	Terms   int
	Links   int
	// Source is the file or folder the version was imported from.
	Source     string
	ImportedAt time.Time
	ImportedBy string
	UpdatedAt  time.Time
	UpdatedBy  string
	// Version counts changes, for refusing a save over someone else's.
	Version int
}

// Label names the version in messages and the audit trail, e.g. "MedDRA 27.1".
func (s StoredVersion) Label() string { return s.Kind.Name() + " " + s.Release }

// auditEntity is the audit trail's name for a dictionary version.
const auditEntity = "dictionary_version"

const versionColumns = "id, kind, release_name, language, active, retired, term_count, link_count, source, imported_at, imported_by, updated_at, updated_by, version"

type scanner interface{ Scan(...any) error }

func scanVersion(r scanner) (StoredVersion, error) {
	var s StoredVersion
	var kind string
	err := r.Scan(&s.ID, &kind, &s.Release, &s.Language, &s.Active, &s.Retired, &s.Terms, &s.Links, &s.Source,
		&s.ImportedAt, &s.ImportedBy, &s.UpdatedAt, &s.UpdatedBy, &s.Version)
	s.Kind = Kind(kind)
	return s, err
}

// Versions returns every stored version, by dictionary and newest import first.
func Versions(ctx context.Context, db store.Querier) ([]StoredVersion, error) {
	rows, err := db.Query(ctx, "SELECT "+versionColumns+" FROM dictionary_version ORDER BY kind, imported_at DESC, id DESC")
	if err != nil {
		return nil, fmt.Errorf("list dictionary versions: %w", err)
	}
	defer rows.Close()
	var out []StoredVersion
	for rows.Next() {
		s, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list dictionary versions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetVersion returns the stored version with the given id.
func GetVersion(ctx context.Context, db store.Querier, id int64) (StoredVersion, error) {
	s, err := scanVersion(db.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("dictionary version %d: %w", id, check.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read dictionary version %d: %w", id, err)
	}
	return s, nil
}

// ActiveVersion returns the active version of a dictionary, or an error
// wrapping check.ErrNotFound when none has been imported.
func ActiveVersion(ctx context.Context, db store.Querier, kind Kind) (StoredVersion, error) {
	s, err := scanVersion(db.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE kind = ? AND active = ?", string(kind), true))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("no active %s version: %w", kind.Name(), check.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read active %s version: %w", kind.Name(), err)
	}
	return s, nil
}

// ImportFS parses the distribution in fsys (MedDRA or WHODrug, detected by
// its files) and imports it with Import. release names the release when the
// distribution does not; when it does, release may be empty, and a
// different one is refused as a field error on "release" so a 27.0 upload
// cannot be stored as 27.1. A distribution that does not parse stores
// nothing and returns the parser's errors, each naming file, line and field.
func ImportFS(ctx context.Context, db *store.DB, by audit.Actor, fsys fs.FS, release, source string) (StoredVersion, error) {
	v, err := Parse(ctx, fsys)
	if err != nil {
		return StoredVersion{}, err
	}
	release = strings.TrimSpace(release)
	switch {
	case v.Release == "" && release == "":
		return StoredVersion{}, check.FieldErrors{"release": fmt.Sprintf("The %s distribution does not name its release; enter it (for example %s).", v.Kind.Name(), exampleRelease[v.Kind])}
	case v.Release == "":
		v.Release = release
	case release != "" && release != v.Release:
		return StoredVersion{}, check.FieldErrors{"release": fmt.Sprintf("The distribution is %s release %s, not %s; leave the release empty to use the distribution's.", v.Kind.Name(), v.Release, release)}
	}
	return Import(ctx, db, by, v, source)
}

var exampleRelease = map[Kind]string{MedDRA: "27.1", WHODrug: "GLOBALB3Mar26"}

// maxRelease bounds the release name people type.
const maxRelease = 60

// Import stores a parsed version in one transaction: the version row, its
// terms with their normalised names for search, and its links, inserted in
// batches so a full MedDRA release (about 80 000 LLTs) takes seconds. The
// first version of a dictionary becomes its active version; later ones are
// stored inactive until someone activates them. A release already imported
// is refused as a field error on "release". Either everything is stored
// and audited or nothing is.
func Import(ctx context.Context, db *store.DB, by audit.Actor, v *Version, source string) (StoredVersion, error) {
	if v == nil {
		return StoredVersion{}, errors.New("import dictionary: no version was given")
	}
	if _, err := NewVersion(v.Kind, v.Release, v.Language, v.Terms, v.Links); err != nil {
		return StoredVersion{}, fmt.Errorf("import dictionary: %w", err)
	}
	if strings.TrimSpace(v.Release) == "" {
		return StoredVersion{}, check.FieldErrors{"release": "Enter the release of the dictionary (for example " + exampleRelease[v.Kind] + ")."}
	}
	if len(v.Release) > maxRelease {
		return StoredVersion{}, check.FieldErrors{"release": fmt.Sprintf("Keep the release under %d characters.", maxRelease)}
	}
	s := StoredVersion{Kind: v.Kind, Release: v.Release, Language: v.Language, Terms: len(v.Terms), Links: len(v.Links),
		Source: source, ImportedBy: by.Name, UpdatedBy: by.Name, Version: 1}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var actives int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM dictionary_version WHERE kind = ? AND active = ?", string(v.Kind), true).Scan(&actives); err != nil {
			return fmt.Errorf("import %s: %w", s.Label(), err)
		}
		s.Active = actives == 0
		now := time.Now().UTC()
		s.ImportedAt, s.UpdatedAt = now, now
		id, err := tx.InsertID(ctx, `INSERT INTO dictionary_version (kind, release_name, language, active, retired, term_count, link_count,
			source, imported_at, imported_by, updated_at, updated_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			string(s.Kind), s.Release, s.Language, s.Active, false, s.Terms, s.Links, s.Source, now, by.Name, now, by.Name)
		if store.IsUniqueViolation(err) {
			return check.FieldErrors{"release": fmt.Sprintf("%s is already imported; each release is imported once.", s.Label())}
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", s.Label(), err)
		}
		s.ID = id
		if err := insertTerms(ctx, tx, id, v.Terms); err != nil {
			return fmt.Errorf("import %s: %w", s.Label(), err)
		}
		if err := insertLinks(ctx, tx, id, v.Links); err != nil {
			return fmt.Errorf("import %s: %w", s.Label(), err)
		}
		changes := []audit.Change{
			{Field: "release", New: s.Release}, {Field: "language", New: s.Language},
			{Field: "terms", New: fmt.Sprint(s.Terms)}, {Field: "links", New: fmt.Sprint(s.Links)},
			{Field: "source", New: s.Source},
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: auditEntity, EntityID: s.Label(), Changes: changes}); err != nil {
			return err
		}
		if !s.Active {
			return nil
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: auditEntity, EntityID: s.Label(),
			Reason: "first " + s.Kind.Name() + " version of this instance", Changes: []audit.Change{{Field: "active", Old: "no", New: "yes"}}})
	})
	if err != nil {
		return StoredVersion{}, err
	}
	return s, nil
}

// batchRows is how many rows one INSERT carries: large enough that a
// release imports in a few hundred statements, small enough to stay far
// below either engine's limit on bound parameters.
const batchRows = 500

var termColumns = []string{"version_id", "level", "code", "name", "search_name", "depth", "is_current", "abbrev", "primary_soc", "sort_order", "preferred"}

func insertTerms(ctx context.Context, tx *store.Tx, versionID int64, terms []Term) error {
	return insertBatches(ctx, tx, "dictionary_term", termColumns, len(terms), func(i int, args []any) []any {
		t := terms[i]
		return append(args, versionID, string(t.Level), t.Code, t.Name, Normalize(t.Name), t.Level.Depth(), t.Current,
			t.Abbrev, t.PrimarySOC, t.Order, t.Preferred)
	})
}

var linkColumns = []string{"version_id", "parent_level", "parent_code", "child_level", "child_code"}

func insertLinks(ctx context.Context, tx *store.Tx, versionID int64, links []Link) error {
	return insertBatches(ctx, tx, "dictionary_link", linkColumns, len(links), func(i int, args []any) []any {
		l := links[i]
		return append(args, versionID, string(l.Parent.Level), l.Parent.Code, string(l.Child.Level), l.Child.Code)
	})
}

// insertBatches inserts n rows into table, batchRows to a statement; row
// appends row i's values to args. It checks ctx between batches so a long
// import can be cancelled (the transaction then rolls back whole).
func insertBatches(ctx context.Context, tx *store.Tx, table string, columns []string, n int, row func(i int, args []any) []any) error {
	statement := func(rows int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
		for i := 0; i < rows; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
		}
		return b.String()
	}
	full := statement(batchRows)
	args := make([]any, 0, batchRows*len(columns))
	for start := 0; start < n; start += batchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+batchRows, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		q := full
		if end-start != batchRows {
			q = statement(end - start)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("insert into %s (rows %d–%d): %w", table, start+1, end, err)
		}
	}
	return nil
}
