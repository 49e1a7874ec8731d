package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/access"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/study"
)

// The library editing pages: a draft form's details, item groups, items,
// code lists and measurement units, each on its own plain form that posts
// the draft's number and optimistic version with a reason for change.
// htmx adds range-check and code rows without a round trip of the whole
// page; without JavaScript the pages offer spare empty rows instead.

func (s *Server) registerLibraryEditRoutes() {
	s.handle("POST", "/library/{code}/details", need(access.StudyDesign), s.libraryDetails)
	s.handle("POST", "/library/{code}/discard", need(access.StudyDesign), s.libraryDiscard)
	s.handle("GET", "/library/{code}/group", need(access.StudyView), s.libraryGroupPage)
	s.handle("POST", "/library/{code}/group", need(access.StudyDesign), s.libraryGroupSave)
	s.handle("POST", "/library/{code}/group/remove", need(access.StudyDesign), s.libraryGroupRemove)
	s.handle("POST", "/library/{code}/group/move", need(access.StudyDesign), s.libraryGroupMove)
	s.handle("GET", "/library/{code}/item", need(access.StudyView), s.libraryItemPage)
	s.handle("POST", "/library/{code}/item", need(access.StudyDesign), s.libraryItemSave)
	s.handle("POST", "/library/{code}/item/remove", need(access.StudyDesign), s.libraryItemRemove)
	s.handle("POST", "/library/{code}/item/move", need(access.StudyDesign), s.libraryItemMove)
	s.handle("GET", "/library/{code}/item/range-row", need(access.StudyDesign), s.libraryRangeRow)
	s.handle("GET", "/library/{code}/codelist", need(access.StudyView), s.libraryCodeListPage)
	s.handle("POST", "/library/{code}/codelist", need(access.StudyDesign), s.libraryCodeListSave)
	s.handle("POST", "/library/{code}/codelist/remove", need(access.StudyDesign), s.libraryCodeListRemove)
	s.handle("GET", "/library/{code}/codelist/code-row", need(access.StudyDesign), s.libraryCodeRow)
	s.handle("GET", "/library/{code}/unit", need(access.StudyView), s.libraryUnitPage)
	s.handle("POST", "/library/{code}/unit", need(access.StudyDesign), s.libraryUnitSave)
	s.handle("POST", "/library/{code}/unit/remove", need(access.StudyDesign), s.libraryUnitRemove)
}

// draftRef reads the draft the user opened from the posted form.
func draftRef(r *http.Request) study.DraftRef {
	number, _ := strconv.Atoi(r.PostFormValue("number"))
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	return study.DraftRef{FormOID: r.PathValue("code"), Number: number, Version: version}
}

// latestVersion loads the newest version of a form, which the editing pages
// show; only a draft can be edited.
func (s *Server) latestVersion(r *http.Request, oid string) (study.FormVersion, error) {
	versions, err := study.Versions(r.Context(), s.DB, oid)
	if err != nil {
		return study.FormVersion{}, err
	}
	if len(versions) == 0 {
		return study.FormVersion{}, fmt.Errorf("form %q: %w", oid, check.ErrNotFound)
	}
	return versions[0], nil
}

// entityPage builds an editing page for the latest version of the form in
// the path. The version the user opened travels in the form, so a failed
// save shows the page as the user had it.
func (s *Server) entityPage(r *http.Request, title string, data map[string]any) (*page, error) {
	oid := r.PathValue("code")
	v, err := s.latestVersion(r, oid)
	if err != nil {
		return nil, err
	}
	data["OID"], data["Latest"], data["Draft"] = oid, v, v.Status == study.Draft
	data["Groups"] = study.GroupSpecs(v.Definition)
	data["Units"] = study.UnitSpecs(v.Definition)
	data["CodeLists"] = study.CodeListSpecs(v.Definition)
	p := s.newPage(r, title, data)
	if r.Method == http.MethodGet {
		p.Form = url.Values{"number": {strconv.Itoa(v.Number)}, "version": {strconv.Itoa(v.Version)}}
	}
	return p, nil
}

