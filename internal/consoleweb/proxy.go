package consoleweb

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/console"
)

// Proxy serves every instance under /i/{organisation}/{environment}/{role}/
// by forwarding to its loopback process with the prefix stripped (the
// instance, started with --base-path, puts it back into its links,
// redirects and cookie paths). The browser's Host is passed on, so the
// instance's same-origin CSRF check sees the address the browser used, and
// the console's own cookies never reach an instance.
//
// Each instance has a gate: Hold makes new requests wait — they are not
// refused — while requests in flight finish, so a process can be switched
// (a PostgreSQL copy, an upgrade) without a user seeing an error. It also
// remembers which requests failed (Failures), so an upgrade records what
// it cost. Proxy implements console.Gate and console.FailureMeter.
type Proxy struct {
	console *console.Console
	logger  *slog.Logger
	rp      *httputil.ReverseProxy
	// HoldLimit is how long a request waits at a held gate before it gets
	// 503 (two minutes).
	HoldLimit time.Duration

	mu    sync.Mutex
	gates map[string]*gate

	failMu   sync.Mutex
	failures map[string][]time.Time // per instance, arrival times of failed requests, oldest first
}

var (
	_ console.Gate         = (*Proxy)(nil)
	_ console.FailureMeter = (*Proxy)(nil)
)

type target struct {
	addr, base, rest, rawRest string
	key                       string
	arrived                   time.Time
}

// failureMemory bounds how many failed requests per instance the proxy
// remembers for Failures.
const failureMemory = 4096

// failed remembers that a request to the instance, arrived at arrived,
// failed.
func (p *Proxy) failed(key string, arrived time.Time) {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	if p.failures == nil {
		p.failures = map[string][]time.Time{}
	}
	list := append(p.failures[key], arrived)
	if len(list) > failureMemory {
		list = list[len(list)-failureMemory:]
	}
	p.failures[key] = list
}

// Failures counts the requests to the instance that arrived between from
// and to and failed: refused at a held gate, answered by the proxy because
// the instance was not serving or did not answer, or answered 5xx by the
// instance. An upgrade records it; a request the browser gave up on is not
// counted.
func (p *Proxy) Failures(key string, from, to time.Time) int {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	n := 0
	for _, at := range p.failures[key] {
		if !at.Before(from) && !at.After(to) {
			n++
		}
	}
	return n
}

type targetKey struct{}

