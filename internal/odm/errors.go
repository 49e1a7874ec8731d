package odm

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// ReadError stops a read: the input is not well-formed XML, breaks one of
// the reader's limits, or declares entities. Its message is a sentence that
// names the line.
type ReadError struct {
	Line   int
	Column int // zero when unknown
	Msg    string
	Err    error // the underlying error, if any
}

// Error returns "line N: message".
func (e *ReadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Unwrap returns the underlying error.
func (e *ReadError) Unwrap() error { return e.Err }

// ErrLimit is wrapped by the ReadError of an input that breaks one of the
// reader's limits (depth, value size, tag size, element count).
var ErrLimit = errors.New("odm: limit exceeded")

// ErrEntity is wrapped by the ReadError of an input that declares entities
// in a DOCTYPE. The reader never expands entities, so it refuses such files
// outright rather than failing later on an undefined entity.
var ErrEntity = errors.New("odm: entity declarations refused")

// fromSyntax turns an encoding/xml syntax error into a sentence a clinic's
// data manager can act on.
func fromSyntax(se *xml.SyntaxError) *ReadError {
	msg := se.Msg
	var sentence string
	switch {
	case msg == "unexpected EOF":
		sentence = "the file ends before all its elements are closed; it looks truncated"
	case msg == "invalid UTF-8":
		sentence = "the file contains bytes that are not valid UTF-8; save it as UTF-8"
	case strings.HasPrefix(msg, "illegal character code"):
		sentence = fmt.Sprintf("the file contains the character %s, which XML does not allow",
			strings.TrimPrefix(msg, "illegal character code "))
	case strings.HasPrefix(msg, "invalid character entity"):
		sentence = fmt.Sprintf("the file uses the entity %s, which is not one of the five XML entities; entities are never expanded",
			strings.TrimPrefix(msg, "invalid character entity "))
	default:
		sentence = "the file is not well-formed XML: " + msg
	}
	return &ReadError{Line: se.Line, Msg: sentence, Err: se}
}
