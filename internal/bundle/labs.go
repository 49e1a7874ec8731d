package bundle

import (
	"context"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/lab"
	"github.com/cohort-clinical/cohort/internal/store"
)

// labCategory carries labs, lab tests and panels, active and inactive,
// keyed "lab/CODE", "test/CODE" and "panel/CODE". A test carries its
// choices and its reference ranges, whose limits are decimal text ("" for
// the open side of a one-sided range); a panel names its tests by code, in
// order. On import labs come first, then tests, then panels, each checked
// by the lab package's own rules (a non-UCUM unit or overlapping ranges are
// refused). An item whose active flag differs from this instance's is
// ignored — an import never deactivates or reactivates — and so is an
// active panel that would list a test this instance keeps deactivated.
type labCategory struct{}

const (
	labKind      = "lab"
	labTestKind  = "test"
	labPanelKind = "panel"
)

type labFields struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Address       string `json:"address"`
	Accreditation string `json:"accreditation"`
	Active        bool   `json:"active"`
}

type labTestFields struct {
	Name          string                 `json:"name"`
	LOINC         string                 `json:"loinc"`
	Specimen      string                 `json:"specimen"`
	ResultType    string                 `json:"result_type"`
	Unit          string                 `json:"unit"`
	DecimalPlaces int                    `json:"decimal_places"`
	Choices       []string               `json:"choices"`
	Ranges        []referenceRangeFields `json:"ranges"`
	Active        bool                   `json:"active"`
}

// referenceRangeFields is one reference range; Low and High are decimal text,
// "" where the range is open.
type referenceRangeFields struct {
	Sex     string `json:"sex"`
	AgeFrom int    `json:"age_from"`
	AgeTo   int    `json:"age_to"`
	Low     string `json:"low"`
	High    string `json:"high"`
}

type labPanelFields struct {
	Name   string   `json:"name"`
	Tests  []string `json:"tests"`
	Active bool     `json:"active"`
}

func (labCategory) Name() string     { return "labs" }
func (labCategory) Promotable() bool { return true }

