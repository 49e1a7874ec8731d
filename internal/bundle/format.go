package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// FormatName is what every bundle's manifest says it is.
const FormatName = "cohort-configuration-bundle"

// FormatVersion is the bundle format this build writes and the newest it
// reads. Raise it when a change would make an older build misread a bundle.
const FormatVersion = 1

// Bundle is a configuration bundle: a manifest and the records of each
// category it holds, in the fixed category order.
type Bundle struct {
	Manifest Manifest  `json:"manifest"`
	Content  []Section `json:"content"`
}

// Manifest says what a bundle is, where it comes from and what it holds.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// SchemaVersion is the database schema version of the instance the
	// bundle was exported from; a build with an older schema refuses it.
	SchemaVersion int64  `json:"schema_version"`
	Source        Source `json:"source"`
	// ExportedAt is when the bundle was made, in UTC to the second (see the
	// package documentation on determinism).
	ExportedAt time.Time `json:"exported_at"`
	Categories []string  `json:"categories"`
	// SHA256 is the hex SHA-256 of the bundle as encoded with this field
	// left out; it is set by Encode and checked by Decode.
	SHA256 string `json:"sha256,omitempty"`
}

// Source names the instance a bundle was exported from.
type Source struct {
	// Organisation is the source instance's org.name setting.
	Organisation string `json:"organisation"`
	// Instance is the instance's name or address, when the exporter knew it
	// (e.g. "Sandbox Main" or https://sandbox.example.org/).
	Instance string `json:"instance,omitempty"`
}

// String names the source for people: "Organisation (instance)".
func (s Source) String() string {
	switch {
	case s.Instance == "":
		return s.Organisation
	case s.Organisation == "":
		return s.Instance
	}
	return s.Organisation + " (" + s.Instance + ")"
}

// Section is one category's records, sorted by key.
type Section struct {
	Category string   `json:"category"`
	Records  []Record `json:"records"`
}

// ID is the short form of the bundle's hash that pages, commands and audit
// entries name it by.
func (b *Bundle) ID() string {
	if len(b.Manifest.SHA256) < 12 {
		return b.Manifest.SHA256
	}
	return b.Manifest.SHA256[:12]
}

// Section returns the records of the named category.
func (b *Bundle) Section(category string) (Section, bool) {
	for _, s := range b.Content {
		if s.Category == category {
			return s, true
		}
	}
	return Section{}, false
}

