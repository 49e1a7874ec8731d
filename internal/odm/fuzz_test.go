package odm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzReader feeds the reader arbitrary bytes. It must never panic or hang;
// it must fail only with a ReadError that names a line; and whatever it
// reads, if the Writer accepts it with KeepExtensions, must read back the
// same.
//
//	go test -run='^$' -fuzz=FuzzReader -fuzztime=3m ./internal/odm
//
// The corpus the fuzzer found interesting is kept in testdata/fuzz.
func FuzzReader(f *testing.F) {
	for _, path := range []string{sampleREDCap} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{flawed, openClinicaLike, odmOpen + "</ODM>",
		odmOpen + `<Study OID="S"><GlobalVariables><StudyName>S</StudyName><StudyDescription/><ProtocolName>P</ProtocolName></GlobalVariables></Study></ODM>`,
		`<!DOCTYPE ODM [<!ENTITY a "b">]><ODM>&a;</ODM>`,
		odmOpen + `<x:y xmlns:x="urn:x" x:z="1">t<x:w/>u</x:y></ODM>`,
	} {
		f.Add([]byte(s))
	}
	// Small limits, so that the fuzzer reaches them.
	opts := ReadOptions{MaxDepth: 32, MaxValueSize: 1 << 12, MaxTagSize: 1 << 14, MaxMetadataElements: 5000, MaxContainerElements: 500, MaxDiagnostics: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		doc, _, err := ReadAll(ctx, bytes.NewReader(data), opts)
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) || re.Line < 1 || !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("the read failed with %q (%T), not a ReadError naming its line", err, err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := Write(ctx, &out, doc, WriteOptions{KeepExtensions: true}); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) && !strings.Contains(err.Error(), "XML 1.0 cannot carry") && !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Fatalf("the write failed with %v, neither a validation error nor an unwritable character", err)
			}
			return
		}
		again, diags, err := ReadAll(ctx, bytes.NewReader(out.Bytes()), ReadOptions{})
		if err != nil {
			t.Fatalf("our own output does not read back: %v\n%s\n%s", err, diags, out.Bytes())
		}
		normalize(doc, false)
		normalize(again, false)
		if !reflect.DeepEqual(doc, again) {
			sameModel(t, "read → write → read", doc, again)
		}
	})
}
