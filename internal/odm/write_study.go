package odm

import "strconv"

// The writers of Study and everything in it, and of AdminData. Each writes
// its attributes, then its children in the order of the ODM 1.3.2 schema's
// sequences, placing extension elements among them with kids.

func (w *Writer) study(s *Study) {
	x := w.x
	x.start("Study")
	x.attr("OID", s.OID)
	w.extAttrs(&s.Extensions)
	k := w.kidsOf(&s.Extensions)
	k.next()
	w.globalVariables(&s.GlobalVariables)
	if b := s.BasicDefinitions; b != nil {
		k.next()
		x.start("BasicDefinitions")
		w.extAttrs(&b.Extensions)
		bk := w.kidsOf(&b.Extensions)
		for _, m := range b.MeasurementUnits {
			bk.next()
			w.measurementUnit(m)
		}
		bk.done()
		x.end()
	}
	for _, m := range s.MetaDataVersions {
		k.next()
		w.metaDataVersion(m)
	}
	k.done()
	x.end()
}

func (w *Writer) globalVariables(g *GlobalVariables) {
	x := w.x
	x.start("GlobalVariables")
	w.extAttrs(&g.Extensions)
	k := w.kidsOf(&g.Extensions)
	k.next()
	x.leaf("StudyName", g.StudyName)
	k.next()
	x.leaf("StudyDescription", g.StudyDescription)
	k.next()
	x.leaf("ProtocolName", g.ProtocolName)
	k.done()
	x.end()
}

func (w *Writer) measurementUnit(m *MeasurementUnit) {
	x := w.x
	x.start("MeasurementUnit")
	x.attr("OID", m.OID)
	x.attr("Name", m.Name)
	w.extAttrs(&m.Extensions)
	k := w.kidsOf(&m.Extensions)
	k.next()
	w.translations("Symbol", &m.Symbol)
	w.aliases(&k, m.Aliases)
	k.done()
	x.end()
}

// translations writes Description, Question, Decode, ErrorMessage or
// Symbol.
func (w *Writer) translations(name string, t *Translations) {
	x := w.x
	x.start(name)
	w.extAttrs(&t.Extensions)
	k := w.kidsOf(&t.Extensions)
	for i := range t.Texts {
		k.next()
		tt := &t.Texts[i]
		x.start("TranslatedText")
		if tt.Lang != "" {
			x.attr("xml:lang", tt.Lang)
		}
		w.textContent(tt.Value, &tt.Extensions)
	}
	k.done()
	x.end()
}

// textContent writes the content of an element with text content and
// closes it: the text, then any extension elements found inside it.
func (w *Writer) textContent(text string, e *Extensions) {
	w.extAttrs(e)
	w.x.text(text)
	indent := w.x.indent
	w.x.indent = false // indentation would become part of the text
	k := w.kidsOf(e)
	k.done()
	w.x.end()
	w.x.indent = indent
}

// optTranslations writes an optional Translations element as a child.
func (w *Writer) optTranslations(k *kids, name string, t *Translations) {
	if t != nil {
		k.next()
		w.translations(name, t)
	}
}

func (w *Writer) aliases(k *kids, aliases []Alias) {
	for i := range aliases {
		a := &aliases[i]
		k.next()
		w.x.start("Alias")
		w.x.attr("Context", a.Context)
		w.x.attr("Name", a.Name)
		w.empty(&a.Extensions)
	}
}

// empty finishes an element whose only content can be extensions.
func (w *Writer) empty(e *Extensions) {
	w.extAttrs(e)
	k := w.kidsOf(e)
	k.done()
	w.x.end()
}

