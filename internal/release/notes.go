package release

import (
	"net/url"
	"strings"
)

// Notes are release notes read from their Markdown: a small, safe subset
// (headings, bullet lists, paragraphs, code blocks, inline code, links,
// bold and italic). Nothing in the text ever becomes markup: the page
// writes these parts through its escaping templates, and raw HTML in the
// Markdown stays visible text.
type Notes struct {
	// Intro is what comes before the first heading.
	Intro []Block
	// Sections are the notes' second-level (or first-level) sections.
	Sections []Section
}

// Section is one headed part of the notes.
type Section struct {
	Title string
	// Kind sorts the standard sections: "features", "fixes", "known"
	// (known issues), or "" for any other.
	Kind   string
	Blocks []Block
}

// Block is one paragraph, bullet list, code block or sub-heading.
type Block struct {
	// Kind is "p", "ul", "code" or "h" (a heading below section level).
	Kind string
	// Spans are a paragraph's or sub-heading's text.
	Spans []Span
	// Items are a list's entries.
	Items [][]Span
	// Code is a code block's text, verbatim.
	Code string
}

// Span is a run of inline text.
type Span struct {
	Text   string
	Code   bool
	Strong bool
	Em     bool
	// Link is the span's target when it is a link with a safe scheme
	// (http, https, mailto) or a relative address.
	Link string
}

// Empty reports whether the notes say nothing.
func (n Notes) Empty() bool { return len(n.Intro) == 0 && len(n.Sections) == 0 }

// Section returns the section of a standard kind, if the notes have one.
func (n Notes) Section(kind string) (Section, bool) {
	for _, s := range n.Sections {
		if s.Kind == kind {
			return s, true
		}
	}
	return Section{}, false
}

// sectionKind recognises the standard sections in the words release
// managers use.
func sectionKind(title string) string {
	t := strings.ToLower(strings.TrimSpace(title))
	switch {
	case strings.HasPrefix(t, "feature"), strings.HasPrefix(t, "new"), t == "what's new", t == "improvements":
		return "features"
	case strings.HasPrefix(t, "fix"), strings.HasPrefix(t, "bug"), t == "corrections":
		return "fixes"
	case strings.HasPrefix(t, "known"):
		return "known"
	}
	return ""
}

// ParseNotes reads release notes written in Markdown.
func ParseNotes(md string) Notes {
	var n Notes
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	var blocks *[]Block = &n.Intro
	var para []string
	var items [][]Span
	var item []string
	flushItem := func() {
		if len(item) > 0 {
			items = append(items, parseInline(strings.Join(item, " ")))
			item = nil
		}
	}
	flush := func() {
		if len(para) > 0 {
			*blocks = append(*blocks, Block{Kind: "p", Spans: parseInline(strings.Join(para, " "))})
			para = nil
		}
		flushItem()
		if len(items) > 0 {
			*blocks = append(*blocks, Block{Kind: "ul", Items: items})
			items = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flush()
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				code = append(code, lines[i])
			}
			*blocks = append(*blocks, Block{Kind: "code", Code: strings.Join(code, "\n")})
		case strings.HasPrefix(trimmed, "#"):
			flush()
			level := len(trimmed) - len(strings.TrimLeft(trimmed, "#"))
			title := strings.TrimSpace(strings.Trim(strings.TrimSpace(trimmed[level:]), "#"))
			if level <= 2 {
				n.Sections = append(n.Sections, Section{Title: title, Kind: sectionKind(title)})
				blocks = &n.Sections[len(n.Sections)-1].Blocks
			} else {
				*blocks = append(*blocks, Block{Kind: "h", Spans: parseInline(title)})
			}
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* ") || strings.HasPrefix(trimmed, "+ "):
			if len(para) > 0 {
				*blocks = append(*blocks, Block{Kind: "p", Spans: parseInline(strings.Join(para, " "))})
				para = nil
			}
			flushItem()
			item = []string{strings.TrimSpace(trimmed[2:])}
		case item != nil && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			item = append(item, trimmed) // a list item continued on the next line
		default:
			if item != nil {
				flush()
			}
			para = append(para, trimmed)
		}
	}
	flush()
	// Sections with nothing under their heading stay: "Known issues" with
	// no entries is itself a statement, shown as "none".
	return n
}

// parseInline splits text into spans: `code`, [text](url), **bold**,
// *italic* / _italic_. Unclosed markers are plain text.
func parseInline(s string) []Span {
	var out []Span
	var plain strings.Builder
	strong, em := false, false
	emit := func() {
		if plain.Len() > 0 {
			out = append(out, Span{Text: plain.String(), Strong: strong, Em: em})
			plain.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch {
		case s[i] == '`':
			if j := strings.IndexByte(s[i+1:], '`'); j >= 0 {
				emit()
				out = append(out, Span{Text: s[i+1 : i+1+j], Code: true})
				i += j + 2
				continue
			}
		case s[i] == '[':
			if close := strings.Index(s[i:], "]("); close > 0 {
				if end := strings.IndexByte(s[i+close+2:], ')'); end >= 0 {
					text := s[i+1 : i+close]
					target := strings.TrimSpace(s[i+close+2 : i+close+2+end])
					emit()
					sp := Span{Text: text, Strong: strong, Em: em}
					if safeLink(target) {
						sp.Link = target
					} else {
						sp.Text = text + " (" + target + ")"
					}
					out = append(out, sp)
					i += close + 2 + end + 1
					continue
				}
			}
		case strings.HasPrefix(s[i:], "**"):
			if strong || strings.Contains(s[i+2:], "**") {
				emit()
				strong = !strong
				i += 2
				continue
			}
		case s[i] == '*' || s[i] == '_':
			closing := em
			opening := !em && strings.IndexByte(s[i+1:], s[i]) > 0 && (i == 0 || s[i-1] == ' ' || s[i-1] == '(')
			if closing || opening {
				emit()
				em = !em
				i++
				continue
			}
		}
		plain.WriteByte(s[i])
		i++
	}
	emit()
	return out
}

// safeLink admits http, https and mailto addresses and relative ones; a
// javascript: or data: link becomes plain text.
func safeLink(target string) bool {
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return true
	case "":
		return !strings.Contains(target, ":") || strings.Index(target, ":") > strings.IndexAny(target, "/?#")
	}
	return false
}
