package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/study"
)

// MaxODMUpload is the largest ODM file the import page accepts.
const MaxODMUpload = 64 << 20

func (s *Server) registerStudyRoutes() {
	s.handle("GET", "/studies", need(access.StudyView), s.studyList)
	s.handle("GET", "/studies/new", need(access.StudyDesign), s.studyNew)
	s.handle("POST", "/studies", need(access.StudyDesign), s.studyCreate)
	s.handle("GET", "/studies/{code}", need(access.StudyView), s.studyShow)
	s.handle("POST", "/studies/{code}", need(access.StudyDesign), s.studyUpdate)
	s.handle("POST", "/studies/{code}/status", need(access.StudyDesign), s.studyStatus)
	s.handle("POST", "/studies/{code}/events", need(access.StudyDesign), s.studyAddEvent)
	s.handle("POST", "/studies/{code}/event-forms", need(access.StudyDesign), s.studyAssignForm)
	s.handle("GET", "/studies/{code}/odm.xml", need(access.ODMExchange), s.studyExport)

	s.handle("GET", "/library", need(access.StudyView), s.libraryList)
	s.handle("POST", "/library", need(access.StudyDesign), s.libraryCreate)
	s.handle("GET", "/library/{code}", need(access.StudyView), s.libraryShow)
	s.handle("POST", "/library/{code}/publish", need(access.StudyDesign), s.libraryPublish)
	s.handle("POST", "/library/{code}/draft", need(access.StudyDesign), s.libraryDraft)

	s.handle("GET", "/odm/import", need(access.ODMExchange), s.odmImportPage)
	s.handle("POST", "/odm/import", Need{Permission: access.ODMExchange, MaxBody: MaxODMUpload + 1<<20}, s.odmImportCheck)
	s.handle("POST", "/odm/import/apply", need(access.ODMExchange), s.odmImportApply)
}

func (s *Server) studyList(w http.ResponseWriter, r *http.Request) {
	list, err := study.List(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Studies", map[string]any{"Studies": list})
	if r.URL.Query().Get("notice") == "created" {
		p.Notice = "The study was created."
	}
	s.render(w, r, http.StatusOK, "studies.html", p)
}

func studyForm(r *http.Request) study.Study {
	return study.Study{Code: r.PostFormValue("code"), Title: r.PostFormValue("title"), Phase: r.PostFormValue("phase"),
		Sponsor: r.PostFormValue("sponsor"), ProtocolNumber: r.PostFormValue("protocol_number")}
}

func (s *Server) studyNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "study_form.html", s.newPage(r, "New study", map[string]any{"Phases": study.Phases}))
}

func (s *Server) studyCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	created, err := study.Create(r.Context(), s.DB, visitOf(r).user.Actor(), studyForm(r))
	if err != nil {
		s.formProblem(w, r, "study_form.html", s.newPage(r, "New study", map[string]any{"Phases": study.Phases}), err)
		return
	}
	redirect(w, r, "/studies/"+created.Code+"?notice=created")
}

