package odm

import "time"

// Namespace is the XML namespace of ODM 1.3, 1.3.1 and 1.3.2. The three
// versions share it, so ODMVersion on the root tells them apart.
const Namespace = "http://www.cdisc.org/ns/odm/v1.3"

// Version is the ODM version the Writer produces.
const Version = "1.3.2"

// Document is the ODM root element.
//
// Studies and AdminData are always read into memory: they are small. Clinical
// and reference data may be large; a Reader streams them as Rows and only
// ReadAll collects them into ReferenceData and ClinicalData.
type Document struct {
	Description         string
	FileType            FileType
	Granularity         Granularity
	Archival            bool // ODM's Archival="Yes"
	FileOID             string
	CreationDateTime    string // xs:dateTime as written, time zone optional
	PriorFileOID        string
	AsOfDateTime        string
	ODMVersion          string // written as given; NewDocument sets Version
	Originator          string
	SourceSystem        string
	SourceSystemVersion string
	ID                  string

	Studies       []*Study
	AdminData     []*AdminData
	ReferenceData []*ReferenceData
	ClinicalData  []*ClinicalData

	// Namespaces are the prefixes the source file declared on its root, so
	// that vendor extensions are written back with the prefixes people know
	// (redcap:, OpenClinica:).
	Namespaces []NamespaceDecl
	Extensions Extensions
}

// NewDocument returns the root of a new export: ODM 1.3.2, created at now
// (in UTC, to the second), with cohort as its source system.
func NewDocument(fileOID string, fileType FileType, now time.Time) *Document {
	return &Document{
		FileOID:          fileOID,
		FileType:         fileType,
		CreationDateTime: now.UTC().Format("2006-01-02T15:04:05Z"),
		ODMVersion:       Version,
		SourceSystem:     "cohort",
	}
}

// NamespaceDecl is one xmlns:prefix="uri" declaration.
type NamespaceDecl struct {
	Prefix string
	URI    string
}

// Study is one study: its global variables, measurement units and the
// versions of its design.
type Study struct {
	OID              string
	GlobalVariables  GlobalVariables
	BasicDefinitions *BasicDefinitions
	MetaDataVersions []*MetaDataVersion
	Extensions       Extensions
}

// GlobalVariables names a study.
type GlobalVariables struct {
	StudyName        string
	StudyDescription string
	ProtocolName     string
	Extensions       Extensions
}

// BasicDefinitions holds the measurement units a study's items use.
type BasicDefinitions struct {
	MeasurementUnits []*MeasurementUnit
	Extensions       Extensions
}

// MeasurementUnit is a unit such as "mm Hg", with its symbol per language.
type MeasurementUnit struct {
	OID        string
	Name       string
	Symbol     Translations
	Aliases    []Alias
	Extensions Extensions
}

// Translations is a text in one or more languages. ODM uses this shape for
// Description, Question, Decode, ErrorMessage and Symbol.
type Translations struct {
	Texts      []TranslatedText
	Extensions Extensions
}

// TranslatedText is a text in one language; Lang is its xml:lang, empty when
// the file gave none.
type TranslatedText struct {
	Lang       string
	Value      string
	Extensions Extensions
}

// In returns the text in lang, falling back to the text without a language
// and then to the first text, so a form always has something to show.
func (t *Translations) In(lang string) string {
	if t == nil || len(t.Texts) == 0 {
		return ""
	}
	for _, tt := range t.Texts {
		if tt.Lang == lang {
			return tt.Value
		}
	}
	for _, tt := range t.Texts {
		if tt.Lang == "" {
			return tt.Value
		}
	}
	return t.Texts[0].Value
}

// Alias is another name for a definition in some context, such as its SDTM
// variable name or its name in the sponsor's system.
type Alias struct {
	Context    string
	Name       string
	Extensions Extensions
}

// MetaDataVersion is one version of a study design: its schedule, forms,
// item groups, items, code lists and rules.
type MetaDataVersion struct {
	OID               string
	Name              string
	Description       string
	Include           *Include
	Protocol          *Protocol
	StudyEventDefs    []*StudyEventDef
	FormDefs          []*FormDef
	ItemGroupDefs     []*ItemGroupDef
	ItemDefs          []*ItemDef
	CodeLists         []*CodeList
	ImputationMethods []*ImputationMethod
	Presentations     []*Presentation
	ConditionDefs     []*ConditionDef
	MethodDefs        []*MethodDef
	Extensions        Extensions
}

// Include says that a design version starts from another, possibly in
// another file: definitions it does not have itself come from there.
type Include struct {
	StudyOID           string
	MetaDataVersionOID string
	Extensions         Extensions
}

// Protocol lists the study events of a design in schedule order.
type Protocol struct {
	Description    *Translations
	StudyEventRefs []*StudyEventRef
	Aliases        []Alias
	Extensions     Extensions
}

// StudyEventRef puts a study event into the protocol.
type StudyEventRef struct {
	StudyEventOID                   string
	OrderNumber                     *int
	Mandatory                       YesNo
	CollectionExceptionConditionOID string
	Extensions                      Extensions
}

// StudyEventDef defines a visit or other study event and the forms collected
// at it.
type StudyEventDef struct {
	OID         string
	Name        string
	Repeating   YesNo
	Type        EventType
	Category    string
	Description *Translations
	FormRefs    []*FormRef
	Aliases     []Alias
	Extensions  Extensions
}

