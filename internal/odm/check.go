package odm

import (
	"fmt"
	"strconv"
)

// checker finds what is wrong with a model: what the ODM 1.3.2 schema would
// refuse (missing or malformed attributes, duplicates) and what it cannot
// see (references to undefined OIDs, values that do not fit their item).
// The Reader runs it to build its Diagnostics; the Writer runs it to refuse
// documents that would not validate.
type checker struct {
	report func(Diagnostic)
	where  func(any) (line, col int) // position of a model element; may be nil
}

// add reports a finding. at is a position, a model element whose position
// where knows, or nil.
func (c *checker) add(at any, sev Severity, code Code, oid, format string, args ...any) {
	d := Diagnostic{OID: oid, Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)}
	switch p := at.(type) {
	case nil:
	case position:
		d.Line, d.Column = p.line, p.col
	default:
		if c.where != nil {
			d.Line, d.Column = c.where(at)
		}
	}
	c.report(d)
}

// named names an element in a message: "ItemDef IT.AGE", or "an ItemDef"
// when it has no OID.
func named(elem, oid string) string {
	if oid == "" {
		if len(elem) > 0 && (elem[0] == 'A' || elem[0] == 'E' || elem[0] == 'I' || elem[0] == 'O') {
			return "an " + elem
		}
		return "a " + elem
	}
	return elem + " " + oid
}

// required reports an empty required attribute.
func (c *checker) required(at any, elem, oid, attr, value string) bool {
	if value == "" {
		c.add(at, Error, CodeMissingAttribute, oid, "%s has no %s, which ODM requires", named(elem, oid), attr)
		return false
	}
	return true
}

// enum reports a value outside its enumeration; empty values are left to
// required.
func (c *checker) enum(at any, elem, oid, attr, value string, valid bool) {
	if value != "" && !valid {
		c.add(at, Error, CodeBadValue, oid, "the %s of %s is %q, which is not one of the values ODM allows", attr, named(elem, oid), clip(value, 40))
	}
}

// requiredEnum reports a missing or invalid required enumerated value.
func (c *checker) requiredEnum(at any, elem, oid, attr, value string, valid bool) {
	if c.required(at, elem, oid, attr, value) {
		c.enum(at, elem, oid, attr, value, valid)
	}
}

// lexical reports a non-empty value that is not of its schema type.
func (c *checker) lexical(at any, elem, oid, attr, value, typ string, ok func(string) bool) {
	if value != "" && !ok(value) {
		c.add(at, Error, CodeBadValue, oid, "the %s of %s is %q, which is not %s", attr, named(elem, oid), clip(value, 40), typ)
	}
}

// unique reports value if seen already has it; empty values are not
// compared, as in the schema.
func (c *checker) unique(seen map[string]bool, at any, elem, oid, what, value string) {
	if value == "" {
		return
	}
	if seen[value] {
		c.add(at, Error, CodeDuplicate, oid, "%s %q occurs twice in %s; it must be unique there", what, clip(value, 60), named(elem, oid))
		return
	}
	seen[value] = true
}

// uniqueInt is unique for optional integers.
func (c *checker) uniqueInt(seen map[string]bool, at any, elem, oid, what string, value *int) {
	if value != nil {
		c.unique(seen, at, elem, oid, what, strconv.Itoa(*value))
	}
}

// translations checks Description, Question, Decode, ErrorMessage and
// Symbol: at least one text, valid and distinct languages.
func (c *checker) translations(t *Translations, elem, oid string) {
	if t == nil {
		return
	}
	if len(t.Texts) == 0 {
		c.add(t, Error, CodeMissingElement, oid, "the %s of %s has no TranslatedText, which ODM requires", elem, oidOr(oid))
	}
	langs := map[string]bool{}
	for _, tt := range t.Texts {
		c.lexical(t, "TranslatedText", oid, "xml:lang", tt.Lang, "a language tag", isLanguage)
		if tt.Lang != "" && langs[tt.Lang] {
			c.add(t, Error, CodeDuplicate, oid, "the %s of %s has two texts in the language %q", elem, oidOr(oid), tt.Lang)
		}
		langs[tt.Lang] = true
	}
}

func oidOr(oid string) string {
	if oid == "" {
		return "the element"
	}
	return oid
}

