package odm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// WriteRow writes one row of clinical or reference data: it closes the
// containers the row is not in, opens those it is in, and writes its
// ItemData (if any). It returns a *ValidationError for a row that would
// make the file invalid, and stops for good after any error.
func (w *Writer) WriteRow(ctx context.Context, row *Row) error {
	if w.err != nil {
		return w.err
	}
	if !w.began || w.closed {
		return errors.New("write ODM: WriteRow must come between Begin and Close")
	}
	if w.rows&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return w.stop(fmt.Errorf("write ODM: stopped after %d rows: %w", w.rows, err))
		}
	}
	if err := w.shape(row); err != nil {
		return w.stop(err)
	}
	keys, ptrs := rowKeys(row), rowContainers(row)
	depth := rowDepth(row)
	// Find the first level where the row leaves the open containers.
	same := inODM
	for l := inData; l <= depth && l <= w.deepest; l++ {
		if w.open[l].key != keys[l] || w.identity && w.open[l].ptr != ptrs[l] {
			break
		}
		same = l
	}
	w.closeTo(same)
	for l := same + 1; l <= depth; l++ {
		if err := w.openLevel(l, row, keys[l]); err != nil {
			return w.stop(rowError(row, err))
		}
		w.open[l].ptr = ptrs[l]
	}
	if row.Item != nil {
		w.open[inGroup].kids.next()
		if err := w.item(row.Item); err != nil {
			return w.stop(rowError(row, err))
		}
	}
	if w.x.err != nil {
		return w.stop(rowError(row, w.x.err))
	}
	w.rows++
	if w.opts.Progress != nil && w.rows%10_000 == 0 {
		w.opts.Progress(w.rows)
	}
	return nil
}

// rowError says which subject, or which clinical or reference data, a row
// error is about.
func rowError(row *Row, err error) error {
	switch {
	case row.Subject != nil:
		return fmt.Errorf("write subject %s: %w", row.Subject.SubjectKey, err)
	case row.Clinical != nil:
		return fmt.Errorf("write clinical data of study %s: %w", row.Clinical.StudyOID, err)
	}
	return fmt.Errorf("write reference data of study %s: %w", row.Reference.StudyOID, err)
}

// shape checks that a row's containers fit together.
func (w *Writer) shape(row *Row) error {
	switch {
	case row == nil:
		return errors.New("write ODM: the row is nil")
	case (row.Clinical == nil) == (row.Reference == nil):
		return errors.New("write ODM: a row needs either Clinical or Reference, not both or neither")
	case row.Reference != nil && (row.Subject != nil || row.Event != nil || row.Form != nil):
		return errors.New("write ODM: a ReferenceData row holds item groups only, not subjects, events or forms")
	case row.Reference != nil && w.clinical:
		return errors.New("write ODM: ReferenceData rows must come before ClinicalData rows")
	case row.Clinical != nil && row.Subject == nil && (row.Event != nil || row.Form != nil || row.Group != nil || row.Item != nil):
		return errors.New("write ODM: a ClinicalData row below ClinicalData needs its Subject")
	case row.Clinical != nil && row.Event == nil && row.Form != nil && !w.opts.KeepExtensions:
		return fmt.Errorf("write ODM: the form %s of subject %s is in no study event; ODM 1.3.2 needs FormData inside StudyEventData (only KeepExtensions writes it as read)",
			row.Form.FormOID, row.Subject.SubjectKey)
	case row.Clinical != nil && row.Form == nil && row.Group != nil:
		return fmt.Errorf("write ODM: the item group %s of subject %s is in no form", row.Group.ItemGroupOID, row.Subject.SubjectKey)
	case row.Group == nil && row.Item != nil:
		return fmt.Errorf("write ODM: the item %s is in no item group", row.Item.ItemOID)
	}
	return nil
}

// rowDepth is the deepest container a row is in.
func rowDepth(row *Row) level {
	switch {
	case row.Group != nil:
		return inGroup
	case row.Form != nil:
		return inForm
	case row.Event != nil:
		return inEvent
	case row.Subject != nil:
		return inSubject
	}
	return inData
}

