package odm

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// TestLexicalChecksAgreeWithXmllint puts values into the attributes of
// small ODM files and checks that the package's lexical checks accept
// exactly what xmllint with the official schema accepts: the Writer relies
// on them to produce only valid files.
func TestLexicalChecksAgreeWithXmllint(t *testing.T) {
	cases := []struct {
		name   string
		check  func(string) bool
		values []string
		place  func(v string) string // the file with v in the right attribute
	}{
		{"anyURI", isAnyURI,
			[]string{"https://example.org/a?b=c#d", "form 1.pdf", "my form <x> ü", "%zz", "a#b#c", "::: ::", "C:\\forms\\a.pdf", "mailto:x@y", "./a/b", "//host:80/p", "", "a:b", "1a:b", "x?y?z", "[::1]"},
			func(v string) string {
				return studyWith(`<CodeList OID="C" Name="c" DataType="text"><ExternalCodeList href="` + esc(v) + `"/></CodeList>`)
			}},
		{"dateTime", isDateTime,
			[]string{"2024-01-01T00:00:00", "2024-02-29T23:59:59.5Z", "2023-02-29T00:00:00", "2024-01-01T24:00:00", "2024-01-01T24:00:01", "2024-13-01T00:00:00", "2024-01-01 00:00:00", "2024-01-01T00:00", "2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00+14:30", "0000-01-01T00:00:00", "12024-01-01T00:00:00", "-2024-01-01T00:00:00", "2024-01-01T00:00:00.Z"},
			func(v string) string { return strings.Replace(studyWith(""), "2024-01-01T00:00:00", esc(v), 1) }},
		{"date", isDate,
			[]string{"2024-01-31", "2024-04-31", "2024-01-01Z", "2024-01-01+01:00", "2024-1-1", "20240101", "2024-01-01T00:00:00"},
			func(v string) string {
				return studyWith("") + `<AdminData><Location OID="L" Name="l"><MetaDataVersionRef StudyOID="S" MetaDataVersionOID="V" EffectiveDate="` + esc(v) + `"/></Location></AdminData>`
			}},
		{"language", isLanguage,
			[]string{"en", "de-CH", "x-pig-latin", "zh-Hant-TW", "e n", "en_US", "abcdefghi", "en-", "1en", "i-klingon"},
			func(v string) string {
				return studyWith(`<ItemDef OID="I" Name="i" DataType="text"><Question><TranslatedText xml:lang="` + esc(v) + `">q</TranslatedText></Question></ItemDef>`)
			}},
		{"NCName", isNCName,
			[]string{"a1", "_x", "1a", "a:b", "a-b.c", "é", "", "a b"},
			func(v string) string {
				return strings.Replace(studyWith(""), `ODMVersion=`, `ID="`+esc(v)+`" ODMVersion=`, 1)
			}},
		{"sasName", isSASName,
			[]string{"AGE", "_a1", "1AGE", "TOOLONGNAME", "A-B", "ÄGE"},
			func(v string) string {
				return studyWith(`<ItemDef OID="I" Name="i" DataType="text" SASFieldName="` + esc(v) + `"/>`)
			}},
		{"sasFormat", isSASFormat,
			[]string{"$SEX", "SEX.", "_F1", ".F", "$TOOLONGX", "A$"},
			func(v string) string {
				return studyWith(`<CodeList OID="C" Name="c" DataType="text" SASFormatName="` + esc(v) + `"><EnumeratedItem CodedValue="a"/></CodeList>`)
			}},
		{"decimal", isDecimal,
			[]string{"1", "-1.5", ".5", "5.", "+0.0", "1e3", "", "1.2.3", "-"},
			func(v string) string {
				return studyWith(`<CodeList OID="C" Name="c" DataType="text"><EnumeratedItem CodedValue="a" Rank="` + esc(v) + `"/></CodeList>`)
			}},
	}
	files := map[string][]byte{}
	expect := map[string]bool{}
	for _, c := range cases {
		for i, v := range c.values {
			name := fmt.Sprintf("%s-%02d", c.name, i)
			files[name] = []byte(c.place(v) + "</ODM>")
			expect[name] = c.check(v)
		}
	}
	dir := t.TempDir()
	var paths []string
	byPath := map[string]string{}
	for name, data := range files {
		p := dir + "/" + name + ".xml"
		if err := writeFile(p, data); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		byPath[p] = name
	}
	failed := validate(t, paths...)
	for _, p := range paths {
		name := byPath[p]
		_, invalid := failed[p]
		if expect[name] == invalid {
			t.Errorf("%s: the package says valid=%v, xmllint says valid=%v:\n%s\n%s", name, expect[name], !invalid, files[name], failed[p])
		}
	}
}

// studyWith returns the start of an ODM file with one study version holding
// defs; the caller closes the ODM element.
func studyWith(defs string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" CreationDateTime="2024-01-01T00:00:00" ODMVersion="1.3.2">
<Study OID="S"><GlobalVariables><StudyName>s</StudyName><StudyDescription/><ProtocolName>p</ProtocolName></GlobalVariables>
<MetaDataVersion OID="V" Name="v">` + defs + `</MetaDataVersion></Study>`
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
