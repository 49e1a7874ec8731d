package odm

import "strings"

// The enumerated attribute types of ODM 1.3.2. Each is a string so that a
// value read from a file that is not in the enumeration is kept as written
// (and reported) rather than lost; Valid says whether the Writer accepts it.

// FileType says whether a file is a snapshot of the current state or a
// sequence of transactions.
type FileType string

// The FileType values.
const (
	Snapshot      FileType = "Snapshot"
	Transactional FileType = "Transactional"
)

// Granularity says what part of a study a file carries.
type Granularity string

// The Granularity values.
const (
	GranularityAll             Granularity = "All"
	GranularityMetadata        Granularity = "Metadata"
	GranularityAdminData       Granularity = "AdminData"
	GranularityReferenceData   Granularity = "ReferenceData"
	GranularityAllClinicalData Granularity = "AllClinicalData"
	GranularitySingleSite      Granularity = "SingleSite"
	GranularitySingleSubject   Granularity = "SingleSubject"
)

// YesNo is ODM's Yes/No attribute type.
type YesNo string

// The YesNo values.
const (
	Yes YesNo = "Yes"
	No  YesNo = "No"
)

// EventType says whether a study event is scheduled.
type EventType string

// The EventType values.
const (
	Scheduled   EventType = "Scheduled"
	Unscheduled EventType = "Unscheduled"
	Common      EventType = "Common"
)

// DataType is the type of an item's values.
type DataType string

// The DataType values.
const (
	Integer            DataType = "integer"
	Float              DataType = "float"
	Date               DataType = "date"
	Datetime           DataType = "datetime"
	Time               DataType = "time"
	Text               DataType = "text"
	String             DataType = "string"
	Double             DataType = "double"
	URI                DataType = "URI"
	Boolean            DataType = "boolean"
	HexBinary          DataType = "hexBinary"
	Base64Binary       DataType = "base64Binary"
	HexFloat           DataType = "hexFloat"
	Base64Float        DataType = "base64Float"
	PartialDate        DataType = "partialDate"
	PartialTime        DataType = "partialTime"
	PartialDatetime    DataType = "partialDatetime"
	DurationDatetime   DataType = "durationDatetime"
	IntervalDatetime   DataType = "intervalDatetime"
	IncompleteDatetime DataType = "incompleteDatetime"
	IncompleteDate     DataType = "incompleteDate"
	IncompleteTime     DataType = "incompleteTime"
)

// Comparator is how a RangeCheck compares a value with its check values.
type Comparator string

// The Comparator values.
const (
	LT    Comparator = "LT"
	LE    Comparator = "LE"
	GT    Comparator = "GT"
	GE    Comparator = "GE"
	EQ    Comparator = "EQ"
	NE    Comparator = "NE"
	IN    Comparator = "IN"
	NOTIN Comparator = "NOTIN"
)

// SoftHard says whether a failed RangeCheck is a warning (Soft) or refuses
// the value (Hard).
type SoftHard string

// The SoftHard values.
const (
	Soft SoftHard = "Soft"
	Hard SoftHard = "Hard"
)

// TransactionType says what a transactional file does with data.
type TransactionType string

// The TransactionType values.
const (
	Insert  TransactionType = "Insert"
	Update  TransactionType = "Update"
	Remove  TransactionType = "Remove"
	Upsert  TransactionType = "Upsert"
	Context TransactionType = "Context"
)

// UserType is the role of a User.
type UserType string

// The UserType values.
const (
	UserSponsor      UserType = "Sponsor"
	UserInvestigator UserType = "Investigator"
	UserLab          UserType = "Lab"
	UserOther        UserType = "Other"
)

// LocationType is the kind of a Location.
type LocationType string

// The LocationType values.
const (
	LocationSponsor LocationType = "Sponsor"
	LocationSite    LocationType = "Site"
	LocationCRO     LocationType = "CRO"
	LocationLab     LocationType = "Lab"
	LocationOther   LocationType = "Other"
)

// CommentType says whether the sponsor or the site wrote a comment.
type CommentType string

// The CommentType values.
const (
	CommentSponsor CommentType = "Sponsor"
	CommentSite    CommentType = "Site"
)

// SignMethod says how a signature was made.
type SignMethod string

// The SignMethod values.
const (
	Digital    SignMethod = "Digital"
	Electronic SignMethod = "Electronic"
)

// EditPoint says where in the data flow a change was made.
type EditPoint string