// aliases checks that Alias contexts are distinct where the schema wants
// them so (unique). Context and Name are text and may be empty.
func (c *checker) aliases(at any, aliases []Alias, oid string, unique bool) {
	if !unique {
		return
	}
	contexts := map[string]bool{}
	for _, a := range aliases {
		c.unique(contexts, at, "Alias", oid, "the Alias context", a.Context)
	}
}

// document checks the root and all metadata.
func (c *checker) document(d *Document) {
	c.requiredEnum(d, "ODM", d.FileOID, "FileType", string(d.FileType), d.FileType.Valid())
	c.required(d, "ODM", d.FileOID, "FileOID", d.FileOID)
	if c.required(d, "ODM", d.FileOID, "CreationDateTime", d.CreationDateTime) {
		c.lexical(d, "ODM", d.FileOID, "CreationDateTime", d.CreationDateTime, "a date and time", isDateTime)
	}
	c.lexical(d, "ODM", d.FileOID, "AsOfDateTime", d.AsOfDateTime, "a date and time", isDateTime)
	c.enum(d, "ODM", d.FileOID, "Granularity", string(d.Granularity), d.Granularity.Valid())
	c.enum(d, "ODM", d.FileOID, "ODMVersion", d.ODMVersion, oneOf(d.ODMVersion, odmVersions))
	c.lexical(d, "ODM", d.FileOID, "ID", d.ID, "an XML name", isNCName)

	studies := map[string]bool{}
	for _, s := range d.Studies {
		c.unique(studies, s, "the file", "", "the study OID", s.OID)
		c.study(s)
	}
	locations := map[string]bool{}
	for _, a := range d.AdminData {
		for _, l := range a.Locations {
			locations[l.OID] = true
		}
	}
	for _, a := range d.AdminData {
		c.adminData(a)
		for _, u := range a.Users {
			for _, ref := range u.LocationRefs {
				if ref.LocationOID != "" && !locations[ref.LocationOID] {
					c.add(ref, Error, CodeDanglingReference, u.OID, "User %s refers to the location %s, which no AdminData defines", u.OID, ref.LocationOID)
				}
			}
		}
	}
}

// study checks a study and its design versions.
func (c *checker) study(s *Study) {
	c.required(s, "Study", s.OID, "OID", s.OID)
	g := s.GlobalVariables
	if g.StudyName == "" {
		c.add(s, Error, CodeMissingElement, s.OID, "the study %s has no StudyName, which ODM requires", oidOr(s.OID))
	}
	if g.ProtocolName == "" {
		c.add(s, Error, CodeMissingElement, s.OID, "the study %s has no ProtocolName, which ODM requires", oidOr(s.OID))
	}
	units := map[string]bool{}
	if b := s.BasicDefinitions; b != nil {
		for _, m := range b.MeasurementUnits {
			c.required(m, "MeasurementUnit", m.OID, "OID", m.OID)
			c.unique(units, m, "Study", s.OID, "the MeasurementUnit OID", m.OID)
			c.translations(&m.Symbol, "Symbol", m.OID)
			c.aliases(m, m.Aliases, m.OID, false)
		}
	}
	versions := map[string]bool{}
	for _, m := range s.MetaDataVersions {
		c.unique(versions, m, "Study", s.OID, "the MetaDataVersion OID", m.OID)
		c.metaDataVersion(m, units)
	}
}

// scope is what OID references in a MetaDataVersion may point to.
type scope struct {
	events, forms, groups, items, codeLists, methods, conditions, imputations, presentations, units map[string]bool
	included                                                                                        bool // the version includes another, which may define more
}

