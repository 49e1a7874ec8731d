package consoleweb

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/web"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if visitOf(r).token != "" {
		redirect(w, r, web.SafeNext(r.URL.Query().Get("next")))
		return
	}
	p := s.newPage(r, "Log in to the console", nil)
	p.Form = r.URL.Query()
	s.render(w, r, http.StatusOK, "login.html", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	p := s.newPage(r, "Log in to the console", nil)
	lock := account.Lockout{Threshold: v.settings.Int("lockout.threshold"), Duration: v.settings.Minutes("lockout.minutes")}
	u, err := account.Authenticate(r.Context(), s.Console.DB, lock, r.PostFormValue("username"), r.PostFormValue("password"))
	var locked *account.LockedError
	switch {
	case errors.Is(err, account.ErrBadCredentials), errors.As(err, &locked):
		p.Problem = err.Error()
		s.render(w, r, http.StatusUnauthorized, "login.html", p)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	token, _, err := account.StartSession(r.Context(), s.Console.DB, u.ID, v.token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, token, 0, http.SameSiteLaxMode)
	s.setCookie(w, preCSRFCookie, "", -1, http.SameSiteStrictMode)
	if u.MustChangePassword {
		redirect(w, r, "/account/password")
		return
	}
	redirect(w, r, web.SafeNext(r.PostFormValue("next")))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	if err := account.EndSession(r.Context(), s.Console.DB, v.token, v.user); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, "", -1, http.SameSiteLaxMode)
	redirect(w, r, "/login")
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "Change your password", nil)
	if visitOf(r).user.MustChangePassword {
		p.Notice = "Choose a new password before you continue: the one you signed in with was a one-time password."
	}
	s.render(w, r, http.StatusOK, "password.html", p)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	p := s.newPage(r, "Change your password", nil)
	next := r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		s.formProblem(w, r, "password.html", p, check.FieldErrors{"confirm": "The two new passwords are not the same."})
		return
	}
	if err := account.ChangePassword(r.Context(), s.Console.DB, account.PolicyFrom(v.settings), v.user.ID, r.PostFormValue("current"), next); err != nil {
		s.formProblem(w, r, "password.html", p, err)
		return
	}
	redirect(w, r, "/?notice=password")
}

func newRequestKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