// NewProxy returns the proxy of a console; it finds instances through the
// console's runtime and explains unavailable ones from its registry.
func NewProxy(c *console.Console, logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.Default()
	}
	p := &Proxy{console: c, logger: logger, HoldLimit: 2 * time.Minute, gates: map[string]*gate{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = t.rest, t.rawRest
			pr.SetURL(&url.URL{Scheme: "http", Host: t.addr})
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Prefix", t.base)
			pr.Out.Header.Del("Cookie")
			for _, c := range pr.In.Cookies() {
				if !strings.HasPrefix(c.Name, cookiePrefix) {
					pr.Out.AddCookie(c)
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode >= 500 {
				if t, ok := resp.Request.Context().Value(targetKey{}).(target); ok {
					p.failed(t.key, t.arrived)
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			if t, ok := r.Context().Value(targetKey{}).(target); ok {
				p.failed(t.key, t.arrived)
			}
			p.logger.Warn("instance did not answer", "path", r.URL.Path, "err", err)
			unavailable(w, http.StatusBadGateway, "The instance did not answer. It may be restarting; try again in a moment.")
		},
	}
	return p
}

// ServeHTTP forwards a request below /i/ to its instance.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/i/")
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || (parts[2] != string(console.Main) && parts[2] != string(console.Test)) {
		unavailable(w, http.StatusNotFound, "There is no instance at this address. Instances are at /i/organisation/environment/main or /test.")
		return
	}
	key := console.InstanceKey(parts[0], parts[1], console.Role(parts[2]))
	base := console.BasePathOf(key)
	if len(parts) == 3 {
		u := *r.URL
		u.Path = base + "/"
		u.RawPath = ""
		http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
		return
	}
	t := target{base: base, rest: "/" + parts[3], key: key, arrived: time.Now()}
	if r.URL.RawPath != "" {
		t.rawRest = strings.TrimPrefix(r.URL.RawPath, base)
	}
	g := p.gate(key)
	wait, cancel := context.WithTimeout(r.Context(), p.HoldLimit)
	err := g.enter(wait)
	cancel()
	if err != nil {
		if r.Context().Err() == nil {
			p.failed(key, t.arrived)
		}
		unavailable(w, http.StatusServiceUnavailable, "The instance is being switched over and did not come back in time. Try again in a moment.")
		return
	}
	defer g.leave()
	if p.console.Runtime == nil {
		unavailable(w, http.StatusServiceUnavailable, "This console does not run instances.")
		return
	}
	st := p.console.Runtime.Status(key)
	if st.Process != console.Up {
		p.failed(key, t.arrived)
		p.explain(w, r, key, st)
		return
	}
	t.addr = st.Addr
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
}

// explain answers for an instance that is not serving, saying why.
func (p *Proxy) explain(w http.ResponseWriter, r *http.Request, key string, st console.Status) {
	inst, err := console.GetInstance(r.Context(), p.console.DB, key)
	switch {
	case errors.Is(err, check.ErrNotFound):
		unavailable(w, http.StatusNotFound, fmt.Sprintf("There is no instance %s.", key))
	case err != nil:
		p.logger.Error("look up instance", "instance", key, "err", err)
		unavailable(w, http.StatusInternalServerError, "Something went wrong on the server. The problem has been logged.")
	case inst.State == console.Running && (st.Process == console.Starting || st.Process == console.Restarting):
		w.Header().Set("Retry-After", "2")
		unavailable(w, http.StatusServiceUnavailable, fmt.Sprintf("%s is starting. Try again in a moment.", key))
	default:
		unavailable(w, http.StatusServiceUnavailable, fmt.Sprintf("%s is %s, so it is not serving.", key, inst.State))
	}
}

var unavailablePage = template.Must(template.New("unavailable").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not available</title><link rel="stylesheet" href="/static/cohort.css"></head>
<body><main><p class="problem" role="alert">{{.}}</p><p><a href="/">Back to the console</a></p></main></body></html>`))

func unavailable(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	unavailablePage.Execute(w, msg)
}

func (p *Proxy) gate(key string) *gate {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gates[key]
	if g == nil {
		g = &gate{}
		p.gates[key] = g
	}
	return g
}

// Hold makes new requests for the instance wait and returns once those in
// flight have finished.
func (p *Proxy) Hold(ctx context.Context, key string) (func(), error) { return p.gate(key).hold(ctx) }

// gate counts an instance's requests in flight and, while held, keeps new
// ones waiting.
type gate struct {
	mu       sync.Mutex
	inflight int
	held     chan struct{} // non-nil while held; closed on release
	drained  chan struct{} // closed when inflight reaches zero during a hold
}

func (g *gate) enter(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.held == nil {
			g.inflight++
			g.mu.Unlock()
			return nil
		}
		held := g.held
		g.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	if g.inflight == 0 && g.drained != nil {
		close(g.drained)
		g.drained = nil
	}
}

func (g *gate) hold(ctx context.Context) (func(), error) {
	for {
		g.mu.Lock()
		if g.held == nil {
			break
		}
		// Someone else holds it: wait for their release first.
		held := g.held
		g.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	held := make(chan struct{})
	g.held = held
	var drained chan struct{}
	if g.inflight > 0 {
		drained = make(chan struct{})
		g.drained = drained
	}
	g.mu.Unlock()
	release := sync.OnceFunc(func() {
		g.mu.Lock()
		if g.held == held {
			g.held = nil
		}
		g.drained = nil
		g.mu.Unlock()
		close(held)
	})
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}
