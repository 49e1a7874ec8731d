package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/label"
)

// labelPreview is the preview part of a stored template's page: the sample
// values it is drawn with and the addresses of its renderings.
type labelPreview struct {
	Sample        []sampleValue
	PNG, PDF, ZPL string
	// Problem says why the sample values cannot be printed; the image is
	// not shown then.
	Problem string
}

// sampleValue is one print job value of the preview form.
type sampleValue struct {
	Binding, Label, Value string
}

// sampleData is the print job a preview draws: label.ExampleData, with the
// values the user typed on the page instead where there are any.
func sampleData(q url.Values) label.Data {
	d := label.ExampleData()
	for _, b := range label.DataBindings() {
		if q.Has(string(b)) {
			d[b] = q.Get(string(b))
		}
	}
	return d
}

func newLabelPreview(st label.Stored, q url.Values) *labelPreview {
	d := sampleData(q)
	pv := &labelPreview{}
	values := url.Values{}
	for _, b := range label.DataBindings() {
		values.Set(string(b), d[b])
		name := strings.ReplaceAll(string(b), "_", " ")
		pv.Sample = append(pv.Sample, sampleValue{Binding: string(b), Label: strings.ToUpper(name[:1]) + name[1:], Value: d[b]})
	}
	base, query := labelPath(st.Template.Code), "?"+values.Encode()
	pv.PNG, pv.PDF, pv.ZPL = base+"/preview.png"+query, base+"/preview.pdf"+query, base+"/label.zpl"+query
	// ZPL is the cheapest rendering and fails exactly when the others do.
	if _, err := label.RenderZPL(st.Template, d); err != nil {
		pv.Problem = previewProblem(err)
	}
	return pv
}

// previewProblem turns a rendering error into a sentence for the user,
// leaving out which renderer failed.
func previewProblem(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	return "The label cannot be drawn with these sample values: " + strings.TrimSuffix(err.Error(), ".") + "."
}

// labelRendering serves one rendering of a stored template with the sample
// values in the query: as a file named after the template when disposition
// is set.
func (s *Server) labelRendering(render func(label.Template, label.Data) ([]byte, error), contentType, disposition, ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := label.Get(r.Context(), s.DB, r.PathValue("code"))
		if errors.Is(err, check.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := render(st.Template, sampleData(r.URL.Query()))
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprintln(w, previewProblem(err))
			return
		}
		w.Header().Set("Content-Type", contentType)
		if disposition != "" {
			w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": st.Template.Code + ext}))
		}
		// A template changes under the same address; never show a stale one.
		w.Header().Set("Cache-Control", "no-store")
		w.Write(out)
	}
}