func (c *checker) metaDataVersion(m *MetaDataVersion, units map[string]bool) {
	c.required(m, "MetaDataVersion", m.OID, "OID", m.OID)
	c.required(m, "MetaDataVersion", m.OID, "Name", m.Name)
	sc := scope{
		events: map[string]bool{}, forms: map[string]bool{}, groups: map[string]bool{}, items: map[string]bool{},
		codeLists: map[string]bool{}, methods: map[string]bool{}, conditions: map[string]bool{},
		imputations: map[string]bool{}, presentations: map[string]bool{}, units: units,
		included: m.Include != nil,
	}
	// One set for all: the schema wants every OID in a version distinct,
	// whatever kind of definition it names.
	all := map[string]bool{}
	def := func(at any, kind, oid string, set map[string]bool) {
		c.unique(all, at, "MetaDataVersion", m.OID, "the OID", oid)
		set[oid] = true
	}
	for _, d := range m.StudyEventDefs {
		def(d, "StudyEventDef", d.OID, sc.events)
	}
	for _, d := range m.FormDefs {
		def(d, "FormDef", d.OID, sc.forms)
	}
	for _, d := range m.ItemGroupDefs {
		def(d, "ItemGroupDef", d.OID, sc.groups)
	}
	for _, d := range m.ItemDefs {
		def(d, "ItemDef", d.OID, sc.items)
	}
	for _, d := range m.CodeLists {
		def(d, "CodeList", d.OID, sc.codeLists)
	}
	for _, d := range m.ImputationMethods {
		def(d, "ImputationMethod", d.OID, sc.imputations)
		c.required(d, "ImputationMethod", d.OID, "OID", d.OID)
	}
	for _, d := range m.Presentations {
		def(d, "Presentation", d.OID, sc.presentations)
		c.required(d, "Presentation", d.OID, "OID", d.OID)
		c.lexical(d, "Presentation", d.OID, "xml:lang", d.Lang, "a language tag", isLanguage)
	}
	for _, d := range m.ConditionDefs {
		def(d, "ConditionDef", d.OID, sc.conditions)
	}
	for _, d := range m.MethodDefs {
		def(d, "MethodDef", d.OID, sc.methods)
	}

	if in := m.Include; in != nil {
		c.required(in, "Include", m.OID, "StudyOID", in.StudyOID)
		c.required(in, "Include", m.OID, "MetaDataVersionOID", in.MetaDataVersionOID)
	}
	if p := m.Protocol; p != nil {
		c.translations(p.Description, "Description", m.OID)
		oids, orders := map[string]bool{}, map[string]bool{}
		for _, ref := range p.StudyEventRefs {
			c.ref(ref, "StudyEventRef", m.OID, "StudyEventOID", ref.StudyEventOID, ref.Mandatory, ref.CollectionExceptionConditionOID, sc)
			c.unique(oids, ref, "Protocol", m.OID, "the StudyEventOID", ref.StudyEventOID)
			c.uniqueInt(orders, ref, "Protocol", m.OID, "the OrderNumber", ref.OrderNumber)
			c.dangling(ref, m.OID, "StudyEventRef", "StudyEventDef", ref.StudyEventOID, sc.events, sc)
		}
		c.aliases(p, p.Aliases, m.OID, true)
	}
	for _, d := range m.StudyEventDefs {
		c.studyEventDef(d, sc)
	}
	for _, d := range m.FormDefs {
		c.formDef(d, sc)
	}
	for _, d := range m.ItemGroupDefs {
		c.itemGroupDef(d, sc)
	}
	for _, d := range m.ItemDefs {
		c.itemDef(d, sc)
	}
	for _, d := range m.CodeLists {
		c.codeList(d)
	}
	for _, d := range m.ConditionDefs {
		c.required(d, "ConditionDef", d.OID, "OID", d.OID)
		c.required(d, "ConditionDef", d.OID, "Name", d.Name)
		c.expressionDef(d, "ConditionDef", d.OID, &d.Description, d.Aliases)
	}
	for _, d := range m.MethodDefs {
		c.required(d, "MethodDef", d.OID, "OID", d.OID)
		c.required(d, "MethodDef", d.OID, "Name", d.Name)
		c.enum(d, "MethodDef", d.OID, "Type", string(d.Type), d.Type.Valid())
		c.expressionDef(d, "MethodDef", d.OID, &d.Description, d.Aliases)
	}
}

func (c *checker) expressionDef(at any, elem, oid string, desc *Translations, aliases []Alias) {
	if len(desc.Texts) == 0 {
		c.add(at, Error, CodeMissingElement, oid, "%s has no Description, which ODM requires", named(elem, oid))
	} else {
		c.translations(desc, "Description", oid)
	}
	c.aliases(at, aliases, oid, true)
}

// ref checks the attributes StudyEventRef, FormRef, ItemGroupRef and
// ItemRef share.
func (c *checker) ref(at any, elem, oid, attr, target string, mandatory YesNo, exception string, sc scope) {
	c.required(at, elem, oid, attr, target)
	c.requiredEnum(at, elem, oid, "Mandatory", string(mandatory), mandatory.Valid())
	c.dangling(at, oid, elem, "ConditionDef", exception, sc.conditions, sc)
}

