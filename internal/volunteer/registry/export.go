package registry

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// ExportColumns are the columns of an export: the import's field names
// (volunteer.ImportFields), so an exported file maps back onto the import
// one to one.
func ExportColumns() []string { return volunteer.ImportFields() }

// exportCell returns field of v as an export cell: lists joined with ";",
// coded entries as the import reads them ("ASTHMA@2010; HTN").
func exportCell(v volunteer.Volunteer, field string) string {
	phones := func(kind volunteer.PhoneKind) string {
		var out []string
		for _, p := range v.Phones {
			if p.Kind == kind {
				out = append(out, p.Number)
			}
		}
		return strings.Join(out, "; ")
	}
	coded := func(es []volunteer.CodedEntry) string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.Code
			if !e.Start.IsZero() {
				out[i] += "@" + e.Start.ISO()
			}
		}
		return strings.Join(out, "; ")
	}
	switch field {
	case volunteer.FieldNumber:
		return v.Number
	case volunteer.FieldGivenName:
		return v.GivenName
	case volunteer.FieldFamilyName:
		return v.FamilyName
	case volunteer.FieldOtherNames:
		return v.OtherNames
	case volunteer.FieldBirthDate:
		return v.BirthDate.String()
	case volunteer.FieldSexAtBirth:
		return string(v.SexAtBirth)
	case volunteer.FieldGender:
		return string(v.Gender)
	case volunteer.FieldEthnicity:
		return v.Ethnicity
	case volunteer.FieldRaces:
		return strings.Join(v.Races, ";")
	case volunteer.ImportMobilePhone:
		return phones(volunteer.PhoneMobile)
	case volunteer.ImportHomePhone:
		return phones(volunteer.PhoneHome)
	case volunteer.ImportWorkPhone:
		return phones(volunteer.PhoneWork)
	case volunteer.ImportOtherPhone:
		return phones(volunteer.PhoneOther)
	case volunteer.FieldEmail:
		return v.Email
	case volunteer.FieldAddressLine1:
		return v.Address.Line1
	case volunteer.FieldAddressLine2:
		return v.Address.Line2
	case volunteer.FieldPostalCode:
		return v.Address.PostalCode
	case volunteer.FieldCity:
		return v.Address.City
	case volunteer.FieldRegion:
		return v.Address.Region
	case volunteer.FieldCountry:
		return v.Address.Country
	case volunteer.FieldPreferredSite:
		return v.PreferredSite
	case volunteer.FieldStatus:
		return string(v.Status)
	case volunteer.FieldRecruitmentSource:
		return v.RecruitmentSource
	case volunteer.FieldNotes:
		return v.Notes
	case volunteer.FieldMedicalHistory:
		return coded(v.MedicalHistory)
	case volunteer.FieldMedications:
		return coded(v.Medications)
	case volunteer.FieldSubstanceUse:
		return coded(v.SubstanceUse)
	case volunteer.FieldNextEligible:
		return v.NextEligible.String()
	}
	return ""
}

// describeQuery lists the query's fields for the export's audit entry.
func describeQuery(q Query) []audit.Change {
	var out []audit.Change
	add := func(field, value string) {
		if strings.TrimSpace(value) != "" {
			out = append(out, audit.Change{Field: field, New: strings.TrimSpace(value)})
		}
	}
	add("search.name", q.Name)
	add("search.birth_date", q.BirthDate)
	add("search.number", q.Number)
	add("search.phone", q.Phone)
	add("search.status", string(q.Status))
	return out
}

// Export writes every volunteer matching q (all pages, in q's order) as
// CSV to w, masked by the PHI declaration unless canSeePHI. The first line
// marks the file as an uncontrolled copy; the columns are ExportColumns.
// The export is recorded in the audit trail (with the search and whether
// it was masked) before the first row is written. It returns the number of
// volunteers written.
func Export(ctx context.Context, db *store.DB, by audit.Actor, q Query, canSeePHI bool, w io.Writer) (int, error) {
	if fe := q.Check(); fe != nil {
		return 0, fe
	}
	masked := "yes"
	if canSeePHI {
		masked = "no"
	}
	changes := append(describeQuery(q), audit.Change{Field: "masked", New: masked})
	err := db.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Export, Entity: Entity, EntityID: "search", Changes: changes})
	})
	if err != nil {
		return 0, fmt.Errorf("export volunteers: %w", err)
	}

	cw := csv.NewWriter(w)
	note := "personal data masked"
	if canSeePHI {
		note = "contains personal data"
	}
	cw.Write([]string{fmt.Sprintf("UNCONTROLLED COPY - volunteers exported by %s at %s UTC (%s)", by.Name, time.Now().UTC().Format(time.DateTime), note)})
	cols := ExportColumns()
	cw.Write(cols)

	var where []string
	var args []any
	for _, c := range criteria(q) {
		cond, a := c.cond(db, "v", false)
		where = append(where, cond)
		args = append(args, a...)
	}
	query := "SELECT v.id, " + strings.Join(rowColumns, ", ") + " FROM volunteer v"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.Query(ctx, query+orderBy(q, "v"), args...)
	if err != nil {
		return 0, fmt.Errorf("export volunteers: %w", err)
	}
	defer rows.Close()
	n := 0
	var chunk []Record
	flush := func() error {
		byID := make(map[int64]*volunteer.Volunteer, len(chunk))
		for i := range chunk {
			byID[chunk[i].ID] = &chunk[i].Volunteer
		}
		if err := loadChildren(ctx, db, byID); err != nil {
			return err
		}
		for _, rec := range chunk {
			v := rec.Volunteer
			if !canSeePHI {
				v = volunteer.Mask(v)
			}
			line := make([]string, len(cols))
			for i, c := range cols {
				line[i] = exportCell(v, c)
			}
			if err := cw.Write(line); err != nil {
				return err
			}
		}
		n += len(chunk)
		chunk = chunk[:0]
		cw.Flush()
		return cw.Error()
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		rec, err := scanRecord(rows)
		if err != nil {
			return n, fmt.Errorf("export volunteers: %w", err)
		}
		chunk = append(chunk, rec)
		if len(chunk) == 500 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("export volunteers: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export volunteers: %w", err)
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("export volunteers: %w", err)
	}
	return n, nil
}
