// Package web is the clinical instance's HTTP face: server-rendered pages
// (html/template, htmx for partial updates), the operational endpoints
// (/healthz, /readyz, /metrics) and the middleware every request passes:
// size limit, session, CSRF, permission. Handlers are thin: they parse a
// form, call a domain package and render what it returns.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/store"
)

//go:embed static
var staticFS embed.FS

// MaxBodyBytes is the largest request body a page accepts; larger bodies
// get 413. Uploads that need more (ODM, CSV) raise it on their own routes.
const MaxBodyBytes = 1 << 20

// Build describes the running binary, shown in page footers and /metrics.
type Build struct {
	Version  string
	Number   string
	Revision string
	Time     string
	// SchemaVersion is the instance schema the build needs.
	SchemaVersion int64
}

// Options configure a Server.
type Options struct {
	DB     *store.DB
	Logger *slog.Logger
	Build  Build
	// TestInstance marks every page as a Test instance, so nobody mistakes
	// its data for real data.
	TestInstance bool
	// ReadOnly refuses every state-changing request but signing in and out
	// (see readonly.go): the Migration instance is never edited by hand.
	ReadOnly bool
	// SecureCookies sets the Secure flag; on by default behind HTTPS.
	SecureCookies bool
	// BasePath is the path prefix the instance is reached under behind the
	// lifecycle console's proxy (e.g. /i/demo-cru/demo/main), which strips
	// it; links, redirects and cookies get it added (see basepath.go).
	BasePath string
}

// Server serves one clinical instance.
type Server struct {
	Options
	mux     *http.ServeMux
	routes  []Route
	pages   *pages
	metrics *metrics
	// bundles holds configuration bundles between preview and apply.
	bundles *stash[stashedBundle]
	// odmUploads holds uploaded ODM files between the report and the apply.
	odmUploads *stash[odmUpload]
	// volunteerImports holds uploaded volunteer CSV files between upload,
	// mapping, check and import.
	volunteerImports *stash[*stashedImport]
}

// Need says who may use a route.
type Need struct {
	// Public routes need no session (login, health, static assets).
	Public bool
	// Permission, when set, must be held; when empty a signed-in user suffices.
	Permission access.Permission
	// MaxBody overrides MaxBodyBytes for upload routes.
	MaxBody int64
}

var (
	public   = Need{Public: true}
	signedIn = Need{}
)

func need(p access.Permission) Need { return Need{Permission: p} }

// Route is one registered route with the permission it declares; tests walk
// Routes to check every route against every role.
type Route struct {
	Method  string
	Path    string
	Need    Need
	handler http.HandlerFunc
}

// New builds a server with every route registered.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.BasePath = cleanBasePath(opts.BasePath)
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{Options: opts, mux: http.NewServeMux(), pages: p, metrics: newMetrics(),
		bundles: newStash[stashedBundle](30*time.Minute, 8), odmUploads: newStash[odmUpload](30*time.Minute, 4),
		volunteerImports: newStash[*stashedImport](importTTL, importSlots)}
	s.registerRoutes()
	return s, nil
}

// Routes returns every registered route.
func (s *Server) Routes() []Route { return s.routes }

// handle registers a route; every route must say what it needs, so a route
// cannot be added without a permission decision.
func (s *Server) handle(method, path string, n Need, h http.HandlerFunc) {
	if !n.Public && n.Permission != "" && !access.Known(n.Permission) {
		panic(fmt.Sprintf("route %s %s needs unknown permission %q", method, path, n.Permission))
	}
	s.routes = append(s.routes, Route{Method: method, Path: path, Need: n, handler: h})
	s.mux.Handle(method+" "+path, s.guard(n, s.readOnly(method, path, h)))
}