func (s *Server) entityProblem(w http.ResponseWriter, r *http.Request, name, title string, data map[string]any, err error) {
	p, perr := s.entityPage(r, title, data)
	if perr != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, title, nil), perr)
		return
	}
	s.formProblem(w, r, name, p, err)
}

// renameField moves a field error to another key, for a page with several
// forms that each have a field of the same name (the reason for change), so
// that the error shows beside the form the user posted.
func renameField(err error, from, to string) error {
	fe, ok := check.AsFieldErrors(err)
	if !ok {
		return err
	}
	msg, ok := fe[from]
	if !ok {
		return err
	}
	out := check.FieldErrors{to: msg}
	for k, v := range fe {
		if k != from {
			out[k] = v
		}
	}
	return out
}

func backToForm(w http.ResponseWriter, r *http.Request) {
	redirect(w, r, "/library/"+r.PathValue("code")+"?notice=saved")
}

func (s *Server) libraryDetails(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	f := study.FormSpec{Name: r.PostFormValue("name"), Repeating: r.PostFormValue("repeating") == "yes", Description: r.PostFormValue("description")}
	if err := study.SaveFormDetails(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), f, r.PostFormValue("reason")); err != nil {
		s.libraryProblem(w, r, r.PathValue("code"), renameField(err, "reason", "details_reason"))
		return
	}
	backToForm(w, r)
}

func (s *Server) libraryDiscard(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	remains, err := study.DiscardDraft(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), r.PostFormValue("reason"))
	if err != nil {
		s.libraryProblem(w, r, r.PathValue("code"), err)
		return
	}
	if !remains {
		redirect(w, r, "/library?notice=discarded")
		return
	}
	backToForm(w, r)
}

// Item groups.

func (s *Server) libraryGroupPage(w http.ResponseWriter, r *http.Request) {
	oid := r.URL.Query().Get("oid")
	p, err := s.entityPage(r, "Item group", map[string]any{"Original": oid})
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Item group", nil), err)
		return
	}
	if oid != "" {
		found := false
		for _, g := range p.Data.(map[string]any)["Groups"].([]study.GroupSpec) {
			if g.OID == oid {
				found = true
				p.Form.Set("oid", g.OID)
				p.Form.Set("name", g.Name)
				p.Form.Set("repeating", yes(g.Repeating))
				p.Form.Set("mandatory", yes(g.Mandatory))
			}
		}
		if !found {
			s.notFound(w, r)
			return
		}
	} else {
		p.Form.Set("mandatory", "yes")
	}
	s.render(w, r, http.StatusOK, "library_group.html", p)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func (s *Server) libraryGroupSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	original := r.PostFormValue("original")
	g := study.GroupSpec{OID: r.PostFormValue("oid"), Name: r.PostFormValue("name"),
		Repeating: r.PostFormValue("repeating") == "yes", Mandatory: r.PostFormValue("mandatory") == "yes"}
	if err := study.SaveGroup(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), original, g, r.PostFormValue("reason")); err != nil {
		s.entityProblem(w, r, "library_group.html", "Item group", map[string]any{"Original": original}, err)
		return
	}
	backToForm(w, r)
}

// libraryFormChange runs a change posted from the form page and shows the
// page again with the problem, or goes back to it.
func (s *Server) libraryFormChange(w http.ResponseWriter, r *http.Request, apply func() error) {
	if !parseForm(w, r) {
		return
	}
	if err := apply(); err != nil {
		s.libraryProblem(w, r, r.PathValue("code"), renameField(err, "reason", "action_reason"))
		return
	}
	backToForm(w, r)
}

// step reads the direction of a move button (formaction …/move?step=up).
func step(r *http.Request) int {
	if r.FormValue("step") == "up" {
		return -1
	}
	return 1
}

