package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/setting"
)

const (
	sessionCookie = "cohort_session"
	// preCSRFCookie carries the CSRF token of a browser that has no session
	// yet (the login form): a double-submit token.
	preCSRFCookie = "cohort_login_csrf"
)

// visit is what the guard learned about the request, kept in its context.
type visit struct {
	user     account.User
	session  account.Session
	token    string
	auth     access.Authority
	settings setting.Values
	csrf     string
}

type visitKey struct{}

func visitOf(r *http.Request) *visit {
	v, _ := r.Context().Value(visitKey{}).(*visit)
	if v == nil {
		return &visit{}
	}
	return v
}

// guard wraps a route with the size limit, the session lookup, the
// password-change gate, the CSRF check and the permission check.
func (s *Server) guard(n Need, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxBodyBytes)
		if n.MaxBody > 0 {
			limit = n.MaxBody
		}
		if r.ContentLength > limit {
			http.Error(w, "The request is too large.", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)

		ctx := r.Context()
		settings, err := setting.Load(ctx, s.DB)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := &visit{settings: settings}
		if c, err := r.Cookie(sessionCookie); err == nil {
			sess, u, err := account.LookupSession(ctx, s.DB, c.Value, account.Timeouts{
				Idle: settings.Minutes("session.idle_minutes"), Absolute: settings.Minutes("session.absolute_hours") * 60})
			if err == nil {
				v.user, v.session, v.token, v.csrf = u, sess, c.Value, sess.CSRFToken
				if v.auth, err = access.AuthorityOf(ctx, s.DB, u.ID); err != nil {
					s.fail(w, r, err)
					return
				}
			} else {
				s.clearCookie(w, sessionCookie)
			}
		}
		if v.token == "" {
			v.csrf = s.preLoginCSRF(w, r)
		}
		r = r.WithContext(context.WithValue(ctx, visitKey{}, v))

		if !n.Public && v.token == "" {
			s.toLogin(w, r)
			return
		}
		if unsafeMethod(r.Method) && !csrfOK(r, v.csrf) {
			http.Error(w, "This form has expired or did not come from cohort. Go back, reload the page and try again.", http.StatusForbidden)
			return
		}
		if v.token != "" && v.user.MustChangePassword && !n.Public &&
			r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		if n.Permission != "" && !v.auth.Can(n.Permission) {
			s.forbidden(w, r, n.Permission)
			return
		}
		h(w, r)
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// csrfOK accepts a state-changing request only with the visit's token, in
// the form or (for htmx) in a header, and, when the browser says where it
// came from, only from this same origin.
func csrfOK(r *http.Request, want string) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) preLoginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: s.cookiePath(), HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	return tok
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: s.cookiePath(), HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: s.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// toLogin sends the browser to the login page, remembering where it was
// going so it lands there after signing in.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = r.Header.Get("Referer")
		if u, err := url.Parse(next); err == nil {
			next = stripBase(s.BasePath, u.RequestURI())
		}
	}
	target := "/login"
	if next != "" && next != "/" {
		target += "?next=" + url.QueryEscape(next)
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
