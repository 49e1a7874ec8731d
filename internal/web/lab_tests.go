package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/lab"
)

// rangeRow is one row of the reference range table as the user typed it,
// so a row with a problem comes back exactly as it was entered.
type rangeRow struct {
	Index                          int
	Sex, AgeFrom, AgeTo, Low, High string
}

// rangeField names a cell of the range table: ranges[2].high, the key
// lab.ValidateTest reports problems under.
func rangeField(i int, cell string) string { return fmt.Sprintf("ranges[%d].%s", i, cell) }

func rowsOf(rs []lab.ReferenceRange) []rangeRow {
	rows := make([]rangeRow, len(rs))
	for i, r := range rs {
		rows[i] = rangeRow{Index: i, Sex: string(r.Sex), AgeFrom: strconv.Itoa(r.AgeFrom)}
		if r.AgeTo != 0 {
			rows[i].AgeTo = strconv.Itoa(r.AgeTo)
		}
		if r.Low != nil {
			rows[i].Low = strconv.FormatFloat(*r.Low, 'f', -1, 64)
		}
		if r.High != nil {
			rows[i].High = strconv.FormatFloat(*r.High, 'f', -1, 64)
		}
	}
	return rows
}

// testForm reads a lab test from the posted form: its fields, its choices
// (one per line), and its range rows (ranges = how many). Numbers that do
// not parse are reported as field errors; blank rows are dropped.
func testForm(r *http.Request) (lab.Test, []rangeRow, check.FieldErrors) {
	fe := check.FieldErrors{}
	t := lab.Test{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), LOINC: r.PostFormValue("loinc"),
		Specimen: lab.Specimen(r.PostFormValue("specimen")), ResultType: lab.ResultType(r.PostFormValue("result_type")),
		Unit: r.PostFormValue("unit")}
	if d := strings.TrimSpace(r.PostFormValue("decimal_places")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			fe.Add("decimal_places", "Enter a whole number of decimal places from 0 to 6.")
		}
		t.DecimalPlaces = n
	}
	for _, line := range strings.Split(r.PostFormValue("choices"), "\n") {
		if c := strings.TrimSpace(line); c != "" {
			t.Choices = append(t.Choices, c)
		}
	}
	n, _ := strconv.Atoi(r.PostFormValue("ranges"))
	var rows []rangeRow
	for i := 0; i < min(n, 100); i++ {
		row := rangeRow{Sex: r.PostFormValue(rangeField(i, "sex")), AgeFrom: r.PostFormValue(rangeField(i, "age_from")),
			AgeTo: r.PostFormValue(rangeField(i, "age_to")), Low: r.PostFormValue(rangeField(i, "low")), High: r.PostFormValue(rangeField(i, "high"))}
		if strings.TrimSpace(row.AgeFrom+row.AgeTo+row.Low+row.High) == "" && !r.PostForm.Has("add_range") && r.PostFormValue("remove_range") == "" {
			continue // an empty row left over from "Add range"
		}
		row.Index = len(rows)
		rows = append(rows, row)
	}
	for _, row := range rows {
		rr := lab.ReferenceRange{Sex: lab.Sex(row.Sex)}
		rr.AgeFrom = parseAge(fe, row.Index, "age_from", row.AgeFrom)
		rr.AgeTo = parseAge(fe, row.Index, "age_to", row.AgeTo)
		rr.Low = parseLimit(fe, row.Index, "low", row.Low)
		rr.High = parseLimit(fe, row.Index, "high", row.High)
		t.Ranges = append(t.Ranges, rr)
	}
	return t, rows, fe
}

func parseAge(fe check.FieldErrors, i int, cell, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		fe.Add(rangeField(i, cell), "Range %d: enter the age in whole years.", i+1)
	}
	return n
}

// parseLimit reads a range limit, accepting a decimal comma as typed in
// much of Europe; an empty cell is an open side.
func parseLimit(fe check.FieldErrors, i int, cell, s string) *float64 {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fe.Add(rangeField(i, cell), "Range %d: %q is not a number (for example 3.5).", i+1, s)
		return nil
	}
	return &v
}

// withValidation adds lab.ValidateTest's findings to the form's own, except
// on range rows that already have a problem reading their numbers: the
// number is the problem to fix first.
func withValidation(fe check.FieldErrors, t lab.Test) check.FieldErrors {
	unreadable := map[string]bool{}
	for k := range fe {
		if row, _, ok := strings.Cut(k, "]"); ok {
			unreadable[row] = true
		}
	}
	for k, msg := range lab.ValidateTest(t) {
		if row, _, ok := strings.Cut(k, "]"); ok && unreadable[row] {
			continue
		}
		fe.Add(k, "%s", msg)
	}
	return fe
}

func resultTypes() []lab.ResultType { return []lab.ResultType{lab.Numeric, lab.Coded, lab.Text} }
func sexes() []lab.Sex              { return []lab.Sex{lab.AnySex, lab.Male, lab.Female} }

