package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/configlist"
	"github.com/cohort-clinical/cohort/internal/device"
	"github.com/cohort-clinical/cohort/internal/store"
)

// entries builds Configure list entries of one kind from code, label pairs.
func entries(kind string, pairs ...string) []configlist.Entry {
	out := make([]configlist.Entry, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, configlist.Entry{List: kind, Code: pairs[i], Label: pairs[i+1]})
	}
	return out
}

// ConfigureLists are the demo clinic's volunteer Configure lists, in the
// order each list shows them.
var ConfigureLists = concat(
	entries(configlist.MedicalHistory,
		"ASTHMA", "Asthma", "HAYFEVER", "Allergic rhinitis (hay fever)", "ECZEMA", "Atopic dermatitis (eczema)",
		"PSORIASIS", "Psoriasis", "MIGRAINE", "Migraine", "EPILEPSY", "Epilepsy",
		"HYPERTENSION", "Hypertension", "HYPERCHOL", "Hypercholesterolaemia", "T1DM", "Type 1 diabetes mellitus",
		"T2DM", "Type 2 diabetes mellitus", "HYPOTHYROID", "Hypothyroidism", "HYPERTHYROID", "Hyperthyroidism",
		"GERD", "Gastro-oesophageal reflux disease", "IBS", "Irritable bowel syndrome",
		"DEPRESSION", "Depression", "ANXIETY", "Generalised anxiety disorder",
		"HEPB", "Hepatitis B (resolved infection)", "DRUG-ALLERGY", "Drug allergy",
		"APPENDECTOMY", "Appendectomy", "TONSILLECTOMY", "Tonsillectomy", "FRACTURE", "Bone fracture"),
	entries(configlist.Medications,
		"PARACETAMOL", "Paracetamol (acetaminophen)", "IBUPROFEN", "Ibuprofen", "NAPROXEN", "Naproxen",
		"CETIRIZINE", "Cetirizine", "LORATADINE", "Loratadine", "SALBUTAMOL", "Salbutamol inhaler",
		"BUDESONIDE", "Budesonide inhaler", "OMEPRAZOLE", "Omeprazole", "LEVOTHYROXINE", "Levothyroxine",
		"METFORMIN", "Metformin", "LISINOPRIL", "Lisinopril", "AMLODIPINE", "Amlodipine",
		"ATORVASTATIN", "Atorvastatin", "SERTRALINE", "Sertraline", "CITALOPRAM", "Citalopram",
		"SUMATRIPTAN", "Sumatriptan", "COC", "Combined oral contraceptive", "MULTIVIT", "Multivitamin",
		"VITD", "Vitamin D (colecalciferol)", "STJOHNSWORT", "St John's wort (herbal)"),
	entries(configlist.SubstanceUse,
		"TOBACCO", "Tobacco smoking", "VAPING", "E-cigarettes / vaping", "NICOTINE-OTHER", "Other nicotine (patches, gum, snus)",
		"ALCOHOL", "Alcohol", "CAFFEINE", "Caffeine (coffee, tea, energy drinks)", "CANNABIS", "Cannabis",
		"RECREATIONAL", "Other recreational drugs"),
	entries(configlist.RecruitmentSource,
		"WEBSITE", "Unit website", "SEARCH", "Search engine", "SOCIAL", "Social media", "REFERRAL", "Friend or family member",
		"PREVIOUS", "Took part in an earlier study", "UNIVERSITY", "University campus", "FLYER", "Flyer or poster",
		"RADIO", "Radio advertisement", "NEWSPAPER", "Newspaper advertisement", "GP", "Referred by their GP"),
	entries(configlist.Ethnicity,
		"HISPANIC", "Hispanic or Latino", "NOT-HISPANIC", "Not Hispanic or Latino", "NOT-REPORTED", "Not reported", "UNKNOWN", "Unknown"),
	entries(configlist.Race,
		"AIAN", "American Indian or Alaska Native", "ASIAN", "Asian", "BLACK", "Black or African American",
		"NHPI", "Native Hawaiian or Other Pacific Islander", "WHITE", "White", "MULTIPLE", "More than one race",
		"OTHER", "Other", "NOT-REPORTED", "Not reported"),
	[]configlist.Entry{
		{List: configlist.Question, Code: "CONTACT-PREF", Label: "How would you like us to contact you about new studies?",
			AnswerType: configlist.AnswerChoice, Options: []string{"E-mail", "Phone call", "Text message", "Post"}},
		{List: configlist.Question, Code: "BLOOD-DONOR", Label: "Do you donate blood or plasma?",
			Description: "Blood donation within 3 months before dosing excludes a volunteer from most studies.", AnswerType: configlist.AnswerYesNo},
		{List: configlist.Question, Code: "GP", Label: "Name and practice of your general practitioner",
			Description: "The unit writes to the GP to confirm medical history.", AnswerType: configlist.AnswerText, PHI: true},
	},
)

