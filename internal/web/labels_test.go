package web_test

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"

	"github.com/cohort-clinical/cohort/internal/label"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/store/storetest"
	"github.com/cohort-clinical/cohort/internal/web"
)

// barcodeArea is where a scanner aimed at a template's barcode field looks:
// the field's box with its quiet zone (10 modules each side for Code 128,
// one around a DataMatrix), in printer dots.
func labelBarcodeArea(t label.Template, f label.Field) image.Rectangle {
	dots := func(mm float64) int { return int(math.Round(mm * float64(t.DPI) / 25.4)) }
	box := image.Rect(dots(f.XMM), dots(f.YMM), dots(f.XMM+f.WidthMM), dots(f.YMM+f.HeightMM))
	q := dots(f.ModuleMM)
	if f.Symbology == label.Code128 {
		return image.Rect(box.Min.X-10*q, box.Min.Y, box.Max.X+10*q, box.Max.Y)
	}
	return box.Inset(-q)
}

// scanPreview fetches a template's preview PNG and decodes its barcode, as
// internal/label's tests decode the rendered image.
func scanLabelPreview(t *testing.T, f *fixture, cookie *http.Cookie, tpl label.Template, field int, query string) string {
	t.Helper()
	rec := f.do("GET", "/labels/"+tpl.Code+"/preview.png?"+query, cookie, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("preview of %s: %d %s %s", tpl.Code, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("preview of %s is not a PNG: %v", tpl.Code, err)
	}
	wantSize := image.Pt(int(math.Round(tpl.WidthMM*float64(tpl.DPI)/25.4)), int(math.Round(tpl.HeightMM*float64(tpl.DPI)/25.4)))
	if img.Bounds().Size() != wantSize {
		t.Errorf("preview of %s is %v dots, want %v", tpl.Code, img.Bounds().Size(), wantSize)
	}
	fld := tpl.Fields[field]
	crop := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(labelBarcodeArea(tpl, fld))
	bmp, err := gozxing.NewBinaryBitmapFromImage(crop)
	if err != nil {
		t.Fatal(err)
	}
	var reader gozxing.Reader = oned.NewCode128Reader()
	if fld.Symbology == label.DataMatrix {
		reader = datamatrix.NewDataMatrixReader()
	}
	res, err := reader.Decode(bmp, nil)
	if err != nil {
		t.Fatalf("scan the %s barcode of %s's preview: %v", fld.Symbology, tpl.Code, err)
	}
	return res.GetText()
}

func TestLabelPreviewScansWithTheSampleValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// A pharmacist sees configuration but may not change it.
		cookie, _ := f.session(t, f.userIDs["pharmacist"])
		pk, crf := label.DemoTemplates()[0], label.DemoTemplates()[1]

		got := scanLabelPreview(t, f, cookie, pk, 2, "subject_number=2002&time_point=T1H&sample_type=PD&tube_number=07")
		if want := "2002-T1H-PD-07"; got != want {
			t.Errorf("PK tube barcode with typed values: decoded %q, want %q", got, want)
		}
		// Without typed values the preview uses the example print job.
		if got := scanLabelPreview(t, f, cookie, crf, 0, ""); got != "STUDY01-1001-T0.5H" {
			t.Errorf("CRF DataMatrix with example values: decoded %q", got)
		}

		page := f.do("GET", "/labels/PK-TUBE-50X25?subject_number=2002", cookie, nil).Body.String()
		for _, want := range []string{`id="preview"`, `/labels/PK-TUBE-50X25/preview.png?`, `subject_number=2002`, `id="label-fields-read"`} {
			if !strings.Contains(page, want) {
				t.Errorf("template page lacks %s", want)
			}
		}
		if strings.Contains(page, `id="label-form"`) || strings.Contains(page, `id="deactivate"`) {
			t.Error("a user without config.manage is offered the editor")
		}
	})
}