// The EditPoint values.
const (
	Monitoring     EditPoint = "Monitoring"
	DataManagement EditPoint = "DataManagement"
	DBAudit        EditPoint = "DBAudit"
)

// MethodType is the kind of a MethodDef.
type MethodType string

// The MethodType values.
const (
	Computation MethodType = "Computation"
	Imputation  MethodType = "Imputation"
	Transpose   MethodType = "Transpose"
	MethodOther MethodType = "Other"
)

var (
	fileTypes        = []string{"Snapshot", "Transactional"}
	granularities    = []string{"All", "Metadata", "AdminData", "ReferenceData", "AllClinicalData", "SingleSite", "SingleSubject"}
	odmVersions      = []string{"1.2", "1.2.1", "1.3", "1.3.1", "1.3.2"}
	yesNos           = []string{"Yes", "No"}
	eventTypes       = []string{"Scheduled", "Unscheduled", "Common"}
	dataTypes        = []string{"integer", "float", "date", "datetime", "time", "text", "string", "double", "URI", "boolean", "hexBinary", "base64Binary", "hexFloat", "base64Float", "partialDate", "partialTime", "partialDatetime", "durationDatetime", "intervalDatetime", "incompleteDatetime", "incompleteDate", "incompleteTime"}
	codeListTypes    = []string{"integer", "float", "text", "string"}
	comparators      = []string{"LT", "LE", "GT", "GE", "EQ", "NE", "IN", "NOTIN"}
	softHards        = []string{"Soft", "Hard"}
	transactionTypes = []string{"Insert", "Update", "Remove", "Upsert", "Context"}
	userTypes        = []string{"Sponsor", "Investigator", "Lab", "Other"}
	locationTypes    = []string{"Sponsor", "Site", "CRO", "Lab", "Other"}
	commentTypes     = []string{"Sponsor", "Site"}
	signMethods      = []string{"Digital", "Electronic"}
	editPoints       = []string{"Monitoring", "DataManagement", "DBAudit"}
	methodTypes      = []string{"Computation", "Imputation", "Transpose", "Other"}
)

// Valid reports whether t is an ODM 1.3.2 file type.
func (t FileType) Valid() bool { return oneOf(string(t), fileTypes) }

// Valid reports whether g is an ODM 1.3.2 granularity.
func (g Granularity) Valid() bool { return oneOf(string(g), granularities) }

// Valid reports whether v is Yes or No.
func (v YesNo) Valid() bool { return oneOf(string(v), yesNos) }

// Valid reports whether t is an ODM 1.3.2 event type.
func (t EventType) Valid() bool { return oneOf(string(t), eventTypes) }

// Valid reports whether t is an ODM 1.3.2 item data type.
func (t DataType) Valid() bool { return oneOf(string(t), dataTypes) }

// ValidForCodeList reports whether t is a data type a CodeList may have.
func (t DataType) ValidForCodeList() bool { return oneOf(string(t), codeListTypes) }

// Valid reports whether c is an ODM 1.3.2 comparator.
func (c Comparator) Valid() bool { return oneOf(string(c), comparators) }

// Valid reports whether s is Soft or Hard.
func (s SoftHard) Valid() bool { return oneOf(string(s), softHards) }

// Valid reports whether t is an ODM 1.3.2 transaction type.
func (t TransactionType) Valid() bool { return oneOf(string(t), transactionTypes) }

// Valid reports whether t is an ODM 1.3.2 user type.
func (t UserType) Valid() bool { return oneOf(string(t), userTypes) }

// Valid reports whether t is an ODM 1.3.2 location type.
func (t LocationType) Valid() bool { return oneOf(string(t), locationTypes) }

// Valid reports whether t is Sponsor or Site.
func (t CommentType) Valid() bool { return oneOf(string(t), commentTypes) }

// Valid reports whether m is Digital or Electronic.
func (m SignMethod) Valid() bool { return oneOf(string(m), signMethods) }

// Valid reports whether p is an ODM 1.3.2 edit point.
func (p EditPoint) Valid() bool { return oneOf(string(p), editPoints) }

// Valid reports whether t is an ODM 1.3.2 method type.
func (t MethodType) Valid() bool { return oneOf(string(t), methodTypes) }

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// canonical returns the allowed value v matches when case is ignored, so
// that "yes" or "INTEGER" from a careless exporter read as "Yes" and
// "integer".
func canonical(v string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, true
		}
	}
	return v, false
}
