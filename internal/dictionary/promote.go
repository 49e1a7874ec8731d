package dictionary

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Configuration promotion carries dictionary versions from a Sandbox or
// Pre-PROD instance into VAL and PROD: PromotableVersions reads them out,
// ImportVersion stores one. A version is identified by its dictionary and
// release (never a database id); its content — terms and links — never
// changes once imported, so the only thing promotion can change about a
// version that is already here is which version is active.

// PromotedVersion is a stored version with its whole content, as
// promotion moves it.
type PromotedVersion struct {
	*Version
	// Active marks the version coding uses for its dictionary.
	Active bool
}

// PromotableVersions returns every version that is not retired, with its
// terms and links in canonical order (see SortContent), by dictionary and
// release. Retired versions stay behind: they are kept only for the data
// coded with them, which promotion does not move.
func PromotableVersions(ctx context.Context, q store.Querier) ([]PromotedVersion, error) {
	rows, err := q.Query(ctx, "SELECT id, kind, release_name, language, active FROM dictionary_version WHERE retired = ? ORDER BY kind, release_name", false)
	if err != nil {
		return nil, fmt.Errorf("list dictionary versions: %w", err)
	}
	type head struct {
		id     int64
		v      *Version
		active bool
	}
	var heads []head
	for rows.Next() {
		var h head
		var kind string
		h.v = &Version{}
		if err := rows.Scan(&h.id, &kind, &h.v.Release, &h.v.Language, &h.active); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list dictionary versions: %w", err)
		}
		h.v.Kind = Kind(kind)
		heads = append(heads, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dictionary versions: %w", err)
	}
	out := make([]PromotedVersion, 0, len(heads))
	for _, h := range heads {
		if err := loadContent(ctx, q, h.id, h.v); err != nil {
			return nil, fmt.Errorf("read %s %s: %w", h.v.Kind.Name(), h.v.Release, err)
		}
		out = append(out, PromotedVersion{Version: h.v, Active: h.active})
	}
	return out, nil
}

// loadContent reads a stored version's terms and links into v, sorted.
func loadContent(ctx context.Context, q store.Querier, id int64, v *Version) error {
	var count int
	if err := q.QueryRow(ctx, "SELECT term_count FROM dictionary_version WHERE id = ?", id).Scan(&count); err != nil {
		return err
	}
	v.Terms = make([]Term, 0, count)
	rows, err := q.Query(ctx, "SELECT level, code, name, is_current, abbrev, primary_soc, sort_order, preferred FROM dictionary_term WHERE version_id = ?", id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t Term
		var level string
		if err := rows.Scan(&level, &t.Code, &t.Name, &t.Current, &t.Abbrev, &t.PrimarySOC, &t.Order, &t.Preferred); err != nil {
			rows.Close()
			return err
		}
		t.Level = Level(level)
		v.Terms = append(v.Terms, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, "SELECT parent_level, parent_code, child_level, child_code FROM dictionary_link WHERE version_id = ?", id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pl, pc, cl, cc string
		if err := rows.Scan(&pl, &pc, &cl, &cc); err != nil {
			return err
		}
		v.Links = append(v.Links, Link{TermRef{Level(pl), pc}, TermRef{Level(cl), cc}})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	SortContent(v.Terms, v.Links)
	return nil
}

// SortContent puts terms and links in the canonical order promotion writes
// them in, independent of engine and collation: terms from the top of the
// hierarchy down and by code (byte order) within a level, links by parent
// and then child, each as level then code.
func SortContent(terms []Term, links []Link) {
	slices.SortFunc(terms, func(a, b Term) int {
		return cmp.Or(cmp.Compare(a.Level.Depth(), b.Level.Depth()), strings.Compare(string(a.Level), string(b.Level)), strings.Compare(a.Code, b.Code))
	})
	slices.SortFunc(links, func(a, b Link) int {
		return cmp.Or(compareRef(a.Parent, b.Parent), compareRef(a.Child, b.Child))
	})
}

func compareRef(a, b TermRef) int {
	return cmp.Or(cmp.Compare(a.Level.Depth(), b.Level.Depth()), strings.Compare(string(a.Level), string(b.Level)), strings.Compare(a.Code, b.Code))
}

// ImportVersion brings the version v.Kind, v.Release into this instance
// inside tx, auditing with reason:
//
//   - a release this instance does not have is stored whole (checked as
//     NewVersion checks it), with reason as its source;
//   - a release it has with the same language, terms and links is left as
//     it is; one with different content is refused, because a release
//     never changes and the two cannot both be it;
//   - active true makes the version the dictionary's active one, the
//     previously active version stepping down in the same transaction, as
//     Activate does. active false never deactivates the version: an
//     import changes which version is active only by activating another.
//
// A version retired here is refused: it cannot be used again.
func ImportVersion(ctx context.Context, tx *store.Tx, by audit.Actor, v *Version, active bool, reason string) error {
	if v == nil {
		return errors.New("import dictionary version: no version was given")
	}
	label := v.Kind.Name() + " " + v.Release
	if strings.TrimSpace(v.Release) == "" {
		return check.FieldErrors{"release": "The version has no release."}
	}
	if len(v.Release) > maxRelease {
		return check.FieldErrors{"release": fmt.Sprintf("Keep the release under %d characters.", maxRelease)}
	}
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are importing " + label + "."}
	}
	if _, err := NewVersion(v.Kind, v.Release, v.Language, v.Terms, v.Links); err != nil {
		return err
	}
	s, err := scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE kind = ? AND release_name = ?", string(v.Kind), v.Release))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if s, err = storeVersion(ctx, tx, by, v, reason); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read %s: %w", label, err)
	case s.Retired:
		return fmt.Errorf("The version %s is retired in this instance; an import never brings back a retired version.", label)
	default:
		if err := sameContent(ctx, tx, s, v); err != nil {
			return err
		}
	}
	switch {
	case active && !s.Active:
		return activateIn(ctx, tx, by, s, reason)
	case !active && s.Active:
		return fmt.Errorf("The version %s is the active %s version of this instance; an import never deactivates a version, it only activates another.", label, v.Kind.Name())
	}
	return nil
}

