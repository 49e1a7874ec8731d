package label

import "slices"

// Kinds returns the kinds a field can have, in the order editors offer them.
func Kinds() []Kind { return []Kind{KindText, KindBarcode} }

// DataBindings returns the values a print job supplies, in the order they
// are listed to users.
func DataBindings() []Binding { return slices.Clone(dataBindings) }

// Bindings returns every binding a field can use: the print job's values,
// then free text.
func Bindings() []Binding { return append(DataBindings(), BindFreeText) }

// Symbologies returns the barcode standards a barcode field can use.
func Symbologies() []Symbology { return []Symbology{Code128, DataMatrix, QR} }

// DPIs returns the printer resolutions a template can name.
func DPIs() []int { return slices.Clone(allowedDPI) }

// Rotations returns the clockwise turns, in degrees, a text field can have.
func Rotations() []int { return []int{0, 90, 180, 270} }