func (w *Writer) metaDataVersion(m *MetaDataVersion) {
	x := w.x
	x.start("MetaDataVersion")
	x.attr("OID", m.OID)
	x.attr("Name", m.Name)
	x.optAttr("Description", m.Description)
	w.extAttrs(&m.Extensions)
	k := w.kidsOf(&m.Extensions)
	if in := m.Include; in != nil {
		k.next()
		x.start("Include")
		x.attr("StudyOID", in.StudyOID)
		x.attr("MetaDataVersionOID", in.MetaDataVersionOID)
		w.empty(&in.Extensions)
	}
	if p := m.Protocol; p != nil {
		k.next()
		x.start("Protocol")
		w.extAttrs(&p.Extensions)
		pk := w.kidsOf(&p.Extensions)
		w.optTranslations(&pk, "Description", p.Description)
		for _, ref := range p.StudyEventRefs {
			pk.next()
			w.ref("StudyEventRef", "StudyEventOID", ref.StudyEventOID, ref.OrderNumber, ref.Mandatory, ref.CollectionExceptionConditionOID, &ref.Extensions)
		}
		w.aliases(&pk, p.Aliases)
		pk.done()
		x.end()
	}
	for _, d := range m.StudyEventDefs {
		k.next()
		w.studyEventDef(d)
	}
	for _, d := range m.FormDefs {
		k.next()
		w.formDef(d)
	}
	for _, d := range m.ItemGroupDefs {
		k.next()
		w.itemGroupDef(d)
	}
	for _, d := range m.ItemDefs {
		k.next()
		w.itemDef(d)
	}
	for _, d := range m.CodeLists {
		k.next()
		w.codeList(d)
	}
	for _, d := range m.ImputationMethods {
		k.next()
		x.start("ImputationMethod")
		x.attr("OID", d.OID)
		w.textContent(d.Value, &d.Extensions)
	}
	for _, d := range m.Presentations {
		k.next()
		x.start("Presentation")
		x.attr("OID", d.OID)
		if d.Lang != "" {
			x.attr("xml:lang", d.Lang)
		}
		w.textContent(d.Value, &d.Extensions)
	}
	for _, d := range m.ConditionDefs {
		k.next()
		x.start("ConditionDef")
		x.attr("OID", d.OID)
		x.attr("Name", d.Name)
		w.expressionDef(&d.Description, d.FormalExpressions, d.Aliases, &d.Extensions)
	}
	for _, d := range m.MethodDefs {
		k.next()
		x.start("MethodDef")
		x.attr("OID", d.OID)
		x.attr("Name", d.Name)
		x.optAttr("Type", string(d.Type))
		w.expressionDef(&d.Description, d.FormalExpressions, d.Aliases, &d.Extensions)
	}
	k.done()
	x.end()
}

// ref writes StudyEventRef, FormRef or ItemGroupRef.
func (w *Writer) ref(elem, attr, target string, order *int, mandatory YesNo, exception string, e *Extensions) {
	x := w.x
	x.start(elem)
	x.attr(attr, target)
	x.intAttr("OrderNumber", order)
	x.attr("Mandatory", string(mandatory))
	x.optAttr("CollectionExceptionConditionOID", exception)
	w.empty(e)
}

func (w *Writer) studyEventDef(d *StudyEventDef) {
	x := w.x
	x.start("StudyEventDef")
	x.attr("OID", d.OID)
	x.attr("Name", d.Name)
	x.attr("Repeating", string(d.Repeating))
	x.attr("Type", string(d.Type))
	x.optAttr("Category", d.Category)
	w.extAttrs(&d.Extensions)
	k := w.kidsOf(&d.Extensions)
	w.optTranslations(&k, "Description", d.Description)
	for _, ref := range d.FormRefs {
		k.next()
		w.ref("FormRef", "FormOID", ref.FormOID, ref.OrderNumber, ref.Mandatory, ref.CollectionExceptionConditionOID, &ref.Extensions)
	}
	w.aliases(&k, d.Aliases)
	k.done()
	x.end()
}

func (w *Writer) formDef(d *FormDef) {
	x := w.x
	x.start("FormDef")
	x.attr("OID", d.OID)
	x.attr("Name", d.Name)
	x.attr("Repeating", string(d.Repeating))
	w.extAttrs(&d.Extensions)
	k := w.kidsOf(&d.Extensions)
	w.optTranslations(&k, "Description", d.Description)
	for _, ref := range d.ItemGroupRefs {
		k.next()
		w.ref("ItemGroupRef", "ItemGroupOID", ref.ItemGroupOID, ref.OrderNumber, ref.Mandatory, ref.CollectionExceptionConditionOID, &ref.Extensions)
	}
	for _, a := range d.ArchiveLayouts {
		k.next()
		x.start("ArchiveLayout")
		x.attr("OID", a.OID)
		x.attr("PdfFileName", a.PdfFileName)
		x.optAttr("PresentationOID", a.PresentationOID)
		w.empty(&a.Extensions)
	}
	w.aliases(&k, d.Aliases)
	k.done()
	x.end()
}

func (w *Writer) itemGroupDef(d *ItemGroupDef) {
	x := w.x
	x.start("ItemGroupDef")
	x.attr("OID", d.OID)
	x.attr("Name", d.Name)
	x.attr("Repeating", string(d.Repeating))
	x.optAttr("IsReferenceData", string(d.IsReferenceData))
	x.optAttr("SASDatasetName", d.SASDatasetName)
	x.optAttr("Domain", d.Domain)
	x.optAttr("Origin", d.Origin)
	x.optAttr("Role", d.Role)
	x.optAttr("Purpose", d.Purpose)
	x.optAttr("Comment", d.Comment)
	w.extAttrs(&d.Extensions)
	k := w.kidsOf(&d.Extensions)
	w.optTranslations(&k, "Description", d.Description)
	for _, ref := range d.ItemRefs {
		k.next()
		x.start("ItemRef")
		x.attr("ItemOID", ref.ItemOID)
		x.intAttr("KeySequence", ref.KeySequence)
		x.optAttr("MethodOID", ref.MethodOID)
		x.optAttr("ImputationMethodOID", ref.ImputationMethodOID)
		x.optAttr("Role", ref.Role)
		x.optAttr("RoleCodeListOID", ref.RoleCodeListOID)
		x.intAttr("OrderNumber", ref.OrderNumber)
		x.attr("Mandatory", string(ref.Mandatory))
		x.optAttr("CollectionExceptionConditionOID", ref.CollectionExceptionConditionOID)
		w.empty(&ref.Extensions)
	}
	w.aliases(&k, d.Aliases)
	k.done()
	x.end()
}