func (s *Server) libraryGroupRemove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		return study.RemoveGroup(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), r.PostFormValue("oid"), r.PostFormValue("reason"))
	})
}

func (s *Server) libraryGroupMove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		return study.MoveGroup(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), r.PostFormValue("oid"), step(r), r.PostFormValue("reason"))
	})
}

// Items.

// checkRow is one range check line of the item page.
type checkRow struct {
	Index      int
	Comparator string
	Values     string
	SoftHard   string
	Message    string
	Expression string
	Err        string
}

// itemData is what the item page shows besides the form values.
func itemData(original, originalGroup string) map[string]any {
	return map[string]any{"Original": original, "OriginalGroup": originalGroup, "DataTypes": study.DataTypes,
		"Comparators": study.Comparators}
}

// rangeRows reads the range check lines of a form, adding spare empty ones.
func rangeRows(f url.Values, errs map[string]string) []checkRow {
	var rows []checkRow
	for i, c := range f["range_comparator"] {
		row := checkRow{Index: len(rows), Comparator: c, Values: nth(f["range_values"], i), SoftHard: nth(f["range_softhard"], i), Message: nth(f["range_message"], i)}
		if c == "" && strings.TrimSpace(row.Values) == "" {
			continue // a spare row left empty; the save skipped it too
		}
		// The save numbers the checks it kept, as here.
		row.Err = errs[fmt.Sprintf("range_%d", row.Index)]
		rows = append(rows, row)
	}
	for range 2 {
		rows = append(rows, checkRow{Index: len(rows), SoftHard: string(odm.Soft)})
	}
	return rows
}

func nth(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}

func (s *Server) libraryItemPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	group, item := q.Get("group"), q.Get("item")
	p, err := s.entityPage(r, "Item", itemData(item, group))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Item", nil), err)
		return
	}
	p.Form.Set("group", group)
	p.Form.Set("data_type", string(odm.Text))
	p.Form.Set("mandatory", "yes")
	var expressions []checkRow
	if item != "" {
		v := p.Data.(map[string]any)["Latest"].(study.FormVersion)
		spec, ok := study.ItemSpecOf(v.Definition, group, item)
		if !ok {
			s.notFound(w, r)
			return
		}
		for k, val := range map[string]string{"oid": spec.OID, "name": spec.Name, "data_type": string(spec.DataType),
			"length": intValue(spec.Length), "significant_digits": intValue(spec.SignificantDigits), "unit": spec.UnitOID,
			"code_list": spec.CodeListOID, "question": spec.Question, "help": spec.Help, "mandatory": yes(spec.Mandatory)} {
			p.Form.Set(k, val)
		}
		for _, rc := range spec.RangeChecks {
			if rc.Expression != "" {
				expressions = append(expressions, checkRow{Comparator: string(rc.Comparator), SoftHard: string(rc.SoftHard), Expression: rc.Expression, Message: rc.Message})
				continue
			}
			p.Form.Add("range_comparator", string(rc.Comparator))
			p.Form.Add("range_values", strings.Join(rc.Values, ", "))
			p.Form.Add("range_softhard", string(rc.SoftHard))
			p.Form.Add("range_message", rc.Message)
		}
	}
	d := p.Data.(map[string]any)
	d["Ranges"], d["Expressions"] = rangeRows(p.Form, nil), expressions
	s.render(w, r, http.StatusOK, "library_item.html", p)
}

func intValue(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// optionalInt reads a whole number field that may be empty.
func optionalInt(fe check.FieldErrors, r *http.Request, field string) *int {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fe.Add(field, "Give a whole number, or leave it empty.")
		return nil
	}
	return &n
}

