package web

import (
	"net/http"

	"github.com/cohort-clinical/cohort/internal/setting"
)

func settingScope(r *http.Request) (setting.Scope, bool) {
	switch sc := setting.Scope(r.PathValue("scope")); sc {
	case setting.General, setting.System:
		return sc, true
	}
	return "", false
}

func (s *Server) settingsPageFor(r *http.Request, scope setting.Scope) *page {
	v := visitOf(r).settings
	title := "General settings"
	if scope == setting.System {
		title = "System settings"
	}
	p := s.newPage(r, title, map[string]any{"Scope": string(scope), "Definitions": setting.InScope(scope), "Fingerprint": v.Fingerprint(scope)})
	if r.Method == http.MethodGet {
		p.Form = map[string][]string{}
		for _, d := range setting.InScope(scope) {
			if d.Kind != setting.Secret {
				p.Form.Set(d.Key, v.Get(d.Key))
			}
		}
	}
	return p
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	scope, ok := settingScope(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	p := s.settingsPageFor(r, scope)
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "The settings were saved."
	}
	s.render(w, r, http.StatusOK, "settings.html", p)
}

func (s *Server) settingsSave(w http.ResponseWriter, r *http.Request) {
	scope, ok := settingScope(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if !parseForm(w, r) {
		return
	}
	in := map[string]string{}
	for _, d := range setting.InScope(scope) {
		// An unticked checkbox sends nothing: that is "false", not "unchanged".
		if _, sent := r.PostForm[d.Key]; sent || d.Kind == setting.Boolean {
			in[d.Key] = r.PostFormValue(d.Key)
		}
	}
	err := setting.Save(r.Context(), s.DB, visitOf(r).user.Actor(), scope, r.PostFormValue("fingerprint"), in, r.PostFormValue("reason"))
	if err != nil {
		s.formProblem(w, r, "settings.html", s.settingsPageFor(r, scope), err)
		return
	}
	redirect(w, r, "/settings/"+string(scope)+"?notice=saved")
}
