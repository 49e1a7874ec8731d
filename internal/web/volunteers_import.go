package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/volunteer"
	"github.com/cohort-clinical/cohort/internal/volunteer/registry"
)

// maxImportBytes bounds a CSV file uploaded for import; larger files go
// through `cohort volunteer import`, which streams.
const maxImportBytes = 64 << 20

// stashedImport is an uploaded CSV file kept between upload, mapping,
// check and import, and the rejected rows after an import, so the user maps
// and imports exactly the file they uploaded.
type stashedImport struct {
	name    string
	data    []byte
	rejects []byte
}

const (
	importTTL   = time.Hour
	importSlots = 8
)

// importColumn is one column of the uploaded file and the field it maps to.
type importColumn struct {
	Index  int
	Header string
	Field  string
}

// importPage is what the import page shows at each step.
type importPage struct {
	Token      string
	FileName   string
	Columns    []importColumn
	Fields     []importField
	Formats    []string
	Result     *registry.ImportResult
	Checked    bool
	Imported   bool
	HasRejects bool
}

// importField is a choice in a column's mapping menu.
type importField struct{ Value, Label string }

// importFields lists what a column can be mapped to: the import fields and
// an answer per custom question.
func (s *Server) importFields(r *http.Request) ([]importField, error) {
	var out []importField
	for _, f := range volunteer.ImportFields() {
		label := volunteer.FieldLabel(f)
		if kind, ok := strings.CutPrefix(f, "phone."); ok {
			label = kind + " phone number"
		}
		out = append(out, importField{f, label})
	}
	qs, err := configlist.Entries(r.Context(), s.DB, configlist.Question, true)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		out = append(out, importField{volunteer.ImportAnswer + q.Code, "answer to “" + q.Label + "”"})
	}
	return out, nil
}

// guessField maps a header to the field whose name or label it spells, so
// a file exported by cohort or named plainly maps itself.
func guessField(header string, fields []importField) string {
	h := strings.ToLower(strings.TrimSpace(header))
	h = strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(h)
	for _, f := range fields {
		v := strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(f.Value)
		if h == v || h == strings.ToLower(f.Label) {
			return f.Value
		}
	}
	return ""
}

// csvHeader reads the first row of an uploaded file, as well as it can:
// encoding problems are the check's business, which names row and column.
func csvHeader(data []byte, comma rune) []string {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil
	}
	for i, h := range rec {
		if !utf8.ValidString(h) {
			rec[i] = strings.ToValidUTF8(h, "\uFFFD")
		}
	}
	return rec
}

func separator(form url.Values) rune {
	if form.Get("separator") == "semicolon" {
		return ';'
	}
	return ','
}

func (s *Server) importPageFor(r *http.Request, tok string, st *stashedImport, form url.Values) (*page, error) {
	fields, err := s.importFields(r)
	if err != nil {
		return nil, err
	}
	data := &importPage{Token: tok, FileName: st.name, Fields: fields}
	for _, name := range []string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD-MMM-YYYY"} {
		data.Formats = append(data.Formats, name)
	}
	for i, h := range csvHeader(st.data, separator(form)) {
		col := importColumn{Index: i, Header: h, Field: guessField(h, fields)}
		if v, ok := form["map."+strconv.Itoa(i)]; ok {
			col.Field = v[0]
		}
		data.Columns = append(data.Columns, col)
	}
	p := s.newPage(r, "Import volunteers", data)
	p.Form = form
	return p, nil
}

func (s *Server) volunteerImportPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		s.render(w, r, http.StatusOK, "volunteer_import.html", s.newPage(r, "Import volunteers", &importPage{}))
		return
	}
	st, ok := s.volunteerImports.get(tok, visitOf(r).user.ID)
	if !ok {
		p := s.newPage(r, "Import volunteers", &importPage{})
		p.Problem = "This upload has expired. Upload the file again."
		s.render(w, r, http.StatusUnprocessableEntity, "volunteer_import.html", p)
		return
	}
	form := url.Values{"separator": {r.URL.Query().Get("separator")}, "mode": {string(registry.AllOrNothing)},
		"date_format": {"YYYY-MM-DD"}}
	p, err := s.importPageFor(r, tok, st, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(p.Data.(*importPage).Columns) == 0 {
		p.Problem = "The file has no header row that can be read as CSV. Check that it is a CSV file and its separator."
	}
	s.render(w, r, http.StatusOK, "volunteer_import.html", p)
}