// studyPage loads what the study page shows.
func (s *Server) studyPage(r *http.Request, code string) (*page, error) {
	st, err := study.Get(r.Context(), s.DB, code)
	if err != nil {
		return nil, err
	}
	events, err := study.Events(r.Context(), s.DB, code)
	if err != nil {
		return nil, err
	}
	forms, err := study.StudyForms(r.Context(), s.DB, code)
	if err != nil {
		return nil, err
	}
	// grid[event][form] says whether a form is collected at an event.
	grid := map[string]map[string]bool{}
	for _, e := range events {
		grid[e.OID] = map[string]bool{}
		for _, f := range e.Forms {
			grid[e.OID][f.FormOID] = true
		}
	}
	library, err := study.Forms(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	// The published versions of each library form, to choose from.
	published, err := study.PublishedVersions(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	type scheduled struct {
		study.Event
		When string // "Day 2, 24 h"
	}
	var rows []scheduled
	for _, e := range events {
		row := scheduled{Event: e}
		if m := e.NominalOffsetMinutes; m != nil {
			row.When = fmt.Sprintf("Day %d, %s h", study.StudyDay(*m), study.OffsetText(m))
			if e.WindowBeforeMinutes != nil || e.WindowAfterMinutes != nil {
				row.When += fmt.Sprintf(" (−%s / +%s min)", intValue(e.WindowBeforeMinutes), intValue(e.WindowAfterMinutes))
			}
		}
		rows = append(rows, row)
	}
	p := s.newPage(r, "Study "+st.Code, map[string]any{"Study": st, "Events": rows, "Forms": forms, "Grid": grid,
		"Next": study.Next(st.Status), "Phases": study.Phases, "Library": library, "Published": published})
	// The details form shows what is stored unless the user posted it.
	if p.Form == nil || !p.Form.Has("title") {
		form := map[string][]string{"title": {st.Title}, "phase": {st.Phase}, "sponsor": {st.Sponsor}, "protocol_number": {st.ProtocolNumber}}
		for k, v := range p.Form {
			form[k] = v
		}
		p.Form = form
	}
	return p, nil
}

func (s *Server) studyShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.studyPage(r, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Study", nil), err)
		return
	}
	switch r.URL.Query().Get("notice") {
	case "created":
		p.Notice = "The study was created."
	case "saved":
		p.Notice = "Your changes were saved."
	case "imported":
		p.Notice = "The study design was imported."
	case "data-imported":
		// The counts come back in the address only to word the notice; the
		// audit trail holds what was actually added and changed.
		q := r.URL.Query()
		p.Notice = fmt.Sprintf("The file's clinical data was imported into this existing study: %s values added, %s changed; its design was kept.",
			numberOr0(q.Get("added")), numberOr0(q.Get("changed")))
	}
	s.render(w, r, http.StatusOK, "study.html", p)
}

func (s *Server) studyProblem(w http.ResponseWriter, r *http.Request, code string, err error) {
	p, perr := s.studyPage(r, code)
	if perr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Study", nil), perr)
		return
	}
	s.formProblem(w, r, "study.html", p, err)
}

