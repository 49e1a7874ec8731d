// Package demodata carries dictionary releases for demo instances, so a
// prospect can code adverse events and medications without the clinic
// holding a MedDRA or WHODrug licence.
package demodata

import "embed"

// DemoFS holds one synthetic release of each dictionary in its exact
// distribution layout: meddra/27.1/ with the MedDRA ASCII .asc files and
// whodrug/GLOBALB3Mar26/ with WHODrug B3 DD.txt, DDA.txt, INA.txt and
// version.txt. The data is synthetic: every MedDRA and WHODrug code and
// every trade name is invented, and the terms are generic clinical words,
// so it is not, and must never be shown as, licensed dictionary content.
// (ATC groups are the public WHO classification.) Parse a folder with
// dictionary.ParseMedDRA(ctx, sub) after fs.Sub(DemoFS, "meddra/27.1").
//
//go:embed meddra whodrug
var DemoFS embed.FS
