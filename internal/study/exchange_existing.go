package study

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// nothingToImport is the finding for a file with neither a Study nor
// clinical data for a study of the instance.
var nothingToImport = odm.Diagnostic{Severity: odm.Error, Code: odm.CodeMissingElement,
	Message: "The file has no Study and no ClinicalData for a study of this instance, so there is nothing to import."}

// planExisting plans the import of a Study the instance already has. Its
// design stays as stored: published designs are immutable, and cohort keeps
// one design version (MetaDataVersion) per study, whose forms are chosen
// library versions. So the file's (first) MetaDataVersion must be the
// stored one, with the same content (info: nothing to do); the same OID
// with other content, or another OID, is an error that says why. The study's clinical
// data in the file is then appended (see storeClinical).
func planExisting(ctx context.Context, db store.Querier, s Study, st *odm.Study, rep *ImportReport) *plannedStudy {
	p := &plannedStudy{study: s, id: s.ID, existing: true}
	if s.OID != st.OID {
		rep.add(odm.Diagnostic{OID: st.OID, Severity: odm.Error, Code: odm.CodeDuplicate,
			Message: fmt.Sprintf("The file's study %s would get study code %s, which study %s of this instance already has.", st.OID, s.Code, s.OID)})
		return p
	}
	stored, _, err := ODMStudy(ctx, db, s.Code)
	if err != nil {
		rep.add(odm.Diagnostic{OID: st.OID, Severity: odm.Error, Code: odm.CodeBadValue,
			Message: fmt.Sprintf("The design of study %s cannot be read to compare it with the file: %v", s.Code, err)})
		return p
	}
	var have *odm.MetaDataVersion
	if len(stored.MetaDataVersions) > 0 {
		have = stored.MetaDataVersions[0]
		p.mdv = have.OID
	}
	for i, m := range st.MetaDataVersions {
		if i > 0 {
			// As for a new study: only the first version of a file is
			// imported, so that the same file imports the same way twice.
			rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Warning, Code: odm.CodeNotKept,
				Message: fmt.Sprintf("Study %s has more than one MetaDataVersion; only the first (%s) is compared with the stored design, not %s.", st.OID, st.MetaDataVersions[0].OID, m.OID)})
			continue
		}
		switch {
		case have == nil:
			rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Error, Code: odm.CodeDuplicate,
				Message: fmt.Sprintf("Study %s already exists in this instance without a design; design it in cohort, or import design version %s into an instance without the study.", s.Code, m.OID)})
		case m.OID != have.OID:
			rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Error, Code: odm.CodeDuplicate,
				Message: fmt.Sprintf("Study %s already has design version %s; cohort keeps one design version per study (its forms are chosen library versions), so version %s cannot be added by import. Amend the study's forms in the library instead.",
					s.Code, have.OID, m.OID)})
		case sameDesign(m, unitsOf(st), have, unitsOf(stored)):
			rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Info, Code: odm.CodeDuplicate,
				Message: fmt.Sprintf("Study %s already has design version %s with the same content; the design is left as it is.", s.Code, m.OID)})
		default:
			rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Error, Code: odm.CodeDuplicate,
				Message: fmt.Sprintf("Study %s already has design version %s with different content; a published design version never changes, so the file's version %s cannot be imported. Give the changed design a new MetaDataVersion OID in a new study, or amend the forms in the library.",
					s.Code, m.OID, m.OID)})
		}
	}
	return p
}

func unitsOf(st *odm.Study) []*odm.MeasurementUnit {
	if st.BasicDefinitions == nil {
		return nil
	}
	return st.BasicDefinitions.MeasurementUnits
}

// sameDesign compares two design versions as cohort stores them: events and
// forms in order, the definitions they use in any order.
func sameDesign(a *odm.MetaDataVersion, ua []*odm.MeasurementUnit, b *odm.MetaDataVersion, ub []*odm.MeasurementUnit) bool {
	ka, kb := designKey(a, ua), designKey(b, ub)
	return ka != nil && bytes.Equal(ka, kb)
}

// designKey is the canonical JSON of a design version and its units, with
// the definitions forms use sorted by OID.
func designKey(m *odm.MetaDataVersion, units []*odm.MeasurementUnit) []byte {
	v := *m
	v.ItemGroupDefs = sortedByOID(v.ItemGroupDefs, func(d *odm.ItemGroupDef) string { return d.OID })
	v.ItemDefs = sortedByOID(v.ItemDefs, func(d *odm.ItemDef) string { return d.OID })
	v.CodeLists = sortedByOID(v.CodeLists, func(d *odm.CodeList) string { return d.OID })
	v.MethodDefs = sortedByOID(v.MethodDefs, func(d *odm.MethodDef) string { return d.OID })
	v.ConditionDefs = sortedByOID(v.ConditionDefs, func(d *odm.ConditionDef) string { return d.OID })
	b, err := canonical(struct {
		M *odm.MetaDataVersion
		U []*odm.MeasurementUnit
	}{&v, sortedByOID(units, func(d *odm.MeasurementUnit) string { return d.OID })})
	if err != nil {
		return nil
	}
	return b
}

func sortedByOID[T any](defs []T, oid func(T) string) []T {
	out := slices.Clone(defs)
	slices.SortStableFunc(out, func(x, y T) int { return strings.Compare(oid(x), oid(y)) })
	return out
}