// rowKeys returns, per level, what identifies the container a row is in.
// A REDCap form outside events gets an empty event key, so that it is not
// taken for the same container as an event.
func rowKeys(row *Row) [levels][3]string {
	var k [levels][3]string
	if row.Clinical != nil {
		k[inData] = [3]string{"ClinicalData", row.Clinical.StudyOID, row.Clinical.MetaDataVersionOID}
	} else {
		k[inData] = [3]string{"ReferenceData", row.Reference.StudyOID, row.Reference.MetaDataVersionOID}
	}
	if row.Subject != nil {
		k[inSubject] = [3]string{"SubjectData", row.Subject.SubjectKey}
	}
	if row.Event != nil {
		k[inEvent] = [3]string{"StudyEventData", row.Event.StudyEventOID, row.Event.StudyEventRepeatKey}
	}
	if row.Form != nil {
		k[inForm] = [3]string{"FormData", row.Form.FormOID, row.Form.FormRepeatKey}
	}
	if row.Group != nil {
		k[inGroup] = [3]string{"ItemGroupData", row.Group.ItemGroupOID, row.Group.ItemGroupRepeatKey}
	}
	return k
}

// rowContainers returns the containers of a row per level, for Write,
// which knows them by identity.
func rowContainers(row *Row) [levels]any {
	var c [levels]any
	if row.Clinical != nil {
		c[inData] = row.Clinical
	} else {
		c[inData] = row.Reference
	}
	c[inSubject], c[inEvent], c[inForm], c[inGroup] = row.Subject, row.Event, row.Form, row.Group
	return c
}

// closeTo closes open containers deeper than l.
func (w *Writer) closeTo(l level) {
	for w.deepest > l {
		oc := &w.open[w.deepest]
		if oc.kind != "" { // the event level is skipped for REDCap forms
			oc.kids.done()
			w.x.end()
			oc.kind = ""
		}
		oc.key = [3]string{}
		w.deepest--
	}
}