// testPageData is what lab_test.html shows besides the form values.
func testPageData(t lab.StoredTest, rows []rangeRow, fe check.FieldErrors) map[string]any {
	var choiceErrors []string
	for k, msg := range fe {
		if strings.HasPrefix(k, "choices[") {
			choiceErrors = append(choiceErrors, msg)
		}
	}
	slices.Sort(choiceErrors)
	return map[string]any{"Test": t, "Rows": rows, "Specimens": lab.Specimens(), "ResultTypes": resultTypes(),
		"Sexes": sexes(), "ChoiceErrors": choiceErrors}
}

func (s *Server) labTestList(w http.ResponseWriter, r *http.Request) {
	q, inactive := listQuery(r)
	tests, err := lab.ListTests(r.Context(), s.DB, q, inactive)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "Lab tests", map[string]any{"Tests": tests, "Query": q, "Inactive": inactive})
	listNotice(p, r, "lab test")
	s.render(w, r, http.StatusOK, "lab_tests.html", p)
}

func (s *Server) labTestNew(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "New lab test", testPageData(lab.StoredTest{}, []rangeRow{{Sex: string(lab.AnySex)}}, nil))
	p.Form = map[string][]string{"result_type": {string(lab.Numeric)}, "specimen": {string(lab.Serum)}, "decimal_places": {"1"}}
	s.render(w, r, http.StatusOK, "lab_test.html", p)
}

// testFormValues fills the form from a stored test.
func testFormValues(t lab.StoredTest) map[string][]string {
	return map[string][]string{"name": {t.Name}, "loinc": {t.LOINC}, "specimen": {string(t.Specimen)},
		"result_type": {string(t.ResultType)}, "unit": {t.Unit}, "decimal_places": {strconv.Itoa(t.DecimalPlaces)},
		"choices": {strings.Join(t.Choices, "\n")}, "version": {strconv.Itoa(t.Version)}}
}

func (s *Server) labTestShow(w http.ResponseWriter, r *http.Request) {
	t, err := lab.GetTest(r.Context(), s.DB, r.PathValue("code"))
	if err != nil {
		s.formProblem(w, r, "message.html", s.newPage(r, "Lab test", nil), err)
		return
	}
	p := s.newPage(r, "Lab test "+t.Code, testPageData(t, rowsOf(t.Ranges), nil))
	p.Form = testFormValues(t)
	showNotice(p, r, "lab test")
	s.render(w, r, http.StatusOK, "lab_test.html", p)
}

// labTestSave handles the lab test form: "Add range" and "Remove" redraw
// the form with a row more or less and save nothing; otherwise it creates
// the test (POST /config/lab-tests) or saves the existing one, showing each
// problem beside its field or range row.
func (s *Server) labTestSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code, by := r.PathValue("code"), visitOf(r).user.Actor()
	var stored lab.StoredTest
	title := "New lab test"
	if code != "" {
		var err error
		if stored, err = lab.GetTest(r.Context(), s.DB, code); err != nil {
			s.formProblem(w, r, "message.html", s.newPage(r, "Lab test", nil), err)
			return
		}
		title = "Lab test " + code
	}
	t, rows, fe := testForm(r)
	if r.PostForm.Has("add_range") || r.PostFormValue("remove_range") != "" {
		if r.PostForm.Has("add_range") {
			rows = append(rows, rangeRow{Index: len(rows), Sex: string(lab.AnySex)})
		} else if i, err := strconv.Atoi(r.PostFormValue("remove_range")); err == nil && i >= 0 && i < len(rows) {
			rows = append(rows[:i], rows[i+1:]...)
			for j := range rows {
				rows[j].Index = j
			}
		}
		s.render(w, r, http.StatusOK, "lab_test.html", s.newPage(r, title, testPageData(stored, rows, nil)))
		return
	}
	var err error
	if len(fe) > 0 {
		err = withValidation(fe, t)
	} else if code == "" {
		var created lab.StoredTest
		if created, err = lab.CreateTest(r.Context(), s.DB, by, t); err == nil {
			code = created.Code
		}
	} else {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		err = lab.UpdateTest(r.Context(), s.DB, by, code, version, t, r.PostFormValue("reason"))
	}
	if err != nil {
		s.formProblem(w, r, "lab_test.html", s.newPage(r, title, testPageData(stored, rows, fieldErrorsOf(err))), err)
		return
	}
	notice := "saved"
	if stored.ID == 0 {
		notice = "created"
	}
	redirect(w, r, "/config/lab-tests/"+code+"?notice="+notice)
}

func (s *Server) labTestSetActive(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	code := r.PathValue("code")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	active := r.PostFormValue("active") == "true"
	if err := lab.SetTestActive(r.Context(), s.DB, visitOf(r).user.Actor(), code, version, active, r.PostFormValue("reason")); err != nil {
		t, _ := lab.GetTest(r.Context(), s.DB, code)
		data := testPageData(t, rowsOf(t.Ranges), nil)
		data["Toggling"] = true
		p := s.newPage(r, "Lab test "+code, data)
		reason := p.Form.Get("reason")
		p.Form = testFormValues(t)
		p.Form["reason"] = []string{reason}
		s.formProblem(w, r, "lab_test.html", p, err)
		return
	}
	if active {
		redirect(w, r, "/config/lab-tests/"+code+"?notice=reactivated")
		return
	}
	redirect(w, r, "/config/lab-tests?notice=deactivated")
}
