package odm

import (
	"fmt"
	"testing"
)

// TestRandomDesignsRoundTrip generates random valid designs with clinical
// data and checks, for each, that strict output validates against the
// official schema, and that import → export with KeepExtensions → import
// gives the same model, vendor extensions included.
func TestRandomDesignsRoundTrip(t *testing.T) {
	const designs = 60
	strict := map[string][]byte{}
	stripped := map[string][]byte{}
	for seed := uint64(1); seed <= designs; seed++ {
		name := fmt.Sprintf("design-%02d", seed)
		g := newGen(seed, seed%3 != 0)
		doc := g.document()

		out, omitted := writeBytes(t, doc, WriteOptions{})
		strict[name] = out
		if !g.ext && omitted != (Omitted{}) {
			t.Errorf("%s: strict output omitted %+v from a design without extensions", name, omitted)
		}

		kept, _ := writeBytes(t, doc, WriteOptions{KeepExtensions: true, Compact: seed%2 == 0})
		first, diags := readBytes(t, kept)
		if n := diags.Count(Error) + diags.Count(Warning); n > 0 {
			t.Errorf("%s: a generated valid design read with %d errors and warnings:\n%s", name, n, diags)
		}
		again, _ := writeBytes(t, first, WriteOptions{KeepExtensions: true})
		second, _ := readBytes(t, again)
		normalize(first, false)
		normalize(second, false)
		sameModel(t, name+": import → export → import", first, second)

		// The first import must also be what was generated, up to where
		// extension elements sit (the generator places them loosely).
		normalize(doc, true)
		normalize(first, true)
		sameModel(t, name+": generated versus imported", doc, first)

		if g.ext {
			s, err := stripForeign(kept)
			if err != nil {
				t.Fatalf("%s: strip extensions: %v", name, err)
			}
			stripped[name+"-stripped"] = s
		}
	}
	validateBytes(t, strict)
	validateBytes(t, stripped)
}
