package web

import (
	"net/http"
	"slices"
)

// readOnlyAllowed are the state-changing requests a read-only instance
// still takes: signing in and out and changing one's own password (which
// the first login demands) change no clinical or configuration data.
var readOnlyAllowed = []string{"POST /login", "POST /logout", "POST /account/password"}

// readOnly refuses state-changing requests when the instance is read-only
// (Options.ReadOnly), with a page saying why; reads pass.
func (s *Server) readOnly(method, path string, h http.HandlerFunc) http.HandlerFunc {
	if method == "GET" || method == "HEAD" || method == "" || slices.Contains(readOnlyAllowed, method+" "+path) {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.ReadOnly {
			h(w, r)
			return
		}
		p := s.newPage(r, "Read-only instance", nil)
		p.Problem = "This instance is read-only: it is rebuilt from scratch by every migration run, so changes made here would be lost. " +
			"Change the Migration Specification or the legacy source and run the migration again."
		s.render(w, r, http.StatusForbidden, "message.html", p)
	}
}

// ReadOnly reports whether the page belongs to a read-only instance, for
// the banner every page shows.
func (p *page) ReadOnly() bool { return p.server.ReadOnly }
