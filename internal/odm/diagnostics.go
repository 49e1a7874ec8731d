package odm

import (
	"fmt"
	"strings"
)

// Severity says how much a diagnostic matters.
type Severity int

// The severities, from least to most serious.
const (
	// Info is something a reader of the report may want to know, such as a
	// vendor element kept as an extension.
	Info Severity = iota
	// Warning is something probably wrong that did not stop the import,
	// such as a date item holding "31/12/2020".
	Warning
	// Error is something wrong with the file, such as an ItemRef to an item
	// that is not defined. Reading goes on so that the report is complete.
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Code classifies a diagnostic so that callers and tests can act on kinds of
// problems without parsing messages.
type Code string

// The diagnostic codes.
const (
	// CodeMissingAttribute: a required attribute or element is absent or
	// empty.
	CodeMissingAttribute Code = "missing-attribute"
	// CodeMissingElement: a required child element is absent.
	CodeMissingElement Code = "missing-element"
	// CodeBadValue: an attribute or element value is not of its ODM type
	// (an unknown DataType, a malformed date, a negative Length).
	CodeBadValue Code = "bad-value"
	// CodeDuplicate: an OID, or another value ODM requires to be unique,
	// occurs twice.
	CodeDuplicate Code = "duplicate"
	// CodeDanglingReference: an OID reference points to nothing.
	CodeDanglingReference Code = "dangling-reference"
	// CodeExtension: a vendor element or attribute was kept as an
	// extension.
	CodeExtension Code = "extension"
	// CodeUnknown: an element or attribute in the ODM namespace that ODM
	// 1.3.2 does not define here was kept as an extension.
	CodeUnknown Code = "unknown"
	// CodeNotKept: something the model has no place for was left out.
	CodeNotKept Code = "not-kept"
	// CodeStructure: elements are nested or ordered in a way ODM 1.3.2 does
	// not allow, but the meaning was clear and has been read.
	CodeStructure Code = "structure"
	// CodeItemValue: a value in ItemData does not fit its ItemDef (type,
	// length or code list).
	CodeItemValue Code = "item-value"
	// CodeVersion: the file declares an ODM version or namespace other than
	// ODM 1.3.2.
	CodeVersion Code = "version"
	// CodeNormalized: a value was read in a spelling ODM does not allow
	// (such as "yes" for "Yes") and was normalised.
	CodeNormalized Code = "normalized"
)

// schemaCodes are the codes of problems that make a document invalid
// against the ODM 1.3.2 schema; the Writer refuses documents that have them.
var schemaCodes = map[Code]bool{
	CodeMissingAttribute: true,
	CodeMissingElement:   true,
	CodeBadValue:         true,
	CodeDuplicate:        true,
}

// Diagnostic is one finding about a file.
type Diagnostic struct {
	Line     int
	Column   int
	OID      string // OID (or key) of the nearest enclosing element that has one
	Severity Severity
	Code     Code
	Message  string // a sentence
}

// String formats d as "line 12, column 5: error: ... (OID IT.AGE)".
func (d Diagnostic) String() string {
	var b strings.Builder
	if d.Line > 0 {
		fmt.Fprintf(&b, "line %d", d.Line)
		if d.Column > 0 {
			fmt.Fprintf(&b, ", column %d", d.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	b.WriteString(d.Message)
	if d.OID != "" {
		fmt.Fprintf(&b, " (in %s)", d.OID)
	}
	return b.String()
}

// Diagnostics is the report of a read: what was found, most serious or not.
// It keeps at most a limit of entries so that a file with a million bad
// values does not fill memory; the counts include the entries not kept.
type Diagnostics struct {
	List       []Diagnostic
	Suppressed int // entries not kept in List because the limit was reached
	counts     [3]int
	limit      int
}

// add records d, or only counts it once the list is full.
func (ds *Diagnostics) add(d Diagnostic) {
	if d.Severity >= Info && d.Severity <= Error {
		ds.counts[d.Severity]++
	}
	if ds.limit > 0 && len(ds.List) >= ds.limit {
		ds.Suppressed++
		return
	}
	ds.List = append(ds.List, d)
}

// Count returns how many diagnostics of severity s were found, including
// those not kept in List.
func (ds *Diagnostics) Count(s Severity) int {
	if s < Info || s > Error {
		return 0
	}
	return ds.counts[s]
}

// HasErrors reports whether any error was found.
func (ds *Diagnostics) HasErrors() bool { return ds.counts[Error] > 0 }

// String lists the diagnostics one a line.
func (ds *Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds.List {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	if ds.Suppressed > 0 {
		fmt.Fprintf(&b, "%d more diagnostics were counted but not listed.\n", ds.Suppressed)
	}
	return b.String()
}