func TestLabelDownloads(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, _ := f.session(t, f.userIDs["qa"])

	rec := f.do("GET", "/labels/PK-TUBE-50X25/label.zpl?subject_number=3003", cookie, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename=PK-TUBE-50X25.zpl` {
		t.Fatalf("ZPL download: %d %v", rec.Code, rec.Header())
	}
	if zpl := rec.Body.String(); !strings.HasPrefix(zpl, "^XA") || !strings.Contains(zpl, "3003-T0.5H-PK-03") || !strings.HasSuffix(zpl, "^XZ\n") {
		t.Fatalf("ZPL body:\n%s", zpl)
	}
	rec = f.do("GET", "/labels/CRF-VOL-100X50/preview.pdf", cookie, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline") || !bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")) {
		t.Fatalf("PDF preview: %d %v", rec.Code, rec.Header())
	}

	// A sample value longer than the field holds is refused with a sentence,
	// and the page says so instead of showing a broken image.
	rec = f.do("GET", "/labels/PK-TUBE-50X25/preview.png?subject_number=12345678901", cookie, nil)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "more than the 10 the field holds") {
		t.Fatalf("too long a sample value: %d %s", rec.Code, rec.Body.String())
	}
	page := f.do("GET", "/labels/PK-TUBE-50X25?subject_number=12345678901", cookie, nil).Body.String()
	if !strings.Contains(page, `id="preview-problem"`) || strings.Contains(page, `id="preview"`) {
		t.Fatal("the page shows a preview that cannot be drawn")
	}
	if rec := f.do("GET", "/labels/NOPE/preview.png", cookie, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("preview of an unknown template: %d", rec.Code)
	}
}

// labelSend serves a request built by the test.
func labelSend(f *fixture, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, r)
	return rec
}

// labelForm is the editor's form for a template, with the CSRF token.
func labelForm(tpl label.Template, csrf string) url.Values {
	form := web.TemplateForm(tpl)
	form.Set("csrf", csrf)
	return form
}

func TestLabelEditorRowsWithoutAndWithHtmx(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	cookie, csrf := f.session(t, f.userIDs["administrator"])
	tpl := label.DemoTemplates()[0]
	tpl.Code = "PK-COPY"

	// Without JavaScript the add button posts the whole form and gets the
	// whole page back with one more row, the typed values kept.
	form := labelForm(tpl, csrf)
	form.Set("fields[0].x_mm", "not a number")
	form.Set("op", "add")
	rec := f.do("POST", "/labels", cookie, form)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `<tbody id="field-6">`) || !strings.Contains(body, "<html") ||
		!strings.Contains(body, `value="not a number"`) {
		t.Fatalf("add a row without htmx: %d\n%s", rec.Code, body)
	}
	// htmx asks for the rows alone.
	req := func(form url.Values) *http.Request {
		r, _ := http.NewRequest("POST", "/labels", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("HX-Request", "true")
		r.Header.Set("HX-Target", "label-fields")
		r.AddCookie(cookie)
		return r
	}
	rec = labelSend(f, req(form))
	body = rec.Body.String()
	if rec.Code != http.StatusOK || strings.Contains(body, "<html") || !strings.HasPrefix(body, `<div id="label-fields">`) || !strings.Contains(body, `<tbody id="field-6">`) {
		t.Fatalf("add a row with htmx: %d\n%s", rec.Code, body)
	}
	// Removing the first row moves the others up.
	form.Del("op")
	form.Set("remove", "0")
	body = labelSend(f, req(form)).Body.String()
	if strings.Contains(body, `<tbody id="field-5">`) || !strings.Contains(body, `name="fields[0].name" value="subject"`) {
		t.Fatalf("remove the first row:\n%s", body)
	}
	if _, err := label.Get(t.Context(), db, "PK-COPY"); err == nil {
		t.Fatal("adding or removing a row saved the template")
	}
}

func TestLabelEditorSavesWithProblemsBesideTheirRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cookie, csrf := f.session(t, f.userIDs["administrator"])
		tpl := label.DemoTemplates()[0]
		tpl.Code = "PK-COPY"

		// A field moved off the label: the problem is shown beside its row,
		// on the input it is about, and nothing is saved.
		form := labelForm(tpl, csrf)
		form.Set("fields[4].x_mm", "40")
		form.Set("fields[1].max_chars", "ten")
		rec := f.do("POST", "/labels", cookie, form)
		body := rec.Body.String()
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("invalid template: %d", rec.Code)
		}
		for _, want := range []string{`id="e-fields-4"`, `Field &#34;tube&#34; ends at 55 mm from the left, past the label`,
			`id="f-fields-4-width_mm"`, `id="e-fields-1"`, `the maximum length, &#34;ten&#34;, is not a whole number.`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		if !strings.Contains(body, `name="fields[4].width_mm" value="15" aria-label="Field 5 width in mm" inputmode="decimal" aria-invalid="true" aria-describedby="e-fields-4"`) {
			t.Errorf("the width input of row 5 is not marked invalid:\n%s", body)
		}

		form.Set("fields[4].x_mm", "33")
		form.Set("fields[1].max_chars", "10")
		if rec := f.do("POST", "/labels", cookie, form); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/labels/PK-COPY?notice=created" {
			t.Fatalf("create: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}

		// An edit needs a reason; a stale version is refused.
		form = labelForm(tpl, csrf)
		form.Set("version", "1")
		form.Set("name", "PK tube copy")
		if rec := f.do("POST", "/labels/PK-COPY", cookie, form); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "reason for change") {
			t.Fatalf("edit without a reason: %d", rec.Code)
		}
		form.Set("reason", "clearer name")
		if rec := f.do("POST", "/labels/PK-COPY", cookie, form); rec.Code != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", rec.Code, rec.Body.String())
		}
		if rec := f.do("POST", "/labels/PK-COPY", cookie, form); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "after you opened it") {
			t.Fatalf("stale edit: %d", rec.Code)
		}

		// Deactivation needs a reason, keeps the template and can be undone.
		deact := url.Values{"csrf": {csrf}, "version": {"2"}}
		rec = f.do("POST", "/labels/PK-COPY/deactivate", cookie, deact)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `id="e-deactivate-reason"`) {
			t.Fatalf("deactivate without a reason: %d", rec.Code)
		}
		deact.Set("reason", "replaced by PK-TUBE-50X25")
		if rec := f.do("POST", "/labels/PK-COPY/deactivate", cookie, deact); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/labels?notice=deactivated" {
			t.Fatalf("deactivate: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if list := f.do("GET", "/labels", cookie, nil).Body.String(); strings.Contains(list, `id="label-PK-COPY"`) {
			t.Error("an inactive template is listed among active ones")
		}
		if list := f.do("GET", "/labels?inactive=1&q=copy", cookie, nil).Body.String(); !strings.Contains(list, `id="label-PK-COPY"`) || strings.Contains(list, `id="label-CRF-VOL-100X50"`) {
			t.Error("the search for inactive templates does not find just the copy")
		}
		page := f.do("GET", "/labels/PK-COPY", cookie, nil).Body.String()
		if strings.Contains(page, `id="label-form"`) || !strings.Contains(page, `id="reactivate"`) {
			t.Fatal("an inactive template is offered for editing, or not for reactivation")
		}
		react := url.Values{"csrf": {csrf}, "version": {"3"}, "reason": {"still needed"}}
		if rec := f.do("POST", "/labels/PK-COPY/reactivate", cookie, react); rec.Code != http.StatusSeeOther {
			t.Fatalf("reactivate: %d", rec.Code)
		}
		if got, _ := label.Get(t.Context(), db, "PK-COPY"); !got.Active || got.Template.Name != "PK tube copy" || got.Version != 4 {
			t.Fatalf("after the edits: %+v", got)
		}
	})
}