func (s *Server) registerRoutes() {
	static, _ := fs.Sub(staticFS, "static")
	s.handle("GET", "/static/", public, http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))).ServeHTTP)
	s.handle("GET", "/healthz", public, s.healthz)
	s.handle("GET", "/readyz", public, s.readyz)
	s.handle("GET", "/metrics", public, s.serveMetrics)

	s.handle("GET", "/login", public, s.loginPage)
	s.handle("POST", "/login", public, s.login)
	s.handle("POST", "/logout", signedIn, s.logout)
	s.handle("GET", "/account/password", signedIn, s.passwordPage)
	s.handle("POST", "/account/password", signedIn, s.changePassword)
	s.handle("GET", "/{$}", signedIn, s.home)

	s.handle("GET", "/sites", need(access.SiteView), s.siteList)
	s.handle("GET", "/sites/new", need(access.SiteManage), s.siteNew)
	s.handle("POST", "/sites", need(access.SiteManage), s.siteCreate)
	s.handle("GET", "/sites/{code}", need(access.SiteView), s.siteShow)
	s.handle("POST", "/sites/{code}", need(access.SiteManage), s.siteUpdate)
	s.handle("POST", "/sites/{code}/archive", need(access.SiteManage), s.siteArchive)

	s.handle("GET", "/users", need(access.UserView), s.userList)
	s.handle("GET", "/users/new", need(access.UserManage), s.userNew)
	s.handle("POST", "/users", need(access.UserManage), s.userCreate)
	s.handle("GET", "/users/{id}", need(access.UserView), s.userShow)
	s.handle("POST", "/users/{id}", need(access.UserManage), s.userUpdate)
	s.handle("POST", "/users/{id}/active", need(access.UserManage), s.userSetActive)
	s.handle("POST", "/users/{id}/password", need(access.UserManage), s.userResetPassword)
	s.handle("POST", "/users/{id}/grants", need(access.UserManage), s.userGrant)
	s.handle("POST", "/users/{id}/grants/revoke", need(access.UserManage), s.userRevoke)

	s.handle("GET", "/roles", need(access.RoleView), s.roleMatrix)
	s.handle("GET", "/roles/new", need(access.RoleManage), s.roleNew)
	s.handle("POST", "/roles", need(access.RoleManage), s.roleCreate)
	s.handle("GET", "/roles/{code}", need(access.RoleView), s.roleShow)
	s.handle("POST", "/roles/{code}", need(access.RoleManage), s.roleUpdate)

	s.handle("GET", "/settings/{scope}", need(access.SettingsView), s.settingsPage)
	s.handle("POST", "/settings/{scope}", need(access.SettingsManage), s.settingsSave)

	s.handle("GET", "/audit", need(access.AuditView), s.auditPage)
	s.handle("GET", "/audit/export.csv", need(access.AuditExport), s.auditExport)

	s.registerLabelRoutes()
	s.registerConfigRoutes()
	s.registerBundleRoutes()
	s.registerDictionaryRoutes()
	s.registerLabRoutes()
	s.registerStudyRoutes()
	s.registerLibraryEditRoutes()
	s.registerStudyDesignRoutes()
	s.registerVolunteerRoutes()
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP runs the outer middleware: security headers, body limit,
// metrics, logging and panic recovery, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200, base: s.BasePath}
	h := rec.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("panic serving request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				http.Error(rec, "Something went wrong on the server. The problem has been logged.", http.StatusInternalServerError)
			}
		}
		_, pattern := s.mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(pattern, rec.status, d)
		s.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", float64(d.Microseconds())/1000)
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	base   string
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
		prefixHeaders(r.base, r.Header())
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// parseForm parses the body and turns an oversize body into 413.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The request is too large.", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "The form could not be read: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.DB.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "database unreachable: %v\n", err)
		return
	}
	cur, want, err := s.DB.SchemaVersion(ctx)
	if err != nil || cur != want {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "schema at version %d, this build expects %d (%v)\n", cur, want, err)
		return
	}
	fmt.Fprintf(w, "ready: schema version %d\n", cur)
}
