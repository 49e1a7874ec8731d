package odm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// WriteOptions tunes a Writer.
type WriteOptions struct {
	// KeepExtensions writes vendor extensions back, in their namespaces
	// and at their places. The output is then not valid ODM 1.3.2 (whose
	// schema has no extension points) but loses nothing; stripped of the
	// foreign-namespace nodes it validates. Without it (the default) the
	// Writer leaves extensions out and counts them in Omitted.
	KeepExtensions bool
	// Compact writes no indentation.
	Compact bool
	// Progress, if set, is called with the number of rows written so far,
	// every 10,000 rows and at Close.
	Progress func(rowsWritten int64)
}

// Omitted counts the vendor extensions a Writer left out because
// KeepExtensions was off, so that an export can say what it dropped.
type Omitted struct {
	Attributes int
	Elements   int
}

// ValidationError is returned by the Writer for a document or row that
// would not validate against the ODM 1.3.2 schema.
type ValidationError struct {
	Problems []Diagnostic
}

// Error summarises the problems in a sentence.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return "the document would not be valid ODM 1.3.2"
	}
	msg := "the document would not be valid ODM 1.3.2: " + e.Problems[0].Message
	if n := len(e.Problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more problems)", n)
	}
	return msg
}

// Writer writes ODM 1.3.2 that validates against the official schema:
// metadata from a Document, then clinical data row by row, so that memory
// stays flat however many rows there are.
//
// Call Begin with the document, WriteRow for each row, then Close. Rows
// must come sorted by container (study and version, subject, study event
// and repeat key, form and repeat key, item group and repeat key): the
// Writer opens and closes containers as their keys change, so unsorted rows
// produce the same container more than once. ReferenceData rows must come
// before ClinicalData rows, as in ODM.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	x       *xmlWriter
	opts    WriteOptions
	omitted Omitted
	rows    int64

	prefixes map[string]string // namespace URI to declared prefix
	declared map[string]bool   // prefixes in use
	root     kids              // extension elements of ODM among its children

	open     [levels]openContainer
	deepest  level // deepest open container, inODM when none
	clinical bool  // a ClinicalData has been written: no more ReferenceData
	identity bool  // containers are told apart by identity too (Write)

	chk      *checker     // reports schema problems into problems
	problems []Diagnostic // of the element being checked

	began, closed bool
	err           error
}

// openContainer is a clinical container the Writer is inside.
type openContainer struct {
	kind string // element name
	key  [3]string
	ptr  any // the container value, compared only in identity mode
	kids kids
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer, opts WriteOptions) *Writer {
	wr := &Writer{
		x:        newXMLWriter(w, !opts.Compact),
		opts:     opts,
		prefixes: map[string]string{Namespace: "", xmlNamespace: "xml"},
		declared: map[string]bool{"xml": true, "xmlns": true},
	}
	wr.chk = &checker{report: func(d Diagnostic) {
		if d.Severity == Error && schemaCodes[d.Code] {
			wr.problems = append(wr.problems, d)
		}
	}}
	return wr
}