func (w *Writer) itemDef(d *ItemDef) {
	x := w.x
	x.start("ItemDef")
	x.attr("OID", d.OID)
	x.attr("Name", d.Name)
	x.attr("DataType", string(d.DataType))
	x.intAttr("Length", d.Length)
	x.intAttr("SignificantDigits", d.SignificantDigits)
	x.optAttr("SASFieldName", d.SASFieldName)
	x.optAttr("SDSVarName", d.SDSVarName)
	x.optAttr("Origin", d.Origin)
	x.optAttr("Comment", d.Comment)
	w.extAttrs(&d.Extensions)
	k := w.kidsOf(&d.Extensions)
	w.optTranslations(&k, "Description", d.Description)
	w.optTranslations(&k, "Question", d.Question)
	if q := d.ExternalQuestion; q != nil {
		k.next()
		x.start("ExternalQuestion")
		x.optAttr("Dictionary", q.Dictionary)
		x.optAttr("Version", q.Version)
		x.optAttr("Code", q.Code)
		w.empty(&q.Extensions)
	}
	for _, ref := range d.MeasurementUnitRefs {
		k.next()
		w.measurementUnitRef(ref)
	}
	for _, rc := range d.RangeChecks {
		k.next()
		w.rangeCheck(rc)
	}
	if ref := d.CodeListRef; ref != nil {
		k.next()
		x.start("CodeListRef")
		x.attr("CodeListOID", ref.CodeListOID)
		w.empty(&ref.Extensions)
	}
	for _, role := range d.Roles {
		k.next()
		x.leaf("Role", role)
	}
	w.aliases(&k, d.Aliases)
	k.done()
	x.end()
}

func (w *Writer) measurementUnitRef(ref *MeasurementUnitRef) {
	w.x.start("MeasurementUnitRef")
	w.x.attr("MeasurementUnitOID", ref.MeasurementUnitOID)
	w.empty(&ref.Extensions)
}

func (w *Writer) rangeCheck(rc *RangeCheck) {
	x := w.x
	x.start("RangeCheck")
	x.optAttr("Comparator", string(rc.Comparator))
	x.attr("SoftHard", string(rc.SoftHard))
	w.extAttrs(&rc.Extensions)
	k := w.kidsOf(&rc.Extensions)
	for _, v := range rc.CheckValues {
		k.next()
		x.leaf("CheckValue", v)
	}
	for _, f := range rc.FormalExpressions {
		k.next()
		w.formalExpression(f)
	}
	if ref := rc.MeasurementUnitRef; ref != nil {
		k.next()
		w.measurementUnitRef(ref)
	}
	w.optTranslations(&k, "ErrorMessage", rc.ErrorMessage)
	k.done()
	x.end()
}

func (w *Writer) formalExpression(f *FormalExpression) {
	w.x.start("FormalExpression")
	w.x.optAttr("Context", f.Context)
	w.textContent(f.Value, &f.Extensions)
}

func (w *Writer) codeList(d *CodeList) {
	x := w.x
	x.start("CodeList")
	x.attr("OID", d.OID)
	x.attr("Name", d.Name)
	x.attr("DataType", string(d.DataType))
	x.optAttr("SASFormatName", d.SASFormatName)
	w.extAttrs(&d.Extensions)
	k := w.kidsOf(&d.Extensions)
	w.optTranslations(&k, "Description", d.Description)
	for _, it := range d.Items {
		k.next()
		x.start("CodeListItem")
		w.codedValue(it.CodedValue, it.Rank, it.OrderNumber)
		w.extAttrs(&it.Extensions)
		ik := w.kidsOf(&it.Extensions)
		ik.next()
		w.translations("Decode", &it.Decode)
		w.aliases(&ik, it.Aliases)
		ik.done()
		x.end()
	}
	if e := d.ExternalCodeList; e != nil {
		k.next()
		x.start("ExternalCodeList")
		x.optAttr("Dictionary", e.Dictionary)
		x.optAttr("Version", e.Version)
		x.optAttr("href", e.Href)
		x.optAttr("ref", e.Ref)
		w.empty(&e.Extensions)
	}
	for _, it := range d.EnumeratedItems {
		k.next()
		x.start("EnumeratedItem")
		w.codedValue(it.CodedValue, it.Rank, it.OrderNumber)
		w.extAttrs(&it.Extensions)
		ik := w.kidsOf(&it.Extensions)
		w.aliases(&ik, it.Aliases)
		ik.done()
		x.end()
	}
	w.aliases(&k, d.Aliases)
	k.done()
	x.end()
}

