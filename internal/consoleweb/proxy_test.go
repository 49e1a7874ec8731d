package consoleweb_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/console"
	"github.com/cohort-clinical/cohort/internal/console/consoletest"
	"github.com/cohort-clinical/cohort/internal/consoleweb"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/web"
)

// browser is an HTTP client that keeps cookies and shows redirects.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(method, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// demoConsole runs a console with the demo customer's Demo instance up and
// returns it with its server and the instance administrator's one-time
// password.
func demoConsole(t *testing.T, e store.Engine) (*console.Console, *httptest.Server, string) {
	t.Helper()
	c := consoletest.New(t, e, binary)
	proxy := consoleweb.NewProxy(c, nil)
	c.Gate = proxy
	consoletest.Run(t, c)
	f := newFixture(t, c)
	ops, _ := console.OperationsOf(context.Background(), c.DB, mustInstance(t, c, "demo-cru/demo/main").ID, 1)
	done := consoletest.Wait(t, c, ops[0], console.OpDone)
	m := regexp.MustCompile(`one-time password (\S+) `).FindStringSubmatch(done.Log)
	if m == nil {
		t.Fatalf("no one-time password in the provisioning log:\n%s", done.Log)
	}
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	return c, ts, m[1]
}

func mustInstance(t *testing.T, c *console.Console, key string) console.Instance {
	t.Helper()
	in, err := console.GetInstance(context.Background(), c.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestTheProxyServesARealInstanceUnderItsPrefix(t *testing.T) {
	c, ts, password := demoConsole(t, store.SQLite)
	b := newBrowser(t, ts.URL)
	const base = "/i/demo-cru/demo/main"

	if code, h, _ := b.do("GET", base, nil); code != http.StatusMovedPermanently || h.Get("Location") != base+"/" {
		t.Fatalf("the bare prefix: %d %s", code, h.Get("Location"))
	}
	if code, h, _ := b.do("GET", base+"/sites?archived=1", nil); code != http.StatusSeeOther || h.Get("Location") != base+"/login?next=%2Fsites%3Farchived%3D1" {
		t.Fatalf("signed out: %d %s", code, h.Get("Location"))
	}
	code, _, page := b.do("GET", base+"/login", nil)
	if code != 200 || !strings.Contains(page, `href="`+base+`/static/cohort.css"`) || !strings.Contains(page, "Demo Clinical Research Unit") {
		t.Fatalf("login page through the proxy: %d\n%s", code, page)
	}
	if code, h, css := b.do("GET", base+"/static/cohort.css", nil); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") || !strings.Contains(css, "--brand") {
		t.Fatalf("stylesheet through the proxy: %d %s", code, h.Get("Content-Type"))
	}
	csrf := csrfInput.FindStringSubmatch(page)[1]
	code, h, _ := b.do("POST", base+"/login", url.Values{"username": {"admin"}, "password": {password}, "next": {"/sites"}, "csrf": {csrf}})
	if code != http.StatusSeeOther || h.Get("Location") != base+"/account/password" {
		t.Fatalf("login through the proxy (one-time password): %d %s", code, h.Get("Location"))
	}
	root, _ := url.Parse(ts.URL + "/")
	inst, _ := url.Parse(ts.URL + base + "/")
	if hasCookie(b.client.Jar.Cookies(root), "cohort_session") || !hasCookie(b.client.Jar.Cookies(inst), "cohort_session") {
		t.Fatal("the instance's session cookie is not scoped to its prefix")
	}
	_, _, page = b.do("GET", base+"/account/password", nil)
	csrf = csrfInput.FindStringSubmatch(page)[1]
	code, h, _ = b.do("POST", base+"/account/password", url.Values{"csrf": {csrf}, "current": {password}, "new": {"Proxy pass 98765"}, "confirm": {"Proxy pass 98765"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), base+"/") {
		t.Fatalf("password change through the proxy: %d %s", code, h.Get("Location"))
	}
	if code, _, page = b.do("GET", base+"/sites", nil); code != 200 || !strings.Contains(page, "Amsterdam Phase I Unit") || !strings.Contains(page, `href="`+base+`/sites/AMS"`) {
		t.Fatalf("sites through the proxy: %d\n%s", code, page)
	}

	// A stopped instance says so; an unknown one is not found.
	op, err := c.Request(context.Background(), audit.System, console.OpStop, "demo-cru/demo/main", "test", "")
	if err != nil {
		t.Fatal(err)
	}
	consoletest.Wait(t, c, op, console.OpDone)
	if code, _, page := b.do("GET", base+"/sites", nil); code != http.StatusServiceUnavailable || !strings.Contains(page, "demo-cru/demo/main is stopped") {
		t.Errorf("a stopped instance: %d\n%s", code, page)
	}
	if code, _, _ := b.do("GET", "/i/nobody/demo/main/", nil); code != http.StatusNotFound {
		t.Errorf("an unknown instance: %d", code)
	}
}

func hasCookie(cs []*http.Cookie, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// upRuntime reports one instance up at a fixed address; the proxy needs
// nothing else from a runtime.
type upRuntime struct {
	console.Runtime
	addr string
}

func (r upRuntime) Status(string) console.Status {
	return console.Status{Process: console.Up, Addr: r.addr}
}

// TestTheProxyPassesWhatTheInstanceNeedsAndHoldsRequests checks, against
// a backend that shows what it receives, that the prefix is stripped, the
// browser's Host and the prefix are passed on, the console's cookies are
// not — and that a held gate makes new requests wait until released while
// requests in flight finish first.
func TestTheProxyPassesWhatTheInstanceNeedsAndHoldsRequests(t *testing.T) {
	release := make(chan struct{})
	var served atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		served.Add(1)
		cookies := []string{}
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.Name)
		}
		io.WriteString(w, "path="+r.URL.RequestURI()+" host="+r.Host+" prefix="+r.Header.Get("X-Forwarded-Prefix")+" cookies="+strings.Join(cookies, ","))
	}))
	defer backend.Close()
	c := consoletest.New(t, store.SQLite, "")
	c.Runtime = upRuntime{addr: strings.TrimPrefix(backend.URL, "http://")}
	proxy := consoleweb.NewProxy(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv, err := consoleweb.New(consoleweb.Options{Console: c, Proxy: proxy, Build: web.Build{Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	req, _ := http.NewRequest("GET", ts.URL+"/i/acme/val/test/sites/AMS?x=1", nil)
	req.AddCookie(&http.Cookie{Name: "cohort_console_session", Value: "secret"})
	req.AddCookie(&http.Cookie{Name: "cohort_session", Value: "instance"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "path=/sites/AMS?x=1 host=" + strings.TrimPrefix(ts.URL, "http://") + " prefix=/i/acme/val/test cookies=cohort_session"
	if string(body) != want {
		t.Fatalf("the instance received\n  %s\nwant\n  %s", body, want)
	}

	// One request in flight; then the gate is held.
	slow := make(chan string)
	go func() {
		r, err := http.Get(ts.URL + "/i/acme/val/test/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		slow <- string(b)
	}()
	waitUntil(t, func() bool { return inflight(proxy) })
	held := make(chan func())
	go func() {
		rel, err := proxy.Hold(context.Background(), "acme/val/test")
		if err != nil {
			t.Error(err)
		}
		held <- rel
	}()
	select {
	case <-held:
		t.Fatal("Hold returned while a request was still in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release) // the request in flight finishes …
	if got := <-slow; !strings.HasPrefix(got, "path=/slow") {
		t.Fatalf("the request in flight: %s", got)
	}
	rel := <-held // … and only then is the gate held.
	before := served.Load()
	waiting := make(chan int, 1)
	go func() {
		r, err := http.Get(ts.URL + "/i/acme/val/test/after")
		if err != nil {
			waiting <- 0
			return
		}
		r.Body.Close()
		waiting <- r.StatusCode
	}()
	select {
	case code := <-waiting:
		t.Fatalf("a request passed a held gate (%d)", code)
	case <-time.After(300 * time.Millisecond):
	}
	if served.Load() != before {
		t.Fatal("the instance was reached while held")
	}
	// Other instances are not held.
	if r, err := http.Get(ts.URL + "/i/acme/val/main/other"); err != nil || r.StatusCode != 200 {
		t.Fatalf("another instance while one is held: %v", err)
	}
	rel()
	if code := <-waiting; code != 200 {
		t.Fatalf("the held request after release: %d", code)
	}
}

// inflight reports whether the slow request has reached the backend's
// handler, by asking the proxy to hold with an expired context: it can
// only fail if a request is in flight.
func inflight(p *consoleweb.Proxy) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rel, err := p.Hold(ctx, "acme/val/test")
	if err == nil {
		rel()
		return false
	}
	return true
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTheProxyCountsFailedRequestsPerInstance checks what an upgrade
// records as failed requests: the instance's 5xx answers and the proxy's
// own errors count, for that instance and time window only; good answers,
// 4xx and other instances do not.
func TestTheProxyCountsFailedRequestsPerInstance(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boom":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/missing":
			http.NotFound(w, r)
		default:
			io.WriteString(w, "ok")
		}
	}))
	c := consoletest.New(t, store.SQLite, "")
	c.Runtime = upRuntime{addr: strings.TrimPrefix(backend.URL, "http://")}
	proxy := consoleweb.NewProxy(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(proxy)
	defer ts.Close()
	get := func(path string) int {
		r, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	from := time.Now()
	for _, p := range []string{"/i/acme/val/main/", "/i/acme/val/main/missing", "/i/acme/val/main/boom", "/i/acme/val/main/boom", "/i/acme/val/test/boom"} {
		get(p)
	}
	backend.Close() // the instance stops answering: the proxy's 502 counts too
	if code := get("/i/acme/val/main/"); code != http.StatusBadGateway {
		t.Fatalf("a dead backend: %d", code)
	}
	to := time.Now()
	if n := proxy.Failures("acme/val/main", from, to); n != 3 {
		t.Errorf("failures of acme/val/main: %d, want 3 (two 500s and one 502)", n)
	}
	if n := proxy.Failures("acme/val/test", from, to); n != 1 {
		t.Errorf("failures of acme/val/test: %d, want 1", n)
	}
	if n := proxy.Failures("acme/val/main", to.Add(time.Millisecond), time.Now().Add(time.Second)); n != 0 {
		t.Errorf("failures after the window: %d, want 0", n)
	}
}
