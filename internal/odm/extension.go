package odm

// Extensions holds what a file put on an ODM element beyond what this
// package models: vendor attributes (redcap:Variable="age"), vendor child
// elements (<OpenClinica:ItemDetails>), and ODM elements found where ODM
// does not allow them. Nothing read is dropped; the Writer puts it back
// with KeepExtensions and leaves it out (and counts it) otherwise.
type Extensions struct {
	Attrs    []Attr
	Elements []*Node
}

// Empty reports whether there are no extensions.
func (e *Extensions) Empty() bool { return len(e.Attrs) == 0 && len(e.Elements) == 0 }

// Attr is an attribute kept as an extension. Space is its namespace URI,
// empty for an attribute without prefix.
type Attr struct {
	Space string
	Local string
	Value string
}

// Node is an XML element kept verbatim as a small tree.
//
// Character data follows the ElementTree convention so that mixed content
// keeps its order: Text is the character data before the first child and
// each child's Tail the character data after it. Whitespace-only Text in an
// element with children, and whitespace-only Tails, are indentation and are
// not kept.
type Node struct {
	Space    string // namespace URI
	Local    string
	Attrs    []Attr
	Text     string
	Children []*Node
	Tail     string

	// Pos places an extension element among the ODM children of the element
	// that holds it: it is the number of those children that precede it.
	// It is meaningful for the nodes of Extensions.Elements only.
	Pos int

	// Line is where the element starts in the source file, zero for nodes
	// not read from a file.
	Line int
}