// dangling reports a reference to an OID the version does not define. If
// the version includes another, the definition may be there, so this is
// only a warning.
func (c *checker) dangling(at any, oid, elem, kind, ref string, defined map[string]bool, sc scope) {
	if ref == "" || defined[ref] {
		return
	}
	if sc.included {
		c.add(at, Warning, CodeDanglingReference, oid, "%s in %s refers to the %s %s, which is not defined here; it may come from the included MetaDataVersion", elem, oidOr(oid), kind, ref)
		return
	}
	c.add(at, Error, CodeDanglingReference, oid, "%s in %s refers to the %s %s, which is not defined", elem, oidOr(oid), kind, ref)
}

func (c *checker) studyEventDef(d *StudyEventDef, sc scope) {
	c.required(d, "StudyEventDef", d.OID, "OID", d.OID)
	c.required(d, "StudyEventDef", d.OID, "Name", d.Name)
	c.requiredEnum(d, "StudyEventDef", d.OID, "Repeating", string(d.Repeating), d.Repeating.Valid())
	c.requiredEnum(d, "StudyEventDef", d.OID, "Type", string(d.Type), d.Type.Valid())
	c.translations(d.Description, "Description", d.OID)
	oids, orders := map[string]bool{}, map[string]bool{}
	for _, ref := range d.FormRefs {
		c.ref(ref, "FormRef", d.OID, "FormOID", ref.FormOID, ref.Mandatory, ref.CollectionExceptionConditionOID, sc)
		c.unique(oids, ref, "StudyEventDef", d.OID, "the FormOID", ref.FormOID)
		c.uniqueInt(orders, ref, "StudyEventDef", d.OID, "the OrderNumber", ref.OrderNumber)
		c.dangling(ref, d.OID, "FormRef", "FormDef", ref.FormOID, sc.forms, sc)
	}
	c.aliases(d, d.Aliases, d.OID, true)
}

func (c *checker) formDef(d *FormDef, sc scope) {
	c.required(d, "FormDef", d.OID, "OID", d.OID)
	c.required(d, "FormDef", d.OID, "Name", d.Name)
	c.requiredEnum(d, "FormDef", d.OID, "Repeating", string(d.Repeating), d.Repeating.Valid())
	c.translations(d.Description, "Description", d.OID)
	oids, orders, layouts := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, ref := range d.ItemGroupRefs {
		c.ref(ref, "ItemGroupRef", d.OID, "ItemGroupOID", ref.ItemGroupOID, ref.Mandatory, ref.CollectionExceptionConditionOID, sc)
		c.unique(oids, ref, "FormDef", d.OID, "the ItemGroupOID", ref.ItemGroupOID)
		c.uniqueInt(orders, ref, "FormDef", d.OID, "the OrderNumber", ref.OrderNumber)
		c.dangling(ref, d.OID, "ItemGroupRef", "ItemGroupDef", ref.ItemGroupOID, sc.groups, sc)
	}
	for _, a := range d.ArchiveLayouts {
		c.required(a, "ArchiveLayout", d.OID, "OID", a.OID)
		c.lexical(a, "ArchiveLayout", d.OID, "PdfFileName", a.PdfFileName, "a file name or URI", isAnyURI)
		c.unique(layouts, a, "FormDef", d.OID, "the ArchiveLayout OID", a.OID)
		c.dangling(a, d.OID, "ArchiveLayout", "Presentation", a.PresentationOID, sc.presentations, sc)
	}
	c.aliases(d, d.Aliases, d.OID, true)
}

func (c *checker) itemGroupDef(d *ItemGroupDef, sc scope) {
	c.required(d, "ItemGroupDef", d.OID, "OID", d.OID)
	c.required(d, "ItemGroupDef", d.OID, "Name", d.Name)
	c.requiredEnum(d, "ItemGroupDef", d.OID, "Repeating", string(d.Repeating), d.Repeating.Valid())
	c.enum(d, "ItemGroupDef", d.OID, "IsReferenceData", string(d.IsReferenceData), d.IsReferenceData.Valid())
	c.lexical(d, "ItemGroupDef", d.OID, "SASDatasetName", d.SASDatasetName, "a SAS name of up to 8 characters", isSASName)
	c.translations(d.Description, "Description", d.OID)
	oids, orders, keys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, ref := range d.ItemRefs {
		c.ref(ref, "ItemRef", d.OID, "ItemOID", ref.ItemOID, ref.Mandatory, ref.CollectionExceptionConditionOID, sc)
		c.unique(oids, ref, "ItemGroupDef", d.OID, "the ItemOID", ref.ItemOID)
		c.uniqueInt(orders, ref, "ItemGroupDef", d.OID, "the OrderNumber", ref.OrderNumber)
		c.uniqueInt(keys, ref, "ItemGroupDef", d.OID, "the KeySequence", ref.KeySequence)
		c.dangling(ref, d.OID, "ItemRef", "ItemDef", ref.ItemOID, sc.items, sc)
		c.dangling(ref, d.OID, "ItemRef", "MethodDef", ref.MethodOID, sc.methods, sc)
		c.dangling(ref, d.OID, "ItemRef", "ImputationMethod", ref.ImputationMethodOID, sc.imputations, sc)
		c.dangling(ref, d.OID, "ItemRef", "CodeList", ref.RoleCodeListOID, sc.codeLists, sc)
	}
	c.aliases(d, d.Aliases, d.OID, true)
}

