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
	f.Fuzz(func(t *testing.T, data []byte) { roundTrips(t, data) })
}

// FuzzRoundTrip puts a fuzzed fragment into one of several places of a
// valid document, so that the fuzzer spends its time on well-formed files
// and the read → write → read property rather than on syntax errors.
//
//	go test -run='^$' -fuzz=FuzzRoundTrip -fuzztime=2m ./internal/odm
func FuzzRoundTrip(f *testing.F) {
	for _, fragment := range []string{
		`<ItemData ItemOID="IT.1" Value="x"/>`,
		`<v:x xmlns:v="urn:v" v:a="1" b="2">t<v:y/>u</v:x>`,
		`<AuditRecord><UserRef UserOID="U"/><LocationRef LocationOID="L"/><DateTimeStamp>2024-01-01T00:00:00</DateTimeStamp></AuditRecord>`,
		`<ItemDef OID="IT.2" Name="n" DataType="integer"><Question><TranslatedText xml:lang="en">Q</TranslatedText></Question></ItemDef>`,
		`<Annotation SeqNum="1"><Comment>c</Comment></Annotation>`,
		`<StudyEventData StudyEventOID="SE.2"><FormData FormOID="F.2"/></StudyEventData>`,
	} {
		for where := range uint8(len(skeleton) - 1) {
			f.Add([]byte(fragment), where)
		}
	}
	f.Fuzz(func(t *testing.T, fragment []byte, where uint8) {
		i := int(where) % (len(skeleton) - 1)
		var doc bytes.Buffer
		for j, part := range skeleton {
			doc.WriteString(part)
			if j == i {
				doc.Write(fragment)
			}
		}
		roundTrips(t, doc.Bytes())
	})
}

// skeleton is a valid document cut where FuzzRoundTrip inserts fragments:
// in ODM, in MetaDataVersion, in ItemDef, in SubjectData, in
// StudyEventData, in ItemGroupData and in ItemData.
var skeleton = []string{
	odmOpen,
	`<Study OID="S"><GlobalVariables><StudyName>S</StudyName><StudyDescription/><ProtocolName>P</ProtocolName></GlobalVariables><MetaDataVersion OID="V" Name="v">`,
	`<ItemDef OID="IT.1" Name="i" DataType="text">`,
	`</ItemDef></MetaDataVersion></Study><ClinicalData StudyOID="S" MetaDataVersionOID="V"><SubjectData SubjectKey="1">`,
	`<StudyEventData StudyEventOID="SE">`,
	`<FormData FormOID="F"><ItemGroupData ItemGroupOID="G">`,
	`<ItemData ItemOID="IT.1" Value="v">`,
	`</ItemData></ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData></ODM>`,
}

// roundTrips checks the fuzz properties on one input: the read fails only
// with a ReadError naming its line, and what reads and writes reads back the
// same.
func roundTrips(t *testing.T, data []byte) {
	// Small limits, so that the fuzzer reaches them.
	opts := ReadOptions{MaxDepth: 32, MaxValueSize: 1 << 12, MaxTagSize: 1 << 14, MaxMetadataElements: 5000, MaxContainerElements: 500, MaxDiagnostics: 50}
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
}
