// Package configlist keeps the volunteer database's "Configure" lists: the
// administrable drop-downs for medical-history conditions, medications,
// substance use, recruitment sources, ethnicity and race, and the unit's
// custom volunteer questions.
//
// The kinds of list are fixed in code; their entries are data. An entry's
// code is its natural key within its list and never changes, because
// volunteers' records and the migration's mapping file refer to it. Entries
// are deactivated, never deleted: a deactivated entry disappears from
// pickers but still resolves to its label wherever history shows it.
package configlist

// The list kinds. The codes match the list names the volunteer package
// checks codes against (volunteer.ListMedicalHistory and friends), so a
// Lookup can be handed to the volunteer importer as it is.
const (
	MedicalHistory    = "medical_history"
	Medications       = "medications"
	SubstanceUse      = "substance_use"
	RecruitmentSource = "recruitment_source"
	Ethnicity         = "ethnicity"
	Race              = "race"
	Question          = "question"
)

// Kind describes one kind of Configure list.
type Kind struct {
	// Code names the list in URLs, in the audit trail and in lookups.
	Code string
	// Name is the list's title, e.g. "Medical history conditions".
	Name string
	// Singular names one entry in sentences, e.g. "condition".
	Singular string
	// Description says what the list is for, on the list's page.
	Description string
	// Questions marks the custom question list, whose entries also carry an
	// answer type, choice options and a PHI flag.
	Questions bool
}

// Kinds lists every kind of Configure list in the order pages show them.
var Kinds = []Kind{
	{Code: MedicalHistory, Name: "Medical history conditions", Singular: "condition",
		Description: "Conditions recorded in a volunteer's medical history."},
	{Code: Medications, Name: "Medications", Singular: "medication",
		Description: "Medications a volunteer takes or has taken (concomitant and prior medication)."},
	{Code: SubstanceUse, Name: "Substance use", Singular: "substance use category",
		Description: "Categories of tobacco, alcohol, caffeine and drug use asked about at screening."},
	{Code: RecruitmentSource, Name: "Recruitment sources", Singular: "recruitment source",
		Description: "How a volunteer heard of the unit, for recruitment reporting."},
	{Code: Ethnicity, Name: "Ethnicity", Singular: "ethnicity",
		Description: "Ethnicity categories a volunteer may report."},
	{Code: Race, Name: "Race", Singular: "race",
		Description: "Race categories a volunteer may report."},
	{Code: Question, Name: "Custom volunteer questions", Singular: "question", Questions: true,
		Description: "The unit's own questions asked at volunteer registration, each with the kind of answer it takes."},
}

// KindOf returns the kind with the given code.
func KindOf(code string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Code == code {
			return k, true
		}
	}
	return Kind{}, false
}

// AnswerType is the kind of answer a custom question takes.
type AnswerType string

// The answer types a custom question can have.
const (
	AnswerText   AnswerType = "text"
	AnswerYesNo  AnswerType = "yes_no"
	AnswerChoice AnswerType = "choice"
)

// AnswerTypes lists the answer types in the order forms offer them.
var AnswerTypes = []AnswerType{AnswerText, AnswerYesNo, AnswerChoice}

// Label is the answer type as people say it.
func (a AnswerType) Label() string {
	switch a {
	case AnswerText:
		return "Text"
	case AnswerYesNo:
		return "Yes / no"
	case AnswerChoice:
		return "Choice from a list"
	}
	return string(a)
}

func (a AnswerType) known() bool {
	for _, t := range AnswerTypes {
		if t == a {
			return true
		}
	}
	return false
}
