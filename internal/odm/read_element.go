package odm

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// This file holds the pieces every element reader is made of: attributes,
// children, text content and the vendor extensions around them.

// xmlNamespace is the namespace of the xml: prefix (xml:lang).
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// attrFunc stores the attribute ODM defines under name (xml:lang for the
// xml namespace's lang) and reports whether it knew the name.
type attrFunc func(name, value string) bool

// childFunc reads the ODM child element el if the parent allows it, and
// reports whether it did; when it returns true it has consumed el whole.
type childFunc func(el xml.StartElement) (bool, error)

// attrs sorts the attributes of el into those set knows and extensions.
func (r *Reader) attrs(el xml.StartElement, ext *Extensions, oid string, set attrFunc) {
	if oid == "" { // a definition: name it by its own OID, wherever that attribute is
		for _, a := range el.Attr {
			if a.Name.Space == "" && a.Name.Local == "OID" {
				oid = a.Value
			}
		}
	}
	for _, a := range el.Attr {
		switch {
		case a.Name.Space == "xmlns":
			// Declarations were noted when the element was read.
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			// The default namespace is ODM's or none; nothing to keep.
		case a.Name.Space == "":
			if set != nil && set(a.Name.Local, a.Value) {
				continue
			}
			ext.Attrs = append(ext.Attrs, Attr{Local: a.Name.Local, Value: a.Value})
			r.noteOnce(Warning, CodeUnknown, oid, el.Name.Local+"@"+a.Name.Local,
				fmt.Sprintf("ODM 1.3.2 does not define the attribute %s on %s; it was kept as an extension", a.Name.Local, el.Name.Local))
		case a.Name.Space == xmlNamespace && a.Name.Local == "lang" && set != nil && set("xml:lang", a.Value):
		default:
			r.checkPrefix(a.Name)
			ext.Attrs = append(ext.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
			r.noteOnce(Info, CodeExtension, oid, el.Name.Local+"@"+a.Name.Space+" "+a.Name.Local,
				fmt.Sprintf("the vendor attribute %s on %s was kept as an extension", r.qualified(a.Name), el.Name.Local))
		}
	}
}

// declare remembers the prefix a file gives a namespace, for messages and
// to recognise prefixes that were never declared.
func (r *Reader) declare(prefix, uri string) {
	if _, ok := r.prefixes[uri]; !ok && len(r.prefixes) < 10_000 {
		r.prefixes[uri] = prefix
	}
}

// checkPrefix stops the read at a name whose prefix was never declared.
// encoding/xml then reports the prefix itself as the namespace, which
// would be written back as a namespace of that name; real XML parsers
// refuse such files.
func (r *Reader) checkPrefix(n xml.Name) {
	switch n.Space {
	case "", Namespace, xmlNamespace, r.odmNS:
		return
	}
	if _, ok := r.prefixes[n.Space]; ok || len(r.prefixes) >= 10_000 || r.fatal != nil {
		return
	}
	r.fatal = &ReadError{Line: r.line, Column: r.col,
		Msg: fmt.Sprintf("the prefix %q of %s is never declared; the file is not namespace-well-formed", n.Space, n.Local)}
}

// qualified names n as the file wrote it, prefix included.
func (r *Reader) qualified(n xml.Name) string {
	if p := r.prefixes[n.Space]; p != "" {
		return p + ":" + n.Local
	}
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// noteOnce records a diagnostic the first time a kind of thing is met, so
// that a vendor attribute on every ItemData is reported once, not a million
// times.
func (r *Reader) noteOnce(sev Severity, code Code, oid, kind, msg string) {
	if r.reported[kind] {
		return
	}
	if len(r.reported) < 10_000 {
		r.reported[kind] = true
	}
	r.note(sev, code, oid, msg+" (reported once; later occurrences are not listed)")
}

// children reads the content of an element that holds only elements: the
// ODM children child accepts, extensions for everything else. in names the
// element for messages.
func (r *Reader) children(in, oid string, ext *Extensions, child childFunc) error {
	n := 0
	for {
		tok, err := r.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := r.retain(); err != nil {
				return err
			}
			if r.isODM(t.Name.Space) && child != nil {
				ok, err := child(t)
				if err != nil {
					return err
				}
				if ok {
					n++
					continue
				}
			}
			node, err := r.extension(t, in, oid)
			if err != nil {
				return err
			}
			node.Pos = n
			ext.Elements = append(ext.Elements, node)
		case xml.EndElement:
			return nil
		case xml.CharData:
			r.strayText(t, in, oid)
		}
	}
}

// retain counts one more element held in memory against the budget of what
// is being read, so that a hostile file cannot fill memory with small
// elements.
func (r *Reader) retain() error {
	if r.budget == nil {
		return nil
	}
	*r.budget++
	if *r.budget > r.budgetMax {
		return &ReadError{Line: r.line, Column: r.col, Err: ErrLimit,
			Msg: fmt.Sprintf("one part of the file holds more than %d elements, more than the reader accepts; the file is damaged or hostile", r.budgetMax)}
	}
	return nil
}

// extension reads the element t, which ODM does not allow here, as a Node
// and reports it.
func (r *Reader) extension(t xml.StartElement, in, oid string) (*Node, error) {
	if r.isODM(t.Name.Space) {
		r.noteOnce(Warning, CodeUnknown, oid, in+">"+t.Name.Local,
			fmt.Sprintf("ODM 1.3.2 does not allow %s inside %s here; it was kept as an extension", t.Name.Local, in))
	} else {
		r.noteOnce(Info, CodeExtension, oid, in+">"+t.Name.Space+" "+t.Name.Local,
			fmt.Sprintf("the vendor element %s inside %s was kept as an extension", r.qualified(t.Name), in))
	}
	return r.node(t)
}

// node reads the element t and everything in it verbatim.
func (r *Reader) node(t xml.StartElement) (*Node, error) {
	n := &Node{Space: r.elementSpace(t.Name.Space), Local: t.Name.Local, Line: r.line}
	r.checkPrefix(t.Name)
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns", a.Name.Space == "" && a.Name.Local == "xmlns":
		default:
			r.checkPrefix(a.Name)
			n.Attrs = append(n.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
		}
	}
	var last *Node
	for {
		tok, err := r.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := r.retain(); err != nil {
				return nil, err
			}
			c, err := r.node(t)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
			last = c
		case xml.CharData:
			target := &n.Text
			if last != nil {
				target = &last.Tail
			}
			if len(*target)+len(t) > r.opts.MaxValueSize {
				return nil, &ReadError{Line: r.line, Err: ErrLimit,
					Msg: fmt.Sprintf("the text of the element %s runs longer than %d bytes, more than the reader accepts", n.Local, r.opts.MaxValueSize)}
			}
			*target += string(t)
		case xml.EndElement:
			if len(n.Children) > 0 && isSpace([]byte(n.Text)) {
				n.Text = ""
			}
			for _, c := range n.Children {
				if isSpace([]byte(c.Tail)) {
					c.Tail = ""
				}
			}
			return n, nil
		}
	}
}

