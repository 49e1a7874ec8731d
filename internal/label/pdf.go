package label

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"strconv"
	"strings"
	"unicode/utf16"
)

// RenderPDF returns a one-page PDF the exact size of the label showing the
// preview, for printers that are not Zebras and for attaching to records.
// The page holds the preview as an image at the printer's resolution,
// marked not to be smoothed, so that its barcodes still scan when printed.
func RenderPDF(t Template, d Data) ([]byte, error) {
	img, err := RenderImage(t, d)
	if err != nil {
		return nil, err
	}
	pdf, err := imagePDF(img, t.WidthMM, t.HeightMM, t.Name)
	if err != nil {
		return nil, fmt.Errorf("render label PDF %q: %w", t.Code, err)
	}
	return pdf, nil
}

// imagePDF writes a single-page PDF of widthMM × heightMM whose page is
// filled by img.
func imagePDF(img *image.Gray, widthMM, heightMM float64, title string) ([]byte, error) {
	b := img.Bounds()
	var pixels bytes.Buffer
	zw := zlib.NewWriter(&pixels)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		if _, err := zw.Write(row); err != nil {
			return nil, fmt.Errorf("compress image: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress image: %w", err)
	}

	w, h := points(widthMM), points(heightMM)
	page := fmt.Sprintf("%s 0 0 %s 0 0 cm\n/Im0 Do\n", w, h)
	objects := [][]byte{
		[]byte("<< /Type /Catalog /Pages 2 0 R >>"),
		[]byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
		fmt.Appendf(nil, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>", w, h),
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Interpolate false /Filter /FlateDecode",
			b.Dx(), b.Dy()), pixels.Bytes()),
		stream("", []byte("q\n"+page+"Q\n")),
		fmt.Appendf(nil, "<< /Title %s /Producer %s >>", pdfText(title), pdfText("cohort")),
	}

	var out bytes.Buffer
	// The comment of high bytes tells transfer tools the file is binary.
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n", i+1)
		out.Write(o)
		out.WriteString("\nendobj\n")
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n", len(objects)+1)
	// Each entry is exactly 20 bytes, ending in space and newline.
	out.WriteString("0000000000 65535 f \n")
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return out.Bytes(), nil
}

// stream writes a stream object with its dictionary entries and length.
func stream(dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("<< ")
	if dict != "" {
		b.WriteString(dict + " ")
	}
	fmt.Fprintf(&b, "/Length %d >>\nstream\n", len(data))
	b.Write(data)
	b.WriteString("\nendstream")
	return b.Bytes()
}

// points converts millimetres to PDF points (1/72 inch), to a thousandth.
func points(mm float64) string {
	s := strconv.FormatFloat(mm/25.4*72, 'f', 3, 64)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// pdfText writes s as a PDF text string in UTF-16BE, which holds any
// character a template's name can have, such as ×.
func pdfText(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}
