package odm

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// charsetReader lets encoding/xml read the single-byte encodings older
// exporters declare (ISO-8859-1, windows-1252, US-ASCII). Anything else is
// refused with a sentence; UTF-8 never gets here.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		return &singleByteReader{src: bufio.NewReader(input)}, nil
	case "windows-1252", "cp1252":
		return &singleByteReader{src: bufio.NewReader(input), high: &windows1252}, nil
	}
	// The XML declaration, where encodings are declared, is on line 1.
	return nil, &ReadError{Line: 1, Msg: fmt.Sprintf("the file declares the encoding %q; cohort reads UTF-8, ISO-8859-1 and windows-1252, so save it as UTF-8", label)}
}

// singleByteReader decodes a single-byte encoding to UTF-8. Bytes below
// 0x80 are ASCII; bytes 0x80-0x9F are looked up in high when set; the rest
// are their Latin-1 code points.
type singleByteReader struct {
	src     *bufio.Reader
	high    *[32]rune
	pending []byte
}

// Read decodes into p as much as fits.
func (s *singleByteReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) > 0 {
			c := copy(p[n:], s.pending)
			s.pending = s.pending[c:]
			n += c
			continue
		}
		b, err := s.src.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		r := rune(b)
		if b >= 0x80 && b < 0xA0 && s.high != nil {
			r = s.high[b-0x80]
		}
		if r < utf8.RuneSelf {
			p[n] = byte(r)
			n++
			continue
		}
		s.pending = utf8.AppendRune(s.pending[:0], r)
	}
	return n, nil
}

// windows1252 maps bytes 0x80-0x9F of windows-1252; undefined ones map to
// U+FFFD.
var windows1252 = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}
