package demo

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Labs are the demo clinic's laboratories: its own and a central lab.
var Labs = []lab.Lab{
	{Code: "AMS-LAB", Name: "Amsterdam Phase I Unit laboratory", Kind: lab.Local,
		Address: "Meibergdreef 9, 1105 AZ Amsterdam", Accreditation: "ISO 15189, RvA M123"},
	{Code: "CENTRAL", Name: "EuroCentral Clinical Laboratories", Kind: lab.Central,
		Address: "Sample reception, Industrieweg 40, 2712 LB Zoetermeer", Accreditation: "ISO 15189, CAP 7654321"},
}

func v(x float64) *float64 { return &x }

// adult is a range for both sexes from 18 with no upper age.
func adult(low, high *float64) []lab.ReferenceRange {
	return []lab.ReferenceRange{{Sex: lab.AnySex, AgeFrom: 18, Low: low, High: high}}
}

// bySex is a pair of adult ranges, one per sex.
func bySex(maleLow, maleHigh, femaleLow, femaleHigh *float64) []lab.ReferenceRange {
	return []lab.ReferenceRange{
		{Sex: lab.Male, AgeFrom: 18, Low: maleLow, High: maleHigh},
		{Sex: lab.Female, AgeFrom: 18, Low: femaleLow, High: femaleHigh},
	}
}

// withElderly is a pair of ranges per sex up to 65 and one for both sexes
// from 65, as many labs give for renal and haematology values.
func withElderly(maleLow, maleHigh, femaleLow, femaleHigh, oldLow, oldHigh *float64) []lab.ReferenceRange {
	return []lab.ReferenceRange{
		{Sex: lab.Male, AgeFrom: 18, AgeTo: 65, Low: maleLow, High: maleHigh},
		{Sex: lab.Female, AgeFrom: 18, AgeTo: 65, Low: femaleLow, High: femaleHigh},
		{Sex: lab.AnySex, AgeFrom: 65, Low: oldLow, High: oldHigh},
	}
}

func blood(code, name, loinc, unit string, decimals int, ranges []lab.ReferenceRange) lab.Test {
	return lab.Test{Code: code, Name: name, LOINC: loinc, Specimen: lab.WholeBlood, ResultType: lab.Numeric, Unit: unit, DecimalPlaces: decimals, Ranges: ranges}
}

func serum(code, name, loinc, unit string, decimals int, ranges []lab.ReferenceRange) lab.Test {
	return lab.Test{Code: code, Name: name, LOINC: loinc, Specimen: lab.Serum, ResultType: lab.Numeric, Unit: unit, DecimalPlaces: decimals, Ranges: ranges}
}

func dipstick(code, name, loinc string, choices ...string) lab.Test {
	return lab.Test{Code: code, Name: name, LOINC: loinc, Specimen: lab.Urine, ResultType: lab.Coded, Choices: choices}
}

var grades = []string{"Negative", "Trace", "1+", "2+", "3+"}

