package bundle

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Category is one kind of configuration a bundle carries. See the package
// documentation for how to add one.
type Category interface {
	// Name is the category's name in bundles, on pages and on the command
	// line, e.g. "roles". Bundles already written carry it: never rename.
	Name() string
	// Promotable reports whether the category moves with configuration
	// promotion and so is in a default export. Categories that come from the
	// migration program instead return false and are exported only when
	// named.
	Promotable() bool
	// Export returns the category's records as they are in this instance,
	// read through q (a transaction, so all categories see one state).
	Export(ctx context.Context, q store.Querier) ([]Record, error)
	// Apply brings this instance to records — only those that are new or
	// differ from what Export returns — inside tx, auditing each change with
	// reason. It validates every record and returns an error naming the
	// record it could not apply; the whole import is then rolled back.
	Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error
}

// Skipper is implemented by categories whose incoming records this
// instance must sometimes refuse to take — an integration-specific setting,
// a site archived in the bundle or here. Skip returns, by key, why each such
// record is left out; the preview shows it as ignored and Apply never sees
// it.
type Skipper interface {
	Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error)
}

// Categories returns every category this build knows, in the fixed order
// bundles keep them in.
func Categories() []Category { return append([]Category(nil), categories...) }

// Lookup returns the category called name.
func Lookup(name string) (Category, bool) {
	for _, c := range categories {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// Promotable returns the names of the categories a default export holds.
func Promotable() []string {
	var out []string
	for _, c := range categories {
		if c.Promotable() {
			out = append(out, c.Name())
		}
	}
	return out
}

// names lists the known categories for error messages.
func names() string {
	var out []string
	for _, c := range categories {
		out = append(out, c.Name())
	}
	return strings.Join(out, ", ")
}

// selectCategories turns requested names into categories in the fixed
// order; no names means every promotable category.
func selectCategories(requested []string) ([]Category, error) {
	want := map[string]bool{}
	for _, n := range requested {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := Lookup(n); !ok {
			return nil, fmt.Errorf("There is no configuration category %q; the categories are %s.", n, names())
		}
		want[n] = true
	}
	var out []Category
	for _, c := range categories {
		if (len(want) == 0 && c.Promotable()) || want[c.Name()] {
			out = append(out, c)
		}
	}
	return out, nil
}

// position is a category's index in the fixed order, -1 when unknown.
func position(name string) int {
	for i, c := range categories {
		if c.Name() == name {
			return i
		}
	}
	return -1
}

// recordError names the record an Apply could not take, as a sentence.
func recordError(category, key string, err error) error {
	msg := strings.TrimSuffix(err.Error(), ".")
	// "Setting x cannot …" reads better mid-sentence as "setting x cannot …";
	// "SSO …" stays as it is.
	if len(msg) > 1 && unicode.IsUpper(rune(msg[0])) && unicode.IsLower(rune(msg[1])) {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return fmt.Errorf("The bundle's %s record %q cannot be imported: %s.", category, key, msg)
}