// Encode puts the bundle in canonical order — sections in the fixed
// category order, records by key, the manifest's category list from the
// sections — seals it with its hash and returns its bytes. Encoding the
// same bundle twice gives the same bytes.
func (b *Bundle) Encode() ([]byte, error) {
	b.Manifest.Format, b.Manifest.FormatVersion = FormatName, FormatVersion
	b.Manifest.ExportedAt = b.Manifest.ExportedAt.UTC()
	sort.SliceStable(b.Content, func(i, j int) bool { return position(b.Content[i].Category) < position(b.Content[j].Category) })
	b.Manifest.Categories = []string{}
	for i := range b.Content {
		s := &b.Content[i]
		if s.Records == nil {
			s.Records = []Record{}
		}
		for j := range s.Records {
			if s.Records[j].Fields == nil {
				s.Records[j].Fields = map[string]any{}
			}
		}
		sort.SliceStable(s.Records, func(i, j int) bool { return s.Records[i].Key < s.Records[j].Key })
		b.Manifest.Categories = append(b.Manifest.Categories, s.Category)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	sum, err := b.hash()
	if err != nil {
		return nil, err
	}
	b.Manifest.SHA256 = sum
	return encode(b)
}

// encode writes the canonical form: two-space indentation, object keys
// sorted (maps) or in declaration order (structs), no HTML escaping, a
// final newline.
func encode(b *Bundle) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// hash is the hex SHA-256 of the bundle encoded without its hash field.
func (b *Bundle) hash() (string, error) {
	c := *b
	c.Manifest.SHA256 = ""
	data, err := encode(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Decode reads a bundle and refuses, with a sentence saying why, one that
// is not valid JSON (naming the line and column), is not a bundle, is in a
// newer format than this build reads, was changed after export, or holds a
// category this build does not know. The schema version is checked against
// the database by Preview and Import.
func Decode(data []byte) (*Bundle, error) {
	var probe struct {
		Manifest struct {
			Format        string `json:"format"`
			FormatVersion any    `json:"format_version"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonProblem(data, err)
	}
	m := probe.Manifest
	if m.Format != FormatName {
		return nil, fmt.Errorf("This file is not a cohort configuration bundle: its manifest does not say \"format\": %q.", FormatName)
	}
	if v, ok := m.FormatVersion.(float64); !ok || v < 1 || v != float64(int(v)) {
		return nil, fmt.Errorf("The bundle's manifest has no valid format_version.")
	} else if int(v) > FormatVersion {
		return nil, fmt.Errorf("The bundle is in format version %d; this build of cohort reads format versions up to %d. Import it with a newer cohort.", int(v), FormatVersion)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	b := &Bundle{}
	if err := dec.Decode(b); err != nil {
		return nil, jsonProblem(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := lineCol(data, dec.InputOffset())
		return nil, fmt.Errorf("The bundle is not valid at line %d, column %d: there is more after the end of the bundle.", line, col)
	}
	claimed := b.Manifest.SHA256
	if claimed == "" {
		return nil, fmt.Errorf("The bundle's manifest has no sha256, so cohort cannot tell whether it was changed after export.")
	}
	sum, err := b.hash()
	if err != nil {
		return nil, err
	}
	if sum != claimed {
		return nil, fmt.Errorf("The bundle was changed after export: its content hash is %s, the manifest says %s.", sum, claimed)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// check refuses a bundle whose structure this build cannot import.
func (b *Bundle) check() error {
	last := -1
	var listed []string
	for _, s := range b.Content {
		pos := position(s.Category)
		switch {
		case pos < 0:
			return fmt.Errorf("The bundle holds the category %q, which this build of cohort does not know (it knows %s). Import it with the cohort release that exported it, or a newer one.", s.Category, names())
		case pos == last:
			return fmt.Errorf("The bundle holds the category %s twice.", s.Category)
		case pos < last:
			return fmt.Errorf("The bundle's categories are not in the fixed order: %s comes too late.", s.Category)
		}
		last = pos
		listed = append(listed, s.Category)
		for i, r := range s.Records {
			if strings.TrimSpace(r.Key) == "" {
				return fmt.Errorf("Record %d of %s in the bundle has no key.", i+1, s.Category)
			}
			if i > 0 && s.Records[i-1].Key >= r.Key {
				if s.Records[i-1].Key == r.Key {
					return fmt.Errorf("The bundle holds %s record %q twice.", s.Category, r.Key)
				}
				return fmt.Errorf("The bundle's %s records are not sorted by key: %q comes after %q.", s.Category, r.Key, s.Records[i-1].Key)
			}
		}
	}
	if !slices.Equal(listed, b.Manifest.Categories) {
		return fmt.Errorf("The bundle's manifest lists the categories %s but the bundle holds %s.",
			strings.Join(b.Manifest.Categories, ", "), strings.Join(listed, ", "))
	}
	return nil
}

// jsonProblem turns a JSON error into a sentence naming where it is.
func jsonProblem(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && strings.Contains(syntax.Error(), "unexpected end of JSON input"):
		return fmt.Errorf("The bundle is not valid JSON: it ends too early, at line %d. Was the file cut short?", bytes.Count(data, []byte("\n"))+1)
	case errors.As(err, &syntax) && strings.Contains(syntax.Error(), "after top-level value"):
		line, col := lineCol(data, syntax.Offset-1)
		return fmt.Errorf("The bundle is not valid at line %d, column %d: there is more after the end of the bundle.", line, col)
	case errors.As(err, &syntax):
		line, col := lineCol(data, syntax.Offset-1) // Offset counts the offending byte
		return fmt.Errorf("The bundle is not valid JSON at line %d, column %d: %s.", line, col, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typeErr):
		line, col := lineCol(data, typeErr.Offset)
		return fmt.Errorf("The bundle is not valid at line %d, column %d: %s holds %s where cohort expects %s.",
			line, col, typeErr.Field, article(typeErr.Value), kindOf(typeErr.Type))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("The bundle is not valid JSON: it ends too early (line %d).", bytes.Count(data, []byte("\n"))+1)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("The bundle is not valid: it has a field %s that format version %d does not have.", f, FormatVersion)
	}
	return fmt.Errorf("The bundle is not valid: %s.", strings.TrimPrefix(err.Error(), "json: "))
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	offset = max(0, min(offset, int64(len(data))))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
