package odm

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlWriter writes well-formed XML to a buffered stream: elements with
// lazily closed start tags, escaped attributes and text, and optional
// indentation. It refuses strings XML 1.0 cannot carry (invalid UTF-8,
// control characters) instead of writing a file no parser will read back.
// The first error sticks; later calls do nothing.
type xmlWriter struct {
	w       *bufio.Writer
	indent  bool
	err     error
	open    bool     // a start tag is waiting for attributes or its ">"
	content []uint8  // per open element: 0 empty, 1 text, 2 child elements
	names   []string // open elements, for end tags and messages
}

const (
	emptyContent uint8 = iota
	textContent
	elementContent
)

func newXMLWriter(w io.Writer, indent bool) *xmlWriter {
	return &xmlWriter{w: bufio.NewWriterSize(w, 64<<10), indent: indent}
}

// start opens the element name.
func (x *xmlWriter) start(name string) {
	if x.err != nil {
		return
	}
	if n := len(x.content); n > 0 {
		x.closeStartTag()
		x.content[n-1] = elementContent
	}
	x.newline(len(x.names))
	x.w.WriteByte('<')
	x.w.WriteString(name)
	x.open = true
	x.content = append(x.content, emptyContent)
	x.names = append(x.names, name)
}

// attr writes an attribute of the element just started.
func (x *xmlWriter) attr(name, value string) {
	if x.err != nil {
		return
	}
	x.w.WriteByte(' ')
	x.w.WriteString(name)
	x.w.WriteString(`="`)
	x.escape(value, true, name)
	x.w.WriteByte('"')
}

// optAttr writes an attribute unless its value is empty.
func (x *xmlWriter) optAttr(name, value string) {
	if value != "" {
		x.attr(name, value)
	}
}

// intAttr writes an optional integer attribute.
func (x *xmlWriter) intAttr(name string, v *int) {
	if v != nil {
		x.attr(name, strconv.Itoa(*v))
	}
}

// text writes character data into the open element.
func (x *xmlWriter) text(s string) {
	if x.err != nil || s == "" {
		return
	}
	x.closeStartTag()
	n := len(x.content)
	if n > 0 && x.content[n-1] == emptyContent {
		x.content[n-1] = textContent
	}
	x.escape(s, false, "")
}

// end closes the innermost open element.
func (x *xmlWriter) end() {
	if x.err != nil {
		return
	}
	n := len(x.names)
	name, content := x.names[n-1], x.content[n-1]
	x.names, x.content = x.names[:n-1], x.content[:n-1]
	if x.open {
		x.w.WriteString("/>")
		x.open = false
		return
	}
	if content == elementContent {
		x.newline(n - 1)
	}
	x.w.WriteString("</")
	x.w.WriteString(name)
	x.w.WriteByte('>')
}

// leaf writes <name>text</name>.
func (x *xmlWriter) leaf(name, text string) {
	x.start(name)
	x.text(text)
	x.end()
}

// raw writes s as is; for the XML declaration.
func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		x.w.WriteString(s)
	}
}

// flush writes out the buffer.
func (x *xmlWriter) flush() error {
	if x.err == nil {
		x.err = x.w.Flush()
	}
	return x.err
}

func (x *xmlWriter) closeStartTag() {
	if x.open {
		x.w.WriteByte('>')
		x.open = false
	}
}

func (x *xmlWriter) newline(depth int) {
	if !x.indent || (depth == 0 && x.w.Buffered() == 0) {
		return
	}
	x.w.WriteByte('\n')
	for i := 0; i < depth; i++ {
		x.w.WriteByte('\t')
	}
}

// escape writes s escaped for an attribute value (attr) or text. White
// space other than the space is written as character references in
// attributes, because a parser would otherwise turn it into spaces.
func (x *xmlWriter) escape(s string, attr bool, attrName string) {
	// Most values need no escaping; write them in one piece.
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '&' || c == '<' || c == '>' || c == '"' {
			plain = false
			break
		}
	}
	if plain {
		x.w.WriteString(s)
		return
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"' && attr:
			esc = "&quot;"
		case c == '\t' && attr:
			esc = "&#9;"
		case c == '\n' && attr:
			esc = "&#10;"
		case c == '\r':
			esc = "&#13;"
		case c < 0x20 && c != '\t' && c != '\n':
			x.fail(attrName, rune(c))
			return
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				x.fail(attrName, -1)
				return
			}
			if r == 0xFFFE || r == 0xFFFF {
				x.fail(attrName, r)
				return
			}
			size = n
		}
		if esc != "" {
			x.w.WriteString(s[last:i])
			x.w.WriteString(esc)
			last = i + size
		}
		i += size
	}
	x.w.WriteString(s[last:])
}

// fail records that a string cannot be written as XML.
func (x *xmlWriter) fail(attrName string, r rune) {
	where := "the text of " + x.names[len(x.names)-1]
	if attrName != "" {
		where = "the " + attrName + " of " + x.names[len(x.names)-1]
	}
	if r < 0 {
		x.err = fmt.Errorf("%s is not valid UTF-8, so it cannot be written as XML", where)
		return
	}
	x.err = fmt.Errorf("%s contains the character %U, which XML 1.0 cannot carry", where, r)
}
