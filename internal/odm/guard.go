package odm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// guard sits between the caller's input and encoding/xml and refuses input
// that would make encoding/xml hold a lot of memory at once.
//
// encoding/xml buffers each token whole: a 100 MB attribute value becomes a
// 100 MB string before the reader sees it. So the guard follows the lexical
// structure of the bytes (text, tags, quoted values, comments, CDATA,
// processing instructions, directives) and stops the stream as soon as one
// token grows past its limit. It also refuses DOCTYPEs with an internal
// subset, the only place entities can be declared: encoding/xml would not
// expand them anyway, but a clear refusal up front is better than an
// "undefined entity" error deep in the file.
//
// The guard only has to agree with encoding/xml on well-formed input; on
// malformed input encoding/xml reports a syntax error, and any disagreement
// can only end a token earlier for encoding/xml than for the guard.
type guard struct {
	src      *bufio.Reader
	maxValue int // longest text run, attribute value, comment, CDATA or PI
	maxTag   int // longest start tag (all attributes included) or DOCTYPE

	state lexState
	quote byte // the open quote inside a tag or directive, 0 outside
	run   int  // bytes in the current value-like token
	tag   int  // bytes in the current tag or directive
	b0    byte // the byte before b1
	b1    byte // the last byte, for terminators like --> and ]]>
	line  int  // 1-based line of the byte being scanned

	read     int64
	progress func(int64)
	every    int64 // report progress after this many bytes
	reported int64

	started bool
	err     error // why the guard stopped the input
	srcErr  error // an error of the input itself, other than io.EOF
}

type lexState uint8

const (
	lexText      lexState = iota
	lexLt                 // after <
	lexTag                // in a start or end tag
	lexBang               // after <!
	lexBangDash           // after <!-
	lexComment            // in <!-- -->
	lexCDATA              // in <![CDATA[ ]]>
	lexPI                 // in <? ?>
	lexDirective          // in <!DOCTYPE ...>
)

func newGuard(r io.Reader, maxValue, maxTag int, progress func(int64)) *guard {
	return &guard{
		src:      bufio.NewReaderSize(r, 64<<10),
		maxValue: maxValue,
		maxTag:   maxTag,
		line:     1,
		progress: progress,
		every:    1 << 20,
	}
}

// Read passes input on to encoding/xml and scans it on the way.
func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if !g.started {
		g.started = true
		if err := g.skipByteOrderMark(); err != nil {
			g.err = err
			return 0, err
		}
	}
	n, err := g.src.Read(p)
	if err != nil && err != io.EOF {
		g.srcErr = err
	}
	if i, gerr := g.scan(p[:n]); gerr != nil {
		g.err = gerr
		g.read += int64(i)
		return i, gerr
	}
	g.read += int64(n)
	if g.progress != nil && (g.read-g.reported >= g.every || err == io.EOF) && g.read != g.reported {
		g.reported = g.read
		g.progress(g.read)
	}
	return n, err
}

// skipByteOrderMark drops a UTF-8 byte order mark, which encoding/xml would
// otherwise report as text before the root element, and refuses UTF-16,
// which the guard cannot scan.
func (g *guard) skipByteOrderMark() error {
	head, _ := g.src.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		g.src.Discard(3)
		g.read += 3
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return &ReadError{Line: 1, Msg: "the file is encoded in UTF-16; save it as UTF-8"}
	}
	return nil
}

// scan advances the lexical state over p. It returns the number of bytes
// accepted and an error if a limit was broken.
func (g *guard) scan(p []byte) (int, error) {
	for i, b := range p {
		if b == '\n' {
			g.line++
		}
		switch g.state {
		case lexText:
			if b == '<' {
				g.state, g.run, g.tag = lexLt, 0, 1
				continue
			}
			g.run++
			if g.run > g.maxValue {
				return i, g.limit("a text runs longer than %d bytes", g.maxValue)
			}
		case lexLt:
			g.tag++
			switch b {
			case '!':
				g.state = lexBang
			case '?':
				g.state, g.b0, g.b1 = lexPI, 0, 0
			default:
				g.state, g.quote = lexTag, 0
				if b == '>' { // "<>" is a syntax error; let encoding/xml say so
					g.state, g.run = lexText, 0
				}
			}
		case lexBang:
			g.tag++
			switch b {
			case '-':
				g.state = lexBangDash
			case '[':
				g.state, g.b0, g.b1 = lexCDATA, 0, 0
			default:
				g.state, g.quote = lexDirective, 0
			}
		case lexBangDash:
			g.state, g.b0, g.b1 = lexComment, 0, 0
		case lexComment:
			if b == '>' && g.b0 == '-' && g.b1 == '-' {
				g.state, g.run = lexText, 0
				continue
			}
			g.b0, g.b1 = g.b1, b
			g.run++
			if g.run > g.maxValue {
				return i, g.limit("a comment runs longer than %d bytes", g.maxValue)
			}
		case lexCDATA:
			if b == '>' && g.b0 == ']' && g.b1 == ']' {
				g.state, g.run = lexText, 0
				continue
			}
			g.b0, g.b1 = g.b1, b
			g.run++
			if g.run > g.maxValue {
				return i, g.limit("a CDATA section runs longer than %d bytes", g.maxValue)
			}
		case lexPI:
			if b == '>' && g.b1 == '?' {
				g.state, g.run = lexText, 0
				continue
			}
			g.b0, g.b1 = g.b1, b
			g.run++
			if g.run > g.maxValue {
				return i, g.limit("a processing instruction runs longer than %d bytes", g.maxValue)
			}
		case lexDirective:
			g.tag++
			switch {
			case g.quote != 0:
				if b == g.quote {
					g.quote = 0
				}
			case b == '"' || b == '\'':
				g.quote = b
			case b == '[':
				return i, &ReadError{Line: g.line, Err: ErrEntity,
					Msg: "the DOCTYPE has an internal subset, where entities are declared; cohort never expands entities and refuses such files"}
			case b == '<':
				return i, &ReadError{Line: g.line, Err: ErrEntity,
					Msg: "the DOCTYPE contains markup declarations; cohort never expands entities and refuses such files"}
			case b == '>':
				g.state, g.run = lexText, 0
				continue
			}
			if g.tag > g.maxTag {
				return i, g.limit("a DOCTYPE runs longer than %d bytes", g.maxTag)
			}
		case lexTag:
			g.tag++
			switch {
			case g.quote != 0:
				if b == g.quote {
					g.quote = 0
					break
				}
				g.run++
				if g.run > g.maxValue {
					return i, g.limit("an attribute value runs longer than %d bytes", g.maxValue)
				}
			case b == '"' || b == '\'':
				g.quote, g.run = b, 0
			case b == '>':
				g.state, g.run = lexText, 0
				continue
			}
			if g.tag > g.maxTag {
				return i, g.limit("a tag with its attributes runs longer than %d bytes", g.maxTag)
			}
		}
	}
	return len(p), nil
}

func (g *guard) limit(format string, args ...any) error {
	return &ReadError{Line: g.line, Err: ErrLimit, Msg: fmt.Sprintf(format, args...) +
		", more than the reader accepts; the file is damaged or hostile"}
}
