package odm

import (
	"fmt"
	"unicode/utf8"
)

// Checks of clinical data. The Reader runs the checks of a container's
// attributes when it opens the container and those of its audit records,
// signatures and annotations as it reads them; the Writer runs them all when
// it opens a container. at is the position of the element in the file, or
// nil.

func (c *checker) subjectData(at any, s *SubjectData) {
	c.required(at, "SubjectData", s.SubjectKey, "SubjectKey", s.SubjectKey)
	c.enum(at, "SubjectData", s.SubjectKey, "TransactionType", string(s.TransactionType), s.TransactionType.Valid())
}

func (c *checker) studyEventData(at any, e *StudyEventData, d *design) {
	c.required(at, "StudyEventData", e.StudyEventOID, "StudyEventOID", e.StudyEventOID)
	c.enum(at, "StudyEventData", e.StudyEventOID, "TransactionType", string(e.TransactionType), e.TransactionType.Valid())
	if d != nil && e.StudyEventOID != "" && !d.events[e.StudyEventOID] {
		c.add(at, Error, CodeDanglingReference, e.StudyEventOID, "StudyEventData refers to the study event %s, which the design does not define", e.StudyEventOID)
	}
}

func (c *checker) formData(at any, f *FormData, d *design) {
	c.required(at, "FormData", f.FormOID, "FormOID", f.FormOID)
	c.enum(at, "FormData", f.FormOID, "TransactionType", string(f.TransactionType), f.TransactionType.Valid())
	if d != nil && f.FormOID != "" && !d.forms[f.FormOID] {
		c.add(at, Error, CodeDanglingReference, f.FormOID, "FormData refers to the form %s, which the design does not define", f.FormOID)
	}
}

func (c *checker) itemGroupData(at any, g *ItemGroupData, d *design) {
	c.required(at, "ItemGroupData", g.ItemGroupOID, "ItemGroupOID", g.ItemGroupOID)
	c.enum(at, "ItemGroupData", g.ItemGroupOID, "TransactionType", string(g.TransactionType), g.TransactionType.Valid())
	if d != nil && g.ItemGroupOID != "" && !d.groups[g.ItemGroupOID] {
		c.add(at, Error, CodeDanglingReference, g.ItemGroupOID, "ItemGroupData refers to the item group %s, which the design does not define", g.ItemGroupOID)
	}
}

// itemData checks an ItemData's attributes and, when the design is known,
// that its value fits the item: type, length and code list.
func (c *checker) itemData(at any, it *ItemData, d *design, g *ItemGroupData) {
	c.required(at, "ItemData", it.ItemOID, "ItemOID", it.ItemOID)
	c.enum(at, "ItemData", it.ItemOID, "TransactionType", string(it.TransactionType), it.TransactionType.Valid())
	if it.MeasurementUnitRef != nil {
		c.required(at, "MeasurementUnitRef", it.ItemOID, "MeasurementUnitOID", it.MeasurementUnitRef.MeasurementUnitOID)
	}
	if d == nil || it.ItemOID == "" {
		return
	}
	rule := d.items[it.ItemOID]
	if rule == nil {
		c.add(at, Error, CodeDanglingReference, it.ItemOID, "ItemData refers to the item %s, which the design does not define", it.ItemOID)
		return
	}
	if it.IsNull || it.Value == "" {
		return
	}
	if problem := valueProblem(rule.def.DataType, it.Value); problem != "" {
		c.add(at, Warning, CodeItemValue, it.ItemOID, "the value %q of item %s is not %s", clip(it.Value, 40), it.ItemOID, problem)
		return
	}
	if l := rule.def.Length; l != nil && utf8.RuneCountInString(it.Value) > *l {
		c.add(at, Warning, CodeItemValue, it.ItemOID, "the value %q of item %s is longer than its Length of %d", clip(it.Value, 40), it.ItemOID, *l)
	}
	if rule.codes != nil && !rule.codes[it.Value] {
		c.add(at, Warning, CodeItemValue, it.ItemOID, "the value %q of item %s is not in its code list", clip(it.Value, 40), it.ItemOID)
	}
}