// openLevel opens the row's container at l, checked first so that what is
// written validates.
func (w *Writer) openLevel(l level, row *Row, key [3]string) error {
	x := w.x
	oc := &w.open[l]
	oc.key = key
	w.deepest = l
	var problems []Diagnostic
	check := func(run func(*checker)) { problems = w.problemsOf(run) }
	if (l == inSubject && row.Subject == nil) || (l == inEvent && row.Event == nil) || (l == inForm && row.Form == nil) {
		// Reference data has no subject, event or form, and a REDCap form
		// no event: the level stays empty.
		oc.kind = ""
		return nil
	}
	switch l {
	case inData:
		w.root.next()
		if row.Clinical != nil {
			c := row.Clinical
			w.clinical = true
			check(func(ch *checker) {
				ch.required(nil, "ClinicalData", c.StudyOID, "StudyOID", c.StudyOID)
				ch.required(nil, "ClinicalData", c.StudyOID, "MetaDataVersionOID", c.MetaDataVersionOID)
			})
			if len(problems) > 0 {
				break
			}
			x.start("ClinicalData")
			x.attr("StudyOID", c.StudyOID)
			x.attr("MetaDataVersionOID", c.MetaDataVersionOID)
			w.extAttrs(&c.Extensions)
			oc.kind, oc.kids = "ClinicalData", w.kidsOf(&c.Extensions)
		} else {
			d := row.Reference
			check(func(ch *checker) {
				ch.required(nil, "ReferenceData", d.StudyOID, "StudyOID", d.StudyOID)
				ch.required(nil, "ReferenceData", d.StudyOID, "MetaDataVersionOID", d.MetaDataVersionOID)
			})
			if len(problems) > 0 {
				break
			}
			x.start("ReferenceData")
			x.attr("StudyOID", d.StudyOID)
			x.attr("MetaDataVersionOID", d.MetaDataVersionOID)
			w.extAttrs(&d.Extensions)
			oc.kind, oc.kids = "ReferenceData", w.kidsOf(&d.Extensions)
		}
	case inSubject:
		s := row.Subject
		check(func(ch *checker) {
			ch.subjectData(nil, s)
			ch.containerParts(nil, s.SubjectKey, s.AuditRecord, s.Signature, s.Annotations)
			if s.InvestigatorRef != nil {
				ch.required(nil, "InvestigatorRef", s.SubjectKey, "UserOID", s.InvestigatorRef.UserOID)
			}
			if s.SiteRef != nil {
				ch.required(nil, "SiteRef", s.SubjectKey, "LocationOID", s.SiteRef.LocationOID)
			}
		})
		if len(problems) > 0 {
			break
		}
		w.open[inData].kids.next()
		x.start("SubjectData")
		x.attr("SubjectKey", s.SubjectKey)
		x.optAttr("TransactionType", string(s.TransactionType))
		w.extAttrs(&s.Extensions)
		oc.kind, oc.kids = "SubjectData", w.kidsOf(&s.Extensions)
		w.auditAndSignature(&oc.kids, s.AuditRecord, s.Signature)
		if r := s.InvestigatorRef; r != nil {
			oc.kids.next()
			x.start("InvestigatorRef")
			x.attr("UserOID", r.UserOID)
			w.empty(&r.Extensions)
		}
		if r := s.SiteRef; r != nil {
			oc.kids.next()
			x.start("SiteRef")
			x.attr("LocationOID", r.LocationOID)
			w.empty(&r.Extensions)
		}
		w.annotations(&oc.kids, s.Annotations)
	case inEvent:
		e := row.Event
		check(func(ch *checker) {
			ch.studyEventData(nil, e, nil)
			ch.containerParts(nil, e.StudyEventOID, e.AuditRecord, e.Signature, e.Annotations)
		})
		if len(problems) > 0 {
			break
		}
		w.open[inSubject].kids.next()
		x.start("StudyEventData")
		x.attr("StudyEventOID", e.StudyEventOID)
		x.optAttr("StudyEventRepeatKey", e.StudyEventRepeatKey)
		x.optAttr("TransactionType", string(e.TransactionType))
		w.extAttrs(&e.Extensions)
		oc.kind, oc.kids = "StudyEventData", w.kidsOf(&e.Extensions)
		w.auditAndSignature(&oc.kids, e.AuditRecord, e.Signature)
		w.annotations(&oc.kids, e.Annotations)
	case inForm:
		f := row.Form
		check(func(ch *checker) {
			ch.formData(nil, f, nil)
			ch.containerParts(nil, f.FormOID, f.AuditRecord, f.Signature, f.Annotations)
			if f.ArchiveLayoutRef != nil {
				ch.required(nil, "ArchiveLayoutRef", f.FormOID, "ArchiveLayoutOID", f.ArchiveLayoutRef.ArchiveLayoutOID)
			}
		})
		if len(problems) > 0 {
			break
		}
		if row.Event != nil {
			w.open[inEvent].kids.next()
		} else {
			w.open[inSubject].kids.next()
		}
		x.start("FormData")
		x.attr("FormOID", f.FormOID)
		x.optAttr("FormRepeatKey", f.FormRepeatKey)
		x.optAttr("TransactionType", string(f.TransactionType))
		w.extAttrs(&f.Extensions)
		oc.kind, oc.kids = "FormData", w.kidsOf(&f.Extensions)
		w.auditAndSignature(&oc.kids, f.AuditRecord, f.Signature)
		if r := f.ArchiveLayoutRef; r != nil {
			oc.kids.next()
			x.start("ArchiveLayoutRef")
			x.attr("ArchiveLayoutOID", r.ArchiveLayoutOID)
			w.empty(&r.Extensions)
		}
		w.annotations(&oc.kids, f.Annotations)
	case inGroup:
		g := row.Group
		check(func(ch *checker) {
			ch.itemGroupData(nil, g, nil)
			ch.containerParts(nil, g.ItemGroupOID, g.AuditRecord, g.Signature, g.Annotations)
		})
		if len(problems) > 0 {
			break
		}
		if row.Form != nil {
			w.open[inForm].kids.next()
		} else {
			w.open[inData].kids.next()
		}
		x.start("ItemGroupData")
		x.attr("ItemGroupOID", g.ItemGroupOID)
		x.optAttr("ItemGroupRepeatKey", g.ItemGroupRepeatKey)
		x.optAttr("TransactionType", string(g.TransactionType))
		w.extAttrs(&g.Extensions)
		oc.kind, oc.kids = "ItemGroupData", w.kidsOf(&g.Extensions)
		w.auditAndSignature(&oc.kids, g.AuditRecord, g.Signature)
		w.annotations(&oc.kids, g.Annotations)
	}
	if len(problems) > 0 {
		w.deepest = l - 1
		return &ValidationError{Problems: problems}
	}
	return nil
}

// item writes one ItemData.
func (w *Writer) item(it *ItemData) error {
	w.problems = w.problems[:0] // checked inline: this runs once per value
	w.chk.itemData(nil, it, nil, nil)
	w.chk.containerParts(nil, it.ItemOID, it.AuditRecord, it.Signature, it.Annotations)
	if len(w.problems) > 0 {
		return &ValidationError{Problems: append([]Diagnostic(nil), w.problems...)}
	}
	x := w.x
	x.start("ItemData")
	x.attr("ItemOID", it.ItemOID)
	x.optAttr("TransactionType", string(it.TransactionType))
	if it.IsNull {
		x.attr("IsNull", "Yes")
		x.optAttr("Value", it.Value)
	} else {
		x.attr("Value", it.Value)
	}
	if it.AuditRecord == nil && it.Signature == nil && it.MeasurementUnitRef == nil &&
		len(it.Annotations) == 0 && it.Extensions.Empty() {
		x.end() // the common case, kept short
		return nil
	}
	w.extAttrs(&it.Extensions)
	k := w.kidsOf(&it.Extensions)
	w.auditAndSignature(&k, it.AuditRecord, it.Signature)
	if ref := it.MeasurementUnitRef; ref != nil {
		k.next()
		w.measurementUnitRef(ref)
	}
	w.annotations(&k, it.Annotations)
	k.done()
	x.end()
	return nil
}

