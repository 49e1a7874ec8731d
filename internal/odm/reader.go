package odm

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ReadOptions tunes a Reader. The zero value is ready to use; each zero
// field takes the default given in its comment.
type ReadOptions struct {
	// MaxDepth is the deepest element nesting accepted (default 256; ODM
	// itself needs about 10).
	MaxDepth int
	// MaxValueSize is the longest attribute value, text run, comment or
	// CDATA section accepted, in bytes (default 1 MiB).
	MaxValueSize int
	// MaxTagSize is the longest start tag, all attributes included, or
	// DOCTYPE accepted, in bytes (default 4 MiB).
	MaxTagSize int
	// MaxMetadataElements is the most elements the study definitions and
	// admin data may have, since they are held in memory (default 2,000,000).
	MaxMetadataElements int
	// MaxContainerElements is the most elements one clinical container may
	// hold besides its children containers and ItemData: audit records,
	// annotations, vendor extensions (default 100,000).
	MaxContainerElements int
	// MaxDiagnostics is how many diagnostics are listed; more are only
	// counted (default 1000).
	MaxDiagnostics int
	// Progress, if set, is called with the number of bytes read so far,
	// about every MiB and at the end.
	Progress func(bytesRead int64)
}

func (o ReadOptions) withDefaults() ReadOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxDepth, 256)
	def(&o.MaxValueSize, 1<<20)
	def(&o.MaxTagSize, 4<<20)
	def(&o.MaxMetadataElements, 2_000_000)
	def(&o.MaxContainerElements, 100_000)
	def(&o.MaxDiagnostics, 1000)
	return o
}

// Reader reads an ODM file leniently: ODM 1.3, 1.3.1 and 1.3.2, with or
// without the ODM namespace, with vendor extensions, and with the mistakes
// real exporters make, reporting what it finds as Diagnostics.
//
// Use it in two steps. Metadata reads everything up to the first
// ClinicalData or ReferenceData: the studies and admin data, which are
// small. Next then returns the clinical data one Row (one ItemData) at a
// time, so memory does not grow with the number of values. Elements that
// come after the clinical data (a late AdminData, vendor elements) are added
// to the Document as they are met; it is complete once Next returns io.EOF.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	opts  ReadOptions
	guard *guard
	dec   *xml.Decoder
	ctx   context.Context

	doc       *Document
	diags     Diagnostics
	pos       map[any]position // where metadata elements start, for diagnostics
	reported  map[string]bool  // extension kinds already reported
	metaKept  int              // metadata elements held in memory
	metaDone  bool
	rootOpen  bool              // inside <ODM>
	rootKids  int               // ODM children read so far, for extension positions
	noODMNS   bool              // the file puts ODM elements in no namespace
	odmNS     string            // another namespace read as ODM's (an older ODM's, say)
	prefixes  map[string]string // namespace URI to the prefix the file gave it
	budget    *int              // elements held by what is being read, see retain
	budgetMax int
	designs   map[designKey]*design
	check     *checker
	clinical  clinicalState
	err       error // sticky: once reading failed it stays failed
	fatal     error // found while handling a token; returned by the next call to next
	depth     int
	tokens    int
	line, col int // where the current token starts
	peeked    xml.Token
}

type position struct{ line, col int }

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opts ReadOptions) *Reader {
	opts = opts.withDefaults()
	g := newGuard(r, opts.MaxValueSize, opts.MaxTagSize, opts.Progress)
	dec := xml.NewDecoder(g)
	dec.Strict = true
	dec.CharsetReader = charsetReader
	return &Reader{
		opts:     opts,
		guard:    g,
		dec:      dec,
		ctx:      context.Background(),
		doc:      &Document{},
		diags:    Diagnostics{limit: opts.MaxDiagnostics},
		pos:      map[any]position{},
		reported: map[string]bool{},
		prefixes: map[string]string{},
		designs:  map[designKey]*design{},
	}
}

// Diagnostics returns what the read has found so far.
func (r *Reader) Diagnostics() *Diagnostics { return &r.diags }

