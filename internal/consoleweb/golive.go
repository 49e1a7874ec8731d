package consoleweb

import (
	"net/http"
	"net/url"

	"github.com/cohort-clinical/cohort/internal/console"
)

// goLivePage is the go-live checklist page's data.
type goLivePage struct {
	Checklist console.Checklist
	// ValidationMeaning and GoLiveMeaning are shown beside their forms, so
	// the signer reads what the signature means before signing.
	ValidationMeaning string
	GoLiveMeaning     string
}

func (s *Server) goLiveData(r *http.Request) (goLivePage, error) {
	d := goLivePage{ValidationMeaning: console.ValidationMeaning, GoLiveMeaning: console.GoLiveMeaning}
	var err error
	d.Checklist, err = console.GoLiveChecklist(r.Context(), s.Console.DB, r.PathValue("org"))
	return d, err
}

func (s *Server) goLiveShow(w http.ResponseWriter, r *http.Request) {
	d, err := s.goLiveData(r)
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Go-live checklist", nil), err)
		return
	}
	p := s.newPage(r, "Go-live checklist of "+d.Checklist.Org.Name, d)
	switch r.URL.Query().Get("notice") {
	case "signed":
		p.Notice = "The step was signed off; your electronic signature is recorded."
	case "live":
		p.Notice = "PROD is live. Sandbox may now be destroyed, and VAL once validation is done."
	case "validated":
		p.Notice = "Validation is recorded as done, with your electronic signature."
	}
	s.render(w, r, http.StatusOK, "golive.html", p)
}

// signer is the signature the form carries: the user name and password
// entered again, bound to the signed-in user.
func signer(r *http.Request) console.Signer {
	return console.Signer{SessionUserID: visitOf(r).user.ID, Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
}

// afterSigning redirects to the checklist, or shows it again with what
// was wrong; the password is never sent back.
func (s *Server) afterSigning(w http.ResponseWriter, r *http.Request, notice string, err error) {
	org := r.PathValue("org")
	if err == nil {
		redirect(w, r, "/o/"+url.PathEscape(org)+"/golive?notice="+notice)
		return
	}
	d, derr := s.goLiveData(r)
	if derr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Go-live checklist", nil), derr)
		return
	}
	p := s.newPage(r, "Go-live checklist of "+d.Checklist.Org.Name, d)
	p.Form.Del("password")
	s.formProblem(w, r, "golive.html", p, err)
}

func (s *Server) goLiveSign(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	_, err := console.SignGoLiveStep(r.Context(), s.Console.DB, signer(r), r.PathValue("org"), r.PostFormValue("step"), r.PostFormValue("comment"))
	s.afterSigning(w, r, "signed", err)
}

func (s *Server) goLiveComplete(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	_, err := console.CompleteGoLive(r.Context(), s.Console.DB, signer(r), r.PathValue("org"), r.PostFormValue("comment"))
	s.afterSigning(w, r, "live", err)
}

func (s *Server) validationDone(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	_, err := console.SignValidationDone(r.Context(), s.Console.DB, signer(r), r.PathValue("org"), r.PostFormValue("comment"))
	s.afterSigning(w, r, "validated", err)
}