// LabTests are the demo's lab tests, with public LOINC codes, UCUM units
// and adult reference ranges of the kind a European lab reports.
var LabTests = []lab.Test{
	// Haematology.
	blood("HB", "Haemoglobin", "718-7", "g/dL", 1, withElderly(v(13.0), v(17.0), v(12.0), v(15.5), v(11.5), v(16.5))),
	blood("HCT", "Haematocrit", "4544-3", "L/L", 2, bySex(v(0.40), v(0.50), v(0.36), v(0.46))),
	blood("RBC", "Red blood cell count", "789-8", "10*12/L", 2, bySex(v(4.5), v(5.9), v(4.0), v(5.2))),
	blood("WBC", "White blood cell count", "6690-2", "10*9/L", 1, adult(v(4.0), v(10.0))),
	blood("PLT", "Platelet count", "777-3", "10*9/L", 0, adult(v(150), v(400))),
	blood("MCV", "Mean corpuscular volume", "787-2", "fL", 0, adult(v(80), v(100))),
	blood("MCH", "Mean corpuscular haemoglobin", "785-6", "pg", 1, adult(v(27), v(33))),
	blood("MCHC", "Mean corpuscular haemoglobin concentration", "786-4", "g/dL", 1, adult(v(32), v(36))),
	blood("NEUT", "Neutrophils", "751-8", "10*9/L", 2, adult(v(1.8), v(7.5))),
	blood("LYMPH", "Lymphocytes", "731-0", "10*9/L", 2, adult(v(1.0), v(4.0))),
	blood("MONO", "Monocytes", "742-7", "10*9/L", 2, adult(v(0.2), v(1.0))),
	blood("EOS", "Eosinophils", "711-2", "10*9/L", 2, adult(nil, v(0.5))),
	blood("BASO", "Basophils", "704-7", "10*9/L", 2, adult(nil, v(0.1))),
	// Clinical chemistry.
	serum("NA", "Sodium", "2951-2", "mmol/L", 0, adult(v(135), v(145))),
	serum("K", "Potassium", "2823-3", "mmol/L", 1, adult(v(3.5), v(5.1))),
	serum("CL", "Chloride", "2075-0", "mmol/L", 0, adult(v(98), v(107))),
	serum("CO2", "Bicarbonate (total CO2)", "2028-9", "mmol/L", 0, adult(v(22), v(29))),
	serum("UREA", "Urea", "22664-7", "mmol/L", 1, withElderly(v(2.5), v(7.8), v(2.5), v(7.8), v(3.0), v(9.2))),
	serum("CREAT", "Creatinine", "14682-9", "umol/L", 0, withElderly(v(62), v(106), v(44), v(80), v(50), v(115))),
	serum("GLUC", "Glucose (fasting)", "14749-6", "mmol/L", 1, adult(v(3.9), v(5.6))),
	serum("ALT", "Alanine aminotransferase (ALT)", "1742-6", "U/L", 0, bySex(nil, v(45), nil, v(35))),
	serum("AST", "Aspartate aminotransferase (AST)", "1920-8", "U/L", 0, bySex(nil, v(40), nil, v(32))),
	serum("ALP", "Alkaline phosphatase", "6768-6", "U/L", 0, adult(v(40), v(130))),
	serum("GGT", "Gamma-glutamyltransferase (GGT)", "2324-2", "U/L", 0, bySex(nil, v(60), nil, v(40))),
	serum("BILI", "Bilirubin, total", "14631-6", "umol/L", 0, adult(nil, v(21))),
	serum("ALB", "Albumin", "1751-7", "g/L", 0, adult(v(35), v(50))),
	serum("PROT", "Protein, total", "2885-2", "g/L", 0, adult(v(60), v(80))),
	serum("CK", "Creatine kinase", "2157-6", "U/L", 0, bySex(v(39), v(308), v(26), v(192))),
	serum("CRP", "C-reactive protein", "1988-5", "mg/L", 1, adult(nil, v(5))),
	serum("CA", "Calcium", "2000-8", "mmol/L", 2, adult(v(2.15), v(2.55))),
	// Urinalysis by dipstick.
	{Code: "U-PH", Name: "Urine pH", LOINC: "5803-2", Specimen: lab.Urine, ResultType: lab.Numeric, Unit: "[pH]", DecimalPlaces: 1, Ranges: adult(v(4.5), v(8.0))},
	{Code: "U-SG", Name: "Urine specific gravity", LOINC: "5811-5", Specimen: lab.Urine, ResultType: lab.Numeric, Unit: "1", DecimalPlaces: 3, Ranges: adult(v(1.005), v(1.030))},
	dipstick("U-PROT", "Urine protein", "20454-5", append(grades, "4+")...),
	dipstick("U-GLUC", "Urine glucose", "25428-4", append(grades, "4+")...),
	dipstick("U-BLOOD", "Urine blood", "5794-3", grades...),
	dipstick("U-KET", "Urine ketones", "2514-8", grades...),
	dipstick("U-LEUK", "Urine leukocyte esterase", "5799-2", grades...),
	dipstick("U-NIT", "Urine nitrite", "5802-4", "Negative", "Positive"),
}

// Panels are the demo's panels, in the order results are entered.
var Panels = []lab.Panel{
	{Code: "HAEM", Name: "Haematology", Tests: []string{"HB", "HCT", "RBC", "WBC", "PLT", "MCV", "MCH", "MCHC", "NEUT", "LYMPH", "MONO", "EOS", "BASO"}},
	{Code: "CHEM", Name: "Clinical chemistry", Tests: []string{"NA", "K", "CL", "CO2", "UREA", "CREAT", "GLUC", "ALT", "AST", "ALP", "GGT", "BILI", "ALB", "PROT", "CK", "CRP", "CA"}},
	{Code: "UA", Name: "Urinalysis (dipstick)", Tests: []string{"U-PH", "U-SG", "U-PROT", "U-GLUC", "U-BLOOD", "U-KET", "U-LEUK", "U-NIT"}},
}

// seedLabs stores the demo labs, lab tests and panels.
func seedLabs(ctx context.Context, db *store.DB) error {
	for _, l := range Labs {
		if _, err := lab.CreateLab(ctx, db, audit.System, l); err != nil {
			return fmt.Errorf("seed demo lab %s: %w", l.Code, err)
		}
	}
	for _, t := range LabTests {
		if _, err := lab.CreateTest(ctx, db, audit.System, t); err != nil {
			return fmt.Errorf("seed demo lab test %s: %w", t.Code, err)
		}
	}
	for _, p := range Panels {
		if _, err := lab.CreatePanel(ctx, db, audit.System, p); err != nil {
			return fmt.Errorf("seed demo panel %s: %w", p.Code, err)
		}
	}
	return nil
}
