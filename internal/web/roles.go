package web

import (
	"net/http"
	"strconv"

	"github.com/cohort-clinical/cohort/internal/access"
)

func (s *Server) roleMatrix(w http.ResponseWriter, r *http.Request) {
	roles, err := access.ListRoles(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Roles and permissions", map[string]any{"Roles": roles, "Catalogue": access.Catalogue})
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "The role was saved."
	}
	s.render(w, r, http.StatusOK, "roles.html", p)
}

// roleForm reads a role from a posted form; permissions are checkboxes.
func roleForm(r *http.Request) access.Role {
	perms := access.Set{}
	for _, p := range r.PostForm["permission"] {
		perms[access.Permission(p)] = true
	}
	return access.Role{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Permissions: perms}
}

func (s *Server) roleNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "role.html", s.newPage(r, "New role", map[string]any{"Catalogue": access.Catalogue, "New": true, "Role": access.Role{Permissions: access.Set{}}}))
}

func (s *Server) roleCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	role := roleForm(r)
	if err := access.CreateRole(r.Context(), s.DB, visitOf(r).user.Actor(), role); err != nil {
		s.formProblem(w, r, "role.html", s.newPage(r, "New role", map[string]any{"Catalogue": access.Catalogue, "New": true, "Role": role}), err)
		return
	}
	redirect(w, r, "/roles?notice=saved")
}

func (s *Server) roleShow(w http.ResponseWriter, r *http.Request) {
	role, err := access.GetRole(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Role", nil), err)
		return
	}
	p := s.newPage(r, "Role "+role.Name, map[string]any{"Catalogue": access.Catalogue, "Role": role})
	p.Form = map[string][]string{"name": {role.Name}, "description": {role.Description}}
	s.render(w, r, http.StatusOK, "role.html", p)
}

func (s *Server) roleUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	role := roleForm(r)
	err := access.UpdateRole(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, role, r.PostFormValue("reason"))
	if err != nil {
		cur, _ := access.GetRole(r.Context(), s.DB, code)
		role.Code, role.Version, role.UpdatedBy, role.UpdatedAt = code, cur.Version, cur.UpdatedBy, cur.UpdatedAt
		s.formProblem(w, r, "role.html", s.newPage(r, "Role "+code, map[string]any{"Catalogue": access.Catalogue, "Role": role}), err)
		return
	}
	redirect(w, r, "/roles?notice=saved")
}