func (s *Server) libraryItemSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	original, originalGroup := r.PostFormValue("original"), r.PostFormValue("original_group")
	fe := check.FieldErrors{}
	spec := study.ItemSpec{GroupOID: r.PostFormValue("group"), OID: r.PostFormValue("oid"), Name: r.PostFormValue("name"),
		DataType: odm.DataType(r.PostFormValue("data_type")), Length: optionalInt(fe, r, "length"),
		SignificantDigits: optionalInt(fe, r, "significant_digits"), UnitOID: r.PostFormValue("unit"),
		CodeListOID: r.PostFormValue("code_list"), Question: r.PostFormValue("question"), Help: r.PostFormValue("help"),
		Mandatory: r.PostFormValue("mandatory") == "yes"}
	f := r.PostForm
	for i, c := range f["range_comparator"] {
		var values []string
		for _, v := range strings.Split(nth(f["range_values"], i), ",") {
			if v = strings.TrimSpace(v); v != "" {
				values = append(values, v)
			}
		}
		if c == "" && len(values) == 0 {
			continue // a spare row left empty
		}
		spec.RangeChecks = append(spec.RangeChecks, study.RangeSpec{Comparator: odm.Comparator(c), Values: values,
			SoftHard: odm.SoftHard(nth(f["range_softhard"], i)), Message: nth(f["range_message"], i)})
	}
	err := fe.Err()
	if err == nil {
		err = study.SaveItem(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), originalGroup, original, spec, r.PostFormValue("reason"))
	}
	if err != nil {
		p, perr := s.entityPage(r, "Item", itemData(original, originalGroup))
		if perr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Item", nil), perr)
			return
		}
		errs, _ := check.AsFieldErrors(err)
		p.Data.(map[string]any)["Ranges"] = rangeRows(p.Form, errs)
		s.formProblem(w, r, "library_item.html", p, err)
		return
	}
	backToForm(w, r)
}

func (s *Server) libraryItemRemove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		group, item := itemTarget(r)
		return study.RemoveItem(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), group, item, r.PostFormValue("reason"))
	})
}

func (s *Server) libraryItemMove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		group, item := itemTarget(r)
		return study.MoveItem(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), group, item, step(r), r.PostFormValue("reason"))
	})
}

// itemTarget reads the item a row button names: its value is the group
// OID and the item OID on two lines, since one button carries one value.
func itemTarget(r *http.Request) (group, item string) {
	group, item, _ = strings.Cut(r.PostFormValue("target"), "\n")
	return group, item
}

// renderRow writes one block of a page (an empty table row) for htmx.
func (s *Server) renderRow(w http.ResponseWriter, r *http.Request, page, block string, data any) {
	t := s.pages.byName[page]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := t.ExecuteTemplate(w, block, data); err != nil {
		s.Logger.Error("render row", "page", page, "err", err)
	}
}

func (s *Server) libraryRangeRow(w http.ResponseWriter, r *http.Request) {
	// Rows added in the browser carry no id (-1): their number is unknown here.
	s.renderRow(w, r, "library_item.html", "range-row", map[string]any{"Row": checkRow{Index: -1, SoftHard: string(odm.Soft)}, "Comparators": study.Comparators})
}

// Code lists.

// codeRow is one coded value of the code list page.
type codeRow struct {
	Index  int
	Value  string
	Decode string
	Err    string
}

func codeRows(f url.Values, errs map[string]string) []codeRow {
	var rows []codeRow
	for i, v := range f["code_value"] {
		d := nth(f["code_decode"], i)
		if strings.TrimSpace(v) == "" && strings.TrimSpace(d) == "" {
			continue // a spare row left empty
		}
		// The save numbers errors by the posted row, empty ones included.
		rows = append(rows, codeRow{Index: len(rows), Value: v, Decode: d, Err: errs[fmt.Sprintf("code_%d", i)]})
	}
	for range 3 {
		rows = append(rows, codeRow{Index: len(rows)})
	}
	if len(rows) == 3 {
		rows[0].Err = errs["code_0"] // "give at least one value"
	}
	return rows
}