// Metadata reads the file up to its clinical data and returns the document
// with its studies and admin data, checked: dangling references, duplicate
// OIDs, bad values and the like are in Diagnostics. The error is a
// *ReadError when the file cannot be read on (not well-formed, over a
// limit), or the context's error.
func (r *Reader) Metadata(ctx context.Context) (*Document, error) {
	if r.err == io.EOF {
		return r.doc, nil
	}
	if r.metaDone || r.err != nil {
		return r.doc, r.err
	}
	r.ctx = ctx
	if err := r.readMetadata(); err != nil {
		r.err = err
		return r.doc, err
	}
	return r.doc, nil
}

func (r *Reader) readMetadata() error {
	r.budget, r.budgetMax = &r.metaKept, r.opts.MaxMetadataElements
	if err := r.readRoot(); err != nil {
		return err
	}
	for r.rootOpen {
		tok, err := r.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if r.isODM(t.Name.Space) && (t.Name.Local == "ClinicalData" || t.Name.Local == "ReferenceData") {
				r.peeked = t
				r.depth-- // next() counts it again when it is taken back
				r.finishMetadata()
				return nil
			}
			if err := r.rootChild(t); err != nil {
				return err
			}
		case xml.EndElement:
			r.rootOpen = false
		case xml.CharData:
			r.strayText(t, "ODM", r.doc.FileOID)
		}
	}
	r.finishMetadata()
	return r.trailer()
}

// finishMetadata checks the design once it is complete and indexes it for
// the checks of clinical values.
func (r *Reader) finishMetadata() {
	r.metaDone = true
	r.checker().document(r.doc)
	// The checks run after reading; list everything found so far by line.
	sort.SliceStable(r.diags.List, func(i, j int) bool { return r.diags.List[i].Line < r.diags.List[j].Line })
	r.indexDesigns()
}

// readRoot reads up to and including the ODM start tag.
func (r *Reader) readRoot() error {
	for {
		tok, err := r.next()
		if err == io.EOF {
			return &ReadError{Line: r.line, Msg: "the file contains no ODM element; it is empty or not an ODM file"}
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.Directive:
			r.note(Info, CodeStructure, "", "the file has a DOCTYPE, which ODM does not use; it was ignored")
		case xml.CharData:
			if !isSpace(t) {
				return &ReadError{Line: r.line, Column: r.col, Msg: "the file has text before its first element; it is not an ODM file"}
			}
		case xml.StartElement:
			if t.Name.Local != "ODM" {
				return &ReadError{Line: r.line, Column: r.col, Msg: fmt.Sprintf("the root element is %s, not ODM; this is not an ODM file", t.Name.Local)}
			}
			r.rootNamespace(t.Name.Space)
			r.rootOpen = true
			r.readDocumentAttrs(t)
			return nil
		}
	}
}

// rootNamespace accepts the ODM 1.3 namespace, no namespace, and (with a
// warning) older ODM namespaces, whose files are close enough to read.
func (r *Reader) rootNamespace(space string) {
	switch {
	case space == Namespace:
	case space == "":
		r.noODMNS = true
		r.note(Warning, CodeVersion, "", "the ODM element has no namespace; it was read as ODM 1.3")
	case strings.HasPrefix(space, "http://www.cdisc.org/ns/odm/"):
		r.odmNS = space
		r.note(Warning, CodeVersion, "", fmt.Sprintf("the file uses the namespace %s; it was read as ODM 1.3", space))
	default:
		r.odmNS = space
		r.note(Warning, CodeVersion, "", fmt.Sprintf("the ODM element is in the namespace %s, not the ODM namespace; it was read as ODM 1.3", space))
	}
}

// rootChild reads one child of ODM other than clinical or reference data.
func (r *Reader) rootChild(t xml.StartElement) error {
	if r.isODM(t.Name.Space) {
		switch t.Name.Local {
		case "Study":
			s, err := r.readStudy(t)
			if err != nil {
				return err
			}
			r.doc.Studies = append(r.doc.Studies, s)
			r.rootKids++
			return nil
		case "AdminData":
			a, err := r.readAdminData(t)
			if err != nil {
				return err
			}
			r.doc.AdminData = append(r.doc.AdminData, a)
			r.rootKids++
			return nil
		}
	}
	if err := r.retain(); err != nil {
		return err
	}
	n, err := r.extension(t, "ODM", r.doc.FileOID)
	if err != nil {
		return err
	}
	n.Pos = r.rootKids
	r.doc.Extensions.Elements = append(r.doc.Extensions.Elements, n)
	return nil
}

