package consoletest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// InstanceUser is a logged-in user's browser on an instance, reached
// through a console's proxy at Base (…/i/org/env/role).
type InstanceUser struct {
	Base   string
	Client *http.Client
	// CSRF is the token the instance's forms carry.
	CSRF string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newInstanceUser(base string) *InstanceUser {
	jar, _ := cookiejar.New(nil)
	return &InstanceUser{Base: base, Client: &http.Client{Jar: jar, Timeout: 3 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// At is the same user, with the same session, reaching the instance at
// another address (another console's proxy).
func (u *InstanceUser) At(base string) *InstanceUser {
	return &InstanceUser{Base: base, Client: u.Client, CSRF: u.CSRF}
}

// Page gets a page that must answer 200 and returns it.
func (u *InstanceUser) Page(path string) (string, error) {
	resp, err := u.Client.Get(u.Base + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	return string(body), nil
}

// csrfOn gets a page and returns its form's CSRF token.
func (u *InstanceUser) csrfOn(path string) (string, error) {
	page, err := u.Page(path)
	if err != nil {
		return "", err
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("GET %s: no CSRF field on the page", path)
	}
	return m[1], nil
}

// Post submits a form as the browser does and returns the status and
// where it redirects.
func (u *InstanceUser) Post(path string, form url.Values) (int, string, error) {
	req, err := http.NewRequest("POST", u.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if pu, err := url.Parse(u.Base); err == nil {
		req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	}
	resp, err := u.Client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// LogIn logs name in at the instance at base.
func LogIn(base, name, password string) (*InstanceUser, error) {
	u := newInstanceUser(base)
	csrf, err := u.csrfOn("/login")
	if err != nil {
		return nil, err
	}
	if code, loc, err := u.Post("/login", url.Values{"username": {name}, "password": {password}, "csrf": {csrf}}); err != nil || code != http.StatusSeeOther {
		return nil, fmt.Errorf("log in as %s: %d %s %v", name, code, loc, err)
	}
	if u.CSRF, err = u.csrfOn("/sites/new"); err != nil {
		return nil, err
	}
	return u, nil
}

// FirstLogIn logs the new instance's administrator in with the one-time
// password from its provisioning log and sets password in its place.
func FirstLogIn(base, oneTime, password string) (*InstanceUser, error) {
	u := newInstanceUser(base)
	csrf, err := u.csrfOn("/login")
	if err != nil {
		return nil, err
	}
	if code, loc, err := u.Post("/login", url.Values{"username": {"admin"}, "password": {oneTime}, "csrf": {csrf}}); err != nil || code != http.StatusSeeOther {
		return nil, fmt.Errorf("log in with the one-time password: %d %s %v", code, loc, err)
	}
	if csrf, err = u.csrfOn("/account/password"); err != nil {
		return nil, err
	}
	if code, loc, err := u.Post("/account/password", url.Values{"csrf": {csrf}, "current": {oneTime}, "new": {password}, "confirm": {password}}); err != nil || code != http.StatusSeeOther {
		return nil, fmt.Errorf("change the one-time password: %d %s %v", code, loc, err)
	}
	if u.CSRF, err = u.csrfOn("/sites/new"); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateSite saves a site and reports whether the instance acknowledged
// it (303 back to the list).
func (u *InstanceUser) CreateSite(code string) error {
	status, loc, err := u.Post("/sites", url.Values{"csrf": {u.CSRF}, "code": {code}, "name": {"Site " + code},
		"address": {"1 Upgrade Street"}, "time_zone": {"Europe/Amsterdam"}})
	if err != nil {
		return err
	}
	if status != http.StatusSeeOther || !strings.Contains(loc, "notice=created") {
		return fmt.Errorf("site %s: answered %d %s", code, status, loc)
	}
	return nil
}

// Load keeps saving sites, one client per user given, until stopped, and
// remembers which were acknowledged (with how long each took) and which
// failed.
type Load struct {
	mu        sync.Mutex
	acked     []string
	failed    []string
	latencies []time.Duration
	quit      chan struct{}
	wg        sync.WaitGroup
	stopped   bool
}

// StartLoad starts a client per user (a user given twice runs two
// clients on one session); site codes are prefix, client number, count.
func StartLoad(users []*InstanceUser, prefix string) *Load {
	l := &Load{quit: make(chan struct{})}
	for w, u := range users {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.quit:
					return
				default:
				}
				code := fmt.Sprintf("%s%d-%d", prefix, w, i)
				start := time.Now()
				err := u.CreateSite(code)
				l.mu.Lock()
				if err != nil {
					l.failed = append(l.failed, err.Error())
				} else {
					l.acked = append(l.acked, code)
					l.latencies = append(l.latencies, time.Since(start))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// Count is how many requests the load has made so far.
func (l *Load) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked) + len(l.failed)
}

// P50 is the median latency of the acknowledged requests so far.
func (l *Load) P50() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return P50(l.latencies)
}

// Stop stops the load after it has made at least more requests (or a
// minute has passed) and returns the acknowledged site codes and the
// failures.
func (l *Load) Stop(more int) (acked, failed []string) {
	target := l.Count() + more
	deadline := time.Now().Add(time.Minute)
	for l.Count() < target && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.quit)
	}
	l.mu.Unlock()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked), slices.Clone(l.failed)
}

// P50 is the median of d (0 for none).
func P50(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
