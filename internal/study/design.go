package study

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Event is a study event (a visit, a dosing day, an unscheduled visit) of
// a study's design.
type Event struct {
	OID       string
	Name      string
	Type      odm.EventType
	Repeating bool
	Epoch     string // for instance Screening, Treatment, Follow-up
	Arm       string // arm or cohort, empty when the event is common to all
	Order     int
	// NominalOffsetMinutes is the event's planned time from the study's
	// reference time (first dose, say), nil when unscheduled.
	NominalOffsetMinutes *int
	// WindowBeforeMinutes and WindowAfterMinutes are how early and how late
	// the event may happen and still be on time, nil when the protocol
	// gives no window.
	WindowBeforeMinutes *int
	WindowAfterMinutes  *int
	Forms               []EventForm
}

// EventForm is a form collected at an event.
type EventForm struct {
	FormOID     string
	FormVersion int
	Mandatory   bool
}

// StudyForm is a form a study uses, with the library version it chose.
type StudyForm struct {
	FormOID string
	Name    string
	Version int
}

// shell is the part of a study's ODM Study that rows do not hold.
type shell struct {
	Namespaces []odm.NamespaceDecl
	Study      *odm.Study
}

// Events returns a study's events in order with the forms at each.
func Events(ctx context.Context, db store.Querier, code string) ([]Event, error) {
	s, err := Get(ctx, db, code)
	if err != nil {
		return nil, err
	}
	forms, err := formsOf(ctx, db, s.ID)
	if err != nil {
		return nil, err
	}
	versions := map[string]int{}
	for _, f := range forms {
		versions[f.FormOID] = f.Version
	}
	rows, err := db.Query(ctx, `SELECT oid, name, event_type, repeating, epoch, arm, position, nominal_offset_minutes,
		window_before_minutes, window_after_minutes, definition FROM study_event WHERE study_id = ? ORDER BY position`, s.ID)
	if err != nil {
		return nil, fmt.Errorf("list events of study %s: %w", code, err)
	}
	var out []Event
	index := map[string]int{}
	for rows.Next() {
		var e Event
		var off, before, after sql.NullInt64
		var body []byte
		if err := rows.Scan(&e.OID, &e.Name, &e.Type, &e.Repeating, &e.Epoch, &e.Arm, &e.Order, &off, &before, &after, &body); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list events of study %s: %w", code, err)
		}
		e.NominalOffsetMinutes, e.WindowBeforeMinutes, e.WindowAfterMinutes = nullInt(off), nullInt(before), nullInt(after)
		if e.Arm == "" && e.NominalOffsetMinutes == nil && e.WindowBeforeMinutes == nil && e.WindowAfterMinutes == nil {
			// An imported event carries cohort's arm and nominal time as
			// aliases of its definition (see AliasArm); cohort's own edits
			// keep columns and aliases the same.
			var def odm.StudyEventDef
			if err := decode(body, &def); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read event %s of study %s: %w", e.OID, code, err)
			}
			e.applySchedule(ScheduleFromAliases(&def))
		}
		index[e.OID] = len(out)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, "SELECT event_oid, form_oid, mandatory FROM study_event_form WHERE study_id = ? ORDER BY event_oid, position", s.ID)
	if err != nil {
		return nil, fmt.Errorf("list forms of study %s: %w", code, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev string
		var f EventForm
		if err := rows.Scan(&ev, &f.FormOID, &f.Mandatory); err != nil {
			return nil, err
		}
		f.FormVersion = versions[f.FormOID]
		if i, ok := index[ev]; ok {
			out[i].Forms = append(out[i].Forms, f)
		}
	}
	return out, rows.Err()
}

// formsOf lists the forms study id uses, in design order.
func formsOf(ctx context.Context, db store.Querier, studyID int64) ([]StudyForm, error) {
	rows, err := db.Query(ctx, `SELECT sf.form_oid, COALESCE(f.name, ''), sf.form_version FROM study_form sf
		LEFT JOIN library_form f ON f.oid = sf.form_oid WHERE sf.study_id = ? ORDER BY sf.position`, studyID)
	if err != nil {
		return nil, fmt.Errorf("list study forms: %w", err)
	}
	defer rows.Close()
	var out []StudyForm
	for rows.Next() {
		var f StudyForm
		if err := rows.Scan(&f.FormOID, &f.Name, &f.Version); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// StudyForms lists the forms a study uses with their chosen versions.
func StudyForms(ctx context.Context, db store.Querier, code string) ([]StudyForm, error) {
	s, err := Get(ctx, db, code)
	if err != nil {
		return nil, err
	}
	return formsOf(ctx, db, s.ID)
}

// UpdateEvent saves an event's scheduling attributes (epoch, arm or cohort,
// nominal time offset); the epoch also becomes the event's ODM Category.
// Only a study in design may change. EditEvent saves every field and checks
// the study version the user opened.
func UpdateEvent(ctx context.Context, db *store.DB, by audit.Actor, code, eventOID string, epoch, arm string, offset *int, reason string) error {
	return inDesign(ctx, db, by, code, reason, func(tx *store.Tx, s Study) error {
		e, err := GetEvent(ctx, tx, code, eventOID)
		if err != nil {
			return err
		}
		e.Epoch, e.Arm, e.NominalOffsetMinutes = strings.TrimSpace(epoch), strings.TrimSpace(arm), offset
		if err := validateEvent(e); err != nil {
			return err
		}
		return saveEvent(ctx, tx, by, s, e, reason)
	})
}
