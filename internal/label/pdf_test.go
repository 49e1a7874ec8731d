package label

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// pdfObjects returns the body of every object, found through the xref
// table, and checks each entry of the table points at "n 0 obj".
func pdfObjects(t *testing.T, pdf []byte) map[int][]byte {
	t.Helper()
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatalf("the PDF does not end with startxref and %%%%EOF")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	head := regexp.MustCompile(`^xref\n0 (\d+)\n`).FindSubmatch(pdf[xref:])
	if head == nil {
		t.Fatalf("the xref table has no subsection header")
	}
	count, _ := strconv.Atoi(string(head[1]))
	entries := pdf[xref+len(head[0]):]
	if len(entries) < 20*count {
		t.Fatalf("the xref table is cut short")
	}
	if got := string(entries[:20]); got != "0000000000 65535 f \n" {
		t.Errorf("xref entry 0 is %q, want the free list head", got)
	}
	trailer := entries[20*count:]
	if want := fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R", count); !bytes.HasPrefix(trailer, []byte(want)) {
		t.Errorf("the trailer starts %q, want %q", trailer[:min(len(trailer), 40)], want)
	}
	objects := map[int][]byte{}
	for n := 1; n < count; n++ {
		entry := string(entries[20*n : 20*n+20])
		var off, gen int
		var kind string
		if _, err := fmt.Sscanf(entry, "%010d %05d %1s", &off, &gen, &kind); err != nil || kind != "n" || entry[18:] != " \n" {
			t.Fatalf("xref entry %d is %q, want a 20-byte in-use entry", n, entry)
		}
		obj := fmt.Sprintf("%d 0 obj\n", n)
		if !bytes.HasPrefix(pdf[off:], []byte(obj)) {
			t.Fatalf("xref entry %d points at %q, want %q", n, pdf[off:min(len(pdf), off+12)], obj)
		}
		end := bytes.Index(pdf[off:], []byte("\nendobj\n"))
		if end < 0 {
			t.Fatalf("object %d has no endobj", n)
		}
		objects[n] = pdf[off+len(obj) : off+end]
	}
	return objects
}

// streamData returns a stream object's data, checking its /Length.
func streamData(t *testing.T, obj []byte) []byte {
	t.Helper()
	m := regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindSubmatchIndex(obj)
	if m == nil {
		t.Fatalf("object %q is not a stream", obj[:min(len(obj), 60)])
	}
	n, _ := strconv.Atoi(string(obj[m[2]:m[3]]))
	data := obj[m[1]:]
	if len(data) != n+len("\nendstream") || !bytes.HasSuffix(data, []byte("\nendstream")) {
		t.Fatalf("stream /Length %d does not end at endstream (%d bytes follow)", n, len(data))
	}
	return data[:n]
}

func TestPDFIsTheLabelPage(t *testing.T) {
	mediaBox := map[string]string{
		"PK-TUBE-50X25":  "/MediaBox [0 0 141.732 70.866]",
		"CRF-VOL-100X50": "/MediaBox [0 0 283.465 141.732]",
	}
	for _, tpl := range DemoTemplates() {
		pdf, err := RenderPDF(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) {
			t.Errorf("%s: no PDF header", tpl.Code)
		}
		objects := pdfObjects(t, pdf)
		if got := string(objects[1]); got != "<< /Type /Catalog /Pages 2 0 R >>" {
			t.Errorf("%s: object 1 is %q, want the catalog", tpl.Code, got)
		}
		if !bytes.Contains(objects[3], []byte(mediaBox[tpl.Code])) {
			t.Errorf("%s: page %q lacks %s", tpl.Code, objects[3], mediaBox[tpl.Code])
		}

		img, err := RenderImage(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		size := img.Bounds().Size()
		dict := fmt.Sprintf("/Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", size.X, size.Y)
		if !bytes.Contains(objects[4], []byte(dict)) {
			t.Errorf("%s: image object lacks %q", tpl.Code, dict)
		}
		zr, err := zlib.NewReader(bytes.NewReader(streamData(t, objects[4])))
		if err != nil {
			t.Fatalf("%s: image stream is not Flate data: %v", tpl.Code, err)
		}
		pixels, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: inflate image: %v", tpl.Code, err)
		}
		if !bytes.Equal(pixels, img.Pix) {
			t.Errorf("%s: the PDF's image (%d bytes) is not the preview (%d bytes)", tpl.Code, len(pixels), len(img.Pix))
		}
		page := map[string]string{"PK-TUBE-50X25": "141.732 0 0 70.866", "CRF-VOL-100X50": "283.465 0 0 141.732"}[tpl.Code]
		if got, want := string(streamData(t, objects[5])), "q\n"+page+" 0 0 cm\n/Im0 Do\nQ\n"; got != want {
			t.Errorf("%s: page content is %q, want the image scaled to the page, %q", tpl.Code, got, want)
		}
	}
}

func TestPDFRendersWithPoppler(t *testing.T) {
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	dir := t.TempDir()
	for _, tpl := range DemoTemplates() {
		pdf, err := RenderPDF(tpl, ExampleData())
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, tpl.Code+".pdf")
		if err := os.WriteFile(in, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, tpl.Code)
		if msg, err := exec.Command(pdftoppm, "-r", strconv.Itoa(tpl.DPI), "-gray", "-png", "-singlefile", in, out).CombinedOutput(); err != nil {
			t.Fatalf("%s: pdftoppm: %v\n%s", tpl.Code, err, msg)
		}
		f, err := os.Open(out + ".png")
		if err != nil {
			t.Fatal(err)
		}
		page, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: decode pdftoppm's page: %v", tpl.Code, err)
		}
		want := image.Pt(dots(tpl.WidthMM, tpl.DPI), dots(tpl.HeightMM, tpl.DPI))
		if d := page.Bounds().Size().Sub(want); d.X < -1 || d.X > 1 || d.Y < -1 || d.Y > 1 {
			t.Errorf("%s: poppler renders the page %v at %d dpi, want %v", tpl.Code, page.Bounds().Size(), tpl.DPI, want)
		}
		// The page as poppler draws it must still scan.
		grey := image.NewGray(page.Bounds())
		draw.Draw(grey, grey.Bounds(), page, page.Bounds().Min, draw.Src)
		for i, fld := range tpl.Fields {
			if fld.Kind != KindBarcode {
				continue
			}
			if got, want := scanField(t, tpl, ExampleData(), grey, i), map[string]string{
				"PK-TUBE-50X25": "1001-T0.5H-PK-03", "CRF-VOL-100X50": "STUDY01-1001-T0.5H",
			}[tpl.Code]; got != want {
				t.Errorf("%s: barcode on poppler's page decoded %q, want %q", tpl.Code, got, want)
			}
		}
	}
}
