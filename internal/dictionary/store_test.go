package dictionary_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/dictionary"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
)

var alice = audit.Actor{ID: 1, Name: "alice"}

func parse(t testing.TB, dir string) *dictionary.Version {
	t.Helper()
	v, err := dictionary.Parse(context.Background(), os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func importDir(t testing.TB, db *store.DB, dir string) dictionary.StoredVersion {
	t.Helper()
	s, err := dictionary.ImportFS(context.Background(), db, alice, os.DirFS(dir), "", dir)
	if err != nil {
		t.Fatalf("import %s: %v", dir, err)
	}
	return s
}

func refs(ts []dictionary.Term) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Ref().String() + " " + t.Name
	}
	return out
}

func TestImportTwoReleasesSideBySideAndActivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v270 := importDir(t, db, "testdata/meddra/27.0")
		v271 := importDir(t, db, "testdata/meddra/27.1")
		who := importDir(t, db, "testdata/whodrug/GLOBALB3Mar26")
		if !v270.Active || v271.Active || !who.Active {
			t.Fatalf("the first version of each dictionary is active, later ones not: %+v %+v %+v", v270, v271, who)
		}
		if v271.Release != "27.1" || v271.Terms != 6+11+21+62+165 || v271.Language != "English" {
			t.Fatalf("stored 27.1: %+v", v271)
		}
		// The same release again is refused, beside the release field.
		_, err := dictionary.ImportFS(ctx, db, alice, os.DirFS("testdata/meddra/27.1"), "", "again")
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["release"], "MedDRA 27.1 is already imported") {
			t.Fatalf("second import of 27.1: %v", err)
		}
		// A release typed differently from the distribution's is refused.
		_, err = dictionary.ImportFS(ctx, db, alice, os.DirFS("testdata/meddra/27.1"), "28.0", "typo")
		if fe, _ := check.AsFieldErrors(err); !strings.Contains(fe["release"], "release 27.1, not 28.0") {
			t.Fatalf("mismatched release: %v", err)
		}

		if err := dictionary.Activate(ctx, db, alice, v271.ID, v271.Version, ""); err == nil {
			t.Fatal("activation without a reason was accepted")
		}
		if err := dictionary.Activate(ctx, db, alice, v271.ID, v271.Version, "MedDRA 27.1 released"); err != nil {
			t.Fatal(err)
		}
		active, err := dictionary.ActiveVersion(ctx, db, dictionary.MedDRA)
		if err != nil || active.ID != v271.ID {
			t.Fatalf("active MedDRA: %+v %v", active, err)
		}
		old, _ := dictionary.GetVersion(ctx, db, v270.ID)
		if old.Active || old.Version != 2 {
			t.Fatalf("27.0 after the switch: %+v", old)
		}
		// Someone who opened 27.0 before the switch cannot switch back blindly.
		var conflict *check.Conflict
		if err := dictionary.Activate(ctx, db, alice, v270.ID, v270.Version, "back"); !errors.As(err, &conflict) {
			t.Fatalf("stale activation: %v", err)
		}
		// The active version cannot be retired; the old one can, and then
		// cannot come back.
		if err := dictionary.Retire(ctx, db, alice, v271.ID, v271.Version+1, "old"); err == nil || !strings.Contains(err.Error(), "activate another version") {
			t.Fatalf("retiring the active version: %v", err)
		}
		if err := dictionary.Retire(ctx, db, alice, v270.ID, old.Version, "superseded by 27.1"); err != nil {
			t.Fatal(err)
		}
		old, _ = dictionary.GetVersion(ctx, db, v270.ID)
		if err := dictionary.Activate(ctx, db, alice, v270.ID, old.Version, "back"); err == nil || !strings.Contains(err.Error(), "retired") {
			t.Fatalf("activating a retired version: %v", err)
		}
		all, _ := dictionary.Versions(ctx, db)
		if len(all) != 3 {
			t.Fatalf("versions: %+v", all)
		}

		entries, _, _ := audit.List(ctx, db, audit.Filter{Entity: "dictionary_version"})
		want := map[string]bool{
			"import MedDRA 27.1 terms=265":                                 false,
			"update MedDRA 27.0 active=no reason=MedDRA 27.1 released":     false,
			"update MedDRA 27.1 active=yes reason=MedDRA 27.1 released":    false,
			"deactivate MedDRA 27.0 retired=yes reason=superseded by 27.1": false,
		}
		for _, e := range entries {
			s := fmt.Sprintf("%s %s %s=%s", e.Action, e.EntityID, e.Field, e.New)
			if e.Reason != "" {
				s += " reason=" + e.Reason
			}
			if _, ok := want[s]; ok {
				want[s] = true
			}
		}
		for s, seen := range want {
			if !seen {
				t.Errorf("audit trail lacks %q", s)
			}
		}
	})
}

func TestStoredSearchMatchesInMemorySearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v270 := importDir(t, db, "testdata/meddra/27.0")
		v271 := importDir(t, db, "testdata/meddra/27.1")
		who := importDir(t, db, "testdata/whodrug/GLOBALB3Mar26")
		for _, c := range []struct {
			id  int64
			dir string
		}{{v270.ID, "testdata/meddra/27.0"}, {v271.ID, "testdata/meddra/27.1"}, {who.ID, "testdata/whodrug/GLOBALB3Mar26"}} {
			mem := parse(t, c.dir)
			r := dictionary.NewReader(db, c.id)
			queries := []string{"head", "HEADACHE", "  DÍZZINESS   Pos", "héad", "Rash", "r", "94000390", "9100005", "9", "n02b", "N02BE01",
				"paracetamol", "900002", "zzz", "a", "e", "s", "chest disc", "feeling"}
			for _, q := range queries {
				for _, limit := range []int{1, 3, 1000} {
					want := dictionary.Search(mem, q, limit)
					got, err := r.Search(ctx, q, limit)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(refs(got), refs(want)) {
						t.Errorf("%s Search(%q, %d):\n stored %q\n memory %q", c.dir, q, limit, refs(got), refs(want))
					}
				}
			}
		}
		// Case- and accent-insensitive prefix, side by side releases apart.
		got, _ := dictionary.NewReader(db, v271.ID).Search(ctx, "HÉADACHE W", 10)
		if len(got) != 1 || got[0].Name != "Headache worsening" {
			t.Fatalf("27.1 search: %q", refs(got))
		}
		if got, _ := dictionary.NewReader(db, v270.ID).Search(ctx, "headache w", 10); len(got) != 0 {
			t.Fatalf("27.0 has no Headache worsening, found %q", refs(got))
		}
	})
}

func TestStoredHierarchyMatchesInMemoryVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, dir := range []string{"testdata/meddra/27.1", "testdata/whodrug/GLOBALB3Mar26"} {
			mem := parse(t, dir)
			s := importDir(t, db, dir)
			r := dictionary.NewReader(db, s.ID)
			roots, err := r.Roots(ctx)
			if err != nil || !slices.Equal(refs(roots), refs(mem.Roots())) {
				t.Fatalf("%s roots: %q, want %q (%v)", dir, refs(roots), refs(mem.Roots()), err)
			}
			for _, term := range mem.Terms {
				stored, err := r.Lookup(ctx, term.Level, term.Code)
				if err != nil || stored != term {
					t.Fatalf("%s lookup %s: %+v, want %+v (%v)", dir, term.Ref(), stored, term, err)
				}
				children, err := r.Children(ctx, term.Level, term.Code)
				if err != nil || !slices.Equal(refs(children), refs(mem.Children(term.Level, term.Code))) {
					t.Errorf("%s children of %s: %q, want %q (%v)", dir, term.Ref(), refs(children), refs(mem.Children(term.Level, term.Code)), err)
				}
				paths, err := r.Paths(ctx, term.Level, term.Code)
				if err != nil {
					t.Fatal(err)
				}
				want := mem.Paths(term.Level, term.Code)
				if len(paths) != len(want) {
					t.Fatalf("%s paths of %s: %d, want %d", dir, term.Ref(), len(paths), len(want))
				}
				for i := range want {
					if paths[i].Primary != want[i].Primary || !slices.Equal(refs(paths[i].Terms), refs(want[i].Terms)) {
						t.Errorf("%s path %d of %s: %v %q, want %v %q", dir, i, term.Ref(), paths[i].Primary, refs(paths[i].Terms), want[i].Primary, refs(want[i].Terms))
					}
				}
			}
			loaded, err := r.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sortedTerms := func(v *dictionary.Version) []string {
				out := make([]string, len(v.Terms))
				for i, t := range v.Terms {
					out[i] = fmt.Sprintf("%+v", t)
				}
				slices.Sort(out)
				return out
			}
			sortedLinks := func(v *dictionary.Version) []string {
				out := make([]string, len(v.Links))
				for i, l := range v.Links {
					out[i] = l.Parent.String() + ">" + l.Child.String()
				}
				slices.Sort(out)
				return out
			}
			if loaded.Release != mem.Release || !slices.Equal(sortedTerms(loaded), sortedTerms(mem)) || !slices.Equal(sortedLinks(loaded), sortedLinks(mem)) {
				t.Errorf("%s: the loaded version differs from the parsed one", dir)
			}
		}
		// The LLT Headache of 27.1 reaches its SOC on the primary path.
		s, _ := dictionary.ActiveVersion(ctx, db, dictionary.MedDRA)
		paths, err := dictionary.NewReader(db, s.ID).Paths(ctx, dictionary.LLT, "94000390")
		if err != nil || len(paths) == 0 || !paths[0].Primary || paths[0].Terms[0].Name != "Nervous system disorders" {
			t.Fatalf("paths of LLT Headache: %+v %v", paths, err)
		}
		if _, err := dictionary.NewReader(db, s.ID).Paths(ctx, dictionary.LLT, "00000000"); !errors.Is(err, check.ErrNotFound) {
			t.Fatalf("paths of a term that does not exist: %v", err)
		}
	})
}

// loadMap copies a testdata release into memory so one line can be damaged.
func loadMap(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	for _, e := range entries {
		data, err := os.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = &fstest.MapFile{Data: data}
	}
	return m
}

func countRows(t *testing.T, db *store.DB) (versions, terms, links int) {
	t.Helper()
	ctx := context.Background()
	for table, n := range map[string]*int{"dictionary_version": &versions, "dictionary_term": &terms, "dictionary_link": &links} {
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(n); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func TestMalformedDistributionStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fsys := loadMap(t, "testdata/meddra/27.1")
		lines := strings.Split(string(fsys["llt.asc"].Data), "\n")
		f := strings.Split(lines[4], "$")
		f[2] = "12x"
		lines[4] = strings.Join(f, "$")
		fsys["llt.asc"] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n"))}
		_, err := dictionary.ImportFS(ctx, db, alice, fsys, "", "damaged")
		var pe *dictionary.ParseError
		if !errors.As(err, &pe) || pe.File != "llt.asc" || pe.Line != 5 || pe.Field != "pt_code" ||
			!strings.Contains(err.Error(), `llt.asc line 5: field pt_code: "12x" is not a number`) {
			t.Fatalf("damaged llt.asc: %v", err)
		}
		if v, terms, links := countRows(t, db); v+terms+links != 0 {
			t.Fatalf("a failed import stored %d versions, %d terms, %d links", v, terms, links)
		}
		entries, total, _ := audit.List(ctx, db, audit.Filter{Entity: "dictionary_version"})
		if total != 0 {
			t.Fatalf("a failed import was audited: %+v", entries)
		}
	})
}

// failLater is a context that reports cancellation from its n-th Err call
// on, so an import fails after some batches are already inserted.
type failLater struct {
	context.Context
	n int
}

func (c *failLater) Err() error {
	if c.n--; c.n <= 0 {
		return context.Canceled
	}
	return nil
}

func TestImportIsOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// A failure after the first batches (here: a cancellation between
		// batches of links) leaves no trace.
		v := parse(t, "testdata/meddra/27.1")
		for i := 0; i < 1200; i++ { // three batches of terms
			v.Terms = append(v.Terms, dictionary.Term{Level: dictionary.SOC, Code: fmt.Sprintf("8%07d", i), Name: fmt.Sprintf("Extra %d", i), Current: true})
		}
		_, err := dictionary.Import(&failLater{Context: context.Background(), n: 4}, db, alice, v, "cancelled")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("import with a cancellation after three batches: %v", err)
		}
		if ver, terms, links := countRows(t, db); ver+terms+links != 0 {
			t.Fatalf("a cancelled import stored %d versions, %d terms, %d links", ver, terms, links)
		}
	})
}

// zipOf packs files (name → content) into a zip archive.
func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, data := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportFromZip(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	files := map[string][]byte{"readme.txt": []byte("MedDRA")}
	for name, f := range loadMap(t, "testdata/meddra/27.1") {
		files["MedAscii/"+name] = f.Data
	}
	data := zipOf(t, files)
	fsys, err := dictionary.OpenZip(bytes.NewReader(data), int64(len(data)), "meddra_27_1.zip")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dictionary.ImportFS(context.Background(), db, alice, fsys, "27.1", "meddra_27_1.zip")
	if err != nil || s.Release != "27.1" || s.Terms != 265 {
		t.Fatalf("import from zip: %+v %v", s, err)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("this is a text file, not an archive"), "is not a readable zip archive"},
		{"truncated", data[:len(data)/2], "is not a readable zip archive"},
		{"escaping path", zipOf(t, map[string][]byte{"../../etc/llt.asc": []byte("x")}), "points outside the archive"},
		{"absolute path", zipOf(t, map[string][]byte{"/llt.asc": []byte("x")}), "points outside the archive"},
		{"zip bomb", zipOf(t, map[string][]byte{"llt.asc": bytes.Repeat([]byte{'0'}, 50<<20)}), "compressed more than"},
	} {
		_, err := dictionary.OpenZip(bytes.NewReader(tc.data), int64(len(tc.data)), "upload.zip")
		if !errors.Is(err, dictionary.ErrBadArchive) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// An archive of something else is named as such.
	other := zipOf(t, map[string][]byte{"notes.txt": []byte("hello")})
	fsys, err = dictionary.OpenZip(bytes.NewReader(other), int64(len(other)), "notes.zip")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dictionary.ImportFS(context.Background(), db, alice, fsys, "", "notes.zip"); !errors.Is(err, dictionary.ErrUnknownDistribution) {
		t.Fatalf("archive without a dictionary: %v", err)
	}
	var _ fs.FS = fsys
}

// TestPrefixSearchUsesTheIndex checks the plan of the name search on each
// engine: a range on dictionary_term_search, not a scan of the table. On
// PostgreSQL sequential scans are discouraged for the check, as the planner
// rightly prefers them on a table this small; what matters is that the
// index can serve the range, which a locale-collated column would not.
func TestPrefixSearchUsesTheIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := importDir(t, db, "testdata/meddra/27.1")
		query := fmt.Sprintf(`SELECT level, code FROM dictionary_term WHERE version_id = %d AND is_current = %s
			AND search_name >= 'head' AND search_name < 'head%s' ORDER BY search_name, depth, code LIMIT 20`,
			s.ID, map[store.Engine]string{store.SQLite: "1", store.Postgres: "TRUE"}[db.Engine], "\U0010FFFF")
		conn, err := db.Raw().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		explain := "EXPLAIN QUERY PLAN "
		if db.Engine == store.Postgres {
			if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			explain = "EXPLAIN "
		}
		rows, err := conn.QueryContext(ctx, explain+query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var plan []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, fmt.Sprint(vals...))
		}
		text := strings.Join(plan, "\n")
		t.Logf("plan:\n%s", text)
		if !strings.Contains(text, "dictionary_term_search") || strings.Contains(text, "Sort") || strings.Contains(text, "TEMP B-TREE") {
			t.Fatalf("the prefix search does not run as an ordered range on dictionary_term_search:\n%s", text)
		}
	})
}
