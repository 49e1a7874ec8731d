package odm_test

import (
	"fmt"
	"testing"

	. "github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/odm/odmtest"
)

// TestRandomDesignsRoundTrip generates random valid designs with clinical
// data and checks, for each, that strict output validates against the
// official schema, and that import → export with KeepExtensions → import
// gives the same model, vendor extensions included. It lives in the external
// test package so it shares odmtest's generator with the storing packages.
func TestRandomDesignsRoundTrip(t *testing.T) {
	const designs = 60
	strict := map[string][]byte{}
	stripped := map[string][]byte{}
	for seed := uint64(1); seed <= designs; seed++ {
		name := fmt.Sprintf("design-%02d", seed)
		ext := seed%3 != 0
		doc := odmtest.Generate(seed, ext)

		out, omitted := WriteBytes(t, doc, WriteOptions{})
		strict[name] = out
		if !ext && omitted != (Omitted{}) {
			t.Errorf("%s: strict output omitted %+v from a design without extensions", name, omitted)
		}

		kept, _ := WriteBytes(t, doc, WriteOptions{KeepExtensions: true, Compact: seed%2 == 0})
		first, diags := ReadBytes(t, kept)
		if n := diags.Count(Error) + diags.Count(Warning); n > 0 {
			t.Errorf("%s: a generated valid design read with %d errors and warnings:\n%s", name, n, diags)
		}
		again, _ := WriteBytes(t, first, WriteOptions{KeepExtensions: true})
		second, _ := ReadBytes(t, again)
		Normalize(first, false)
		Normalize(second, false)
		SameModel(t, name+": import → export → import", first, second)

		// The first import must also be what was generated, up to where
		// extension elements sit (the generator places them loosely).
		Normalize(doc, true)
		Normalize(first, true)
		SameModel(t, name+": generated versus imported", doc, first)

		if ext {
			s, err := StripForeign(kept)
			if err != nil {
				t.Fatalf("%s: strip extensions: %v", name, err)
			}
			stripped[name+"-stripped"] = s
		}
	}
	ValidateBytes(t, strict)
	ValidateBytes(t, stripped)
}
