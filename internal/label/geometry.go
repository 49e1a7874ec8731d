package label

import (
	"image"
	"math"
	"strconv"
)

// dots converts millimetres to printer dots at dpi, to the nearest dot.
func dots(mm float64, dpi int) int {
	return int(math.Round(mm * float64(dpi) / 25.4))
}

// millimetres converts printer dots back to millimetres, for messages.
func millimetres(d, dpi int) float64 {
	return float64(d) * 25.4 / float64(dpi)
}

// mm formats a length in millimetres for a message: at most two decimals,
// no trailing zeros.
func mm(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " mm"
}

// box returns a field's box in dots. Edges are converted one by one, rather
// than the origin and the size, so that fields that touch in millimetres
// touch in dots too.
func box(f Field, dpi int) image.Rectangle {
	return image.Rect(dots(f.XMM, dpi), dots(f.YMM, dpi), dots(f.XMM+f.WidthMM, dpi), dots(f.YMM+f.HeightMM, dpi))
}

// The preview font's cell: glyphs are 5 columns by 7 rows with one row below
// the baseline for descenders, and one blank column between characters.
const (
	fontRows    = 8
	fontAdvance = 6
	fontColumns = 5
)

// textWidth is the width in dots of n characters of the preview font at a
// character height of h dots. Font columns are placed at c*h/fontRows, so the
// width of a run is exact, not a sum of rounded glyph widths.
func textWidth(n, h int) int {
	if n <= 0 {
		return 0
	}
	return (fontAdvance*n - 1) * h / fontRows
}

// hrGap is the space between a barcode and its human-readable line.
func hrGap(fontDots int) int {
	return max(1, fontDots/4)
}

// minFontDots is the smallest character height ZPL's scalable font accepts.
const minFontDots = 10

// minBarMM is the smallest Code 128 bar height allowed. A hand scanner's beam
// has to cross every bar of a tube label held at an angle; 5 mm is the
// smallest height sample labels commonly use for that.
const minBarMM = 5

// maxZPLModuleDots is the largest module ^BY (Code 128) and ^BQ (QR) take.
const maxZPLModuleDots = 10

// maxCode128Chars is the longest content the Code 128 encoder takes.
const maxCode128Chars = 80

// quietModules is the blank margin a symbology needs on each side, in
// modules: 10 for Code 128 (ISO/IEC 15417), 4 for QR (ISO/IEC 18004) and 1
// for DataMatrix (ISO/IEC 16022).
func quietModules(s Symbology) int {
	switch s {
	case Code128:
		return 10
	case QR:
		return 4
	default:
		return 1
	}
}

// code128WorstModules is the widest a Code 128 of n characters can be, in
// modules: every character in subset B (11 modules) plus start, check
// character and stop. Digit runs packed into subset C only make it narrower,
// so this bounds whatever subsets the encoder or the printer chooses.
func code128WorstModules(n int) int {
	return 11*n + 11 + 11 + 13
}

// dataMatrixSizes are the square ECC 200 symbols with their data capacity in
// codewords (ISO/IEC 16022, table 7).
var dataMatrixSizes = []struct{ side, codewords int }{
	{10, 3}, {12, 5}, {14, 8}, {16, 12}, {18, 18}, {20, 22}, {22, 30}, {24, 36},
	{26, 44}, {32, 62}, {36, 86}, {40, 114}, {44, 144}, {48, 174}, {52, 204},
	{64, 280}, {72, 368}, {80, 456}, {88, 576}, {96, 696}, {104, 816},
	{120, 1050}, {132, 1304}, {144, 1558},
}

// dataMatrixWorstSide is the side, in modules, of the largest DataMatrix n
// printable ASCII characters can need: ASCII encodation spends at most one
// codeword per character. It is 0 when no symbol holds n characters.
func dataMatrixWorstSide(n int) int {
	for _, s := range dataMatrixSizes {
		if s.codewords >= n {
			return s.side
		}
	}
	return 0
}

// qrByteCapacityM is how many bytes QR versions 1 to 10 hold at error
// correction level M (ISO/IEC 18004, table 7). Label content stays far below
// version 10; larger symbols belong on a document, not a tube.
var qrByteCapacityM = []int{14, 26, 42, 62, 84, 106, 122, 152, 180, 213}

// qrWorstSide is the side, in modules, of the largest QR symbol n printable
// ASCII characters can need, assuming byte mode. It is 0 when n is beyond
// version 10.
func qrWorstSide(n int) int {
	for i, c := range qrByteCapacityM {
		if c >= n {
			return 17 + 4*(i+1)
		}
	}
	return 0
}

// symbologyName is a symbology's name as users know it.
func symbologyName(s Symbology) string {
	switch s {
	case Code128:
		return "Code 128"
	case DataMatrix:
		return "DataMatrix"
	case QR:
		return "QR code"
	}
	return string(s)
}
