package web

import (
	"io/fs"
	"net/http"
)

// The lifecycle console (internal/consoleweb) is a second web UI in the
// same binary. It reuses these pieces rather than copying them.

// StaticHandler serves the embedded stylesheet and scripts (htmx) under
// whatever prefix the caller strips, with long cache headers.
func StaticHandler() http.Handler {
	static, _ := fs.Sub(staticFS, "static")
	return cacheForever(http.FileServerFS(static))
}

// ValidCSRF reports whether a state-changing request carries the token want
// (in the form or the X-CSRF-Token header) and, when the browser names its
// origin, comes from this same host.
func ValidCSRF(r *http.Request, want string) bool { return csrfOK(r, want) }

// SafeNext keeps a post-login redirect target on this site.
func SafeNext(next string) string { return safeNext(next) }

// UserMessage returns err's message when it is written for a user — a
// sentence starting with a capital letter and ending with a full stop — as
// opposed to an internal failure, which is logged and not shown.
func UserMessage(err error) (string, bool) { return userMessage(err) }