// valueProblem says what a value should have been if it is not of type t,
// and returns "" if it is.
func valueProblem(t DataType, v string) string {
	ok := true
	switch t {
	case Integer:
		ok = isInteger(v)
	case Float:
		ok = isDecimal(v)
	case Double:
		ok = isDouble(v)
	case Date:
		ok = isDate(v)
	case Time:
		ok = isTime(v)
	case Datetime:
		ok = isDateTime(v)
	case Boolean:
		ok = isBoolean(v)
	case HexBinary:
		ok = isHexBinary(v)
	case Base64Binary:
		ok = isBase64(v)
	case PartialDate:
		ok = isPartialDate(v)
	case PartialDatetime:
		ok = isPartialDatetime(v)
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("a valid %s", t)
}

func (c *checker) auditRecord(at any, a *AuditRecord, oid string) {
	c.required(at, "AuditRecord", oid, "UserRef", a.UserRef.UserOID)
	c.required(at, "AuditRecord", oid, "LocationRef", a.LocationRef.LocationOID)
	if c.required(at, "AuditRecord", oid, "DateTimeStamp", a.DateTimeStamp) {
		c.lexical(at, "AuditRecord", oid, "DateTimeStamp", a.DateTimeStamp, "a date and time", isDateTime)
	}
	c.enum(at, "AuditRecord", oid, "EditPoint", string(a.EditPoint), a.EditPoint.Valid())
	c.enum(at, "AuditRecord", oid, "UsedImputationMethod", string(a.UsedImputationMethod), a.UsedImputationMethod.Valid())
	c.lexical(at, "AuditRecord", oid, "ID", a.ID, "an XML name", isNCName)
}

func (c *checker) signature(at any, s *Signature, oid string) {
	c.required(at, "Signature", oid, "UserRef", s.UserRef.UserOID)
	c.required(at, "Signature", oid, "LocationRef", s.LocationRef.LocationOID)
	c.required(at, "Signature", oid, "SignatureRef", s.SignatureRef.SignatureOID)
	if c.required(at, "Signature", oid, "DateTimeStamp", s.DateTimeStamp) {
		c.lexical(at, "Signature", oid, "DateTimeStamp", s.DateTimeStamp, "a date and time", isDateTime)
	}
	c.lexical(at, "Signature", oid, "ID", s.ID, "an XML name", isNCName)
}

func (c *checker) annotation(at any, a *Annotation, oid string) {
	c.enum(at, "Annotation", oid, "TransactionType", string(a.TransactionType), a.TransactionType.Valid())
	c.lexical(at, "Annotation", oid, "ID", a.ID, "an XML name", isNCName)
	if a.Comment != nil {
		c.enum(at, "Comment", oid, "SponsorOrSite", string(a.Comment.SponsorOrSite), a.Comment.SponsorOrSite.Valid())
	}
	for _, f := range a.Flags {
		c.required(at, "FlagValue", oid, "CodeListOID", f.FlagValue.CodeListOID)
		if t := f.FlagType; t != nil {
			c.required(at, "FlagType", oid, "CodeListOID", t.CodeListOID)
			if t.Value == "" {
				c.add(at, Error, CodeMissingAttribute, oid, "a FlagType in %s is empty, which ODM does not allow", oidOr(oid))
			}
		}
	}
}

// containerParts checks what every clinical container may hold besides its
// children: audit record, signature, annotations.
func (c *checker) containerParts(at any, oid string, a *AuditRecord, s *Signature, notes []*Annotation) {
	if a != nil {
		c.auditRecord(at, a, oid)
	}
	if s != nil {
		c.signature(at, s, oid)
	}
	for _, n := range notes {
		c.annotation(at, n, oid)
	}
}