func concat(lists ...[]configlist.Entry) []configlist.Entry {
	var out []configlist.Entry
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// retiredListEntries are demo entries deactivated after seeding, so the demo
// shows how a deactivated entry looks.
var retiredListEntries = map[string]string{configlist.RecruitmentSource + "/NEWSPAPER": "The unit no longer advertises in print."}

// DeviceTypes are the demo clinic's device types.
var DeviceTypes = []device.Type{
	{Code: "ECG", Name: "12-lead ECG recorder", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "VITALS", Name: "Vital-signs monitor", Description: "Blood pressure, pulse, SpO2.", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "SCALE", Name: "Body weight scale", CalibrationRequired: true, CalibrationIntervalDays: 180},
	{Code: "THERMO", Name: "Thermometer", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "PUMP", Name: "Infusion pump", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "SPIRO", Name: "Spirometer", CalibrationRequired: true, CalibrationIntervalDays: 180},
	{Code: "CENTRIFUGE", Name: "Refrigerated centrifuge", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "FREEZER", Name: "-80 °C freezer", Description: "Sample storage; temperature mapping counts as calibration.", CalibrationRequired: true, CalibrationIntervalDays: 365},
	{Code: "STADIOMETER", Name: "Stadiometer (height)", Description: "A fixed measuring rod; checked, not calibrated."},
}

// Device is a demo device whose calibration falls due DueInDays after the
// day the demo is seeded (negative: already lapsed), so a demo always shows
// devices due soon and one out of calibration, whenever it is made.
type Device struct {
	device.Device
	DueInDays int
}

// model is one make of device the demo clinic owns.
type model struct{ typeCode, tag, manufacturer, model, serial string }

var models = []model{
	{"ECG", "ECG", "GE Healthcare", "MAC 5500 HD", "SCD1"},
	{"ECG", "ECG", "Philips", "PageWriter TC70", "US5"},
	{"VITALS", "VSM", "Welch Allyn", "Connex Spot Monitor", "1000"},
	{"VITALS", "VSM", "Welch Allyn", "Connex Spot Monitor", "1000"},
	{"SCALE", "SCL", "seca", "704", "57"},
	{"THERMO", "THM", "Welch Allyn", "SureTemp Plus 690", "TP"},
	{"PUMP", "PMP", "B. Braun", "Infusomat Space", "BB"},
	{"SPIRO", "SPI", "ndd Medical", "EasyOne Air", "EA"},
	{"CENTRIFUGE", "CFG", "Eppendorf", "5810 R", "5811"},
	{"FREEZER", "FRZ", "Thermo Scientific", "TSX60086V", "TSX"},
	{"STADIOMETER", "STD", "seca", "217", "217"},
}

// Devices are the demo clinic's devices: the same equipment at every site,
// with due dates spread over the year and a few exceptions worth showing.
var Devices = func() []Device {
	var out []Device
	counter := map[string]int{}
	for si, st := range Sites {
		for mi, m := range models {
			counter[m.tag]++
			n := counter[m.tag]
			d := Device{Device: device.Device{
				AssetTag: fmt.Sprintf("%s-%04d", m.tag, n), SerialNumber: fmt.Sprintf("%s%06d", m.serial, 104729*(si+1)+7919*(mi+1)),
				Model: m.model, Manufacturer: m.manufacturer, TypeCode: m.typeCode, SiteCode: st.Code, Status: device.InService,
			}, DueInDays: 40 + (si*97+mi*53)%300}
			if m.typeCode == "STADIOMETER" {
				d.DueInDays = 0
			}
			out = append(out, d)
		}
	}
	at := func(tag string) *Device {
		for i := range out {
			if out[i].AssetTag == tag {
				return &out[i]
			}
		}
		panic("no demo device " + tag)
	}
	at("ECG-0001").DueInDays = 9
	at("VSM-0004").DueInDays = 21
	at("FRZ-0002").DueInDays = 14
	at("ECG-0003").DueInDays = -12
	at("ECG-0003").Notes = "Calibration visit booked; do not use until the engineer has been."
	out = append(out, Device{Device: device.Device{AssetTag: "SCL-0004", SerialNumber: "57000381", Model: "704",
		Manufacturer: "seca", TypeCode: "SCALE", SiteCode: "AMS", Status: device.Retired,
		Notes: "Replaced by SCL-0001 after the platform cracked."}, DueInDays: -200})
	at("PMP-0003").Status = device.OutOfService
	at("PMP-0003").Notes = "Occlusion alarm fault; with B. Braun for repair."
	return out
}()

// seedConfiguration adds the demo Configure lists, device types and
// devices. Devices need the demo sites.
func seedConfiguration(ctx context.Context, db *store.DB, today time.Time) error {
	for _, e := range ConfigureLists {
		created, err := configlist.Create(ctx, db, audit.System, e)
		if err != nil {
			return fmt.Errorf("seed demo %s entry %s: %w", e.List, e.Code, err)
		}
		if reason, ok := retiredListEntries[created.EntityID()]; ok {
			if err := configlist.Deactivate(ctx, db, audit.System, created.List, created.Code, created.Version, reason); err != nil {
				return fmt.Errorf("seed demo %s entry %s: %w", e.List, e.Code, err)
			}
		}
	}
	interval := map[string]int{}
	for _, t := range DeviceTypes {
		if _, err := device.CreateType(ctx, db, audit.System, t); err != nil {
			return fmt.Errorf("seed demo device type %s: %w", t.Code, err)
		}
		interval[t.Code] = t.CalibrationIntervalDays
	}
	for _, d := range Devices {
		dev := d.Device
		if days := interval[dev.TypeCode]; days > 0 {
			dev.CalibrationDue = today.AddDate(0, 0, d.DueInDays)
			dev.LastCalibrated = dev.CalibrationDue.AddDate(0, 0, -days)
		}
		if _, err := device.Create(ctx, db, audit.System, dev); err != nil {
			return fmt.Errorf("seed demo device %s: %w", dev.AssetTag, err)
		}
	}
	return nil
}