// elementSpace returns the namespace an element is kept under: ODM
// elements of files without the ODM namespace, or with an older one, are
// kept under the ODM namespace so that they are written back as ODM.
func (r *Reader) elementSpace(space string) string {
	if r.isODM(space) {
		return Namespace
	}
	return space
}

// textContent reads an element with text content and attributes, such as
// TranslatedText or FormalExpression. Child elements, which ODM does not
// allow there, are kept as extensions.
func (r *Reader) textContent(el xml.StartElement, oid string, ext *Extensions, set attrFunc) (string, error) {
	r.attrs(el, ext, oid, set)
	var b strings.Builder
	for {
		tok, err := r.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if b.Len()+len(t) > r.opts.MaxValueSize {
				return "", &ReadError{Line: r.line, Err: ErrLimit,
					Msg: fmt.Sprintf("the text of %s runs longer than %d bytes, more than the reader accepts", el.Name.Local, r.opts.MaxValueSize)}
			}
			b.Write(t)
		case xml.StartElement:
			if err := r.retain(); err != nil {
				return "", err
			}
			node, err := r.extension(t, el.Name.Local, oid)
			if err != nil {
				return "", err
			}
			ext.Elements = append(ext.Elements, node)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// leaf reads a text-only element that the model keeps as a plain string,
// such as StudyName. Vendor attributes or elements on it have no place in
// the model; they are reported as not kept.
func (r *Reader) leaf(el xml.StartElement, oid string) (string, error) {
	var ext Extensions
	s, err := r.textContent(el, oid, &ext, nil)
	if !ext.Empty() {
		r.note(Warning, CodeNotKept, oid, fmt.Sprintf("%s is kept as plain text, so the vendor attributes or elements on it were left out", el.Name.Local))
	}
	return s, err
}

// translations reads Description, Question, Decode, ErrorMessage or Symbol.
func (r *Reader) translations(el xml.StartElement, oid string) (*Translations, error) {
	t := &Translations{}
	return t, r.translationsInto(el, oid, t)
}

// translationsInto reads like translations into t, for the places where
// the model holds Translations by value.
func (r *Reader) translationsInto(el xml.StartElement, oid string, t *Translations) error {
	r.pos[t] = r.here()
	r.attrs(el, &t.Extensions, oid, nil)
	return r.children(el.Name.Local, oid, &t.Extensions, func(c xml.StartElement) (bool, error) {
		if c.Name.Local != "TranslatedText" {
			return false, nil
		}
		tt := TranslatedText{}
		v, err := r.textContent(c, oid, &tt.Extensions, func(name, value string) bool {
			if name == "xml:lang" {
				tt.Lang = value
				return true
			}
			return false
		})
		tt.Value = v
		t.Texts = append(t.Texts, tt)
		return true, err
	})
}

// alias reads an Alias.
// description reads a definition's Description into *into. A second
// Description is not the definition's: the caller's unknown-element
// handling keeps it as an extension, with its diagnostic.
func (r *Reader) description(el xml.StartElement, oid string, into **Translations) (bool, error) {
	if *into != nil {
		return false, nil
	}
	t, err := r.translations(el, oid)
	*into = t
	return true, err
}

// addAlias reads an Alias and appends it to *into.
func (r *Reader) addAlias(el xml.StartElement, oid string, into *[]Alias) (bool, error) {
	a, err := r.alias(el, oid)
	*into = append(*into, a)
	return true, err
}

func (r *Reader) alias(el xml.StartElement, oid string) (Alias, error) {
	var a Alias
	r.attrs(el, &a.Extensions, oid, func(name, v string) bool {
		switch name {
		case "Context":
			a.Context = v
		case "Name":
			a.Name = v
		default:
			return false
		}
		return true
	})
	return a, r.children("Alias", oid, &a.Extensions, nil)
}

// formalExpression reads a FormalExpression.
func (r *Reader) formalExpression(el xml.StartElement, oid string) (*FormalExpression, error) {
	f := &FormalExpression{}
	v, err := r.textContent(el, oid, &f.Extensions, func(name, v string) bool {
		if name == "Context" {
			f.Context = v
			return true
		}
		return false
	})
	f.Value = v
	return f, err
}

// oidRef reads an element whose only attribute is an OID reference, such
// as CodeListRef or UserRef.
func (r *Reader) oidRef(el xml.StartElement, oid, attr string, target *string, ext *Extensions) error {
	r.attrs(el, ext, oid, func(name, v string) bool {
		if name == attr {
			*target = v
			return true
		}
		return false
	})
	return r.children(el.Name.Local, oid, ext, nil)
}

// integer parses an xs:integer attribute. A value that is not one is kept
// as an extension attribute, reported but not lost.
func (r *Reader) integer(ext *Extensions, elem, name, v, oid string) *int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		ext.Attrs = append(ext.Attrs, Attr{Local: name, Value: v})
		r.note(Error, CodeBadValue, oid, fmt.Sprintf("the %s of %s is %q, which is not an integer; it was kept as an extension", name, elem, clip(v, 40)))
		return nil
	}
	return &n
}

