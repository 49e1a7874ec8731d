package label

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// RenderImage draws the label a print job would print, at the printer's
// resolution: one pixel per printer dot, black on white. Bars and cells are
// whole dots, as on the print head, so the barcodes in the image scan.
func RenderImage(t Template, d Data) (*image.Gray, error) {
	p, err := layout(t, d)
	if err != nil {
		return nil, fmt.Errorf("render label preview: %w", err)
	}
	return p.draw(), nil
}

// RenderPNG is RenderImage encoded as PNG. The PNG records the printer's
// resolution, so that viewers and print dialogs show it at the label's real
// size.
func RenderPNG(t Template, d Data) ([]byte, error) {
	img, err := RenderImage(t, d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("render label preview %q: encode PNG: %w", t.Code, err)
	}
	return withPixelDensity(buf.Bytes(), t.DPI)
}

// draw paints the plan's marks on a white label.
func (p *plan) draw() *image.Gray {
	img := image.NewGray(image.Rectangle{Max: p.size})
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, m := range p.marks {
		switch m.kind {
		case markText:
			drawText(img, m)
		case markBarcode:
			drawBarcode(img, m)
		}
	}
	return img
}

// drawText paints a text mark, turned clockwise by its rotation about its
// bounding box's top-left corner, as ZPL places rotated fields at ^FO.
func drawText(img *image.Gray, m mark) {
	mask, w := rasterText(m.text, m.fontDots)
	h := m.fontDots
	at := m.at
	if m.centre > 0 {
		at.X += (m.centre - w) / 2
	}
	sz := m.textSize()
	for j := range sz.Y {
		for i := range sz.X {
			var u, v int // the pixel in the unrotated run
			switch m.rotation {
			case 90:
				u, v = j, h-1-i
			case 180:
				u, v = w-1-i, h-1-j
			case 270:
				u, v = w-1-j, i
			default:
				u, v = i, j
			}
			if mask[v*w+u] {
				img.SetGray(at.X+i, at.Y+j, color.Gray{})
			}
		}
	}
}

// drawBarcode paints a symbol with every module a square (or, for Code 128,
// a bar) of whole dots.
func drawBarcode(img *image.Gray, m mark) {
	b := m.symbol.Bounds()
	black := image.NewUniform(color.Gray{})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if !dark(m.symbol.At(x, y)) {
				continue
			}
			cell := image.Rect(0, 0, m.module, m.module)
			if m.symbology == Code128 {
				cell.Max.Y = m.barHeight
			}
			cell = cell.Add(m.at).Add(image.Pt((x-b.Min.X)*m.module, (y-b.Min.Y)*m.module))
			draw.Draw(img, cell, black, image.Point{}, draw.Src)
		}
	}
}

// withPixelDensity inserts a pHYs chunk after a PNG's header chunk. Go's
// encoder writes none, and without it the preview has no physical size.
func withPixelDensity(pngData []byte, dpi int) ([]byte, error) {
	// Signature (8 bytes), then IHDR: length (4), type (4), 13 bytes of
	// data, CRC (4).
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	if len(pngData) < ihdrEnd || string(pngData[12:16]) != "IHDR" {
		return nil, fmt.Errorf("add pixel density to PNG: the encoder's output does not start with IHDR")
	}
	perMetre := uint32(float64(dpi)/0.0254 + 0.5)
	chunk := make([]byte, 0, 21)
	chunk = binary.BigEndian.AppendUint32(chunk, 9)
	chunk = append(chunk, "pHYs"...)
	chunk = binary.BigEndian.AppendUint32(chunk, perMetre)
	chunk = binary.BigEndian.AppendUint32(chunk, perMetre)
	chunk = append(chunk, 1) // unit: metre
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))

	out := make([]byte, 0, len(pngData)+len(chunk))
	out = append(out, pngData[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, pngData[ihdrEnd:]...), nil
}
