package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Actions this package adds to the audit trail's vocabulary.
const (
	// PrivacyRemove records the erasure of a volunteer's personal data.
	PrivacyRemove audit.Action = "privacy_remove"
	// StatusChange records a change of a volunteer's status.
	StatusChange audit.Action = "status_change"
)

// trailFields are the audit trail's field names for a volunteer, in the
// order entries are written. They are the volunteer package's field names,
// so the PHI declaration (volunteer.LookupPHIField) says which to mask.
var trailFields = []string{
	volunteer.FieldNumber, volunteer.FieldGivenName, volunteer.FieldFamilyName, volunteer.FieldOtherNames,
	volunteer.FieldBirthDate, volunteer.FieldSexAtBirth, volunteer.FieldGender, volunteer.FieldEthnicity, volunteer.FieldRaces,
	volunteer.FieldPhones, volunteer.FieldEmail, volunteer.FieldAddressLine1, volunteer.FieldAddressLine2,
	volunteer.FieldPostalCode, volunteer.FieldCity, volunteer.FieldRegion, volunteer.FieldCountry,
	volunteer.FieldPreferredSite, volunteer.FieldStatus, volunteer.FieldRecruitmentSource, volunteer.FieldNotes,
	volunteer.FieldAnswers,
	volunteer.FieldMedicalHistory, volunteer.FieldMedicalHistory + ".note",
	volunteer.FieldMedications, volunteer.FieldMedications + ".note",
	volunteer.FieldSubstanceUse, volunteer.FieldSubstanceUse + ".note",
	volunteer.FieldConsents, volunteer.FieldParticipations, volunteer.FieldNextEligible,
}

// listSeparator joins the elements of a list field in the trail; masking
// splits on it to mask each element.
const listSeparator = "; "

// trailValues returns v's values as the audit trail records them.
func trailValues(v volunteer.Volunteer) map[string]string {
	m := map[string]string{
		volunteer.FieldNumber:            v.Number,
		volunteer.FieldGivenName:         v.GivenName,
		volunteer.FieldFamilyName:        v.FamilyName,
		volunteer.FieldOtherNames:        v.OtherNames,
		volunteer.FieldBirthDate:         v.BirthDate.String(),
		volunteer.FieldSexAtBirth:        string(v.SexAtBirth),
		volunteer.FieldGender:            string(v.Gender),
		volunteer.FieldEthnicity:         v.Ethnicity,
		volunteer.FieldRaces:             strings.Join(v.Races, listSeparator),
		volunteer.FieldEmail:             v.Email,
		volunteer.FieldAddressLine1:      v.Address.Line1,
		volunteer.FieldAddressLine2:      v.Address.Line2,
		volunteer.FieldPostalCode:        v.Address.PostalCode,
		volunteer.FieldCity:              v.Address.City,
		volunteer.FieldRegion:            v.Address.Region,
		volunteer.FieldCountry:           v.Address.Country,
		volunteer.FieldPreferredSite:     v.PreferredSite,
		volunteer.FieldStatus:            string(v.Status),
		volunteer.FieldRecruitmentSource: v.RecruitmentSource,
		volunteer.FieldNotes:             v.Notes,
		volunteer.FieldNextEligible:      v.NextEligible.String(),
	}
	var parts []string
	for _, p := range v.Phones {
		parts = append(parts, string(p.Kind)+" "+p.Number)
	}
	m[volunteer.FieldPhones] = strings.Join(parts, listSeparator)
	parts = nil
	for _, a := range v.Answers {
		if a.Value != "" {
			parts = append(parts, a.Question+"="+a.Value)
		}
	}
	m[volunteer.FieldAnswers] = strings.Join(parts, listSeparator)
	coded := func(field string, es []volunteer.CodedEntry) {
		var codes, notes []string
		for _, e := range es {
			codes = append(codes, DescribeEntry(e))
			if e.Note != "" {
				notes = append(notes, e.Code+": "+e.Note)
			}
		}
		m[field] = strings.Join(codes, listSeparator)
		m[field+".note"] = strings.Join(notes, listSeparator)
	}
	coded(volunteer.FieldMedicalHistory, v.MedicalHistory)
	coded(volunteer.FieldMedications, v.Medications)
	coded(volunteer.FieldSubstanceUse, v.SubstanceUse)
	parts = nil
	for _, c := range v.Consents {
		s := c.Type + " " + c.Version + " given " + c.Date.String()
		if !c.Withdrawn.IsZero() {
			s += " withdrawn " + c.Withdrawn.String()
		}
		parts = append(parts, s)
	}
	m[volunteer.FieldConsents] = strings.Join(parts, listSeparator)
	parts = nil
	for _, p := range v.Participations {
		parts = append(parts, p.Study+" "+describeSpan(p.Start, p.End)+" "+string(p.Outcome))
	}
	m[volunteer.FieldParticipations] = strings.Join(parts, listSeparator)
	return m
}

