package web

import (
	"net/http"
	"regexp"
	"strings"
)

// An instance behind the lifecycle console's reverse proxy is reached under
// a path prefix (/i/{org}/{env}/{role}) that the proxy strips. Routes,
// handlers and templates keep writing plain root paths; the prefix is added
// in three central places on the way out: URL attributes in rendered HTML
// (render), Location and HX-Redirect headers (statusRecorder), and cookie
// paths (guard.go). New pages and redirects need no change to work there.

// cleanBasePath turns "", "/" and "/x/y/" into "", "" and "/x/y".
func cleanBasePath(p string) string {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// urlAttribute matches an HTML attribute holding a root-relative URL — not a
// protocol-relative //host one.
var urlAttribute = regexp.MustCompile(`(\s(?:href|src|action|formaction|hx-get|hx-post|hx-put|hx-patch|hx-delete)=["'])/([^/\\])`)

// withBase prefixes every root-relative URL attribute of a rendered page.
// Text a user typed cannot match: html/template escapes quotes in it.
func withBase(base string, html []byte) []byte {
	if base == "" {
		return html
	}
	return urlAttribute.ReplaceAll(html, []byte("${1}"+base+"/${2}"))
}

// prefixLocation puts a root-relative redirect target under the base path.
func prefixLocation(base, loc string) string {
	if base == "" || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
		return loc
	}
	if loc == base || strings.HasPrefix(loc, base+"/") {
		return loc
	}
	return base + loc
}

// prefixHeaders rewrites the redirect headers of a response about to be sent.
func prefixHeaders(base string, h http.Header) {
	if base == "" {
		return
	}
	for _, k := range []string{"Location", "HX-Redirect", "HX-Location"} {
		if v := h.Get(k); v != "" {
			h.Set(k, prefixLocation(base, v))
		}
	}
}

// stripBase removes the base path from a path the browser sent (a Referer),
// giving the path routes know.
func stripBase(base, p string) string {
	if base == "" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, base); ok && (rest == "" || strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "?")) {
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
		return rest
	}
	return p
}

// cookiePath scopes the instance's cookies to its own prefix, so instances
// behind one console never see each other's sessions.
func (s *Server) cookiePath() string {
	if s.BasePath == "" {
		return "/"
	}
	return s.BasePath
}