func (s *Server) volunteerImportUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "The file is larger than 64 MB; import it with `cohort volunteer import`.", http.StatusRequestEntityTooLarge)
			return
		}
		p := s.newPage(r, "Import volunteers", &importPage{})
		p.Errors["file"] = "Choose a CSV file to import."
		p.Problem = "Choose the CSV file of volunteers to import."
		s.render(w, r, http.StatusUnprocessableEntity, "volunteer_import.html", p)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tok := s.volunteerImports.put(visitOf(r).user.ID, &stashedImport{name: hdr.Filename, data: data})
	redirect(w, r, "/volunteers/import?token="+tok+"&separator="+url.QueryEscape(r.FormValue("separator")))
}

func (s *Server) volunteerImportRun(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	v := visitOf(r)
	tok := r.PostFormValue("token")
	st, ok := s.volunteerImports.get(tok, v.user.ID)
	if !ok {
		p := s.newPage(r, "Import volunteers", &importPage{})
		p.Problem = "This upload has expired or was never made. Upload the file again."
		s.render(w, r, http.StatusUnprocessableEntity, "volunteer_import.html", p)
		return
	}
	p, err := s.importPageFor(r, tok, st, r.PostForm)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := p.Data.(*importPage)
	mapping := map[string]string{}
	for _, c := range data.Columns {
		if c.Field != "" {
			mapping[c.Header] = c.Field
		}
	}
	mode, err := registry.ParseImportMode(r.PostFormValue("mode"))
	if err != nil {
		p.Errors["mode"] = err.Error()
		p.Problem = "Choose what happens to rows with problems."
		s.render(w, r, http.StatusUnprocessableEntity, "volunteer_import.html", p)
		return
	}
	layout := setting.DateFormats[r.PostFormValue("date_format")]
	if layout == "" {
		layout = "2006-01-02"
	}
	dry := r.PostFormValue("action") != "import"
	var rejects bytes.Buffer
	res, err := registry.Import(r.Context(), s.DB, v.user.Actor(), bytes.NewReader(st.data), registry.ImportOptions{
		Mapping: mapping, DateFormats: []string{layout}, DefaultCallingCode: strings.TrimSpace(r.PostFormValue("calling_code")),
		Comma: separator(r.PostForm), Mode: mode, DryRun: dry, DuplicateReason: r.PostFormValue("duplicate_reason"), Rejects: &rejects})
	var fileErr *volunteer.FileError
	if err != nil && !errors.As(err, &fileErr) {
		s.formProblem(w, r, "volunteer_import.html", p, err)
		return
	}
	data.Result, data.Checked, data.Imported = &res, dry, !dry && err == nil && res.Imported > 0
	status := http.StatusOK
	switch {
	case fileErr != nil:
		p.Problem = "The file cannot be imported as it is; nothing was stored. Fix the problems below and upload it again."
		status = http.StatusUnprocessableEntity
	case dry && res.Rejected > 0:
		p.Problem = "Checked: " + strconv.Itoa(res.Rejected) + " of " + strconv.Itoa(res.Rows) + " rows have problems. Nothing was stored."
	case dry:
		p.Notice = "Checked: all " + strconv.Itoa(res.Rows) + " rows can be imported. Nothing was stored yet."
	case mode == registry.AllOrNothing && res.Rejected > 0:
		p.Problem = strconv.Itoa(res.Rejected) + " of " + strconv.Itoa(res.Rows) + " rows have problems, so nothing was stored (all or nothing)."
		status = http.StatusUnprocessableEntity
	default:
		p.Notice = "Volunteers imported: " + strconv.Itoa(res.Imported) + "."
		if res.Rejected > 0 {
			p.Notice += " Rows with problems were not imported (" + strconv.Itoa(res.Rejected) + "); download them, fix them and import them again."
			s.volunteerImports.mu.Lock()
			st.rejects = rejects.Bytes()
			s.volunteerImports.mu.Unlock()
			data.HasRejects = true
		}
	}
	s.render(w, r, status, "volunteer_import.html", p)
}

func (s *Server) volunteerImportRejects(w http.ResponseWriter, r *http.Request) {
	st, ok := s.volunteerImports.get(r.URL.Query().Get("token"), visitOf(r).user.ID)
	if !ok || st.rejects == nil {
		s.notFound(w, r)
		return
	}
	name := strings.TrimSuffix(st.name, ".csv") + "-rejected.csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(st.rejects)
}
