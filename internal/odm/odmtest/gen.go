// Package odmtest generates random but valid ODM documents for property
// tests: internal/odm's own round trip and the packages that store or move
// ODM.
package odmtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	. "github.com/cohort-clinical/cohort/internal/odm" //nolint:revive // the generator reads as the model it builds
)

// gen builds random but valid ODM documents for property tests: random
// schedules, forms, item groups, items of every data type, code lists,
// range checks, units, translations, admin data and clinical data that
// fits the design, optionally with vendor extensions everywhere.
type gen struct {
	r    *rand.Rand
	seq  int  // makes OIDs unique across the whole document
	ext  bool // add vendor extensions
	seed uint64
}

const (
	vendorA = "urn:example:vendor-a"        // declared on the root
	vendorB = "http://example.org/vendor/b" // never declared on the root
)

func newGen(seed uint64, extensions bool) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ext: extensions, seed: seed}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) n(lo, hi int) int      { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) pick(options ...string) string {
	return options[g.r.IntN(len(options))]
}

func (g *gen) oid(prefix string) string {
	g.seq++
	if g.chance(0.1) {
		return fmt.Sprintf("%s.%d weird ü&<\"", prefix, g.seq) // OIDs are any non-empty string
	}
	return prefix + "." + strconv.Itoa(g.seq)
}

