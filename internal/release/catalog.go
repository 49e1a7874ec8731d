package release

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Build is one registered build of the catalog.
type Build struct {
	ID      int64
	Version string
	Number  string
	// Base is the release a hotfix fixes (26.2 for 26.2.1); empty for a
	// release or a development build.
	Base string
	// Time and Revision are the build time and source revision the binary
	// reported.
	Time     string
	Revision string
	// SHA256 is the binary's hash as the console computed it when the
	// build was registered.
	SHA256 string
	// SchemaVersion is the instance schema version the build needs.
	SchemaVersion int64
	// File is the binary's name in the releases directory.
	File         string
	Notes        string
	RegisteredAt time.Time
	RegisteredBy string
}

// Ref is the build as instances record it.
func (b Build) Ref() console.Build { return console.Build{Version: b.Version, Number: b.Number} }

// String writes the build as pages show it: 26.2 (build 7).
func (b Build) String() string { return b.Ref().String() }

// Key writes the build as the CLI takes it: 26.2+7.
func (b Build) Key() string { return b.Version + "+" + b.Number }

// IsHotfix reports whether the build is a hotfix (YY.N.H).
func (b Build) IsHotfix() bool { return b.Base != "" }

// IsRelease reports whether the build carries a release or hotfix version;
// a development build (dev, test) does not.
func (b Build) IsRelease() bool { return IsRelease(b.Version) }

// Catalog is the release catalog of one console: its registry database and
// the directory holding the registered binaries. It implements
// console.BuildCatalog.
type Catalog struct {
	DB  *store.DB
	Dir string
	// RequestUpgrade asks the console to upgrade an instance to a build;
	// accepting a hotfix calls it. The running console sets it to
	// (*console.Console).RequestUpgrade; while it is nil a hotfix can be
	// declined but not accepted.
	RequestUpgrade func(ctx context.Context, by audit.Actor, key string, to console.Build, at time.Time, reason string) (console.Operation, error)

	mu     sync.Mutex
	hashed map[string]hashedFile
}

var _ console.BuildCatalog = (*Catalog)(nil)

// DirOf is the releases directory of a console's data directory.
func DirOf(dataDir string) string { return filepath.Join(dataDir, "releases") }

// For returns the catalog of console c: c's own catalog when it has one,
// otherwise one on c's registry and releases directory.
func For(c *console.Console) *Catalog {
	if cat, ok := c.Catalog.(*Catalog); ok && cat != nil {
		return cat
	}
	return &Catalog{DB: c.DB, Dir: DirOf(c.Places.DataDir)}
}

// Registration is a request to add a build to the catalog.
type Registration struct {
	// Binary is the cohort binary to register.
	Binary string
	// Notes are the release notes, in Markdown.
	Notes string
	// Development admits a build whose version is not a release version
	// (dev, test): the console registers its own build that way, so the
	// catalog is never empty. The CLI and pages never set it.
	Development bool
}

// ErrNotRegistered says a build is not in the catalog.
var ErrNotRegistered = errors.New("not in the release catalog")

// MaxNotes bounds the release notes (256 KiB of Markdown).
const MaxNotes = 256 << 10

