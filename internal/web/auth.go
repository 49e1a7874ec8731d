package web

import (
	"errors"
	"net/http"

	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/check"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if visitOf(r).token != "" {
		redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	p := s.newPage(r, "Log in", nil)
	p.Form = r.URL.Query()
	s.render(w, r, http.StatusOK, "login.html", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	p := s.newPage(r, "Log in", nil)
	lock := account.Lockout{Threshold: v.settings.Int("lockout.threshold"), Duration: v.settings.Minutes("lockout.minutes")}
	u, err := account.Authenticate(r.Context(), s.DB, lock, r.PostFormValue("username"), r.PostFormValue("password"))
	var locked *account.LockedError
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		p.Problem = err.Error()
		s.render(w, r, http.StatusUnauthorized, "login.html", p)
		return
	case errors.As(err, &locked):
		p.Problem = locked.Error()
		s.render(w, r, http.StatusUnauthorized, "login.html", p)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	token, _, err := account.StartSession(r.Context(), s.DB, u.ID, v.token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token)
	s.clearCookie(w, preCSRFCookie)
	if u.MustChangePassword {
		redirect(w, r, "/account/password")
		return
	}
	redirect(w, r, safeNext(r.PostFormValue("next")))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	if err := account.EndSession(r.Context(), s.DB, v.token, v.user); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearCookie(w, sessionCookie)
	redirect(w, r, "/login")
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "Change your password", nil)
	if visitOf(r).user.MustChangePassword {
		p.Notice = "Choose a new password before you continue: the one you signed in with was set by an administrator."
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
	if err := account.ChangePassword(r.Context(), s.DB, account.PolicyFrom(v.settings), v.user.ID, r.PostFormValue("current"), next); err != nil {
		s.formProblem(w, r, "password.html", p, err)
		return
	}
	redirect(w, r, "/?notice=password")
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "Home", nil)
	if r.URL.Query().Get("notice") == "password" {
		p.Notice = "Your password has been changed."
	}
	s.render(w, r, http.StatusOK, "home.html", p)
}