func (c *checker) itemDef(d *ItemDef, sc scope) {
	c.required(d, "ItemDef", d.OID, "OID", d.OID)
	c.required(d, "ItemDef", d.OID, "Name", d.Name)
	c.requiredEnum(d, "ItemDef", d.OID, "DataType", string(d.DataType), d.DataType.Valid())
	if d.Length != nil && *d.Length < 1 {
		c.add(d, Error, CodeBadValue, d.OID, "the Length of ItemDef %s is %d; it must be at least 1", d.OID, *d.Length)
	}
	if d.SignificantDigits != nil && *d.SignificantDigits < 0 {
		c.add(d, Error, CodeBadValue, d.OID, "the SignificantDigits of ItemDef %s is %d; it must not be negative", d.OID, *d.SignificantDigits)
	}
	c.lexical(d, "ItemDef", d.OID, "SASFieldName", d.SASFieldName, "a SAS name of up to 8 characters", isSASName)
	c.lexical(d, "ItemDef", d.OID, "SDSVarName", d.SDSVarName, "a SAS name of up to 8 characters", isSASName)
	c.translations(d.Description, "Description", d.OID)
	c.translations(d.Question, "Question", d.OID)
	for _, ref := range d.MeasurementUnitRefs {
		if c.required(ref, "MeasurementUnitRef", d.OID, "MeasurementUnitOID", ref.MeasurementUnitOID) {
			c.dangling(ref, d.OID, "MeasurementUnitRef", "MeasurementUnit", ref.MeasurementUnitOID, sc.units, scope{})
		}
	}
	for _, rc := range d.RangeChecks {
		c.requiredEnum(rc, "RangeCheck", d.OID, "SoftHard", string(rc.SoftHard), rc.SoftHard.Valid())
		c.enum(rc, "RangeCheck", d.OID, "Comparator", string(rc.Comparator), rc.Comparator.Valid())
		switch {
		case len(rc.CheckValues) == 0 && len(rc.FormalExpressions) == 0:
			c.add(rc, Error, CodeMissingElement, d.OID, "a RangeCheck of ItemDef %s has neither CheckValue nor FormalExpression; ODM requires one", d.OID)
		case len(rc.CheckValues) > 0 && len(rc.FormalExpressions) > 0:
			c.add(rc, Error, CodeBadValue, d.OID, "a RangeCheck of ItemDef %s has both CheckValues and FormalExpressions; ODM allows only one kind", d.OID)
		}
		if ref := rc.MeasurementUnitRef; ref != nil && c.required(ref, "MeasurementUnitRef", d.OID, "MeasurementUnitOID", ref.MeasurementUnitOID) {
			c.dangling(ref, d.OID, "RangeCheck", "MeasurementUnit", ref.MeasurementUnitOID, sc.units, scope{})
		}
		c.translations(rc.ErrorMessage, "ErrorMessage", d.OID)
	}
	if ref := d.CodeListRef; ref != nil && c.required(ref, "CodeListRef", d.OID, "CodeListOID", ref.CodeListOID) {
		c.dangling(ref, d.OID, "CodeListRef", "CodeList", ref.CodeListOID, sc.codeLists, sc)
	}
	c.aliases(d, d.Aliases, d.OID, true)
}

