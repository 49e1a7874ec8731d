package web

import (
	"net/http"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/account"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/site"
	"github.com/cohort-clinical/cohort/internal/store"
)

func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	users, err := account.List(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Users", users)
	if r.URL.Query().Get("notice") == "created" {
		p.Notice = "The account was created. Give the user their one-time password; they must change it when they first log in."
	}
	s.render(w, r, http.StatusOK, "users.html", p)
}

// userChoices is what the user forms offer: roles and active sites.
func (s *Server) userChoices(r *http.Request) (map[string]any, error) {
	roles, err := access.ListRoles(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	sites, err := site.List(r.Context(), s.DB, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Roles": roles, "Sites": sites}, nil
}

func (s *Server) userNew(w http.ResponseWriter, r *http.Request) {
	data, err := s.userChoices(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "New user", data)
	p.Form = map[string][]string{"password": {account.GeneratePassword()}}
	s.render(w, r, http.StatusOK, "user_form.html", p)
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	n := account.NewUser{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password"), MustChange: true}
	if role := r.PostFormValue("role"); role != "" {
		siteID, _ := strconv.ParseInt(r.PostFormValue("site"), 10, 64)
		n.Grants = []access.Grant{{RoleCode: role, SiteID: siteID}}
	}
	if _, err := account.Create(r.Context(), s.DB, v.user.Actor(), account.PolicyFrom(v.settings), n); err != nil {
		data, _ := s.userChoices(r)
		s.formProblem(w, r, "user_form.html", s.newPage(r, "New user", data), err)
		return
	}
	redirect(w, r, "/users?notice=created")
}

func (s *Server) userPage(r *http.Request) (*page, account.User, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, account.User{}, check.ErrNotFound
	}
	u, err := account.Get(r.Context(), s.DB, id)
	if err != nil {
		return nil, u, err
	}
	data, err := s.userChoices(r)
	if err != nil {
		return nil, u, err
	}
	grants, err := access.GrantsOf(r.Context(), s.DB, id)
	if err != nil {
		return nil, u, err
	}
	allSites, err := site.List(r.Context(), s.DB, true)
	if err != nil {
		return nil, u, err
	}
	siteCode := map[int64]string{access.Everywhere: "everywhere"}
	for _, st := range allSites {
		siteCode[st.ID] = st.Code
	}
	data["User"], data["Grants"], data["SiteCode"] = u, grants, siteCode
	p := s.newPage(r, "User "+u.Username, data)
	if r.Method == http.MethodGet {
		p.Form = map[string][]string{"display_name": {u.DisplayName}, "email": {u.Email}}
	}
	return p, u, nil
}

func (s *Server) userShow(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.userPage(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "User", nil), err)
		return
	}
	switch r.URL.Query().Get("notice") {
	case "saved":
		p.Notice = "Your changes were saved."
	case "reset":
		p.Notice = "The password was reset. The user must choose a new one at their next login."
	}
	s.render(w, r, http.StatusOK, "user.html", p)
}

// userAction runs one change on a user and re-renders the user page with
// any problem, or redirects back to it.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, notice string, act func(u account.User) error) {
	if !parseForm(w, r) {
		return
	}
	p, u, err := s.userPage(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "User", nil), err)
		return
	}
	if err := act(u); err != nil {
		s.formProblem(w, r, "user.html", p, err)
		return
	}
	redirect(w, r, "/users/"+strconv.FormatInt(u.ID, 10)+"?notice="+notice)
}

func (s *Server) userUpdate(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "saved", func(u account.User) error {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		return account.Update(r.Context(), s.DB, visitOf(r).user.Actor(), u.ID, version, r.PostFormValue("display_name"), r.PostFormValue("email"), r.PostFormValue("reason"))
	})
}

func (s *Server) userSetActive(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "saved", func(u account.User) error {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		return account.SetActive(r.Context(), s.DB, visitOf(r).user.Actor(), u.ID, version, r.PostFormValue("active") == "true", r.PostFormValue("reason"))
	})
}

func (s *Server) userResetPassword(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "reset", func(u account.User) error {
		v := visitOf(r)
		return account.ResetPassword(r.Context(), s.DB, v.user.Actor(), account.PolicyFrom(v.settings), u.ID, r.PostFormValue("password"), r.PostFormValue("reason"))
	})
}

func (s *Server) userGrant(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "saved", func(u account.User) error {
		siteID, _ := strconv.ParseInt(r.PostFormValue("site"), 10, 64)
		reason := r.PostFormValue("reason")
		if reason == "" {
			return check.FieldErrors{"reason": "Say why you are granting this role."}
		}
		return s.DB.InTx(r.Context(), func(tx *store.Tx) error {
			return access.GrantRole(r.Context(), tx, visitOf(r).user.Actor(), u.ID, r.PostFormValue("role"), siteID, reason)
		})
	})
}

func (s *Server) userRevoke(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "saved", func(u account.User) error {
		siteID, _ := strconv.ParseInt(r.PostFormValue("site"), 10, 64)
		return access.RevokeRole(r.Context(), s.DB, visitOf(r).user.Actor(), u.ID, r.PostFormValue("role"), siteID, r.PostFormValue("reason"))
	})
}
