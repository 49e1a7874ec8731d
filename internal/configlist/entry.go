package configlist

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohort-clinical/cohort/internal/check"
)

// Entry is one entry of a Configure list.
type Entry struct {
	ID int64
	// List is the code of the entry's Kind.
	List string
	// Code is the natural key within the list; it never changes.
	Code        string
	Label       string
	Description string
	// SortOrder places the entry in its list; lower comes first.
	SortOrder int
	Active    bool
	// AnswerType, Options and PHI are used by custom questions only.
	AnswerType AnswerType
	// Options are the choices of a choice question, in the order offered.
	Options []string
	// PHI marks a question that collects identifying free text, so its
	// answers are masked and scrambled like the volunteer's other PHI.
	PHI       bool
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	Version   int
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

const (
	maxLabel       = 200
	maxDescription = 1000
	maxOption      = 100
	maxOptions     = 100
)

// tidy trims what people typed and clears the question fields of entries
// that are not questions, so they cannot hold values nothing shows.
func (e Entry) tidy() Entry {
	e.Code = strings.TrimSpace(e.Code)
	e.Label = strings.TrimSpace(e.Label)
	e.Description = strings.TrimSpace(e.Description)
	var opts []string
	for _, o := range e.Options {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	e.Options = opts
	if k, ok := KindOf(e.List); ok && !k.Questions {
		e.AnswerType, e.Options, e.PHI = "", nil, false
	}
	return e
}

// Validate checks an entry's fields and returns FieldErrors naming each
// problem.
func (e Entry) Validate() error {
	fe := check.FieldErrors{}
	kind, ok := KindOf(e.List)
	if !ok {
		fe.Add("list", "There is no Configure list named %q.", e.List)
	}
	switch {
	case strings.TrimSpace(e.Code) == "":
		fe.Add("code", "This field is required.")
	case !codePattern.MatchString(e.Code):
		fe.Add("code", "Use 1–40 letters, digits, -, _ or ., starting with a letter or digit (for example ASTHMA or MH-012).")
	}
	switch {
	case strings.TrimSpace(e.Label) == "":
		fe.Add("label", "This field is required.")
	case utf8.RuneCountInString(e.Label) > maxLabel:
		fe.Add("label", "Keep the label under %d characters.", maxLabel)
	}
	if utf8.RuneCountInString(e.Description) > maxDescription {
		fe.Add("description", "Keep the description under %d characters.", maxDescription)
	}
	if kind.Questions {
		e.validateQuestion(fe)
	}
	return fe.Err()
}

func (e Entry) validateQuestion(fe check.FieldErrors) {
	switch {
	case e.AnswerType == "":
		fe.Add("answer_type", "Choose the kind of answer this question takes.")
	case !e.AnswerType.known():
		fe.Add("answer_type", "%q is not an answer type; choose text, yes / no or choice.", e.AnswerType)
	}
	if e.AnswerType != AnswerChoice {
		if len(e.Options) > 0 {
			fe.Add("options", "Only choice questions have options; clear them or make this a choice question.")
		}
		return
	}
	if len(e.Options) < 2 {
		fe.Add("options", "A choice question needs at least two options, one per line.")
	}
	if len(e.Options) > maxOptions {
		fe.Add("options", "A choice question can have at most %d options.", maxOptions)
	}
	seen := map[string]bool{}
	for i, o := range e.Options {
		if strings.ContainsAny(o, "\r\n") {
			fe.Add("options", "Option %d contains a line break; put each option on its own line.", i+1)
		}
		if utf8.RuneCountInString(o) > maxOption {
			fe.Add("options", "Option %d is longer than %d characters.", i+1, maxOption)
		}
		if seen[strings.ToLower(o)] {
			fe.Add("options", "The option %q is listed twice.", o)
		}
		seen[strings.ToLower(o)] = true
	}
}

// EntityID is how the audit trail names the entry: list and code, since a
// code is only unique within its list.
func (e Entry) EntityID() string { return e.List + "/" + e.Code }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (e Entry) fields() map[string]string {
	return map[string]string{"code": e.Code, "label": e.Label, "description": e.Description,
		"sort_order": strconv.Itoa(e.SortOrder), "active": yesNo(e.Active), "answer_type": string(e.AnswerType),
		"options": strings.Join(e.Options, " | "), "phi": yesNo(e.PHI)}
}

// auditFields are the fields the trail records, in the order it shows them.
var auditFields = []string{"code", "label", "description", "sort_order", "active", "answer_type", "options", "phi"}

// auditEntity is the record type entries carry in the audit trail.
const auditEntity = "config_list_entry"

const columns = "id, list, code, label, description, sort_order, active, answer_type, options, phi, created_at, updated_at, updated_by, version"

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Entry, error) {
	var e Entry
	var answer, options string
	err := r.Scan(&e.ID, &e.List, &e.Code, &e.Label, &e.Description, &e.SortOrder, &e.Active, &answer, &options,
		&e.PHI, &e.CreatedAt, &e.UpdatedAt, &e.UpdatedBy, &e.Version)
	e.AnswerType = AnswerType(answer)
	if options != "" {
		e.Options = strings.Split(options, "\n")
	}
	return e, err
}