func (c *checker) codeList(d *CodeList) {
	c.required(d, "CodeList", d.OID, "OID", d.OID)
	c.required(d, "CodeList", d.OID, "Name", d.Name)
	c.requiredEnum(d, "CodeList", d.OID, "DataType", string(d.DataType), d.DataType.ValidForCodeList())
	c.lexical(d, "CodeList", d.OID, "SASFormatName", d.SASFormatName, "a SAS format name of up to 8 characters", isSASFormat)
	c.translations(d.Description, "Description", d.OID)
	if x := d.ExternalCodeList; x != nil {
		c.lexical(d, "ExternalCodeList", d.OID, "href", x.Href, "a URI", isAnyURI)
	}
	kinds := 0
	for _, has := range []bool{len(d.Items) > 0, len(d.EnumeratedItems) > 0, d.ExternalCodeList != nil} {
		if has {
			kinds++
		}
	}
	switch kinds {
	case 0:
		c.add(d, Error, CodeMissingElement, d.OID, "CodeList %s has no CodeListItem, EnumeratedItem or ExternalCodeList; ODM requires one", d.OID)
	case 2, 3:
		c.add(d, Error, CodeBadValue, d.OID, "CodeList %s mixes CodeListItems, EnumeratedItems and an ExternalCodeList; ODM allows only one kind", d.OID)
	}
	values, orders := map[string]bool{}, map[string]bool{}
	for _, it := range d.Items {
		c.unique(values, it, "CodeList", d.OID, "the CodedValue", it.CodedValue)
		c.uniqueInt(orders, it, "CodeList", d.OID, "the OrderNumber", it.OrderNumber)
		if len(it.Decode.Texts) == 0 {
			c.add(it, Error, CodeMissingElement, d.OID, "the CodeListItem %q of CodeList %s has no Decode text, which ODM requires", clip(it.CodedValue, 40), d.OID)
		}
		c.translations(&it.Decode, "Decode", d.OID)
		c.aliases(it, it.Aliases, d.OID, true)
	}
	for _, it := range d.EnumeratedItems {
		c.unique(values, it, "CodeList", d.OID, "the CodedValue", it.CodedValue)
		c.uniqueInt(orders, it, "CodeList", d.OID, "the OrderNumber", it.OrderNumber)
		c.aliases(it, it.Aliases, d.OID, true)
	}
	c.aliases(d, d.Aliases, d.OID, true)
}

// adminData checks users, locations and signature definitions.
func (c *checker) adminData(a *AdminData) {
	users, locations, sigs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, u := range a.Users {
		c.required(u, "User", u.OID, "OID", u.OID)
		c.unique(users, u, "AdminData", a.StudyOID, "the User OID", u.OID)
		c.enum(u, "User", u.OID, "UserType", string(u.UserType), u.UserType.Valid())
		if p := u.Picture; p != nil {
			c.lexical(p, "Picture", u.OID, "PictureFileName", p.PictureFileName, "a file name or URI", isAnyURI)
		}
		for _, ref := range u.LocationRefs {
			c.required(ref, "LocationRef", u.OID, "LocationOID", ref.LocationOID)
		}
	}
	for _, l := range a.Locations {
		c.required(l, "Location", l.OID, "OID", l.OID)
		c.required(l, "Location", l.OID, "Name", l.Name)
		c.unique(locations, l, "AdminData", a.StudyOID, "the Location OID", l.OID)
		c.enum(l, "Location", l.OID, "LocationType", string(l.LocationType), l.LocationType.Valid())
		if len(l.MetaDataVersionRefs) == 0 {
			c.add(l, Error, CodeMissingElement, l.OID, "Location %s has no MetaDataVersionRef; ODM requires at least one", oidOr(l.OID))
		}
		for _, ref := range l.MetaDataVersionRefs {
			c.required(ref, "MetaDataVersionRef", l.OID, "StudyOID", ref.StudyOID)
			c.required(ref, "MetaDataVersionRef", l.OID, "MetaDataVersionOID", ref.MetaDataVersionOID)
			if c.required(ref, "MetaDataVersionRef", l.OID, "EffectiveDate", ref.EffectiveDate) {
				c.lexical(ref, "MetaDataVersionRef", l.OID, "EffectiveDate", ref.EffectiveDate, "a date", isDate)
			}
		}
	}
	for _, s := range a.SignatureDefs {
		c.required(s, "SignatureDef", s.OID, "OID", s.OID)
		c.unique(sigs, s, "AdminData", a.StudyOID, "the SignatureDef OID", s.OID)
		c.enum(s, "SignatureDef", s.OID, "Methodology", string(s.Methodology), s.Methodology.Valid())
	}
}