func (s *Server) libraryCodeListPage(w http.ResponseWriter, r *http.Request) {
	oid := r.URL.Query().Get("oid")
	p, err := s.entityPage(r, "Code list", map[string]any{"Original": oid, "Types": study.CodeListTypes})
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Code list", nil), err)
		return
	}
	p.Form.Set("data_type", string(odm.Text))
	if oid != "" {
		found := false
		for _, c := range p.Data.(map[string]any)["CodeLists"].([]study.CodeListSpec) {
			if c.OID != oid {
				continue
			}
			found = true
			p.Form.Set("oid", c.OID)
			p.Form.Set("name", c.Name)
			p.Form.Set("data_type", string(c.DataType))
			for _, it := range c.Items {
				p.Form.Add("code_value", it.Value)
				p.Form.Add("code_decode", it.Decode)
			}
		}
		if !found {
			s.notFound(w, r)
			return
		}
	}
	p.Data.(map[string]any)["Codes"] = codeRows(p.Form, nil)
	s.render(w, r, http.StatusOK, "library_codelist.html", p)
}

func (s *Server) libraryCodeListSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	original := r.PostFormValue("original")
	c := study.CodeListSpec{OID: r.PostFormValue("oid"), Name: r.PostFormValue("name"), DataType: odm.DataType(r.PostFormValue("data_type"))}
	for i, v := range r.PostForm["code_value"] {
		c.Items = append(c.Items, study.CodeSpec{Value: v, Decode: nth(r.PostForm["code_decode"], i)})
	}
	if err := study.SaveCodeList(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), original, c, r.PostFormValue("reason")); err != nil {
		p, perr := s.entityPage(r, "Code list", map[string]any{"Original": original, "Types": study.CodeListTypes})
		if perr != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Code list", nil), perr)
			return
		}
		errs, _ := check.AsFieldErrors(err)
		p.Data.(map[string]any)["Codes"] = codeRows(p.Form, errs)
		s.formProblem(w, r, "library_codelist.html", p, err)
		return
	}
	backToForm(w, r)
}

func (s *Server) libraryCodeListRemove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		return study.RemoveCodeList(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), r.PostFormValue("oid"), r.PostFormValue("reason"))
	})
}

func (s *Server) libraryCodeRow(w http.ResponseWriter, r *http.Request) {
	s.renderRow(w, r, "library_codelist.html", "code-row", codeRow{Index: -1})
}

// Measurement units.

func (s *Server) libraryUnitPage(w http.ResponseWriter, r *http.Request) {
	oid := r.URL.Query().Get("oid")
	p, err := s.entityPage(r, "Measurement unit", map[string]any{"Original": oid})
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Measurement unit", nil), err)
		return
	}
	if oid != "" {
		found := false
		for _, u := range p.Data.(map[string]any)["Units"].([]study.UnitSpec) {
			if u.OID == oid {
				found = true
				p.Form.Set("oid", u.OID)
				p.Form.Set("name", u.Name)
				p.Form.Set("symbol", u.Symbol)
			}
		}
		if !found {
			s.notFound(w, r)
			return
		}
	}
	s.render(w, r, http.StatusOK, "library_unit.html", p)
}

func (s *Server) libraryUnitSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	original := r.PostFormValue("original")
	u := study.UnitSpec{OID: r.PostFormValue("oid"), Name: r.PostFormValue("name"), Symbol: r.PostFormValue("symbol")}
	if err := study.SaveUnit(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), original, u, r.PostFormValue("reason")); err != nil {
		s.entityProblem(w, r, "library_unit.html", "Measurement unit", map[string]any{"Original": original}, err)
		return
	}
	backToForm(w, r)
}

func (s *Server) libraryUnitRemove(w http.ResponseWriter, r *http.Request) {
	s.libraryFormChange(w, r, func() error {
		return study.RemoveUnit(r.Context(), s.DB, visitOf(r).user.Actor(), draftRef(r), r.PostFormValue("oid"), r.PostFormValue("reason"))
	})
}
