package label

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// segment is one piece of a field's content: fixed text, or the value of a
// binding when binding is set.
type segment struct {
	literal string
	binding Binding
}

// content returns the pieces a field's content is made of.
func content(f Field) ([]segment, error) {
	if f.Binding == BindFreeText {
		return parsePattern(f.Text)
	}
	if slices.Contains(dataBindings, f.Binding) {
		return []segment{{binding: f.Binding}}, nil
	}
	if f.Binding == "" {
		return nil, fmt.Errorf("choose what the field shows: one of %s", bindingList())
	}
	return nil, fmt.Errorf("%q is not a binding; use one of %s", string(f.Binding), bindingList())
}

// bindingList lists every binding for error messages.
func bindingList() string {
	names := make([]string, 0, len(dataBindings)+1)
	for _, b := range dataBindings {
		names = append(names, string(b))
	}
	return strings.Join(append(names, string(BindFreeText)), ", ")
}

// parsePattern splits free text into fixed text and {binding} placeholders.
// Doubled braces stand for a literal brace, so that a label can still print
// one.
func parsePattern(s string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("the text has a %q at character %d without a closing %q", "{", utf8.RuneCountInString(s[:i])+1, "}")
			}
			name := Binding(s[i+1 : i+1+end])
			if !slices.Contains(dataBindings, name) {
				var names []string
				for _, b := range dataBindings {
					names = append(names, "{"+string(b)+"}")
				}
				return nil, fmt.Errorf("the text names {%s}, which is not a binding; use %s", name, strings.Join(names, ", "))
			}
			if lit.Len() > 0 {
				segs = append(segs, segment{literal: lit.String()})
				lit.Reset()
			}
			segs = append(segs, segment{binding: name})
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("the text has a %q at character %d without an opening %q; write %q to print a brace", "}", utf8.RuneCountInString(s[:i])+1, "{", "}}")
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		segs = append(segs, segment{literal: lit.String()})
	}
	return segs, nil
}

// isFixed reports whether content has no placeholders, so that it prints the
// same on every label.
func isFixed(segs []segment) bool {
	for _, s := range segs {
		if s.binding != "" {
			return false
		}
	}
	return true
}

// fixedText joins the literal pieces of content, leaving placeholders out.
func fixedText(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.literal)
	}
	return b.String()
}

// resolve fills the placeholders of content with a print job's values.
func resolve(segs []segment, d Data) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if s.binding == "" {
			b.WriteString(s.literal)
			continue
		}
		v, ok := d[s.binding]
		if !ok {
			return "", fmt.Errorf("the print job has no %s", s.binding)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// checkChars reports the first character of s that the field cannot print:
// text is limited to the preview font, so that the preview never shows less
// than the printer prints, and barcodes to printable ASCII, which every
// printer firmware and scanner agrees on.
func checkChars(s string, f Field) error {
	for i, r := range s {
		if f.Kind == KindBarcode {
			if r < 0x20 || r > 0x7e {
				return fmt.Errorf("%s at character %d cannot go in a barcode, which takes only printable ASCII characters", describeRune(r), utf8.RuneCountInString(s[:i])+1)
			}
			continue
		}
		if _, ok := glyphs[r]; !ok {
			return fmt.Errorf("%s at character %d cannot be printed; labels take printable ASCII characters, ° and µ", describeRune(r), utf8.RuneCountInString(s[:i])+1)
		}
	}
	return nil
}

// describeRune names a character so that an invisible one is still visible
// in a message.
func describeRune(r rune) string {
	if r < 0x20 || r == 0x7f || !utf8.ValidRune(r) {
		return fmt.Sprintf("the control character U+%04X", r)
	}
	return fmt.Sprintf("%q", r)
}
