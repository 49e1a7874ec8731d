// Package consoleweb is the lifecycle console's HTTP face: its own pages
// (organisations, timelines, environments, instances with their progress
// and logs, the rules table, the console's audit trail), its own sign-in,
// and the reverse proxy that serves every instance under
// /i/{organisation}/{environment}/{role}/. It reuses internal/web's
// stylesheet, scripts and CSRF check; its pages call internal/console and
// never touch an instance except through the proxy.
package consoleweb

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/web"
)

//go:embed templates
var templateFS embed.FS

// Options configure a console Server.
type Options struct {
	Console *console.Console
	// Proxy serves the instances; New makes one when nil.
	Proxy         *Proxy
	Logger        *slog.Logger
	Build         web.Build
	SecureCookies bool
}

// Server serves the console.
type Server struct {
	Options
	mux    *http.ServeMux
	routes []Route
	pages  *pages
}

// Need says who may use a route.
type Need struct {
	// Public routes need no console session: sign-in, health, static
	// assets, and the proxy (instances sign their own users in).
	Public bool
	// Permission, when set, must be held; when empty a signed-in user
	// suffices.
	Permission access.Permission
	// MaxBody, when set, raises the request body limit (an uploaded build).
	MaxBody int64
}

var (
	public   = Need{Public: true}
	signedIn = Need{}
)

func need(p access.Permission) Need { return Need{Permission: p} }

// Route is one registered route and what it needs; tests walk Routes to
// check every route against every console role.
type Route struct {
	Method string
	Path   string
	Need   Need
}

// New builds the console's server.
func New(o Options) (*Server, error) {
	if o.Console == nil || o.Console.DB == nil {
		return nil, fmt.Errorf("the console web server needs a console with its database")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Proxy == nil {
		o.Proxy = NewProxy(o.Console, o.Logger)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{Options: o, mux: http.NewServeMux(), pages: p}
	s.registerRoutes()
	return s, nil
}

// Routes returns every registered route.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) handle(method, path string, n Need, h http.HandlerFunc) {
	if !n.Public && n.Permission != "" && !access.Known(n.Permission) {
		panic(fmt.Sprintf("route %s %s needs unknown permission %q", method, path, n.Permission))
	}
	s.routes = append(s.routes, Route{Method: method, Path: path, Need: n})
	pattern := path
	if method != "" {
		pattern = method + " " + path
	}
	s.mux.Handle(pattern, s.guard(n, h))
}

func (s *Server) registerRoutes() {
	s.handle("GET", "/static/", public, http.StripPrefix("/static/", web.StaticHandler()).ServeHTTP)
	s.handle("GET", "/healthz", public, s.healthz)
	s.handle("GET", "/readyz", public, s.readyz)
	// Every method, every path below /i/: the instance decides.
	s.mux.Handle("/i/", s.Proxy)
	s.routes = append(s.routes, Route{Method: "", Path: "/i/", Need: public})

	s.handle("GET", "/login", public, s.loginPage)
	s.handle("POST", "/login", public, s.login)
	s.handle("POST", "/logout", signedIn, s.logout)
	s.handle("GET", "/account/password", signedIn, s.passwordPage)
	s.handle("POST", "/account/password", signedIn, s.changePassword)

	s.handle("GET", "/{$}", need(access.ConsoleView), s.organisationList)
	s.handle("GET", "/rules", need(access.ConsoleView), s.rulesPage)
	s.handle("GET", "/organisations/new", need(access.ConsoleManage), s.organisationNew)
	s.handle("POST", "/organisations", need(access.ConsoleManage), s.organisationCreate)
	s.handle("GET", "/o/{org}", need(access.ConsoleView), s.organisationShow)
	s.handle("POST", "/o/{org}/timeline", need(access.ConsoleManage), s.timelinePlan)
	s.handle("GET", "/o/{org}/new", need(access.ConsoleManage), s.environmentNew)
	s.handle("POST", "/o/{org}/environments", need(access.ConsoleManage), s.environmentCreate)
	s.handle("POST", "/o/{org}/{env}/destroy", need(access.ConsoleManage), s.environmentDestroy)
	s.handle("GET", "/o/{org}/{env}/{role}", need(access.ConsoleView), s.instanceShow)
	s.handle("GET", "/o/{org}/{env}/{role}/status", need(access.ConsoleView), s.instanceStatus)
	s.handle("GET", "/o/{org}/{env}/{role}/log", need(access.ConsoleView), s.instanceLog)
	s.handle("POST", "/o/{org}/{env}/{role}/start", need(access.ConsoleManage), s.instanceAction(console.OpStart))
	s.handle("POST", "/o/{org}/{env}/{role}/stop", need(access.ConsoleManage), s.instanceAction(console.OpStop))
	s.handle("POST", "/o/{org}/{env}/{role}/destroy", need(access.ConsoleManage), s.instanceAction(console.OpDestroy))
	s.handle("POST", "/o/{org}/{env}/{role}/retry", need(access.ConsoleManage), s.instanceRetry)

	s.handle("GET", "/o/{org}/promote", need(access.ConsoleView), s.promoteShow)
	s.handle("POST", "/o/{org}/promote", need(access.ConsoleManage), s.promoteApply)
	s.handle("GET", "/o/{org}/pair", need(access.ConsoleManage), s.pairNew)
	s.handle("POST", "/o/{org}/pair", need(access.ConsoleManage), s.pairCreate)
	s.handle("GET", "/o/{org}/migration-runs", need(access.ConsoleView), s.migrationRuns)
	s.handle("POST", "/o/{org}/migration-runs", need(access.ConsoleManage), s.migrationStart)
	s.handle("GET", "/o/{org}/migration-runs/compare", need(access.ConsoleView), s.migrationCompare)
	s.handle("GET", "/o/{org}/migration-runs/{run}", need(access.ConsoleView), s.migrationRun)
	s.handle("POST", "/o/{org}/migration-runs/{run}/signoff", need(access.ConsoleManage), s.migrationSignOff)
	s.handle("GET", "/o/{org}/golive", need(access.ConsoleView), s.goLiveShow)
	s.handle("POST", "/o/{org}/golive/sign", need(access.ConsoleManage), s.goLiveSign)
	s.handle("POST", "/o/{org}/golive/complete", need(access.ConsoleManage), s.goLiveComplete)
	s.handle("POST", "/o/{org}/golive/validation", need(access.ConsoleManage), s.validationDone)

	s.handle("GET", "/audit", need(access.AuditView), s.auditPage)
	s.registerReleaseRoutes()
	s.registerUpgradeRoutes()
	s.registerIQRoutes()
}

// ServeHTTP adds the console's security headers, logs, and recovers from
// panics; proxied instance responses keep the instance's own headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	if !isProxied(r) {
		h := rec.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	}
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("panic serving request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				http.Error(rec, "Something went wrong on the server. The problem has been logged.", http.StatusInternalServerError)
			}
		}
		s.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", float64(time.Since(start).Microseconds())/1000)
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the status for the request log.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records that the response has begun.
func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (and the proxy's flushing) reach the
// underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	db := s.Console.DB
	if err := db.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "console database unreachable: %v\n", err)
		return
	}
	cur, want, err := console.SchemaVersion(ctx, db)
	if err != nil || cur != want {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "console schema at version %d, this build expects %d (%v)\n", cur, want, err)
		return
	}
	fmt.Fprintf(w, "ready: console schema version %d\n", cur)
}
