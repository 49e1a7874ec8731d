package odm

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Clinical and reference data are read as a stream: the reader keeps only
// the containers it is inside (ClinicalData, SubjectData, StudyEventData,
// FormData, ItemGroupData) and hands each ItemData out as a Row.

// level is how deep the stream is in the containers.
type level int

const (
	inODM     level = iota // directly in ODM
	inData                 // in ClinicalData or ReferenceData
	inSubject              // in SubjectData
	inEvent                // in StudyEventData
	inForm                 // in FormData
	inGroup                // in ItemGroupData
	levels
)

// clinicalState is where the stream is.
type clinicalState struct {
	at        level
	clinical  *ClinicalData
	reference *ReferenceData
	subject   *SubjectData
	event     *StudyEventData
	form      *FormData
	group     *ItemGroupData
	design    *design // of the current ClinicalData; nil if not in the file

	kids    [levels]int  // ODM children read in each open container
	kept    [levels]int  // elements held by each open container
	emitted [levels]bool // whether a row was returned inside each open container
	line    [levels]int  // where each open container starts

	typedNoted bool
	formNoted  bool
}

// Next returns the next row of clinical or reference data, or io.EOF after
// the last. On first use it reads the metadata if Metadata has not been
// called. Errors other than io.EOF are *ReadError sentences or the
// context's error; after one, Next keeps returning it.
func (r *Reader) Next(ctx context.Context) (*Row, error) {
	if !r.metaDone && r.err == nil {
		if _, err := r.Metadata(ctx); err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	r.ctx = ctx
	row, err := r.nextRow()
	if err != nil {
		r.err = err
		if err == io.EOF {
			r.err = io.EOF
		}
		return nil, err
	}
	return row, nil
}

func (r *Reader) nextRow() (*Row, error) {
	for {
		if !r.rootOpen {
			if err := r.trailer(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		tok, err := r.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			row, err := r.clinicalStart(t)
			if row != nil || err != nil {
				return row, err
			}
		case xml.EndElement:
			if row := r.clinicalEnd(); row != nil {
				return row, nil
			}
		case xml.CharData:
			if !isSpace(t) {
				r.strayText(t, r.levelName(), r.clinicalKey())
			}
		}
	}
}

// clinicalStart handles a start tag in the stream. It returns a row when
// the element was an ItemData.
func (r *Reader) clinicalStart(t xml.StartElement) (*Row, error) {
	cs := &r.clinical
	odm := r.isODM(t.Name.Space)
	name := t.Name.Local
	r.budget, r.budgetMax = &cs.kept[cs.at], r.opts.MaxContainerElements
	var err error
	switch cs.at {
	case inODM:
		switch {
		case odm && name == "ClinicalData":
			r.openClinical(t)
			return nil, nil
		case odm && name == "ReferenceData":
			r.openReference(t)
			return nil, nil
		case odm && (name == "Study" || name == "AdminData"):
			return nil, r.lateMetadata(t)
		}
		r.budget, r.budgetMax = &r.metaKept, r.opts.MaxMetadataElements
	case inData:
		switch {
		case odm && name == "SubjectData" && cs.clinical != nil:
			r.openSubject(t)
			return nil, nil
		case odm && name == "ItemGroupData" && cs.reference != nil:
			r.openGroup(t)
			return nil, nil
		}
	case inSubject:
		s := cs.subject
		known := true
		switch {
		case !odm:
			known = false
		case name == "StudyEventData":
			r.openEvent(t)
			return nil, nil
		case name == "FormData":
			if !cs.formNoted {
				cs.formNoted = true
				r.note(Warning, CodeStructure, s.SubjectKey, "FormData sits directly in SubjectData without a StudyEventData, as REDCap writes it; it was read as a form outside any event")
			}
			r.openForm(t)
			return nil, nil
		case name == "AuditRecord" && s.AuditRecord == nil:
			s.AuditRecord, err = r.readAuditRecord(t, s.SubjectKey)
		case name == "Signature" && s.Signature == nil:
			s.Signature, err = r.readSignature(t, s.SubjectKey)
		case name == "InvestigatorRef" && s.InvestigatorRef == nil:
			s.InvestigatorRef = &UserRef{}
			err = r.oidRef(t, s.SubjectKey, "UserOID", &s.InvestigatorRef.UserOID, &s.InvestigatorRef.Extensions)
		case name == "SiteRef" && s.SiteRef == nil:
			s.SiteRef = &LocationRef{}
			err = r.oidRef(t, s.SubjectKey, "LocationOID", &s.SiteRef.LocationOID, &s.SiteRef.Extensions)
		case name == "Annotation":
			var a *Annotation
			a, err = r.readAnnotation(t, s.SubjectKey)
			s.Annotations = append(s.Annotations, a)
		default:
			known = false
		}
		if known {
			cs.kids[inSubject]++
			return nil, err
		}
	case inEvent:
		e := cs.event
		known := true
		switch {
		case !odm:
			known = false
		case name == "FormData":
			r.openForm(t)
			return nil, nil
		case name == "AuditRecord" && e.AuditRecord == nil:
			e.AuditRecord, err = r.readAuditRecord(t, e.StudyEventOID)
		case name == "Signature" && e.Signature == nil:
			e.Signature, err = r.readSignature(t, e.StudyEventOID)
		case name == "Annotation":
			var a *Annotation
			a, err = r.readAnnotation(t, e.StudyEventOID)
			e.Annotations = append(e.Annotations, a)
		default:
			known = false
		}
		if known {
			cs.kids[inEvent]++
			return nil, err
		}
	case inForm:
		f := cs.form
		known := true
		switch {
		case !odm:
			known = false
		case name == "ItemGroupData":
			r.openGroup(t)
			return nil, nil
		case name == "AuditRecord" && f.AuditRecord == nil:
			f.AuditRecord, err = r.readAuditRecord(t, f.FormOID)
		case name == "Signature" && f.Signature == nil:
			f.Signature, err = r.readSignature(t, f.FormOID)
		case name == "ArchiveLayoutRef" && f.ArchiveLayoutRef == nil:
			f.ArchiveLayoutRef = &ArchiveLayoutRef{}
			err = r.oidRef(t, f.FormOID, "ArchiveLayoutOID", &f.ArchiveLayoutRef.ArchiveLayoutOID, &f.ArchiveLayoutRef.Extensions)
		case name == "Annotation":
			var a *Annotation
			a, err = r.readAnnotation(t, f.FormOID)
			f.Annotations = append(f.Annotations, a)
		default:
			known = false
		}
		if known {
			cs.kids[inForm]++
			return nil, err
		}
	case inGroup:
		g := cs.group
		known := true
		switch {
		case !odm:
			known = false
		case name == "ItemData":
			return r.readItemData(t, "")
		case strings.HasPrefix(name, "ItemData") && typedItemData[name[len("ItemData"):]]:
			return r.readItemData(t, name)
		case name == "AuditRecord" && g.AuditRecord == nil:
			g.AuditRecord, err = r.readAuditRecord(t, g.ItemGroupOID)
		case name == "Signature" && g.Signature == nil:
			g.Signature, err = r.readSignature(t, g.ItemGroupOID)
		case name == "Annotation":
			var a *Annotation
			a, err = r.readAnnotation(t, g.ItemGroupOID)
			g.Annotations = append(g.Annotations, a)
		default:
			known = false
		}
		if known {
			cs.kids[inGroup]++
			return nil, err
		}
	}
	if err := r.retain(); err != nil {
		return nil, err
	}
	node, err := r.extension(t, r.levelName(), r.clinicalKey())
	if err != nil {
		return nil, err
	}
	ext := r.levelExtensions()
	node.Pos = cs.kids[cs.at]
	if cs.at == inODM {
		node.Pos = r.rootKids
	}
	ext.Elements = append(ext.Elements, node)
	return nil, nil
}

// typedItemData are the suffixes of ODM 1.3's typed ItemData elements
// (ItemDataString, ItemDataInteger, ...).
var typedItemData = map[string]bool{
	"URI": true, "Any": true, "Boolean": true, "String": true, "Integer": true, "Float": true,
	"Double": true, "Date": true, "Time": true, "Datetime": true, "HexBinary": true,
	"Base64Binary": true, "HexFloat": true, "Base64Float": true, "PartialDate": true,
	"PartialTime": true, "PartialDatetime": true, "DurationDatetime": true,
	"IntervalDatetime": true, "IncompleteDatetime": true, "IncompleteDate": true,
	"IncompleteTime": true,
}

// lateMetadata reads a Study or AdminData that comes after clinical data,
// which ODM does not allow but which is easy to honour.
func (r *Reader) lateMetadata(t xml.StartElement) error {
	r.note(Warning, CodeStructure, "", fmt.Sprintf("%s comes after clinical data, where ODM 1.3.2 does not allow it; it was read anyway, but the data before it was not checked against it", t.Name.Local))
	r.budget, r.budgetMax = &r.metaKept, r.opts.MaxMetadataElements
	before := len(r.doc.Studies)
	if err := r.rootChild(t); err != nil {
		return err
	}
	c := r.checker()
	for _, s := range r.doc.Studies[before:] {
		c.study(s)
	}
	if len(r.doc.AdminData) > 0 && t.Name.Local == "AdminData" {
		c.adminData(r.doc.AdminData[len(r.doc.AdminData)-1])
	}
	r.indexDesigns()
	return nil
}

// clinicalEnd handles an end tag in the stream. It returns a row when a
// container that held no ItemData closes, so that it is not lost.
func (r *Reader) clinicalEnd() *Row {
	cs := &r.clinical
	closing := cs.at
	if closing == inODM {
		r.rootOpen = false
		return nil
	}
	row := r.emptyRow(closing)
	switch closing {
	case inData:
		cs.clinical, cs.reference, cs.design = nil, nil, nil
		cs.at = inODM
		r.rootKids++
	case inSubject:
		cs.subject = nil
		cs.at = inData
		cs.kids[inData]++
	case inEvent:
		cs.event = nil
		cs.at = inSubject
		cs.kids[inSubject]++
	case inForm:
		cs.form = nil
		cs.at = inSubject
		if cs.event != nil {
			cs.at = inEvent
		}
		cs.kids[cs.at]++
	case inGroup:
		cs.group = nil
		cs.at = inData
		if cs.form != nil {
			cs.at = inForm
		}
		cs.kids[cs.at]++
	}
	return row
}

// emptyRow returns a row standing for the container at l if no row has
// been returned inside it.
func (r *Reader) emptyRow(l level) *Row {
	cs := &r.clinical
	if cs.emitted[l] {
		return nil
	}
	row := r.row(cs.line[l])
	switch l { // leave out what is below the empty container
	case inData:
		row.Subject, row.Event, row.Form, row.Group = nil, nil, nil, nil
	case inSubject:
		row.Event, row.Form, row.Group = nil, nil, nil
	case inEvent:
		row.Form, row.Group = nil, nil
	case inForm:
		row.Group = nil
	}
	r.markEmitted(l)
	return row
}

func (r *Reader) row(line int) *Row {
	cs := &r.clinical
	return &Row{Clinical: cs.clinical, Reference: cs.reference, Subject: cs.subject,
		Event: cs.event, Form: cs.form, Group: cs.group, Line: line}
}

func (r *Reader) markEmitted(upTo level) {
	for l := inData; l <= upTo; l++ {
		r.clinical.emitted[l] = true
	}
}

// open starts a container at l.
func (r *Reader) open(l level) {
	cs := &r.clinical
	cs.at = l
	cs.kids[l], cs.kept[l], cs.emitted[l], cs.line[l] = 0, 0, false, r.line
	r.budget = &cs.kept[l]
}

func (r *Reader) openClinical(t xml.StartElement) {
	c := &ClinicalData{}
	r.open(inData)
	r.attrs(t, &c.Extensions, "", func(name, v string) bool {
		switch name {
		case "StudyOID":
			c.StudyOID = v
		case "MetaDataVersionOID":
			c.MetaDataVersionOID = v
		default:
			return false
		}
		return true
	})
	r.clinical.clinical = c
	r.clinical.design = r.designFor("ClinicalData", c.StudyOID, c.MetaDataVersionOID)
}

func (r *Reader) openReference(t xml.StartElement) {
	d := &ReferenceData{}
	r.open(inData)
	r.attrs(t, &d.Extensions, "", func(name, v string) bool {
		switch name {
		case "StudyOID":
			d.StudyOID = v
		case "MetaDataVersionOID":
			d.MetaDataVersionOID = v
		default:
			return false
		}
		return true
	})
	r.clinical.reference = d
	r.clinical.design = r.designFor("ReferenceData", d.StudyOID, d.MetaDataVersionOID)
}

// designFor finds the design clinical data refer to, and says so when the
// file does not contain it.
func (r *Reader) designFor(elem, study, mdv string) *design {
	key := designKey{study, mdv}
	if d := r.designs[key]; d != nil {
		return d
	}
	c := r.checker()
	c.required(r.here(), elem, "", "StudyOID", study)
	c.required(r.here(), elem, "", "MetaDataVersionOID", mdv)
	r.noteOnce(Info, CodeDanglingReference, study, "design "+study+"/"+mdv,
		fmt.Sprintf("%s refers to MetaDataVersion %q of study %q, which this file does not contain; its values were not checked against a design", elem, mdv, study))
	return nil
}

func (r *Reader) openSubject(t xml.StartElement) {
	s := &SubjectData{}
	r.open(inSubject)
	r.attrs(t, &s.Extensions, "", func(name, v string) bool {
		switch name {
		case "SubjectKey":
			s.SubjectKey = v
		case "TransactionType":
			s.TransactionType = TransactionType(r.enum(v, transactionTypes, "SubjectData", name, s.SubjectKey))
		default:
			return false
		}
		return true
	})
	r.clinical.subject = s
	r.checker().subjectData(r.here(), s)
}

func (r *Reader) openEvent(t xml.StartElement) {
	e := &StudyEventData{}
	r.open(inEvent)
	r.attrs(t, &e.Extensions, "", func(name, v string) bool {
		switch name {
		case "StudyEventOID":
			e.StudyEventOID = v
		case "StudyEventRepeatKey":
			e.StudyEventRepeatKey = v
		case "TransactionType":
			e.TransactionType = TransactionType(r.enum(v, transactionTypes, "StudyEventData", name, e.StudyEventOID))
		default:
			return false
		}
		return true
	})
	r.clinical.event = e
	r.checker().studyEventData(r.here(), e, r.clinical.design)
}

func (r *Reader) openForm(t xml.StartElement) {
	f := &FormData{}
	r.open(inForm)
	r.attrs(t, &f.Extensions, "", func(name, v string) bool {
		switch name {
		case "FormOID":
			f.FormOID = v
		case "FormRepeatKey":
			f.FormRepeatKey = v
		case "TransactionType":
			f.TransactionType = TransactionType(r.enum(v, transactionTypes, "FormData", name, f.FormOID))
		default:
			return false
		}
		return true
	})
	r.clinical.form = f
	r.checker().formData(r.here(), f, r.clinical.design)
}

func (r *Reader) openGroup(t xml.StartElement) {
	g := &ItemGroupData{}
	r.open(inGroup)
	r.attrs(t, &g.Extensions, "", func(name, v string) bool {
		switch name {
		case "ItemGroupOID":
			g.ItemGroupOID = v
		case "ItemGroupRepeatKey":
			g.ItemGroupRepeatKey = v
		case "TransactionType":
			g.TransactionType = TransactionType(r.enum(v, transactionTypes, "ItemGroupData", name, g.ItemGroupOID))
		default:
			return false
		}
		return true
	})
	r.clinical.group = g
	r.checker().itemGroupData(r.here(), g, r.clinical.design)
}

// readItemData reads one ItemData, or one typed ItemData element of ODM 1.3
// (typed names it), and returns its row. It is the hot path of an import,
// so it reads attributes without the closures the metadata readers use.
func (r *Reader) readItemData(t xml.StartElement, typed string) (*Row, error) {
	cs := &r.clinical
	at := r.here()
	// One allocation for the row and its item: this runs once per value.
	both := &struct {
		row  Row
		item ItemData
	}{}
	it := &both.item
	for _, a := range t.Attr {
		if a.Name.Space == "" {
			switch a.Name.Local {
			case "ItemOID":
				it.ItemOID = a.Value
				continue
			case "TransactionType":
				it.TransactionType = TransactionType(r.enum(a.Value, transactionTypes, t.Name.Local, "TransactionType", it.ItemOID))
				continue
			case "Value": // typed elements have their value as text, which wins if present
				it.Value = a.Value
				continue
			case "IsNull":
				it.IsNull = r.yesOnly(&it.Extensions, t.Name.Local, "IsNull", a.Value, it.ItemOID)
				continue
			case "MeasurementUnitOID":
				if typed != "" {
					it.MeasurementUnitRef = &MeasurementUnitRef{MeasurementUnitOID: a.Value}
					continue
				}
			}
		}
		r.attrs(xml.StartElement{Name: t.Name, Attr: []xml.Attr{a}}, &it.Extensions, it.ItemOID, nil)
	}
	if typed != "" && !cs.typedNoted {
		cs.typedNoted = true
		r.note(Info, CodeStructure, it.ItemOID, fmt.Sprintf("typed elements such as %s were read as ItemData with their text as the value", typed))
	}

	var kept, kids int
	r.budget = &kept
	var text strings.Builder
	for {
		tok, err := r.next()
		if err != nil {
			return nil, err
		}
		switch c := tok.(type) {
		case xml.EndElement:
			if typed != "" && text.Len() > 0 {
				it.Value = text.String()
			}
			r.checker().itemData(at, it, cs.design, cs.group)
			cs.kids[inGroup]++
			r.markEmitted(inGroup)
			both.row = Row{Clinical: cs.clinical, Reference: cs.reference, Subject: cs.subject,
				Event: cs.event, Form: cs.form, Group: cs.group, Item: it, Line: at.line}
			r.budget = &cs.kept[inGroup]
			return &both.row, nil
		case xml.CharData:
			if typed == "" {
				r.strayText(c, t.Name.Local, it.ItemOID)
				continue
			}
			if text.Len()+len(c) > r.opts.MaxValueSize {
				return nil, &ReadError{Line: r.line, Err: ErrLimit,
					Msg: fmt.Sprintf("the value of %s %s runs longer than %d bytes, more than the reader accepts", t.Name.Local, it.ItemOID, r.opts.MaxValueSize)}
			}
			text.Write(c)
		case xml.StartElement:
			if err := r.retain(); err != nil {
				return nil, err
			}
			known := r.isODM(c.Name.Space)
			if known {
				switch {
				case c.Name.Local == "AuditRecord" && it.AuditRecord == nil:
					it.AuditRecord, err = r.readAuditRecord(c, it.ItemOID)
				case c.Name.Local == "Signature" && it.Signature == nil:
					it.Signature, err = r.readSignature(c, it.ItemOID)
				case c.Name.Local == "MeasurementUnitRef" && it.MeasurementUnitRef == nil:
					it.MeasurementUnitRef = &MeasurementUnitRef{}
					err = r.oidRef(c, it.ItemOID, "MeasurementUnitOID", &it.MeasurementUnitRef.MeasurementUnitOID, &it.MeasurementUnitRef.Extensions)
				case c.Name.Local == "Annotation":
					var a *Annotation
					a, err = r.readAnnotation(c, it.ItemOID)
					it.Annotations = append(it.Annotations, a)
				default:
					known = false
				}
			}
			if err != nil {
				return nil, err
			}
			if known {
				kids++
				continue
			}
			node, err := r.extension(c, t.Name.Local, it.ItemOID)
			if err != nil {
				return nil, err
			}
			node.Pos = kids
			it.Extensions.Elements = append(it.Extensions.Elements, node)
		}
	}
}

// levelExtensions returns the extensions of the container the stream is
// in.
func (r *Reader) levelExtensions() *Extensions {
	cs := &r.clinical
	switch cs.at {
	case inData:
		if cs.clinical != nil {
			return &cs.clinical.Extensions
		}
		return &cs.reference.Extensions
	case inSubject:
		return &cs.subject.Extensions
	case inEvent:
		return &cs.event.Extensions
	case inForm:
		return &cs.form.Extensions
	case inGroup:
		return &cs.group.Extensions
	}
	return &r.doc.Extensions
}

// clinicalKey names the innermost container for diagnostics.
func (r *Reader) clinicalKey() string {
	cs := &r.clinical
	switch {
	case cs.group != nil:
		return cs.group.ItemGroupOID
	case cs.form != nil:
		return cs.form.FormOID
	case cs.event != nil:
		return cs.event.StudyEventOID
	case cs.subject != nil:
		return cs.subject.SubjectKey
	case cs.clinical != nil:
		return cs.clinical.StudyOID
	case cs.reference != nil:
		return cs.reference.StudyOID
	}
	return r.doc.FileOID
}

// levelName names the container the stream is in.
func (r *Reader) levelName() string {
	if r.clinical.at == inData && r.clinical.reference != nil {
		return "ReferenceData"
	}
	return [...]string{"ODM", "ClinicalData", "SubjectData", "StudyEventData", "FormData", "ItemGroupData"}[r.clinical.at]
}

// checker returns the reader's checker, which reports into its
// diagnostics.
func (r *Reader) checker() *checker {
	if r.check == nil {
		r.check = &checker{report: r.diags.add, where: r.where}
	}
	return r.check
}
