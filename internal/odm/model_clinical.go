package odm

// ClinicalData is the collected data of one study design version.
//
// When streaming, a Reader hands out ClinicalData, SubjectData,
// StudyEventData, FormData and ItemGroupData as the context of each Row and
// leaves their child slices (Subjects, StudyEvents, Forms, ItemGroups, Items)
// empty; ReadAll fills them.
type ClinicalData struct {
	StudyOID           string
	MetaDataVersionOID string
	Subjects           []*SubjectData
	Extensions         Extensions
}

// ReferenceData holds data that belongs to no subject, such as lab normal
// ranges.
type ReferenceData struct {
	StudyOID           string
	MetaDataVersionOID string
	ItemGroups         []*ItemGroupData
	Extensions         Extensions
}

// SubjectData is the data of one subject (volunteer) in a study.
type SubjectData struct {
	SubjectKey      string
	TransactionType TransactionType
	AuditRecord     *AuditRecord
	Signature       *Signature
	InvestigatorRef *UserRef
	SiteRef         *LocationRef
	Annotations     []*Annotation
	StudyEvents     []*StudyEventData

	// Forms holds FormData that sit directly inside SubjectData, as REDCap
	// writes them for projects without events. ODM 1.3.2 does not allow
	// this; the Writer writes such forms only with KeepExtensions.
	Forms []*FormData

	Extensions Extensions
}

// StudyEventData is one occurrence of a study event for a subject.
type StudyEventData struct {
	StudyEventOID       string
	StudyEventRepeatKey string
	TransactionType     TransactionType
	AuditRecord         *AuditRecord
	Signature           *Signature
	Annotations         []*Annotation
	Forms               []*FormData
	Extensions          Extensions
}

// FormData is one occurrence of a form within a study event.
type FormData struct {
	FormOID          string
	FormRepeatKey    string
	TransactionType  TransactionType
	AuditRecord      *AuditRecord
	Signature        *Signature
	ArchiveLayoutRef *ArchiveLayoutRef
	Annotations      []*Annotation
	ItemGroups       []*ItemGroupData
	Extensions       Extensions
}

// ItemGroupData is one occurrence of an item group within a form.
type ItemGroupData struct {
	ItemGroupOID       string
	ItemGroupRepeatKey string
	TransactionType    TransactionType
	AuditRecord        *AuditRecord
	Signature          *Signature
	Annotations        []*Annotation
	Items              []*ItemData
	Extensions         Extensions
}

// ItemData is one collected value.
//
// ODM 1.3 also allows typed elements such as ItemDataInteger; the Reader
// reads them as ItemData with their text as Value (and says so in the
// diagnostics), and the Writer always writes ItemData.
type ItemData struct {
	ItemOID            string
	TransactionType    TransactionType
	Value              string
	IsNull             bool // ODM's IsNull="Yes": the value is known to be missing
	AuditRecord        *AuditRecord
	Signature          *Signature
	MeasurementUnitRef *MeasurementUnitRef
	Annotations        []*Annotation
	Extensions         Extensions
}

// AuditRecord says who changed data, where, when and why.
type AuditRecord struct {
	EditPoint            EditPoint
	UsedImputationMethod YesNo
	ID                   string
	UserRef              UserRef
	LocationRef          LocationRef
	DateTimeStamp        string // xs:dateTime
	ReasonForChange      string
	SourceID             string
	Extensions           Extensions
}

// Signature records that a user signed data, with the meaning given by a
// SignatureDef.
type Signature struct {
	ID                    string
	UserRef               UserRef
	LocationRef           LocationRef
	SignatureRef          SignatureRef
	DateTimeStamp         string // xs:dateTime
	CryptoBindingManifest string
	Extensions            Extensions
}

// UserRef points to a User. SubjectData's InvestigatorRef has the same
// shape and uses this type too.
type UserRef struct {
	UserOID    string
	Extensions Extensions
}

// SignatureRef points to a SignatureDef.
type SignatureRef struct {
	SignatureOID string
	Extensions   Extensions
}

// ArchiveLayoutRef says which ArchiveLayout a form was shown with.
type ArchiveLayoutRef struct {
	ArchiveLayoutOID string
	Extensions       Extensions
}

// Annotation is a comment or flags attached to data.
type Annotation struct {
	SeqNum          int
	TransactionType TransactionType
	ID              string
	Comment         *Comment
	Flags           []*Flag
	Extensions      Extensions
}

// Comment is the free text of an annotation and who wrote it.
type Comment struct {
	SponsorOrSite CommentType
	Value         string
	Extensions    Extensions
}

// Flag is a coded marker on data, such as "query open".
type Flag struct {
	FlagValue  FlagValue
	FlagType   *FlagType
	Extensions Extensions
}

// FlagValue is the value of a flag, from a code list.
type FlagValue struct {
	CodeListOID string
	Value       string
	Extensions  Extensions
}

// FlagType says what kind of flag a Flag is, from a code list.
type FlagType struct {
	CodeListOID string
	Value       string
	Extensions  Extensions
}

// Row is one ItemData with the containers it sits in: the unit in which
// clinical data streams in and out of this package.
//
// Exactly one of Clinical and Reference is set. Within Clinical data,
// Subject is always set; Event is nil only for REDCap-style forms directly in
// a subject. Item is nil when the row stands for a container that holds no
// items (an empty form, say), so that such containers survive a round trip;
// the deepest non-nil container is then the empty one.
//
// The Reader shares container values between the rows of one container, and
// adds to a container's Extensions the vendor elements that follow its last
// child by the time it returns a row outside that container (or io.EOF).
// The Writer compares containers by their keys (OIDs and repeat keys), so
// rows built from fresh values work as well.
type Row struct {
	Clinical  *ClinicalData
	Reference *ReferenceData
	Subject   *SubjectData
	Event     *StudyEventData
	Form      *FormData
	Group     *ItemGroupData
	Item      *ItemData

	// Line is where the row's ItemData (or empty container) starts in the
	// source file; zero for rows not read from a file.
	Line int
}
