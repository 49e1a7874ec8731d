package odm

// AdminData lists the users, locations and signature meanings that audit
// records and signatures refer to.
type AdminData struct {
	StudyOID      string
	Users         []*User
	Locations     []*Location
	SignatureDefs []*SignatureDef
	Extensions    Extensions
}

// User is a person or system that entered, changed or signed data.
type User struct {
	OID          string
	UserType     UserType
	LoginName    string
	DisplayName  string
	FullName     string
	FirstName    string
	LastName     string
	Organization string
	Addresses    []*Address
	Emails       []string
	Picture      *Picture
	Pager        string
	Faxes        []string
	Phones       []string
	LocationRefs []*LocationRef
	Certificates []string
	Extensions   Extensions
}

// Address is a postal address of a user.
type Address struct {
	StreetNames []string
	City        string
	StateProv   string
	Country     string
	PostalCode  string
	OtherText   string
	Extensions  Extensions
}

// Picture is a user's photograph or a scanned signature.
type Picture struct {
	PictureFileName string
	ImageType       string
	Extensions      Extensions
}

// LocationRef points to a Location.
type LocationRef struct {
	LocationOID string
	Extensions  Extensions
}

// Location is a site, sponsor, lab or CRO, with the design versions in
// force there.
type Location struct {
	OID                 string
	Name                string
	LocationType        LocationType
	MetaDataVersionRefs []*MetaDataVersionRef
	Extensions          Extensions
}

// MetaDataVersionRef says from which date a location uses a design version.
type MetaDataVersionRef struct {
	StudyOID           string
	MetaDataVersionOID string
	EffectiveDate      string // xs:date
	Extensions         Extensions
}

// SignatureDef is the meaning and legal reason of one kind of signature.
type SignatureDef struct {
	OID         string
	Methodology SignMethod
	Meaning     string
	LegalReason string
	Extensions  Extensions
}