func (w *Writer) codedValue(value string, rank *float64, order *int) {
	w.x.attr("CodedValue", value)
	if rank != nil {
		w.x.attr("Rank", strconv.FormatFloat(*rank, 'f', -1, 64))
	}
	w.x.intAttr("OrderNumber", order)
}

func (w *Writer) expressionDef(desc *Translations, exprs []*FormalExpression, aliases []Alias, e *Extensions) {
	w.extAttrs(e)
	k := w.kidsOf(e)
	k.next()
	w.translations("Description", desc)
	for _, f := range exprs {
		k.next()
		w.formalExpression(f)
	}
	w.aliases(&k, aliases)
	k.done()
	w.x.end()
}

func (w *Writer) adminData(a *AdminData) {
	x := w.x
	x.start("AdminData")
	x.optAttr("StudyOID", a.StudyOID)
	w.extAttrs(&a.Extensions)
	k := w.kidsOf(&a.Extensions)
	for _, u := range a.Users {
		k.next()
		w.user(u)
	}
	for _, l := range a.Locations {
		k.next()
		x.start("Location")
		x.attr("OID", l.OID)
		x.attr("Name", l.Name)
		x.optAttr("LocationType", string(l.LocationType))
		w.extAttrs(&l.Extensions)
		lk := w.kidsOf(&l.Extensions)
		for _, ref := range l.MetaDataVersionRefs {
			lk.next()
			x.start("MetaDataVersionRef")
			x.attr("StudyOID", ref.StudyOID)
			x.attr("MetaDataVersionOID", ref.MetaDataVersionOID)
			x.attr("EffectiveDate", ref.EffectiveDate)
			w.empty(&ref.Extensions)
		}
		lk.done()
		x.end()
	}
	for _, s := range a.SignatureDefs {
		k.next()
		x.start("SignatureDef")
		x.attr("OID", s.OID)
		x.optAttr("Methodology", string(s.Methodology))
		w.extAttrs(&s.Extensions)
		sk := w.kidsOf(&s.Extensions)
		sk.next()
		x.leaf("Meaning", s.Meaning)
		sk.next()
		x.leaf("LegalReason", s.LegalReason)
		sk.done()
		x.end()
	}
	k.done()
	x.end()
}

func (w *Writer) user(u *User) {
	x := w.x
	x.start("User")
	x.attr("OID", u.OID)
	x.optAttr("UserType", string(u.UserType))
	w.extAttrs(&u.Extensions)
	k := w.kidsOf(&u.Extensions)
	opt := func(name, v string) {
		if v != "" {
			k.next()
			x.leaf(name, v)
		}
	}
	many := func(name string, vs []string) {
		for _, v := range vs {
			k.next()
			x.leaf(name, v)
		}
	}
	opt("LoginName", u.LoginName)
	opt("DisplayName", u.DisplayName)
	opt("FullName", u.FullName)
	opt("FirstName", u.FirstName)
	opt("LastName", u.LastName)
	opt("Organization", u.Organization)
	for _, a := range u.Addresses {
		k.next()
		x.start("Address")
		w.extAttrs(&a.Extensions)
		ak := w.kidsOf(&a.Extensions)
		for _, s := range a.StreetNames {
			ak.next()
			x.leaf("StreetName", s)
		}
		for _, f := range []struct{ name, v string }{
			{"City", a.City}, {"StateProv", a.StateProv}, {"Country", a.Country},
			{"PostalCode", a.PostalCode}, {"OtherText", a.OtherText},
		} {
			if f.v != "" {
				ak.next()
				x.leaf(f.name, f.v)
			}
		}
		ak.done()
		x.end()
	}
	many("Email", u.Emails)
	if p := u.Picture; p != nil {
		k.next()
		x.start("Picture")
		x.attr("PictureFileName", p.PictureFileName)
		x.optAttr("ImageType", p.ImageType)
		w.empty(&p.Extensions)
	}
	opt("Pager", u.Pager)
	many("Fax", u.Faxes)
	many("Phone", u.Phones)
	for _, ref := range u.LocationRefs {
		k.next()
		x.start("LocationRef")
		x.attr("LocationOID", ref.LocationOID)
		w.empty(&ref.Extensions)
	}
	many("Certificate", u.Certificates)
	k.done()
	x.end()
}
