package study

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cohort-clinical/cohort/internal/odm"
)

// The levels of clinical containers, outermost first.
const (
	lvClinical = iota
	lvSubject
	lvEvent
	lvForm
	lvGroup
	nLevels
)

// containerDetail is what item_data.container_detail holds: the containers
// that start at a row, by level, when they carry more than their keys
// (audit record, signature, annotations, references, transaction type,
// vendor extensions). Their child lists are always empty; their keys are
// also in the row's columns, which win.
type containerDetail struct {
	Clinical *odm.ClinicalData   `json:"clinical,omitempty"`
	Subject  *odm.SubjectData    `json:"subject,omitempty"`
	Event    *odm.StudyEventData `json:"event,omitempty"`
	Form     *odm.FormData       `json:"form,omitempty"`
	Group    *odm.ItemGroupData  `json:"group,omitempty"`
}

func (d *containerDetail) has(level int) bool {
	if d == nil {
		return false
	}
	switch level {
	case lvClinical:
		return d.Clinical != nil
	case lvSubject:
		return d.Subject != nil
	case lvEvent:
		return d.Event != nil
	case lvForm:
		return d.Form != nil
	case lvGroup:
		return d.Group != nil
	}
	return false
}

// set copies level's container from other into d.
func (d *containerDetail) set(level int, other *containerDetail) {
	switch level {
	case lvClinical:
		d.Clinical = other.Clinical
	case lvSubject:
		d.Subject = other.Subject
	case lvEvent:
		d.Event = other.Event
	case lvForm:
		d.Form = other.Form
	case lvGroup:
		d.Group = other.Group
	}
}

func (d *containerDetail) empty() bool {
	return d == nil || d.Clinical == nil && d.Subject == nil && d.Event == nil && d.Form == nil && d.Group == nil
}

// detailOf returns the container c (a *odm.ClinicalData, *odm.SubjectData…
// as the Reader hands them out) without its children, at its level of a
// containerDetail, or nil when it carries nothing beyond its keys.
func detailOf(c any) *containerDetail {
	switch c := c.(type) {
	case *odm.ClinicalData:
		if c == nil || extEmpty(c.Extensions) {
			return nil
		}
		v := *c
		v.Subjects = nil
		return &containerDetail{Clinical: &v}
	case *odm.SubjectData:
		if c == nil || c.TransactionType == "" && c.AuditRecord == nil && c.Signature == nil && c.InvestigatorRef == nil &&
			c.SiteRef == nil && len(c.Annotations) == 0 && extEmpty(c.Extensions) {
			return nil
		}
		v := *c
		v.StudyEvents, v.Forms = nil, nil
		return &containerDetail{Subject: &v}
	case *odm.StudyEventData:
		if c == nil || c.TransactionType == "" && c.AuditRecord == nil && c.Signature == nil && len(c.Annotations) == 0 && extEmpty(c.Extensions) {
			return nil
		}
		v := *c
		v.Forms = nil
		return &containerDetail{Event: &v}
	case *odm.FormData:
		if c == nil || c.TransactionType == "" && c.AuditRecord == nil && c.Signature == nil && c.ArchiveLayoutRef == nil &&
			len(c.Annotations) == 0 && extEmpty(c.Extensions) {
			return nil
		}
		v := *c
		v.ItemGroups = nil
		return &containerDetail{Form: &v}
	case *odm.ItemGroupData:
		if c == nil || c.TransactionType == "" && c.AuditRecord == nil && c.Signature == nil && len(c.Annotations) == 0 && extEmpty(c.Extensions) {
			return nil
		}
		v := *c
		v.Items = nil
		return &containerDetail{Group: &v}
	}
	return nil
}

func extEmpty(e odm.Extensions) bool { return len(e.Attrs) == 0 && len(e.Elements) == 0 }

// itemDetail returns the canonical JSON of what an ItemData carries beyond
// its OID and value, or nil when it carries nothing more (the common case,
// stored as NULL).
func itemDetail(it *odm.ItemData) ([]byte, error) {
	if it.TransactionType == "" && it.AuditRecord == nil && it.Signature == nil && it.MeasurementUnitRef == nil &&
		len(it.Annotations) == 0 && extEmpty(it.Extensions) {
		return nil, nil
	}
	v := *it
	v.ItemOID, v.Value, v.IsNull = "", "", false
	return canonical(&v)
}

// encodeDetail returns d's canonical JSON, or nil for an empty detail.
func encodeDetail(d *containerDetail) ([]byte, error) {
	if d.empty() {
		return nil, nil
	}
	return canonical(d)
}

// decodeDetail reads container_detail.
func decodeDetail(b []byte) (*containerDetail, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var d containerDetail
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode stored container detail: %w", err)
	}
	return &d, nil
}

// sameJSON reports whether two stored details are the same (NULL and
// empty alike).
func sameJSON(a, b []byte) bool { return bytes.Equal(a, b) }

// nullable turns an empty detail into SQL NULL, and the rest into a string
// (which both drivers store as TEXT).
func nullable(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
