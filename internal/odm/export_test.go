package odm

// The round-trip property test lives in package odm_test, so it can use the
// shared generator in odmtest (which imports this package); these names
// lend it the package's test helpers.
var (
	WriteBytes    = writeBytes
	ReadBytes     = readBytes
	Normalize     = normalize
	SameModel     = sameModel
	StripForeign  = stripForeign
	ValidateBytes = validateBytes
)