// trailer reads what follows the ODM end tag: only comments, processing
// instructions and white space are allowed.
func (r *Reader) trailer() error {
	for {
		tok, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &ReadError{Line: r.line, Column: r.col, Msg: fmt.Sprintf("the file has a second root element, %s, after ODM", t.Name.Local)}
		case xml.CharData:
			if !isSpace(t) {
				return &ReadError{Line: r.line, Column: r.col, Msg: "the file has text after the ODM element"}
			}
		}
	}
}

// next returns the next token, enforcing the depth limit and honouring
// cancellation. Errors are *ReadError sentences, the context's error, or
// io.EOF at the true end of input.
func (r *Reader) next() (xml.Token, error) {
	if r.fatal != nil {
		return nil, r.fatal
	}
	if r.peeked != nil {
		t := r.peeked
		r.peeked = nil
		if _, ok := t.(xml.StartElement); ok {
			r.depth++
		}
		return t, nil
	}
	r.line, r.col = r.dec.InputPos()
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.readFailure(err)
	}
	r.tokens++
	if r.tokens&1023 == 0 {
		if err := r.ctx.Err(); err != nil {
			return nil, fmt.Errorf("read ODM: stopped at line %d: %w", r.line, err)
		}
	}
	switch t := tok.(type) {
	case xml.StartElement:
		for _, a := range t.Attr {
			if a.Name.Space == "xmlns" {
				if a.Value == "" {
					return nil, &ReadError{Line: r.line, Column: r.col,
						Msg: fmt.Sprintf("the prefix %s is declared with an empty namespace, which XML namespaces do not allow", a.Name.Local)}
				}
				r.declare(a.Name.Local, a.Value)
			}
		}
		r.depth++
		if r.depth > r.opts.MaxDepth {
			return nil, &ReadError{Line: r.line, Column: r.col, Err: ErrLimit,
				Msg: fmt.Sprintf("elements are nested more than %d deep, more than the reader accepts; the file is damaged or hostile", r.opts.MaxDepth)}
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
}

// readFailure turns an error from encoding/xml into the error Next returns.
func (r *Reader) readFailure(err error) error {
	if r.guard.err != nil {
		return r.guard.err // the guard stopped the input; its reason is the real one
	}
	var se *xml.SyntaxError
	var re *ReadError
	switch {
	case errors.As(err, &re):
		return re
	case errors.As(err, &se):
		return fromSyntax(se)
	case err == io.EOF:
		if r.rootOpen || r.depth > 0 {
			return &ReadError{Line: r.line, Msg: "the file ends before the ODM element is closed; it looks truncated"}
		}
		return io.EOF
	case r.guard.srcErr != nil:
		return fmt.Errorf("read ODM at line %d: %w", r.line, err)
	}
	// encoding/xml reports a few problems without a SyntaxError, such as an
	// XML version other than 1.0.
	return &ReadError{Line: r.line, Msg: "the file is not well-formed XML: " + strings.TrimPrefix(err.Error(), "xml: "), Err: err}
}

// isODM reports whether space is the namespace of ODM elements in this
// file.
func (r *Reader) isODM(space string) bool {
	switch space {
	case Namespace:
		return true
	case "":
		return r.noODMNS
	}
	return space == r.odmNS && space != ""
}

// note records a diagnostic at the current token.
func (r *Reader) note(sev Severity, code Code, oid, msg string) {
	r.diags.add(Diagnostic{Line: r.line, Column: r.col, OID: oid, Severity: sev, Code: code, Message: msg})
}

// noteAt records a diagnostic at p.
func (r *Reader) noteAt(p position, sev Severity, code Code, oid, msg string) {
	r.diags.add(Diagnostic{Line: p.line, Column: p.col, OID: oid, Severity: sev, Code: code, Message: msg})
}

// here returns the position of the current token.
func (r *Reader) here() position { return position{r.line, r.col} }

// where returns the recorded position of a metadata element.
func (r *Reader) where(obj any) (int, int) {
	p := r.pos[obj]
	return p.line, p.col
}

// strayText reports text where ODM expects only elements. Whitespace is
// indentation and not worth a word.
func (r *Reader) strayText(t xml.CharData, in, oid string) {
	if isSpace(t) {
		return
	}
	r.note(Warning, CodeNotKept, oid, fmt.Sprintf("the text %q inside %s is not part of ODM and was left out", clip(string(t), 40), in))
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// clip shortens s for a message.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