// Register adds a build: it runs the binary to learn its identity, hashes
// the file itself and refuses a mismatch, copies it into the releases
// directory and records it with its notes, audited. Registering a build
// again with the same binary changes nothing (and restores a stored copy
// that went missing or was altered); the same version and build number
// with a different binary is refused. added reports whether the build is
// new.
func (c *Catalog) Register(ctx context.Context, by audit.Actor, r Registration) (b Build, added bool, err error) {
	abs, err := filepath.Abs(r.Binary)
	if err != nil {
		return b, false, fmt.Errorf("register %s: %w", r.Binary, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return b, false, fmt.Errorf("There is no binary at %s to register.", abs)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return b, false, fmt.Errorf("The file %s is not executable.", abs)
	}
	if len(r.Notes) > MaxNotes {
		return b, false, check.FieldErrors{"notes": fmt.Sprintf("Keep the release notes under %d KiB.", MaxNotes>>10)}
	}
	if !utf8.ValidString(r.Notes) {
		return b, false, check.FieldErrors{"notes": "The release notes must be UTF-8 text (Markdown)."}
	}
	id, err := Inspect(ctx, abs)
	if err != nil {
		return b, false, err
	}
	b = Build{Version: id.Version, Number: id.Build, Time: id.Time, Revision: id.Revision, SchemaVersion: id.SchemaVersion,
		Notes: strings.TrimSpace(r.Notes)}
	if v, err := ParseVersion(id.Version); err == nil {
		if v.IsHotfix() {
			b.Base = v.Base().String()
		}
	} else if !r.Development {
		return b, false, fmt.Errorf("The binary %s reports version %q, which is not a release version: a release is YY.N (e.g. 26.2) and a hotfix YY.N.H (e.g. 26.2.1). Build it with -ldflags \"-X main.version=…\" (see docs/releases.md).", abs, id.Version)
	}
	if !ValidNumber(id.Build) {
		return b, false, fmt.Errorf("The binary %s reports build number %q; a build number is 1 to 9 digits, set with -ldflags \"-X main.buildNumber=…\".", abs, id.Build)
	}
	if id.SchemaVersion <= 0 {
		return b, false, fmt.Errorf("The binary %s (%s) does not say which schema version it needs; it is older than the release catalog and cannot be registered.", abs, b)
	}
	sum, err := console.BinarySHA256(abs)
	if err != nil {
		return b, false, fmt.Errorf("hash %s: %w", abs, err)
	}
	b.SHA256 = sum
	if id.SHA256 == "" {
		return b, false, fmt.Errorf("The binary %s (%s) did not report its own SHA-256, so its identity cannot be checked; it is not registered.", abs, b)
	}
	if !strings.EqualFold(id.SHA256, sum) {
		return b, false, fmt.Errorf("The binary %s reports SHA-256 %s but its file hashes to %s: the binary that answered is not the file being registered. It is not registered.", abs, id.SHA256, sum)
	}
	b.File = fmt.Sprintf("cohort-%s+%s-%s", b.Version, b.Number, sum[:16])

	existing, err := Get(ctx, c.DB, b.Version, b.Number)
	switch {
	case err == nil:
		if existing.SHA256 != sum {
			return existing, false, fmt.Errorf("Build %s is already registered with a different binary (SHA-256 %s, registered by %s on %s); this one hashes to %s. A build number is never reused: build it again with a new build number.",
				existing, existing.SHA256, existing.RegisteredBy, existing.RegisteredAt.UTC().Format("2006-01-02 15:04 UTC"), sum)
		}
		// The same build again: put back its copy if it went missing or
		// was changed; the record stays as it was.
		if have, herr := console.BinarySHA256(filepath.Join(c.Dir, existing.File)); herr != nil || have != existing.SHA256 {
			if _, err := c.keep(abs, existing); err != nil {
				return existing, false, err
			}
		}
		return existing, false, nil
	case !errors.Is(err, ErrNotRegistered):
		return b, false, err
	}
	final, err := c.keep(abs, b)
	if err != nil {
		return b, false, err
	}
	err = c.DB.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC()
		id, err := tx.InsertID(ctx, `INSERT INTO release_build (version, build_number, base_version, built_at, revision, sha256,
			schema_version, file, notes, registered_at, registered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.Version, b.Number, b.Base, b.Time, b.Revision, b.SHA256, b.SchemaVersion, b.File, b.Notes, now, by.Name)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("Build %s was registered by someone else at the same moment; list the catalog to see it.", b)
		}
		if err != nil {
			return fmt.Errorf("register build %s: %w", b, err)
		}
		b.ID, b.RegisteredAt, b.RegisteredBy = id, now, by.Name
		changes := []audit.Change{{Field: "version", New: b.Version}, {Field: "build_number", New: b.Number},
			{Field: "built_at", New: b.Time}, {Field: "revision", New: b.Revision}, {Field: "sha256", New: b.SHA256},
			{Field: "schema_version", New: fmt.Sprint(b.SchemaVersion)}, {Field: "file", New: b.File}}
		if b.Base != "" {
			changes = append(changes, audit.Change{Field: "base_release", New: b.Base})
		}
		if b.Notes != "" {
			changes = append(changes, audit.Change{Field: "notes", New: b.Notes})
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "release_build", EntityID: b.Key(), Changes: changes})
	})
	if err != nil {
		// Another registration of the same binary may share the file name;
		// only a file nobody records is removed.
		if _, gerr := Get(ctx, c.DB, b.Version, b.Number); errors.Is(gerr, ErrNotRegistered) {
			os.Remove(final)
		}
		return b, false, err
	}
	return b, true, nil
}

// keep copies the binary of build b into the releases directory under its
// catalog name. The copy is hashed as it is written and must be exactly the
// registered binary: one changed since it was checked is refused.
func (c *Catalog) keep(src string, b Build) (string, error) {
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return "", fmt.Errorf("create the releases directory %s: %w", c.Dir, err)
	}
	tmp, sum, err := c.copyIn(src)
	if err != nil {
		return "", err
	}
	if sum != b.SHA256 {
		os.Remove(tmp)
		return "", fmt.Errorf("The binary %s changed while it was being registered (SHA-256 %s, then %s); it is not registered.", src, b.SHA256, sum)
	}
	final := filepath.Join(c.Dir, b.File)
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("keep the binary of %s in %s: %w", b, c.Dir, err)
	}
	return final, nil
}

// copyIn copies the binary into a temporary file of the releases directory,
// executable, synced, and returns it with its SHA-256.
func (c *Catalog) copyIn(src string) (string, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.CreateTemp(c.Dir, ".register-*")
	if err != nil {
		return "", "", fmt.Errorf("copy %s into %s: %w", src, c.Dir, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Chmod(0o755)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", "", fmt.Errorf("copy %s into %s: %w", src, c.Dir, err)
	}
	return out.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// RegisterOwn registers the running console's own binary when its build is
// not in the catalog yet, so the catalog is never empty. A development
// build (dev, test) is admitted.
func (c *Catalog) RegisterOwn(ctx context.Context, binary string) (Build, bool, error) {
	return c.Register(ctx, audit.Actor{Name: "console"}, Registration{Binary: binary, Development: true})
}

const buildColumns = `id, version, build_number, base_version, built_at, revision, sha256, schema_version, file, notes, registered_at, registered_by`

func scanBuild(r interface{ Scan(...any) error }) (Build, error) {
	var b Build
	err := r.Scan(&b.ID, &b.Version, &b.Number, &b.Base, &b.Time, &b.Revision, &b.SHA256, &b.SchemaVersion, &b.File, &b.Notes,
		&b.RegisteredAt, &b.RegisteredBy)
	return b, err
}

// List returns every registered build, newest version first.
func List(ctx context.Context, q store.Querier) ([]Build, error) {
	rows, err := q.Query(ctx, "SELECT "+buildColumns+" FROM release_build")
	if err != nil {
		return nil, fmt.Errorf("list the release catalog: %w", err)
	}
	defer rows.Close()
	var out []Build
	for rows.Next() {
		b, err := scanBuild(rows)
		if err != nil {
			return nil, fmt.Errorf("list the release catalog: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the release catalog: %w", err)
	}
	slices.SortFunc(out, func(a, b Build) int { return -CompareBuilds(a.Version, a.Number, b.Version, b.Number) })
	return out, nil
}

// Get returns a registered build; an empty number means the version's
// latest build.
func Get(ctx context.Context, q store.Querier, version, number string) (Build, error) {
	var row *sql.Row
	if number == "" {
		list, err := List(ctx, q)
		if err != nil {
			return Build{}, err
		}
		for _, b := range list {
			if b.Version == version {
				return b, nil
			}
		}
		return Build{}, fmt.Errorf("build %s: %w", version, ErrNotRegistered)
	}
	row = q.QueryRow(ctx, "SELECT "+buildColumns+" FROM release_build WHERE version = ? AND build_number = ?", version, number)
	b, err := scanBuild(row)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("build %s: %w", console.Build{Version: version, Number: number}, ErrNotRegistered)
	}
	if err != nil {
		return b, fmt.Errorf("read build %s+%s: %w", version, number, err)
	}
	return b, nil
}

// Resolve finds the build a CLI reference (VERSION or VERSION+NUMBER)
// names, refusing one that is not registered with a sentence saying how to
// register it.
func Resolve(ctx context.Context, q store.Querier, ref string) (Build, error) {
	v, n, err := ParseRef(ref)
	if err != nil {
		return Build{}, err
	}
	b, err := Get(ctx, q, v, n)
	if errors.Is(err, ErrNotRegistered) {
		return b, fmt.Errorf("Build %s is not in the release catalog; register it first with `cohort release register BINARY`.", ref)
	}
	return b, err
}

// TamperedError refuses a stored binary whose content no longer matches
// the SHA-256 recorded when its build was registered.
type TamperedError struct {
	Build      Build
	Path, Have string
}

func (e *TamperedError) Error() string {
	return fmt.Sprintf("The stored binary of build %s (%s) no longer matches what was registered: its SHA-256 is %s, the catalog recorded %s. It is not run; register the build again from its original binary to restore it.",
		e.Build, e.Path, e.Have, e.Build.SHA256)
}

// Binary returns the path of a registered build's binary after checking
// that its content is still exactly what was registered: a changed binary
// is refused (TamperedError), never run.
func (c *Catalog) Binary(ctx context.Context, ref console.Build) (string, error) {
	b, err := Get(ctx, c.DB, ref.Version, ref.Number)
	if errors.Is(err, ErrNotRegistered) {
		return "", fmt.Errorf("Build %s is not in this console's release catalog; register it with `cohort release register BINARY`.", ref)
	}
	if err != nil {
		return "", err
	}
	return c.verified(b)
}

// SchemaVersion is the schema version a registered build needs, as its
// binary reported at registration, so an upgrade's pre-checks need not ask
// the build again (console.BuildSchemas).
func (c *Catalog) SchemaVersion(ctx context.Context, ref console.Build) (int64, error) {
	b, err := Get(ctx, c.DB, ref.Version, ref.Number)
	if err != nil {
		return 0, err
	}
	return b.SchemaVersion, nil
}

var _ console.BuildSchemas = (*Catalog)(nil)

func (c *Catalog) verified(b Build) (string, error) {
	path := filepath.Join(c.Dir, b.File)
	// A binary hashed before and untouched since (same inode, size and
	// change time) is not read again: the check sits in front of every
	// start, an upgrade's included.
	fi, statErr := os.Stat(path)
	var stamp fileStamp
	if statErr == nil {
		stamp = stampOf(fi)
		c.mu.Lock()
		known, ok := c.hashed[path]
		c.mu.Unlock()
		if ok && stamp.okForStamp && known.stamp == stamp && known.sha == b.SHA256 {
			return path, nil
		}
	}
	have, err := console.BinarySHA256(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("The stored binary of build %s is missing from %s; register the build again from its original binary to restore it.", b, c.Dir)
	}
	if err != nil {
		return "", fmt.Errorf("check the stored binary of build %s: %w", b, err)
	}
	if have != b.SHA256 {
		return "", &TamperedError{Build: b, Path: path, Have: have}
	}
	if statErr == nil && stamp.okForStamp {
		// Stat again: a change while hashing must not be remembered as
		// checked.
		if fi2, err := os.Stat(path); err == nil && stampOf(fi2) == stamp {
			c.mu.Lock()
			if c.hashed == nil {
				c.hashed = map[string]hashedFile{}
			}
			c.hashed[path] = hashedFile{stamp: stamp, sha: have}
			c.mu.Unlock()
		}
	}
	return path, nil
}

// hashedFile remembers a stored binary found intact.
type hashedFile struct {
	stamp fileStamp
	sha   string
}

// Verify checks every stored binary against its recorded SHA-256 and
// returns the builds whose binary is missing or changed, with why.
func (c *Catalog) Verify(ctx context.Context) (map[string]error, error) {
	list, err := List(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	bad := map[string]error{}
	for _, b := range list {
		if _, err := c.verified(b); err != nil {
			bad[b.Key()] = err
		}
	}
	return bad, nil
}

// Covering returns the oldest registered release build whose schema
// version reaches v: the build to name when a database is ahead of
// another build.
func Covering(ctx context.Context, q store.Querier, v int64) (Build, bool, error) {
	list, err := List(ctx, q)
	if err != nil {
		return Build{}, false, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].IsRelease() && list[i].SchemaVersion >= v {
			return list[i], true, nil
		}
	}
	return Build{}, false, nil
}