// FormRef puts a form into a study event.
type FormRef struct {
	FormOID                         string
	OrderNumber                     *int
	Mandatory                       YesNo
	CollectionExceptionConditionOID string
	Extensions                      Extensions
}

// FormDef defines a case report form as a list of item groups.
type FormDef struct {
	OID            string
	Name           string
	Repeating      YesNo
	Description    *Translations
	ItemGroupRefs  []*ItemGroupRef
	ArchiveLayouts []*ArchiveLayout
	Aliases        []Alias
	Extensions     Extensions
}

// ItemGroupRef puts an item group on a form.
type ItemGroupRef struct {
	ItemGroupOID                    string
	OrderNumber                     *int
	Mandatory                       YesNo
	CollectionExceptionConditionOID string
	Extensions                      Extensions
}

// ArchiveLayout names the PDF that shows a form as it looked to the site.
type ArchiveLayout struct {
	OID             string
	PdfFileName     string
	PresentationOID string
	Extensions      Extensions
}

// ItemGroupDef defines a group of items collected together, possibly
// repeating (a table of concomitant medications, say).
type ItemGroupDef struct {
	OID             string
	Name            string
	Repeating       YesNo
	IsReferenceData YesNo
	SASDatasetName  string
	Domain          string
	Origin          string
	Role            string
	Purpose         string
	Comment         string
	Description     *Translations
	ItemRefs        []*ItemRef
	Aliases         []Alias
	Extensions      Extensions
}

// ItemRef puts an item into an item group.
type ItemRef struct {
	ItemOID                         string
	OrderNumber                     *int
	Mandatory                       YesNo
	KeySequence                     *int
	MethodOID                       string
	ImputationMethodOID             string
	Role                            string
	RoleCodeListOID                 string
	CollectionExceptionConditionOID string
	Extensions                      Extensions
}

// ItemDef defines one question on a form: its type, wording, units, checks
// and allowed codes.
type ItemDef struct {
	OID                 string
	Name                string
	DataType            DataType
	Length              *int
	SignificantDigits   *int
	SASFieldName        string
	SDSVarName          string
	Origin              string
	Comment             string
	Description         *Translations
	Question            *Translations
	ExternalQuestion    *ExternalQuestion
	MeasurementUnitRefs []*MeasurementUnitRef
	RangeChecks         []*RangeCheck
	CodeListRef         *CodeListRef
	Roles               []string
	Aliases             []Alias
	Extensions          Extensions
}

// ExternalQuestion points to a question defined in an external instrument
// such as a validated questionnaire.
type ExternalQuestion struct {
	Dictionary string
	Version    string
	Code       string
	Extensions Extensions
}

// MeasurementUnitRef points to a MeasurementUnit of the study.
type MeasurementUnitRef struct {
	MeasurementUnitOID string
	Extensions         Extensions
}

// RangeCheck is an edit check on an item's value: compared to CheckValues,
// or a FormalExpression that must hold.
type RangeCheck struct {
	Comparator         Comparator
	SoftHard           SoftHard
	CheckValues        []string
	FormalExpressions  []*FormalExpression
	MeasurementUnitRef *MeasurementUnitRef
	ErrorMessage       *Translations
	Extensions         Extensions
}

// FormalExpression is a machine-readable expression; Context names its
// language (for example "XPath" or "Python").
type FormalExpression struct {
	Context    string
	Value      string
	Extensions Extensions
}

// CodeListRef points to the code list an item's values come from.
type CodeListRef struct {
	CodeListOID string
	Extensions  Extensions
}

// CodeList is a list of allowed coded values. A code list holds either
// Items (with decodes), EnumeratedItems (without), or an ExternalCodeList.
type CodeList struct {
	OID              string
	Name             string
	DataType         DataType // only integer, float, text and string are allowed
	SASFormatName    string
	Description      *Translations
	Items            []*CodeListItem
	ExternalCodeList *ExternalCodeList
	EnumeratedItems  []*EnumeratedItem
	Aliases          []Alias
	Extensions       Extensions
}

// CodeListItem is one coded value and its decode.
type CodeListItem struct {
	CodedValue  string
	Rank        *float64
	OrderNumber *int
	Decode      Translations
	Aliases     []Alias
	Extensions  Extensions
}

// EnumeratedItem is one coded value that needs no decode.
type EnumeratedItem struct {
	CodedValue  string
	Rank        *float64
	OrderNumber *int
	Aliases     []Alias
	Extensions  Extensions
}

// ExternalCodeList points to a dictionary such as MedDRA.
type ExternalCodeList struct {
	Dictionary string
	Version    string
	Href       string
	Ref        string
	Extensions Extensions
}

// ImputationMethod describes, in text, how missing values are imputed.
type ImputationMethod struct {
	OID        string
	Value      string
	Extensions Extensions
}

// Presentation is a presentation of the design (say, a style sheet) in one
// language.
type Presentation struct {
	OID        string
	Lang       string
	Value      string
	Extensions Extensions
}

// ConditionDef is a condition under which an item or form is not
// collected.
type ConditionDef struct {
	OID               string
	Name              string
	Description       Translations
	FormalExpressions []*FormalExpression
	Aliases           []Alias
	Extensions        Extensions
}

// MethodDef is a derivation: how an item's value is computed.
type MethodDef struct {
	OID               string
	Name              string
	Type              MethodType
	Description       Translations
	FormalExpressions []*FormalExpression
	Aliases           []Alias
	Extensions        Extensions
}
