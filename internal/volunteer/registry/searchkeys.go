package registry

import (
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// SearchColumns returns what the registry stores beside a volunteer's names
// for search and sorting: the name_tokens column, the family_key column, and
// the tokens that get one volunteer_name_token row each. Code that rewrites
// names outside this package (the lifecycle's obfuscation of a copy) uses it,
// so the derived columns stay what Create and Update would have written.
func SearchColumns(v volunteer.Volunteer) (nameTokensColumn, familyKeyColumn string, tokens []string) {
	toks := volunteer.NameTokens(v)
	return nameTokens(toks), familyKey(v), toks
}

// PhoneSearchKey returns the volunteer_phone.digits_rev column of a phone
// number: its digits reversed, for search by the last digits.
func PhoneSearchKey(number string) string { return reverseDigits(number) }

// TrailListSeparator joins the elements of a list field ("phones",
// "answers", "medical_history.note", …) in the audit trail.
const TrailListSeparator = listSeparator

// TrailPHIField returns the PHI declaration of an audit trail field of a
// volunteer entry, with the fields of an export entry that repeat a search
// ("search.name", …) resolved to the field searched; ok is false for a field
// that holds no PHI. RecordField is not resolved: it holds a whole record.
func TrailPHIField(field string) (f volunteer.PHIField, ok bool) {
	if s, found := searchPHI[field]; found {
		field = s
	}
	return volunteer.LookupPHIField(field)
}