// decimal parses an xs:decimal attribute like integer does.
func (r *Reader) decimal(ext *Extensions, elem, name, v, oid string) *float64 {
	s := strings.TrimSpace(v)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !isDecimal(s) {
		ext.Attrs = append(ext.Attrs, Attr{Local: name, Value: v})
		r.note(Error, CodeBadValue, oid, fmt.Sprintf("the %s of %s is %q, which is not a decimal number; it was kept as an extension", name, elem, clip(v, 40)))
		return nil
	}
	return &f
}

// yesOnly reads an attribute whose only ODM value is Yes (IsNull,
// Archival). "No" means what it says and is accepted with a note.
func (r *Reader) yesOnly(ext *Extensions, elem, name, v, oid string) bool {
	switch {
	case v == "Yes":
		return true
	case strings.EqualFold(v, "yes"):
		r.note(Warning, CodeNormalized, oid, fmt.Sprintf("the %s of %s is %q; it was read as Yes", name, elem, v))
		return true
	case strings.EqualFold(v, "no"):
		r.note(Warning, CodeNormalized, oid, fmt.Sprintf("the %s of %s is %q, which ODM does not allow; it was read as absent", name, elem, v))
		return false
	}
	ext.Attrs = append(ext.Attrs, Attr{Local: name, Value: v})
	r.note(Error, CodeBadValue, oid, fmt.Sprintf("the %s of %s is %q, not Yes; it was kept as an extension", name, elem, clip(v, 40)))
	return false
}

// enum returns v, or the allowed value it matches when case is ignored
// (with a warning). Values that match nothing are kept as written; the
// checks report them.
func (r *Reader) enum(v string, allowed []string, elem, name, oid string) string {
	if oneOf(v, allowed) {
		return v
	}
	c, ok := canonical(strings.TrimSpace(v), allowed)
	if ok {
		r.note(Warning, CodeNormalized, oid, fmt.Sprintf("the %s of %s is %q; it was read as %q", name, elem, v, c))
	}
	return c
}