// Omitted returns the vendor extensions left out so far.
func (w *Writer) Omitted() Omitted { return w.omitted }

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Begin checks doc and writes the root element, the studies and the admin
// data; clinical data then comes through WriteRow (doc's in-memory
// ReferenceData and ClinicalData are Write's business, not Begin's). It
// returns a *ValidationError listing what would make the file invalid, if
// anything; then nothing is written.
func (w *Writer) Begin(ctx context.Context, doc *Document) error {
	if w.began {
		return errors.New("write ODM: Begin was called twice")
	}
	w.began = true
	if err := ctx.Err(); err != nil {
		return w.stop(err)
	}
	if problems := w.problemsOf(func(c *checker) { c.document(doc) }); len(problems) > 0 {
		return w.stop(&ValidationError{Problems: problems})
	}
	x := w.x
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>`)
	x.start("ODM")
	x.attr("xmlns", Namespace)
	if w.opts.KeepExtensions {
		for _, ns := range doc.Namespaces {
			if ns.Prefix == "" || w.declared[ns.Prefix] || ns.URI == xmlNamespace || ns.URI == "" {
				continue
			}
			x.attr("xmlns:"+ns.Prefix, ns.URI)
			w.declared[ns.Prefix] = true
			if p, ok := w.prefixes[ns.URI]; !ok || p == "" {
				if ns.URI != Namespace {
					w.prefixes[ns.URI] = ns.Prefix
				}
			}
		}
	}
	x.optAttr("Description", doc.Description)
	x.attr("FileType", string(doc.FileType))
	x.optAttr("Granularity", string(doc.Granularity))
	if doc.Archival {
		x.attr("Archival", "Yes")
	}
	x.attr("FileOID", doc.FileOID)
	x.attr("CreationDateTime", doc.CreationDateTime)
	x.optAttr("PriorFileOID", doc.PriorFileOID)
	x.optAttr("AsOfDateTime", doc.AsOfDateTime)
	x.optAttr("ODMVersion", doc.ODMVersion) // as given, so that a file comes back as it was read
	x.optAttr("Originator", doc.Originator)
	x.optAttr("SourceSystem", doc.SourceSystem)
	x.optAttr("SourceSystemVersion", doc.SourceSystemVersion)
	x.optAttr("ID", doc.ID)
	w.extAttrs(&doc.Extensions)
	w.root = w.kidsOf(&doc.Extensions)
	for _, s := range doc.Studies {
		w.root.next()
		w.study(s)
	}
	for _, a := range doc.AdminData {
		w.root.next()
		w.adminData(a)
	}
	return w.check("write ODM metadata")
}

// Close closes the open containers and the root and flushes the output.
func (w *Writer) Close(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	if !w.began {
		return errors.New("write ODM: Close was called before Begin")
	}
	if w.closed {
		return nil
	}
	w.closed = true
	w.closeTo(inODM)
	w.root.done()
	w.x.end()
	w.x.raw("\n")
	if err := w.x.flush(); err != nil {
		return w.stop(fmt.Errorf("write ODM: %w", err))
	}
	if w.opts.Progress != nil {
		w.opts.Progress(w.rows)
	}
	return ctx.Err()
}

// Write writes doc with the clinical and reference data it holds in memory
// (as ReadAll returns it). It returns the extensions it left out. Unlike
// WriteRow, it keeps two neighbouring containers with the same keys apart,
// so that a document comes back as it was read.
func Write(ctx context.Context, out io.Writer, doc *Document, opts WriteOptions) (Omitted, error) {
	w := NewWriter(out, opts)
	w.identity = true
	if err := w.Begin(ctx, doc); err != nil {
		return w.Omitted(), err
	}
	for row := range doc.Rows() {
		if err := w.WriteRow(ctx, row); err != nil {
			return w.Omitted(), err
		}
	}
	err := w.Close(ctx)
	return w.Omitted(), err
}

// stop makes err the Writer's lasting error.
func (w *Writer) stop(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// check turns an error of the XML layer into the Writer's error.
func (w *Writer) check(what string) error {
	if w.x.err != nil {
		return w.stop(fmt.Errorf("%s: %w", what, w.x.err))
	}
	return nil
}

// problemsOf runs checks and returns the findings that would make the
// output invalid against the schema.
func (w *Writer) problemsOf(run func(*checker)) []Diagnostic {
	w.problems = w.problems[:0]
	run(w.chk)
	if len(w.problems) == 0 {
		return nil
	}
	return append([]Diagnostic(nil), w.problems...)
}

// extAttrs writes an element's extension attributes, or counts them.
func (w *Writer) extAttrs(e *Extensions) {
	if len(e.Attrs) == 0 {
		return
	}
	if !w.opts.KeepExtensions {
		w.omitted.Attributes += len(e.Attrs)
		return
	}
	var scope []NamespaceDecl
	names := make([]string, len(e.Attrs))
	for i, a := range e.Attrs {
		names[i] = w.qualify(a.Space, a.Local, &scope, true)
	}
	for _, d := range scope {
		w.x.attr("xmlns:"+d.Prefix, d.URI)
	}
	for i, a := range e.Attrs {
		w.x.attr(names[i], a.Value)
	}
}

// kids places an element's extension elements among its ODM children:
// call next before each child and done after the last.
type kids struct {
	w     *Writer
	nodes []*Node
	i, n  int
}

// kidsOf prepares the extension elements of e for writing, or counts them
// when extensions are left out.
func (w *Writer) kidsOf(e *Extensions) kids {
	if len(e.Elements) == 0 {
		return kids{w: w}
	}
	if !w.opts.KeepExtensions {
		w.omitted.Elements += len(e.Elements)
		return kids{w: w}
	}
	nodes := e.Elements
	if !sort.SliceIsSorted(nodes, func(i, j int) bool { return nodes[i].Pos < nodes[j].Pos }) {
		nodes = append([]*Node(nil), nodes...)
		sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Pos < nodes[j].Pos })
	}
	return kids{w: w, nodes: nodes}
}

func (k *kids) next() {
	for k.i < len(k.nodes) && k.nodes[k.i].Pos <= k.n {
		k.w.node(k.nodes[k.i], Namespace)
		k.i++
	}
	k.n++
}

func (k *kids) done() {
	for ; k.i < len(k.nodes); k.i++ {
		k.w.node(k.nodes[k.i], Namespace)
	}
}

// node writes an extension element verbatim. defaultNS is the default
// namespace where it sits. Its content is written without indentation,
// which would change its text.
func (w *Writer) node(n *Node, defaultNS string) {
	x := w.x
	var scope []NamespaceDecl
	name := n.Local
	inner := defaultNS
	switch {
	case n.Space == defaultNS:
	case n.Space == "" || n.Space == Namespace:
		// No namespace, or ODM's under a no-namespace element: change the
		// default namespace rather than invent a prefix.
		inner = n.Space
	default:
		name = w.qualify(n.Space, n.Local, &scope, false)
	}
	attrNames := make([]string, len(n.Attrs))
	for i, a := range n.Attrs {
		attrNames[i] = w.qualify(a.Space, a.Local, &scope, true)
	}
	x.start(name)
	if inner != defaultNS {
		x.attr("xmlns", inner)
	}
	for _, d := range scope {
		x.attr("xmlns:"+d.Prefix, d.URI)
	}
	for i, a := range n.Attrs {
		x.attr(attrNames[i], a.Value)
	}
	indent := x.indent
	x.indent = false
	x.text(n.Text)
	for _, c := range n.Children {
		w.node(c, inner)
		x.text(c.Tail)
	}
	x.end()
	x.indent = indent
}

// qualify returns the name to write for a namespaced name. Namespaces the
// root declared use their prefix; others get a fresh prefix declared in
// scope, the declarations of the element being written.
func (w *Writer) qualify(space, local string, scope *[]NamespaceDecl, attr bool) string {
	if space == "" {
		return local
	}
	if p, ok := w.prefixes[space]; ok && p != "" {
		return p + ":" + local
	} else if ok && !attr {
		return local // the default namespace; attributes cannot use it
	}
	for _, d := range *scope {
		if d.URI == space {
			return d.Prefix + ":" + local
		}
	}
	for i := 1; ; i++ {
		p := "ns" + strconv.Itoa(i)
		if w.declared[p] || inScope(*scope, p) {
			continue
		}
		*scope = append(*scope, NamespaceDecl{Prefix: p, URI: space})
		return p + ":" + local
	}
}

func inScope(scope []NamespaceDecl, prefix string) bool {
	for _, d := range scope {
		if d.Prefix == prefix {
			return true
		}
	}
	return false
}
