package volunteer

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
)

// Field names. One vocabulary names a volunteer's fields everywhere: FieldErrors
// keys, the PHI declaration, CSV column mappings and, later, audit trail
// entries. Elements of a list are named with an index, "phones[1]" (see
// ElementField).
const (
	FieldNumber            = "number"
	FieldGivenName         = "given_name"
	FieldFamilyName        = "family_name"
	FieldOtherNames        = "other_names"
	FieldBirthDate         = "birth_date"
	FieldSexAtBirth        = "sex_at_birth"
	FieldGender            = "gender"
	FieldEthnicity         = "ethnicity"
	FieldRaces             = "races"
	FieldPhones            = "phones"
	FieldEmail             = "email"
	FieldAddressLine1      = "address.line1"
	FieldAddressLine2      = "address.line2"
	FieldPostalCode        = "address.postal_code"
	FieldCity              = "address.city"
	FieldRegion            = "address.region"
	FieldCountry           = "address.country"
	FieldPreferredSite     = "preferred_site"
	FieldStatus            = "status"
	FieldRecruitmentSource = "recruitment_source"
	FieldNotes             = "notes"
	FieldAnswers           = "answers"
	FieldMedicalHistory    = "medical_history"
	FieldMedications       = "medications"
	FieldSubstanceUse      = "substance_use"
	FieldConsents          = "consents"
	FieldParticipations    = "participations"
	FieldNextEligible      = "next_eligible"
)

// fieldLabels are the words pages and sentences use for each field.
var fieldLabels = map[string]string{
	FieldNumber:                   "volunteer number",
	FieldGivenName:                "given name",
	FieldFamilyName:               "family name",
	FieldOtherNames:               "other names",
	FieldBirthDate:                "date of birth",
	FieldSexAtBirth:               "sex at birth",
	FieldGender:                   "gender",
	FieldPhones:                   "phone number",
	FieldEmail:                    "email address",
	FieldAddressLine1:             "address line 1",
	FieldAddressLine2:             "address line 2",
	FieldPostalCode:               "postal code",
	FieldCity:                     "city",
	FieldRegion:                   "region",
	FieldCountry:                  "country",
	FieldPreferredSite:            "preferred site",
	FieldStatus:                   "status",
	FieldRecruitmentSource:        "recruitment source",
	FieldNotes:                    "notes",
	FieldAnswers:                  "answer",
	FieldMedicalHistory:           "medical history",
	FieldMedications:              "medication",
	FieldSubstanceUse:             "substance use",
	FieldConsents:                 "consent",
	FieldParticipations:           "study participation",
	FieldNextEligible:             "next eligible date",
	FieldMedicalHistory + ".note": "note on a medical history entry",
	FieldMedications + ".note":    "note on a medication",
	FieldSubstanceUse + ".note":   "note on a substance use entry",
}

// FieldLabel returns the words for a field name ("date of birth" for
// "birth_date"); for an element ("phones[1]") it labels the list. Unknown names
// are returned as given.
func FieldLabel(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// ElementField names element i of a list field: ElementField("phones", 1) is
// "phones[1]".
func ElementField(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// FieldErrors maps a field name to a sentence saying what is wrong with it.
// It is the shared check.FieldErrors, so pages show the volunteer's problems
// beside their fields like every other domain's. The checks here return nil
// when there are no problems; test with len, and use Err for an error that is
// nil then.
type FieldErrors = check.FieldErrors

// addProblem records the first problem of a field; the first is the one to fix
// first. The map is made on the first problem, so checking a valid record
// allocates nothing.
func addProblem(e *FieldErrors, field, sentence string) {
	if *e == nil {
		*e = FieldErrors{}
	}
	if _, ok := (*e)[field]; !ok {
		(*e)[field] = sentence
	}
}

// mergeProblems adds every problem of o that e does not have yet.
func mergeProblems(e *FieldErrors, o FieldErrors) {
	for f, s := range o {
		addProblem(e, f, s)
	}
}

// sortedFields returns the field names with problems, sorted.
func sortedFields(e FieldErrors) []string {
	fs := make([]string, 0, len(e))
	for f := range e {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}