func (s *Server) studyUpdate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := study.Update(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, studyForm(r), r.PostFormValue("reason")); err != nil {
		s.studyProblem(w, r, code, err)
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

func (s *Server) studyStatus(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := study.SetStatus(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, study.Status(r.PostFormValue("status")), r.PostFormValue("reason"))
	if err != nil {
		s.studyProblem(w, r, code, err)
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

func (s *Server) studyAddEvent(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	e, err := postedEvent(r, r.PostFormValue("event_oid"))
	if err != nil {
		s.studyProblem(w, r, code, err)
		return
	}
	if err := study.AddEvent(r.Context(), s.DB, visitOf(r).user.Actor(), code, e, r.PostFormValue("reason")); err != nil {
		s.studyProblem(w, r, code, err)
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

func (s *Server) studyAssignForm(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	// form is "OID vN", as the page offers it.
	oid, num, _ := strings.Cut(r.PostFormValue("form"), " v")
	version, _ := strconv.Atoi(num)
	err := study.AssignForm(r.Context(), s.DB, visitOf(r).user.Actor(), code, r.PostFormValue("event"), oid, version,
		r.PostFormValue("mandatory") == "yes", r.PostFormValue("reason"))
	if err != nil {
		s.studyProblem(w, r, code, err)
		return
	}
	redirect(w, r, "/studies/"+code+"?notice=saved")
}

func (s *Server) studyExport(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	what := r.URL.Query().Get("what")
	if what == "" {
		what = "metadata"
	}
	if _, err := study.Get(r.Context(), s.DB, code); err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Export", nil), err)
		return
	}
	header := func() {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-odm-%s-%s.xml"`, code, what, time.Now().UTC().Format("20060102")))
		w.Header().Set("Cache-Control", "no-store")
	}
	if what == "metadata" {
		// A design is small: write it to memory first, so a failure gives
		// an error page rather than half a file.
		var buf bytes.Buffer
		if _, err := study.Export(r.Context(), s.DB, code, &buf, study.ExportOptions{What: what}); err != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Export", nil), err)
			return
		}
		header()
		w.Write(buf.Bytes())
		return
	}
	if what != "clinical" && what != "both" {
		p := s.newPage(r, "Export", nil)
		p.Problem = "Say what to export: metadata, clinical or both."
		s.render(w, r, http.StatusBadRequest, "message.html", p)
		return
	}
	// Clinical data streams from the database to the browser; a failure
	// half-way is logged and cuts the file short, before the closing root
	// tag, so that no reader can take it for a complete ODM file.
	header()
	if _, err := study.Export(r.Context(), s.DB, code, w, study.ExportOptions{What: what}); err != nil {
		s.Logger.Error("ODM export failed", "study", code, "err", err)
	}
}

func (s *Server) libraryList(w http.ResponseWriter, r *http.Request) {
	forms, err := study.Forms(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "CRF library", map[string]any{"Forms": forms})
	if r.URL.Query().Get("notice") == "discarded" {
		p.Notice = "The draft was discarded; the form had no other version, so it left the library."
	}
	s.render(w, r, http.StatusOK, "library.html", p)
}

func (s *Server) libraryCreate(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v, err := study.CreateForm(r.Context(), s.DB, visitOf(r).user.Actor(), r.PostFormValue("oid"), r.PostFormValue("name"))
	if err != nil {
		forms, _ := study.Forms(r.Context(), s.DB)
		s.formProblem(w, r, "library.html", s.newPage(r, "CRF library", map[string]any{"Forms": forms}), err)
		return
	}
	redirect(w, r, "/library/"+v.FormOID)
}

// libraryProblem shows a form's library page again with the problem a
// posted change ran into; when the page itself cannot be loaded (the form
// is gone) the user gets that problem on its own instead.
func (s *Server) libraryProblem(w http.ResponseWriter, r *http.Request, oid string, err error) {
	p, perr := s.libraryPage(r, oid)
	if perr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Form", nil), perr)
		return
	}
	s.formProblem(w, r, "library_form.html", p, err)
}

func (s *Server) libraryPage(r *http.Request, oid string) (*page, error) {
	versions, err := study.Versions(r.Context(), s.DB, oid)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("form %q: %w", oid, check.ErrNotFound)
	}
	items, err := study.Items(r.Context(), s.DB, oid, versions[0].Number)
	if err != nil {
		return nil, err
	}
	l := versions[0]
	// Each item group with its items, for the editing tables.
	type groupItems struct {
		study.GroupSpec
		Items []study.ItemSpec
	}
	var groups []groupItems
	for _, g := range study.GroupSpecs(l.Definition) {
		groups = append(groups, groupItems{GroupSpec: g, Items: study.ItemSpecs(l.Definition, g.OID)})
	}
	uses, err := study.UsesOf(r.Context(), s.DB, oid)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, "Form "+oid, map[string]any{"OID": oid, "Versions": versions, "Latest": l, "Items": items, "Uses": uses,
		"Draft": l.Status == study.Draft, "Details": study.FormSpecOf(l.Definition), "Groups": groups,
		"CodeLists": study.CodeListSpecs(l.Definition), "Units": study.UnitSpecs(l.Definition)})
	// The details form shows what is stored unless the user posted it.
	if !p.Form.Has("name") {
		d := study.FormSpecOf(l.Definition)
		form := url.Values{"name": {d.Name}, "description": {d.Description}, "repeating": {yes(d.Repeating)}}
		for k, v := range p.Form {
			form[k] = v
		}
		p.Form = form
	}
	return p, nil
}

func (s *Server) libraryShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.libraryPage(r, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Form", nil), err)
		return
	}
	if r.URL.Query().Get("notice") == "saved" {
		p.Notice = "Your changes were saved."
	}
	s.render(w, r, http.StatusOK, "library_form.html", p)
}

func (s *Server) libraryChange(w http.ResponseWriter, r *http.Request, apply func(oid string, number, version int, reason string) error) {
	if !parseForm(w, r) {
		return
	}
	oid := r.PathValue("code")
	number, _ := strconv.Atoi(r.PostFormValue("number"))
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := apply(oid, number, version, r.PostFormValue("reason")); err != nil {
		s.libraryProblem(w, r, oid, err)
		return
	}
	redirect(w, r, "/library/"+oid+"?notice=saved")
}

func (s *Server) libraryPublish(w http.ResponseWriter, r *http.Request) {
	s.libraryChange(w, r, func(oid string, number, version int, reason string) error {
		return study.Publish(r.Context(), s.DB, visitOf(r).user.Actor(), oid, number, version, reason)
	})
}

func (s *Server) libraryDraft(w http.ResponseWriter, r *http.Request) {
	s.libraryChange(w, r, func(oid string, number, _ int, reason string) error {
		_, err := study.NewDraft(r.Context(), s.DB, visitOf(r).user.Actor(), oid, number, reason)
		return err
	})
}

func (s *Server) odmImportPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "odm_import.html", s.newPage(r, "Import ODM", nil))
}