// text returns a random string that exercises escaping: XML specials,
// white space, non-ASCII.
func (g *gen) text() string {
	pieces := []string{"Blood pressure", "mm Hg", " ", "&", "<", ">", "\"", "'", "é", "日本語", "🩺", "\t", "\n", "\r\n", "  lead", "x]]>y", "a", "Zürich"}
	var b strings.Builder
	for i, n := 0, g.n(1, 5); i < n; i++ {
		b.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	return b.String()
}

// name returns a non-empty text that is not only white space, for the
// schema's name type.
func (g *gen) name() string {
	return g.pick("Visit", "Vital signs", "Größe", "Ärztin & Co") + g.text()
}

func (g *gen) optText() string {
	if g.chance(0.5) {
		return ""
	}
	return g.text()
}

func (g *gen) intp(lo, hi int) *int {
	v := g.n(lo, hi)
	return &v
}

func (g *gen) dateTime() string {
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", g.n(1990, 2030), g.n(1, 12), g.n(1, 28), g.n(0, 23), g.n(0, 59), g.n(0, 59))
	return s + g.pick("", "Z", "+01:00", "-05:30", ".250Z")
}

func (g *gen) translations(p float64) *Translations {
	if !g.chance(p) {
		return nil
	}
	t := &Translations{}
	langs := []string{"", "en", "de", "fr-CH", "ko", "x-pig-latin"}
	g.r.Shuffle(len(langs), func(i, j int) { langs[i], langs[j] = langs[j], langs[i] })
	for _, l := range langs[:g.n(1, 3)] {
		tt := TranslatedText{Lang: l, Value: g.text()}
		if g.ext && g.chance(0.05) {
			tt.Extensions.Elements = []*Node{g.node(2)}
		}
		t.Texts = append(t.Texts, tt)
	}
	t.Extensions = g.extensions(0)
	return t
}

func (g *gen) aliases() []Alias {
	var out []Alias
	for i, n := 0, g.n(0, 2); i < n; i++ {
		out = append(out, Alias{Context: fmt.Sprintf("SDTM%d", i), Name: g.name(), Extensions: g.extensions(0)})
	}
	return out
}

// extensions returns random vendor attributes and elements; kids is how
// many ODM children the holder has, so that positions stay within them.
func (g *gen) extensions(kids int) Extensions {
	var e Extensions
	if !g.ext || !g.chance(0.3) {
		return e
	}
	for i, n := 0, g.n(0, 2); i < n; i++ {
		space := g.pick(vendorA, vendorB)
		e.Attrs = append(e.Attrs, Attr{Space: space, Local: fmt.Sprintf("attr%d", i), Value: g.text()})
	}
	pos := 0
	for i, n := 0, g.n(0, 2); i < n; i++ {
		node := g.node(3)
		pos = g.n(pos, kids)
		node.Pos = pos
		e.Elements = append(e.Elements, node)
	}
	return e
}

// node returns a random vendor element tree.
func (g *gen) node(depth int) *Node {
	n := &Node{Space: g.pick(vendorA, vendorB), Local: g.pick("Detail", "Status", "Links", "note")}
	if g.chance(0.5) {
		n.Attrs = []Attr{{Local: "kind", Value: g.text()}, {Space: g.pick(vendorA, vendorB), Local: "flag", Value: "1"}}
	}
	if depth > 1 && g.chance(0.5) {
		for i, k := 0, g.n(1, 3); i < k; i++ {
			c := g.node(depth - 1)
			if g.chance(0.3) {
				c.Tail = "tail" + g.text()
			}
			n.Children = append(n.Children, c)
		}
		if g.chance(0.3) {
			n.Text = "mixed" + g.text()
		}
	} else if g.chance(0.7) {
		n.Text = g.text()
	}
	return n
}

// document builds a random document and its clinical data, held in
// memory so that Write and Rows exercise the streaming writer.
func (g *gen) document() *Document {
	d := &Document{
		FileType:         FileType(g.pick("Snapshot", "Transactional")),
		FileOID:          g.oid("F"),
		CreationDateTime: g.dateTime(),
		ODMVersion:       Version,
		Description:      g.optText(),
		Originator:       g.optText(),
		SourceSystem:     g.pick("", "cohort"),
	}
	if g.chance(0.3) {
		d.Granularity = GranularityAll
		d.AsOfDateTime = g.dateTime()
		d.Archival = true
		d.ID = "doc" + strconv.Itoa(g.n(1, 99))
	}
	if g.ext {
		d.Namespaces = []NamespaceDecl{{Prefix: "va", URI: vendorA}}
	}
	for i, n := 0, g.n(1, 2); i < n; i++ {
		d.Studies = append(d.Studies, g.study())
	}
	if g.chance(0.6) {
		d.AdminData = []*AdminData{g.adminData(d.Studies[0])}
	}
	for _, s := range d.Studies {
		for _, m := range s.MetaDataVersions {
			if g.chance(0.3) {
				d.ReferenceData = append(d.ReferenceData, g.referenceData(s, m))
			}
			if g.chance(0.8) {
				d.ClinicalData = append(d.ClinicalData, g.clinicalData(s, m, d.AdminData))
			}
		}
	}
	d.Extensions = g.extensions(len(d.Studies) + len(d.AdminData) + len(d.ReferenceData) + len(d.ClinicalData))
	for i := range d.Extensions.Attrs {
		// A namespace used on the root is declared there, and so read back
		// into Namespaces; keep to the one the generator declares.
		d.Extensions.Attrs[i].Space = vendorA
	}
	return d
}

func (g *gen) study() *Study {
	s := &Study{OID: g.oid("S")}
	s.GlobalVariables = GlobalVariables{StudyName: g.name(), StudyDescription: g.optText(), ProtocolName: g.name(), Extensions: g.extensions(3)}
	var units []*MeasurementUnit
	if g.chance(0.7) {
		s.BasicDefinitions = &BasicDefinitions{}
		for i, n := 0, g.n(0, 4); i < n; i++ {
			units = append(units, &MeasurementUnit{OID: g.oid("MU"), Name: g.name(), Symbol: *g.translations(1), Aliases: g.aliases(), Extensions: g.extensions(1)})
		}
		s.BasicDefinitions.MeasurementUnits = units
		s.BasicDefinitions.Extensions = g.extensions(len(units))
	}
	for i, n := 0, g.n(1, 2); i < n; i++ {
		s.MetaDataVersions = append(s.MetaDataVersions, g.metaDataVersion(units))
	}
	s.Extensions = g.extensions(1)
	return s
}

func (g *gen) yesNo() YesNo { return YesNo(g.pick("Yes", "No")) }

func (g *gen) metaDataVersion(units []*MeasurementUnit) *MetaDataVersion {
	m := &MetaDataVersion{OID: g.oid("MDV"), Name: g.name(), Description: g.optText()}
	for i, n := 0, g.n(0, 2); i < n; i++ {
		m.ConditionDefs = append(m.ConditionDefs, &ConditionDef{OID: g.oid("COND"), Name: g.name(), Description: *g.translations(1),
			FormalExpressions: g.expressions(), Aliases: g.aliases()})
	}
	for i, n := 0, g.n(0, 2); i < n; i++ {
		m.MethodDefs = append(m.MethodDefs, &MethodDef{OID: g.oid("MT"), Name: g.name(), Type: MethodType(g.pick("", "Computation", "Imputation", "Transpose", "Other")),
			Description: *g.translations(1), FormalExpressions: g.expressions()})
	}
	if g.chance(0.3) {
		m.ImputationMethods = []*ImputationMethod{{OID: g.oid("IM"), Value: g.text()}}
	}
	if g.chance(0.3) {
		m.Presentations = []*Presentation{{OID: g.oid("PR"), Lang: g.pick("", "en"), Value: g.text()}}
	}
	// Code lists first, so that items can use them.
	for i, n := 0, g.n(0, 4); i < n; i++ {
		m.CodeLists = append(m.CodeLists, g.codeList())
	}
	for i, n := 0, g.n(1, 12); i < n; i++ {
		m.ItemDefs = append(m.ItemDefs, g.itemDef(units, m.CodeLists))
	}
	for i, n := 0, g.n(1, 5); i < n; i++ {
		m.ItemGroupDefs = append(m.ItemGroupDefs, g.itemGroupDef(m))
	}
	for i, n := 0, g.n(1, 4); i < n; i++ {
		f := &FormDef{OID: g.oid("F"), Name: g.name(), Repeating: g.yesNo(), Description: g.translations(0.3), Aliases: g.aliases()}
		for j, group := range sample(g, m.ItemGroupDefs) {
			f.ItemGroupRefs = append(f.ItemGroupRefs, &ItemGroupRef{ItemGroupOID: group.OID, OrderNumber: ptr(j + 1), Mandatory: g.yesNo(),
				CollectionExceptionConditionOID: g.condition(m), Extensions: g.extensions(0)})
		}
		if g.chance(0.2) {
			f.ArchiveLayouts = []*ArchiveLayout{{OID: g.oid("AL"), PdfFileName: "form.pdf"}}
		}
		f.Extensions = g.extensions(len(f.ItemGroupRefs))
		m.FormDefs = append(m.FormDefs, f)
	}
	for i, n := 0, g.n(1, 4); i < n; i++ {
		e := &StudyEventDef{OID: g.oid("SE"), Name: g.name(), Repeating: g.yesNo(), Type: EventType(g.pick("Scheduled", "Unscheduled", "Common")),
			Category: g.optText(), Description: g.translations(0.3), Aliases: g.aliases()}
		for j, f := range sample(g, m.FormDefs) {
			e.FormRefs = append(e.FormRefs, &FormRef{FormOID: f.OID, OrderNumber: ptr(j + 1), Mandatory: g.yesNo()})
		}
		e.Extensions = g.extensions(len(e.FormRefs))
		m.StudyEventDefs = append(m.StudyEventDefs, e)
	}
	if g.chance(0.8) {
		p := &Protocol{Description: g.translations(0.3), Aliases: g.aliases()}
		for j, e := range m.StudyEventDefs {
			p.StudyEventRefs = append(p.StudyEventRefs, &StudyEventRef{StudyEventOID: e.OID, OrderNumber: ptr(j + 1), Mandatory: g.yesNo()})
		}
		m.Protocol = p
	}
	m.Extensions = g.extensions(3)
	return m
}

func ptr[T any](v T) *T { return &v }

// sample returns a random non-empty subset of defs, in order.
func sample[T any](g *gen, defs []T) []T {
	var out []T
	for _, d := range defs {
		if g.chance(0.6) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		out = append(out, defs[g.r.IntN(len(defs))])
	}
	return out
}

func (g *gen) condition(m *MetaDataVersion) string {
	if len(m.ConditionDefs) == 0 || !g.chance(0.2) {
		return ""
	}
	return m.ConditionDefs[g.r.IntN(len(m.ConditionDefs))].OID
}

func (g *gen) expressions() []*FormalExpression {
	var out []*FormalExpression
	for i, n := 0, g.n(0, 2); i < n; i++ {
		out = append(out, &FormalExpression{Context: g.pick("", "XPath", "Python"), Value: g.text()})
	}
	return out
}

// codedValue returns a value of a code list's data type.
func (g *gen) codedValue(t DataType, i int) string {
	switch t {
	case Integer:
		return strconv.Itoa(i - 3)
	case Float:
		return strconv.Itoa(i) + ".5"
	}
	return fmt.Sprintf("C%d%s", i, g.pick("", " ", "&", "é"))
}

func (g *gen) codeList() *CodeList {
	cl := &CodeList{OID: g.oid("CL"), Name: g.name(), DataType: DataType(g.pick("integer", "float", "text", "string")), Description: g.translations(0.2)}
	if g.chance(0.2) {
		cl.SASFormatName = "$FMT" + strconv.Itoa(g.n(0, 99))
	}
	switch g.n(0, 5) {
	case 0:
		cl.ExternalCodeList = &ExternalCodeList{Dictionary: "MedDRA", Version: "26.0", Href: "https://www.meddra.org"}
	case 1:
		for i, n := 0, g.n(1, 4); i < n; i++ {
			cl.EnumeratedItems = append(cl.EnumeratedItems, &EnumeratedItem{CodedValue: g.codedValue(cl.DataType, i), OrderNumber: ptr(i + 1)})
		}
	default:
		for i, n := 0, g.n(1, 6); i < n; i++ {
			it := &CodeListItem{CodedValue: g.codedValue(cl.DataType, i), Decode: *g.translations(1), Aliases: g.aliases(), Extensions: g.extensions(1)}
			if g.chance(0.5) {
				it.OrderNumber = ptr(i + 1)
			}
			if g.chance(0.2) {
				it.Rank = ptr(float64(i) + 0.25)
			}
			cl.Items = append(cl.Items, it)
		}
	}
	cl.Aliases = g.aliases()
	cl.Extensions = g.extensions(1)
	return cl
}

var allDataTypes = []string{"integer", "float", "date", "datetime", "time", "text", "string", "double", "URI", "boolean",
	"hexBinary", "base64Binary", "partialDate", "partialTime", "partialDatetime", "durationDatetime", "incompleteDate"}

func (g *gen) itemDef(units []*MeasurementUnit, lists []*CodeList) *ItemDef {
	d := &ItemDef{OID: g.oid("IT"), Name: g.name(), DataType: DataType(g.pick(allDataTypes...)), Origin: g.optText(), Comment: g.optText(),
		Description: g.translations(0.3), Question: g.translations(0.8), Aliases: g.aliases()}
	switch d.DataType {
	case Text, String:
		d.Length = g.intp(20, 200)
	case Float:
		d.SignificantDigits = g.intp(0, 3)
		d.Length = g.intp(8, 12)
	}
	if g.chance(0.3) {
		d.SASFieldName = "V" + strconv.Itoa(g.n(0, 9999))
	}
	if g.chance(0.1) {
		d.ExternalQuestion = &ExternalQuestion{Dictionary: "SF-36", Version: "2", Code: "Q1"}
	}
	if len(units) > 0 && (d.DataType == Integer || d.DataType == Float) && g.chance(0.5) {
		d.MeasurementUnitRefs = []*MeasurementUnitRef{{MeasurementUnitOID: units[g.r.IntN(len(units))].OID}}
	}
	if d.DataType == Integer || d.DataType == Float {
		for i, n := 0, g.n(0, 2); i < n; i++ {
			rc := &RangeCheck{Comparator: Comparator(g.pick("", "LT", "LE", "GT", "GE", "EQ", "NE", "IN", "NOTIN")), SoftHard: SoftHard(g.pick("Soft", "Hard")),
				ErrorMessage: g.translations(0.5)}
			if g.chance(0.7) {
				rc.CheckValues = []string{strconv.Itoa(g.n(0, 300))}
			} else {
				rc.FormalExpressions = g.expressions()
				if len(rc.FormalExpressions) == 0 {
					rc.FormalExpressions = []*FormalExpression{{Value: "x > 0"}}
				}
			}
			if len(d.MeasurementUnitRefs) > 0 && g.chance(0.5) {
				rc.MeasurementUnitRef = &MeasurementUnitRef{MeasurementUnitOID: d.MeasurementUnitRefs[0].MeasurementUnitOID}
			}
			d.RangeChecks = append(d.RangeChecks, rc)
		}
	}
	for _, cl := range lists {
		if string(cl.DataType) == string(d.DataType) && g.chance(0.7) {
			d.CodeListRef = &CodeListRef{CodeListOID: cl.OID}
			break
		}
	}
	if g.chance(0.1) {
		d.Roles = []string{"Identifier", g.text()}
	}
	d.Extensions = g.extensions(2)
	return d
}

func (g *gen) itemGroupDef(m *MetaDataVersion) *ItemGroupDef {
	d := &ItemGroupDef{OID: g.oid("IG"), Name: g.name(), Repeating: g.yesNo(), Domain: g.pick("", "VS", "DM"), Description: g.translations(0.2), Aliases: g.aliases()}
	if g.chance(0.2) {
		d.IsReferenceData = g.yesNo()
		d.SASDatasetName = "DS" + strconv.Itoa(g.n(0, 99))
		d.Role = "Findings"
	}
	for j, it := range sample(g, m.ItemDefs) {
		ref := &ItemRef{ItemOID: it.OID, OrderNumber: ptr(j + 1), Mandatory: g.yesNo(), CollectionExceptionConditionOID: g.condition(m), Extensions: g.extensions(0)}
		if g.chance(0.2) {
			ref.KeySequence = ptr(j + 1)
		}
		if len(m.MethodDefs) > 0 && g.chance(0.2) {
			ref.MethodOID = m.MethodDefs[0].OID
		}
		if len(m.ImputationMethods) > 0 && g.chance(0.2) {
			ref.ImputationMethodOID = m.ImputationMethods[0].OID
		}
		d.ItemRefs = append(d.ItemRefs, ref)
	}
	d.Extensions = g.extensions(len(d.ItemRefs))
	return d
}

func (g *gen) adminData(s *Study) *AdminData {
	a := &AdminData{StudyOID: s.OID}
	for i, n := 0, g.n(1, 3); i < n; i++ {
		l := &Location{OID: g.oid("LOC"), Name: g.name(), LocationType: LocationType(g.pick("", "Site", "Sponsor", "Lab"))}
		l.MetaDataVersionRefs = []*MetaDataVersionRef{{StudyOID: s.OID, MetaDataVersionOID: s.MetaDataVersions[0].OID,
			EffectiveDate: fmt.Sprintf("20%02d-%02d-%02d", g.n(10, 30), g.n(1, 12), g.n(1, 28))}}
		a.Locations = append(a.Locations, l)
	}
	for i, n := 0, g.n(1, 3); i < n; i++ {
		u := &User{OID: g.oid("U"), UserType: UserType(g.pick("", "Investigator", "Other")), LoginName: g.optText(), FullName: g.optText(),
			Emails: []string{"a@example.org"}, LocationRefs: []*LocationRef{{LocationOID: a.Locations[0].OID}}, Extensions: g.extensions(2)}
		if g.chance(0.3) {
			u.Addresses = []*Address{{StreetNames: []string{"Main Street 1"}, City: "Basel", Country: "CH"}}
			u.Picture = &Picture{PictureFileName: "me.png", ImageType: "PNG"}
			u.Phones = []string{"+41 00 000 00 00"}
		}
		a.Users = append(a.Users, u)
	}
	a.SignatureDefs = []*SignatureDef{{OID: g.oid("SD"), Methodology: SignMethod(g.pick("", "Electronic")), Meaning: g.text(), LegalReason: g.text()}}
	return a
}

// value returns a valid value for an item, from its code list if it has
// one.
func (g *gen) value(d *ItemDef, lists map[string]*CodeList) string {
	if d.CodeListRef != nil {
		cl := lists[d.CodeListRef.CodeListOID]
		switch {
		case len(cl.Items) > 0:
			return cl.Items[g.r.IntN(len(cl.Items))].CodedValue
		case len(cl.EnumeratedItems) > 0:
			return cl.EnumeratedItems[g.r.IntN(len(cl.EnumeratedItems))].CodedValue
		}
	}
	switch d.DataType {
	case Integer:
		return strconv.Itoa(g.n(-50, 300))
	case Float:
		return fmt.Sprintf("%d.%d", g.n(0, 200), g.n(0, 9))
	case Double:
		return g.pick("1.5E+3", "-2", "NaN", "INF", "0.25")
	case Date:
		return fmt.Sprintf("%04d-%02d-%02d", g.n(1950, 2030), g.n(1, 12), g.n(1, 28))
	case Datetime:
		return g.dateTime()
	case Time:
		return fmt.Sprintf("%02d:%02d:%02d", g.n(0, 23), g.n(0, 59), g.n(0, 59))
	case Boolean:
		return g.pick("true", "false", "1", "0")
	case HexBinary:
		return "0AFF"
	case Base64Binary:
		return "aGVsbG8="
	case PartialDate:
		return g.pick("2020", "2020-02", "2020-02-29")
	case PartialDatetime:
		return g.pick("2020", "2020-02-29T10", "2020-02-29T10:30")
	case URI:
		return "https://example.org/x"
	case Text, String:
		v := []rune(g.text())
		if d.Length != nil && len(v) > *d.Length {
			v = v[:*d.Length]
		}
		return string(v)
	}
	return g.text()
}

func (g *gen) audit(admin []*AdminData) *AuditRecord {
	if len(admin) == 0 || !g.chance(0.15) {
		return nil
	}
	a := admin[0]
	return &AuditRecord{UserRef: UserRef{UserOID: a.Users[0].OID}, LocationRef: LocationRef{LocationOID: a.Locations[0].OID},
		DateTimeStamp: g.dateTime(), ReasonForChange: g.optText(), SourceID: g.optText(),
		EditPoint: EditPoint(g.pick("", "Monitoring", "DBAudit")), UsedImputationMethod: YesNo(g.pick("", "No"))}
}

func (g *gen) signature(admin []*AdminData) *Signature {
	if len(admin) == 0 || !g.chance(0.1) {
		return nil
	}
	a := admin[0]
	return &Signature{UserRef: UserRef{UserOID: a.Users[0].OID}, LocationRef: LocationRef{LocationOID: a.Locations[0].OID},
		SignatureRef: SignatureRef{SignatureOID: a.SignatureDefs[0].OID}, DateTimeStamp: g.dateTime()}
}

func (g *gen) annotations() []*Annotation {
	if !g.chance(0.1) {
		return nil
	}
	a := &Annotation{SeqNum: g.n(1, 9), TransactionType: TransactionType(g.pick("", "Insert")), Comment: &Comment{SponsorOrSite: CommentType(g.pick("", "Site")), Value: g.text()}}
	if g.chance(0.5) {
		a.Flags = []*Flag{{FlagValue: FlagValue{CodeListOID: "CL.FLAG", Value: "open"}, FlagType: &FlagType{CodeListOID: "CL.FT", Value: "Query"}}}
	}
	return []*Annotation{a}
}

func (g *gen) transaction() TransactionType {
	return TransactionType(g.pick("", "", "", "Insert", "Update", "Upsert", "Context"))
}

func (g *gen) clinicalData(s *Study, m *MetaDataVersion, admin []*AdminData) *ClinicalData {
	c := &ClinicalData{StudyOID: s.OID, MetaDataVersionOID: m.OID}
	forms, groups, items, lists := map[string]*FormDef{}, map[string]*ItemGroupDef{}, map[string]*ItemDef{}, map[string]*CodeList{}
	for _, f := range m.FormDefs {
		forms[f.OID] = f
	}
	for _, gr := range m.ItemGroupDefs {
		groups[gr.OID] = gr
	}
	for _, it := range m.ItemDefs {
		items[it.OID] = it
	}
	for _, cl := range m.CodeLists {
		lists[cl.OID] = cl
	}
	for i, n := 0, g.n(0, 4); i < n; i++ {
		subj := &SubjectData{SubjectKey: fmt.Sprintf("SUBJ-%03d%s", i, g.pick("", " é")), TransactionType: g.transaction(),
			AuditRecord: g.audit(admin), Signature: g.signature(admin), Annotations: g.annotations()}
		if len(admin) > 0 && g.chance(0.3) {
			subj.InvestigatorRef = &UserRef{UserOID: admin[0].Users[0].OID}
			subj.SiteRef = &LocationRef{LocationOID: admin[0].Locations[0].OID}
		}
		for _, ed := range sample(g, m.StudyEventDefs) {
			for rep := 1; rep <= g.n(1, 2); rep++ {
				ev := &StudyEventData{StudyEventOID: ed.OID, TransactionType: g.transaction(), AuditRecord: g.audit(admin), Annotations: g.annotations()}
				if ed.Repeating == Yes || rep > 1 {
					ev.StudyEventRepeatKey = strconv.Itoa(rep)
				}
				for _, fr := range ed.FormRefs {
					if !g.chance(0.8) {
						continue
					}
					fd := &FormData{FormOID: fr.FormOID, TransactionType: g.transaction(), Signature: g.signature(admin), Annotations: g.annotations()}
					if g.chance(0.3) {
						fd.FormRepeatKey = "1"
					}
					if g.chance(0.05) {
						fd.ArchiveLayoutRef = &ArchiveLayoutRef{ArchiveLayoutOID: "AL.X"}
					}
					for _, gref := range forms[fr.FormOID].ItemGroupRefs {
						gd := groups[gref.ItemGroupOID]
						for grep := 1; grep <= g.n(1, 3); grep++ {
							igd := &ItemGroupData{ItemGroupOID: gd.OID, ItemGroupRepeatKey: strconv.Itoa(grep), TransactionType: g.transaction(), AuditRecord: g.audit(admin)}
							for _, iref := range gd.ItemRefs {
								if !g.chance(0.85) {
									continue
								}
								def := items[iref.ItemOID]
								it := &ItemData{ItemOID: def.OID, TransactionType: g.transaction(), AuditRecord: g.audit(admin), Signature: g.signature(admin), Annotations: g.annotations()}
								if g.chance(0.05) {
									it.IsNull = true
								} else {
									it.Value = g.value(def, lists)
								}
								if len(def.MeasurementUnitRefs) > 0 && g.chance(0.3) {
									it.MeasurementUnitRef = &MeasurementUnitRef{MeasurementUnitOID: def.MeasurementUnitRefs[0].MeasurementUnitOID}
								}
								it.Extensions = g.extensions(0)
								igd.Items = append(igd.Items, it)
							}
							igd.Extensions = g.extensions(len(igd.Items))
							fd.ItemGroups = append(fd.ItemGroups, igd)
						}
					}
					fd.Extensions = g.extensions(len(fd.ItemGroups))
					ev.Forms = append(ev.Forms, fd)
				}
				ev.Extensions = g.extensions(len(ev.Forms))
				subj.StudyEvents = append(subj.StudyEvents, ev)
			}
		}
		subj.Extensions = g.extensions(len(subj.StudyEvents))
		c.Subjects = append(c.Subjects, subj)
	}
	c.Extensions = g.extensions(len(c.Subjects))
	return c
}

func (g *gen) referenceData(s *Study, m *MetaDataVersion) *ReferenceData {
	d := &ReferenceData{StudyOID: s.OID, MetaDataVersionOID: m.OID}
	items, lists := map[string]*ItemDef{}, map[string]*CodeList{}
	for _, it := range m.ItemDefs {
		items[it.OID] = it
	}
	for _, cl := range m.CodeLists {
		lists[cl.OID] = cl
	}
	for _, gd := range sample(g, m.ItemGroupDefs) {
		igd := &ItemGroupData{ItemGroupOID: gd.OID, ItemGroupRepeatKey: "1"}
		for _, ref := range gd.ItemRefs {
			igd.Items = append(igd.Items, &ItemData{ItemOID: ref.ItemOID, Value: g.value(items[ref.ItemOID], lists)})
		}
		d.ItemGroups = append(d.ItemGroups, igd)
	}
	return d
}

// Generate returns a random valid document for seed, with clinical data
// (and with vendor extensions everywhere when extensions is true). The
// same seed gives the same document.
func Generate(seed uint64, extensions bool) *Document {
	return newGen(seed, extensions).document()
}