// DescribeEntry writes a coded entry as a line of history: "ASTHMA since
// 2010-**-**", "IBUPROFEN 2021-03-01 to 2021-03-09".
func DescribeEntry(e volunteer.CodedEntry) string {
	if s := describeSpan(e.Start, e.End); s != "" {
		return e.Code + " " + s
	}
	return e.Code
}

func describeSpan(start, end volunteer.Date) string {
	switch {
	case start.IsZero() && end.IsZero():
		return ""
	case end.IsZero():
		return "since " + start.String()
	case start.IsZero():
		return "until " + end.String()
	}
	return start.String() + " to " + end.String()
}

// searchPHI declares the fields of an export's audit entry that repeat what
// the user searched for, which is as personal as the record it finds.
var searchPHI = map[string]string{
	"search.name":       volunteer.FieldFamilyName,
	"search.birth_date": volunteer.FieldBirthDate,
	"search.phone":      volunteer.FieldPhones,
}

// RecordField is the audit field of an entry that holds a whole volunteer
// at once, as a JSON object of trail field names to values (non-empty
// ones, in trail order). Imports write one such entry per volunteer instead
// of one entry per field, which would multiply the trail of a migration of
// half a million volunteers by fifteen and its run time by three.
const RecordField = "record"

// encodeRecord writes the non-empty values as a RecordField value.
func encodeRecord(values map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	seen := map[string]bool{}
	write := func(k, v string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	for _, f := range trailFields {
		seen[f] = true
		if v := values[f]; v != "" {
			write(f, v)
		}
	}
	var rest []string
	for k, v := range values {
		if !seen[k] && v != "" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		write(k, values[k])
	}
	b.WriteByte('}')
	return b.String()
}

// MaskTrailValue returns an audit trail value of a volunteer field as a user
// without volunteer.view_phi sees it: PHI fields masked as the PHI
// declaration says, each element of a list on its own, and the PHI fields
// inside a RecordField value; other fields as they are.
func MaskTrailValue(field, value string) string {
	if value == "" {
		return ""
	}
	if field == RecordField {
		values := map[string]string{}
		if err := json.Unmarshal([]byte(value), &values); err != nil {
			return "***" // not a record we wrote: hide it rather than guess
		}
		for k, v := range values {
			values[k] = MaskTrailValue(k, v)
		}
		return encodeRecord(values)
	}
	if f, ok := searchPHI[field]; ok {
		field = f
	}
	f, ok := volunteer.LookupPHIField(field)
	if !ok {
		return value
	}
	parts := strings.Split(value, listSeparator)
	for i, p := range parts {
		parts[i] = f.Mask(p)
	}
	return strings.Join(parts, listSeparator)
}

// TrailMasker masks volunteer PHI in audit entries as one reader may see
// them: for a reader without volunteer.view_phi every volunteer entry's PHI
// fields are masked; for one with it, only those of volunteers whose
// personal data was removed. It remembers which volunteers were removed, so
// an export of the whole trail asks once per volunteer.
type TrailMasker struct {
	q         store.Querier
	canSeePHI bool
	removed   map[string]bool
}

// NewTrailMasker returns a masker for a reader who may (canSeePHI) or may
// not see volunteers' PHI.
func NewTrailMasker(q store.Querier, canSeePHI bool) *TrailMasker {
	return &TrailMasker{q: q, canSeePHI: canSeePHI, removed: map[string]bool{}}
}

// Mask returns e with volunteer PHI masked for the reader.
func (m *TrailMasker) Mask(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if e.Entity != Entity || e.Field == "" {
		return e, nil
	}
	if m.canSeePHI {
		removed, ok := m.removed[e.EntityID]
		if !ok {
			var status string
			err := m.q.QueryRow(ctx, "SELECT status FROM volunteer WHERE number = ?", e.EntityID).Scan(&status)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return e, fmt.Errorf("mask audit entry %d: %w", e.Seq, err)
			}
			removed = volunteer.Status(status) == volunteer.StatusPrivacyRemoved
			m.removed[e.EntityID] = removed
		}
		if !removed {
			return e, nil
		}
	}
	e.Old, e.New = MaskTrailValue(e.Field, e.Old), MaskTrailValue(e.Field, e.New)
	return e, nil
}

// MaskTrail masks volunteer PHI in entries, in place, for a reader who may
// or may not see it (see TrailMasker).
func MaskTrail(ctx context.Context, q store.Querier, entries []audit.Entry, canSeePHI bool) error {
	m := NewTrailMasker(q, canSeePHI)
	for i := range entries {
		var err error
		if entries[i], err = m.Mask(ctx, entries[i]); err != nil {
			return err
		}
	}
	return nil
}
