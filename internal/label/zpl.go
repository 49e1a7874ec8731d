package label

import (
	"bytes"
	"fmt"
	"strings"
)

// RenderZPL writes the ZPL II a Zebra printer prints the label from, one
// label per call. Positions and sizes are in the printer's dots; field data
// that contains ZPL's command characters is hex-escaped, so no value of a
// print job can end the label early or send the printer a command.
func RenderZPL(t Template, d Data) ([]byte, error) {
	p, err := layout(t, d)
	if err != nil {
		return nil, fmt.Errorf("render label ZPL: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("^XA\n")
	// UTF-8 field data, so that ° and µ print as they do in the preview.
	b.WriteString("^CI28\n")
	fmt.Fprintf(&b, "^PW%d\n^LL%d\n^LH0,0\n", p.size.X, p.size.Y)
	for _, m := range p.marks {
		fmt.Fprintf(&b, "^FO%d,%d", m.at.X, m.at.Y)
		switch m.kind {
		case markText:
			// Font 0 is the printer's scalable font; width equal to height
			// keeps its own proportions, which are narrower than the
			// preview font's, so text that fits the preview fits the print.
			fmt.Fprintf(&b, "^A0%s,%d,%d", zplOrientation(m.rotation), m.fontDots, m.fontDots)
			data := m.text
			if m.centre > 0 {
				fmt.Fprintf(&b, "^FB%d,1,0,C,0", m.centre)
				// In a field block a backslash starts an escape.
				data = strings.ReplaceAll(data, `\`, `\\`)
			}
			b.WriteString(zplFieldData(data))
		case markBarcode:
			switch m.symbology {
			case Code128:
				// Mode A lets the printer choose subsets, as the preview's
				// encoder does, and takes '>' as data rather than as a
				// subset invocation. The human-readable line is a text
				// mark of its own, drawn like the preview's.
				fmt.Fprintf(&b, "^BY%d^BCN,%d,N,N,N,A", m.module, m.barHeight)
				b.WriteString(zplFieldData(m.symbol.Content()))
			case DataMatrix:
				// Rows and columns are fixed to the preview's symbol so the
				// print has the same size; the escape character is set
				// because firmware versions default to different ones, and
				// doubled in the data so it stays data.
				side := m.symbol.Bounds().Dx()
				dims := ","
				if side <= 48 {
					dims = fmt.Sprintf("%d,%d", side, side)
				}
				fmt.Fprintf(&b, "^BXN,%d,200,%s,,_", m.module, dims)
				b.WriteString(zplFieldData(strings.ReplaceAll(m.symbol.Content(), "_", "__")))
			case QR:
				// Model 2, error correction M, mask chosen by the printer;
				// the data's "MA," prefix repeats the level and asks for
				// automatic input mode.
				fmt.Fprintf(&b, "^BQN,2,%d,M,7", m.module)
				b.WriteString(zplFieldData("MA," + m.symbol.Content()))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("^XZ\n")
	return b.Bytes(), nil
}

// zplOrientation is ZPL's letter for a clockwise rotation.
func zplOrientation(rotation int) string {
	switch rotation {
	case 90:
		return "R"
	case 180:
		return "I"
	case 270:
		return "B"
	}
	return "N"
}

// zplFieldData writes s as a field's data. A caret or tilde in data would
// start a ZPL command, so when s has one the field is marked with ^FH and
// both, and the underscore that then introduces hex codes, are written as
// hex codes.
func zplFieldData(s string) string {
	if !strings.ContainsAny(s, "^~") {
		return "^FD" + s + "^FS"
	}
	r := strings.NewReplacer("_", "_5F", "^", "_5E", "~", "_7E")
	return "^FH_^FD" + r.Replace(s) + "^FS"
}