func (w *Writer) auditAndSignature(k *kids, a *AuditRecord, s *Signature) {
	x := w.x
	if a != nil {
		k.next()
		x.start("AuditRecord")
		x.optAttr("EditPoint", string(a.EditPoint))
		x.optAttr("UsedImputationMethod", string(a.UsedImputationMethod))
		x.optAttr("ID", a.ID)
		w.extAttrs(&a.Extensions)
		ak := w.kidsOf(&a.Extensions)
		ak.next()
		w.userRef("UserRef", &a.UserRef)
		ak.next()
		w.locationRef(&a.LocationRef)
		ak.next()
		x.leaf("DateTimeStamp", a.DateTimeStamp)
		if a.ReasonForChange != "" {
			ak.next()
			x.leaf("ReasonForChange", a.ReasonForChange)
		}
		if a.SourceID != "" {
			ak.next()
			x.leaf("SourceID", a.SourceID)
		}
		ak.done()
		x.end()
	}
	if s != nil {
		k.next()
		x.start("Signature")
		x.optAttr("ID", s.ID)
		w.extAttrs(&s.Extensions)
		sk := w.kidsOf(&s.Extensions)
		sk.next()
		w.userRef("UserRef", &s.UserRef)
		sk.next()
		w.locationRef(&s.LocationRef)
		sk.next()
		x.start("SignatureRef")
		x.attr("SignatureOID", s.SignatureRef.SignatureOID)
		w.empty(&s.SignatureRef.Extensions)
		sk.next()
		x.leaf("DateTimeStamp", s.DateTimeStamp)
		if s.CryptoBindingManifest != "" {
			sk.next()
			x.leaf("CryptoBindingManifest", s.CryptoBindingManifest)
		}
		sk.done()
		x.end()
	}
}

func (w *Writer) userRef(name string, r *UserRef) {
	w.x.start(name)
	w.x.attr("UserOID", r.UserOID)
	w.empty(&r.Extensions)
}

func (w *Writer) locationRef(r *LocationRef) {
	w.x.start("LocationRef")
	w.x.attr("LocationOID", r.LocationOID)
	w.empty(&r.Extensions)
}

func (w *Writer) annotations(k *kids, notes []*Annotation) {
	x := w.x
	for _, a := range notes {
		k.next()
		x.start("Annotation")
		if !w.opts.KeepExtensions || !hasPlainAttr(a.Extensions, "SeqNum") {
			// A SeqNum that was not a number is kept as an extension
			// attribute of that name; writing both would repeat it.
			x.attr("SeqNum", strconv.Itoa(a.SeqNum))
		}
		x.optAttr("TransactionType", string(a.TransactionType))
		x.optAttr("ID", a.ID)
		w.extAttrs(&a.Extensions)
		ak := w.kidsOf(&a.Extensions)
		if c := a.Comment; c != nil {
			ak.next()
			x.start("Comment")
			x.optAttr("SponsorOrSite", string(c.SponsorOrSite))
			w.textContent(c.Value, &c.Extensions)
		}
		for _, f := range a.Flags {
			ak.next()
			x.start("Flag")
			w.extAttrs(&f.Extensions)
			fk := w.kidsOf(&f.Extensions)
			fk.next()
			x.start("FlagValue")
			x.attr("CodeListOID", f.FlagValue.CodeListOID)
			w.textContent(f.FlagValue.Value, &f.FlagValue.Extensions)
			if t := f.FlagType; t != nil {
				fk.next()
				x.start("FlagType")
				x.attr("CodeListOID", t.CodeListOID)
				w.textContent(t.Value, &t.Extensions)
			}
			fk.done()
			x.end()
		}
		ak.done()
		x.end()
	}
}

// hasPlainAttr reports whether e holds an attribute without namespace
// called name.
func hasPlainAttr(e Extensions, name string) bool {
	for _, a := range e.Attrs {
		if a.Space == "" && a.Local == name {
			return true
		}
	}
	return false
}