func (labCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
	var out []Record
	add := func(key string, fields any) error {
		rec, err := NewRecord(key, fields)
		out = append(out, rec)
		return err
	}
	labs, err := lab.ListLabs(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, l := range labs {
		if err := add(labKind+"/"+l.Code, labFields{Name: l.Name, Kind: string(l.Kind), Address: l.Address, Accreditation: l.Accreditation, Active: l.Active}); err != nil {
			return nil, err
		}
	}
	tests, err := lab.ListTests(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, t := range tests {
		ranges := []referenceRangeFields{}
		for _, r := range t.Ranges {
			f := referenceRangeFields{Sex: string(r.Sex), AgeFrom: r.AgeFrom, AgeTo: r.AgeTo}
			if r.Low != nil {
				f.Low = decimalText(*r.Low)
			}
			if r.High != nil {
				f.High = decimalText(*r.High)
			}
			ranges = append(ranges, f)
		}
		if err := add(labTestKind+"/"+t.Code, labTestFields{Name: t.Name, LOINC: t.LOINC, Specimen: string(t.Specimen),
			ResultType: string(t.ResultType), Unit: t.Unit, DecimalPlaces: t.DecimalPlaces, Choices: orEmpty(t.Choices),
			Ranges: ranges, Active: t.Active}); err != nil {
			return nil, err
		}
	}
	panels, err := lab.ListPanels(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, p := range panels {
		if err := add(labPanelKind+"/"+p.Code, labPanelFields{Name: p.Name, Tests: orEmpty(p.Tests), Active: p.Active}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (labCategory) Skip(ctx context.Context, q store.Querier, incoming []Record) (map[string]string, error) {
	here := map[string]bool{} // key → active, for what this instance has
	labs, err := lab.ListLabs(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, l := range labs {
		here[labKind+"/"+l.Code] = l.Active
	}
	tests, err := lab.ListTests(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, t := range tests {
		here[labTestKind+"/"+t.Code] = t.Active
	}
	panels, err := lab.ListPanels(ctx, q, "", true)
	if err != nil {
		return nil, err
	}
	for _, p := range panels {
		here[labPanelKind+"/"+p.Code] = p.Active
	}

	nouns := map[string]string{labKind: "lab", labTestKind: "lab test", labPanelKind: "panel"}
	skip := map[string]string{}
	// after is whether each test will be active once the import is done:
	// this instance's state for a test it has, the bundle's for a new one.
	after := map[string]bool{}
	for code, active := range here {
		if kind, c, _ := splitKey(code); kind == labTestKind {
			after[c] = active
		}
	}
	for _, rec := range incoming {
		kind, code, _ := splitKey(rec.Key)
		active, had := here[rec.Key]
		if had {
			if why := activeSkip(nouns[kind], active, activeField(rec)); why != "" {
				skip[rec.Key] = why
			}
		} else if kind == labTestKind {
			after[code] = activeField(rec)
		}
	}
	for _, rec := range incoming {
		kind, _, _ := splitKey(rec.Key)
		if kind != labPanelKind || skip[rec.Key] != "" || !activeField(rec) {
			continue
		}
		list, _ := rec.Fields["tests"].([]any)
		for _, it := range list {
			code, _ := it.(string)
			if active, known := after[code]; known && !active {
				skip[rec.Key] = fmt.Sprintf("it lists lab test %s, which is deactivated in this instance: an active panel orders active tests only", code)
				break
			}
		}
	}
	return skip, nil
}

func (labCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
	// Labs, then tests, then the panels that list the tests.
	for _, pass := range []string{labKind, labTestKind, labPanelKind} {
		for _, rec := range records {
			kind, code, ok := splitKey(rec.Key)
			if !ok || (kind != labKind && kind != labTestKind && kind != labPanelKind) {
				return recordError("labs", rec.Key, fmt.Errorf("its key is not lab/CODE, test/CODE or panel/CODE"))
			}
			if kind != pass {
				continue
			}
			var err error
			switch kind {
			case labKind:
				err = applyLab(ctx, tx, by, reason, code, rec)
			case labTestKind:
				err = applyLabTest(ctx, tx, by, reason, code, rec)
			case labPanelKind:
				err = applyLabPanel(ctx, tx, by, reason, code, rec)
			}
			if err != nil {
				return recordError("labs", rec.Key, err)
			}
		}
	}
	return nil
}

func applyLab(ctx context.Context, tx *store.Tx, by audit.Actor, reason, code string, rec Record) error {
	var f labFields
	if err := rec.Decode(&f); err != nil {
		return err
	}
	l := lab.Lab{Code: code, Name: f.Name, Kind: lab.Kind(f.Kind), Address: f.Address, Accreditation: f.Accreditation}
	return lab.ImportLab(ctx, tx, by, l, f.Active, reason)
}

func applyLabTest(ctx context.Context, tx *store.Tx, by audit.Actor, reason, code string, rec Record) error {
	var f labTestFields
	if err := rec.Decode(&f); err != nil {
		return err
	}
	t := lab.Test{Code: code, Name: f.Name, LOINC: f.LOINC, Specimen: lab.Specimen(f.Specimen), ResultType: lab.ResultType(f.ResultType),
		Unit: f.Unit, DecimalPlaces: f.DecimalPlaces, Choices: f.Choices}
	for i, r := range f.Ranges {
		rr := lab.ReferenceRange{Sex: lab.Sex(r.Sex), AgeFrom: r.AgeFrom, AgeTo: r.AgeTo}
		for _, limit := range []struct {
			name, text string
			dst        **float64
		}{{"low", r.Low, &rr.Low}, {"high", r.High, &rr.High}} {
			if limit.text == "" {
				continue
			}
			v, err := parseDecimal(fmt.Sprintf("ranges[%d].%s", i, limit.name), limit.text, false)
			if err != nil {
				return err
			}
			*limit.dst = &v
		}
		t.Ranges = append(t.Ranges, rr)
	}
	return lab.ImportTest(ctx, tx, by, t, f.Active, reason)
}

func applyLabPanel(ctx context.Context, tx *store.Tx, by audit.Actor, reason, code string, rec Record) error {
	var f labPanelFields
	if err := rec.Decode(&f); err != nil {
		return err
	}
	return lab.ImportPanel(ctx, tx, by, lab.Panel{Code: code, Name: f.Name, Tests: f.Tests}, f.Active, reason)
}