// storeVersion inserts a new, inactive version and its content and audits
// the import.
func storeVersion(ctx context.Context, tx *store.Tx, by audit.Actor, v *Version, reason string) (StoredVersion, error) {
	now := time.Now().UTC()
	s := StoredVersion{Kind: v.Kind, Release: v.Release, Language: v.Language, Terms: len(v.Terms), Links: len(v.Links),
		Source: reason, ImportedAt: now, ImportedBy: by.Name, UpdatedAt: now, UpdatedBy: by.Name, Version: 1}
	id, err := tx.InsertID(ctx, `INSERT INTO dictionary_version (kind, release_name, language, active, retired, term_count, link_count,
		source, imported_at, imported_by, updated_at, updated_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		string(s.Kind), s.Release, s.Language, false, false, s.Terms, s.Links, s.Source, now, by.Name, now, by.Name)
	if err != nil {
		return s, fmt.Errorf("import %s: %w", s.Label(), err)
	}
	s.ID = id
	if err := insertTerms(ctx, tx, id, v.Terms); err != nil {
		return s, fmt.Errorf("import %s: %w", s.Label(), err)
	}
	if err := insertLinks(ctx, tx, id, v.Links); err != nil {
		return s, fmt.Errorf("import %s: %w", s.Label(), err)
	}
	changes := []audit.Change{
		{Field: "release", New: s.Release}, {Field: "language", New: s.Language},
		{Field: "terms", New: fmt.Sprint(s.Terms)}, {Field: "links", New: fmt.Sprint(s.Links)},
	}
	return s, audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: auditEntity, EntityID: s.Label(), Reason: reason, Changes: changes})
}

// sameContent refuses a version whose stored content differs from v's.
func sameContent(ctx context.Context, q store.Querier, s StoredVersion, v *Version) error {
	stored := &Version{}
	if err := loadContent(ctx, q, s.ID, stored); err != nil {
		return fmt.Errorf("read %s: %w", s.Label(), err)
	}
	terms, links := slices.Clone(v.Terms), slices.Clone(v.Links)
	SortContent(terms, links)
	var what string
	switch {
	case s.Language != v.Language:
		what = fmt.Sprintf("its language is %q here and %q in the bundle", s.Language, v.Language)
	case !slices.Equal(stored.Terms, terms):
		what = fmt.Sprintf("its terms differ (%d here, %d in the bundle)", len(stored.Terms), len(terms))
	case !slices.Equal(stored.Links, links):
		what = fmt.Sprintf("its hierarchy differs (%d links here, %d in the bundle)", len(stored.Links), len(links))
	default:
		return nil
	}
	return fmt.Errorf("This instance already has %s with other content: %s. A release never changes, so one of the two is not the real %s; nothing was imported.",
		s.Label(), what, s.Label())
}

// activateIn makes s its dictionary's active version inside tx.
func activateIn(ctx context.Context, tx *store.Tx, by audit.Actor, s StoredVersion, reason string) error {
	old, err := scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+" FROM dictionary_version WHERE kind = ? AND active = ?", string(s.Kind), true))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("read active %s version: %w", s.Kind.Name(), err)
	default:
		// The old version steps down first: the unique index on active
		// versions would refuse two at once even inside the transaction.
		if err := setFlag(ctx, tx, by, old, "active", false, reason); err != nil {
			return err
		}
	}
	return setFlag(ctx, tx, by, s, "active", true, reason)
}
