package consoleweb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/web"
)

// The console's cookies have names of their own: instances behind the
// proxy share the host, and the proxy strips every cohort_console cookie
// before a request reaches an instance.
const (
	sessionCookie = "cohort_console_session"
	preCSRFCookie = "cohort_console_login_csrf"
	cookiePrefix  = "cohort_console"
)

// maxBody is the largest form the console accepts.
const maxBody = 1 << 20

type visit struct {
	user     account.User
	token    string
	auth     access.Authority
	settings setting.Values
	csrf     string
}

type visitKey struct{}

func visitOf(r *http.Request) *visit {
	if v, ok := r.Context().Value(visitKey{}).(*visit); ok {
		return v
	}
	return &visit{}
}

func isProxied(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/i/") }

// guard wraps a console route with the body limit, the console session,
// the password-change gate, the CSRF check and the permission check — the
// same rules as an instance's, against the console's own users.
func (s *Server) guard(n Need, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxBody)
		if n.MaxBody > 0 {
			limit = n.MaxBody
		}
		if r.ContentLength > limit {
			http.Error(w, "The request is too large.", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ctx := r.Context()
		db := s.Console.DB
		settings, err := setting.Load(ctx, db)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := &visit{settings: settings}
		if c, err := r.Cookie(sessionCookie); err == nil {
			sess, u, err := account.LookupSession(ctx, db, c.Value, account.Timeouts{
				Idle: settings.Minutes("session.idle_minutes"), Absolute: settings.Minutes("session.absolute_hours") * 60})
			if err == nil {
				v.user, v.token, v.csrf = u, c.Value, sess.CSRFToken
				if v.auth, err = access.AuthorityOf(ctx, db, u.ID); err != nil {
					s.fail(w, r, err)
					return
				}
			} else {
				s.setCookie(w, sessionCookie, "", -1, http.SameSiteLaxMode)
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
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !web.ValidCSRF(r, v.csrf) {
			http.Error(w, "This form has expired or did not come from the cohort console. Go back, reload the page and try again.", http.StatusForbidden)
			return
		}
		if v.token != "" && v.user.MustChangePassword && !n.Public && r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
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

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int, same http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.SecureCookies, SameSite: same})
}

func (s *Server) preLoginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(w, preCSRFCookie, tok, 0, http.SameSiteStrictMode)
	return tok
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		if u, err := url.Parse(r.Header.Get("Referer")); err == nil {
			next = u.RequestURI()
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