// odmImportCheck reads the uploaded file, reports what it found without
// storing anything, and keeps the file for the apply step.
func (s *Server) odmImportCheck(w http.ResponseWriter, r *http.Request) {
	file, header, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("The file is larger than %d MB.", MaxODMUpload>>20), http.StatusRequestEntityTooLarge)
			return
		}
		p := s.newPage(r, "Import ODM", nil)
		p.Errors["file"] = "Choose an ODM XML file to import."
		p.Problem = "Choose the ODM file (.xml) to import."
		s.render(w, r, http.StatusUnprocessableEntity, "odm_import.html", p)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxODMUpload+1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(data) > MaxODMUpload {
		http.Error(w, fmt.Sprintf("The file is larger than %d MB.", MaxODMUpload>>20), http.StatusRequestEntityTooLarge)
		return
	}
	rep, err := study.Import(r.Context(), s.DB, visitOf(r).user.Actor(), bytes.NewReader(data), study.ImportOptions{DryRun: true})
	if err != nil && !errors.Is(err, study.ErrImportRefused) {
		s.fail(w, r, err)
		return
	}
	token := ""
	if err == nil {
		token = s.odmUploads.put(visitOf(r).user.ID, odmUpload{name: header.Filename, data: data})
	}
	s.renderImportReport(w, r, header.Filename, rep, token, http.StatusOK)
}

func (s *Server) renderImportReport(w http.ResponseWriter, r *http.Request, name string, rep *study.ImportReport, token string, status int) {
	p := s.newPage(r, "Import ODM", map[string]any{"File": name, "Report": rep, "Token": token})
	if rep.Errors > 0 {
		p.Problem = fmt.Sprintf("%s has %d errors; nothing can be imported from it. Correct the file and upload it again.", name, rep.Errors)
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "odm_import.html", p)
}

func (s *Server) odmImportApply(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	up, ok := s.odmUploads.take(r.PostFormValue("token"), visitOf(r).user.ID)
	if !ok {
		p := s.newPage(r, "Import ODM", nil)
		p.Problem = "The uploaded file is no longer available (it is kept for 30 minutes and applied once). Upload it again."
		s.render(w, r, http.StatusUnprocessableEntity, "odm_import.html", p)
		return
	}
	confirm := r.PostFormValue("confirm_warnings") == "yes"
	rep, err := study.Import(r.Context(), s.DB, visitOf(r).user.Actor(), bytes.NewReader(up.data),
		study.ImportOptions{ConfirmWarnings: confirm, Reason: r.PostFormValue("reason")})
	if err != nil && !errors.Is(err, study.ErrImportRefused) {
		s.fail(w, r, err)
		return
	}
	if rep.Applied && len(rep.Studies) == 1 {
		if len(rep.Existing) == 1 {
			redirect(w, r, fmt.Sprintf("/studies/%s?notice=data-imported&added=%d&changed=%d", rep.Studies[0], rep.ValuesAdded, rep.ValuesChanged))
			return
		}
		redirect(w, r, "/studies/"+rep.Studies[0]+"?notice=imported")
		return
	}
	if rep.Applied {
		redirect(w, r, "/studies?notice=created")
		return
	}
	// Not applied: keep the file for another try and say why.
	token := s.odmUploads.put(visitOf(r).user.ID, up)
	status := http.StatusUnprocessableEntity
	p := s.newPage(r, "Import ODM", map[string]any{"File": up.name, "Report": rep, "Token": token})
	switch {
	case rep.Errors > 0:
		p.Problem = fmt.Sprintf("%s has %d errors; nothing was imported.", up.name, rep.Errors)
		p.Data.(map[string]any)["Token"] = ""
	case rep.NeedsConfirmation:
		p.Problem = "The report has warnings. Tick the box to confirm you have read them, then import."
		p.Errors["confirm_warnings"] = "Confirm the warnings to import."
	}
	s.render(w, r, status, "odm_import.html", p)
}

// odmUpload is an uploaded ODM file waiting between its check and its
// apply, so the user applies exactly the file whose report they read.
type odmUpload struct {
	name string
	data []byte
}

// numberOr0 is a count from the address as digits, so a crafted address
// cannot put words into a notice.
func numberOr0(v string) string {
	if _, err := strconv.ParseUint(v, 10, 63); err != nil {
		return "0"
	}
	return v
}
