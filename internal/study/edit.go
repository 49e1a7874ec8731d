package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// oidPattern is what cohort accepts as a new OID: ODM allows any string, but
// one without spaces or markup travels safely through every system.
var oidPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$`)

// inDesign runs fn in a transaction on a study that is in design status.
func inDesign(ctx context.Context, db *store.DB, by audit.Actor, code, reason string, fn func(tx *store.Tx, s Study) error) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		s, err := Get(ctx, tx, code)
		if err != nil {
			return err
		}
		if s.Status != Design {
			return check.FieldErrors{"status": fmt.Sprintf("Study %s is %s; only a study in design can change its design.", code, s.Status)}
		}
		return fn(tx, s)
	})
}

// AddEvent adds a study event at the end of a study's schedule. The epoch
// is written to ODM as the event's Category; arm and nominal offset, which
// ODM has no attribute for, as aliases (see AliasArm).
func AddEvent(ctx context.Context, db *store.DB, by audit.Actor, code string, e Event, reason string) error {
	fe := check.FieldErrors{}
	if !oidPattern.MatchString(e.OID) {
		fe.Add("event_oid", "Use letters, digits, . - or _ without spaces (for example SE.DAY1).")
	}
	if e.Type == "" {
		e.Type = odm.Scheduled
	}
	if more, ok := check.AsFieldErrors(validateEvent(e)); ok {
		for k, v := range more {
			fe.Add(k, "%s", v)
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return inDesign(ctx, db, by, code, reason, func(tx *store.Tx, s Study) error {
		var position int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(position), 0) FROM study_event WHERE study_id = ?", s.ID).Scan(&position); err != nil {
			return err
		}
		rep := odm.No
		if e.Repeating {
			rep = odm.Yes
		}
		def := &odm.StudyEventDef{OID: e.OID, Name: e.Name, Repeating: rep, Type: e.Type, Category: e.Epoch}
		setScheduleAliases(def, e.schedule())
		if err := insertEvent(ctx, tx, s.ID, def, position+1); err != nil {
			if store.IsUniqueViolation(errors.Unwrap(err)) || store.IsUniqueViolation(err) {
				return check.FieldErrors{"event_oid": fmt.Sprintf("Study %s already has an event %s.", code, e.OID)}
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE study_event SET arm = ?, nominal_offset_minutes = ?, window_before_minutes = ?, window_after_minutes = ?
			WHERE study_id = ? AND oid = ?`, e.Arm, intArg(e.NominalOffsetMinutes), intArg(e.WindowBeforeMinutes), intArg(e.WindowAfterMinutes), s.ID, e.OID); err != nil {
			return err
		}
		if err := syncProtocol(ctx, tx, s); err != nil {
			return err
		}
		if err := touch(ctx, tx, by, s); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "study_event", EntityID: code + "/" + e.OID,
			Reason: reason, Changes: []audit.Change{{Field: "name", New: e.Name}, {Field: "type", New: string(e.Type)}, {Field: "epoch", New: e.Epoch}}})
	})
}

// AssignForm collects a published version of a library form at an event.
// A study uses one version of each form at all its events.
func AssignForm(ctx context.Context, db *store.DB, by audit.Actor, code, eventOID, formOID string, version int, mandatory bool, reason string) error {
	return inDesign(ctx, db, by, code, reason, func(tx *store.Tx, s Study) error {
		v, err := GetVersion(ctx, tx, formOID, version)
		if errors.Is(err, check.ErrNotFound) {
			return check.FieldErrors{"form": fmt.Sprintf("The library has no form %s version %d.", formOID, version)}
		}
		if err != nil {
			return err
		}
		if v.Status != Published {
			return check.FieldErrors{"form": fmt.Sprintf("Form %s version %d is a draft; publish it before a study uses it.", formOID, version)}
		}
		var body []byte
		err = tx.QueryRow(ctx, "SELECT definition FROM study_event WHERE study_id = ? AND oid = ?", s.ID, eventOID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return check.FieldErrors{"event": fmt.Sprintf("Study %s has no event %s.", code, eventOID)}
		}
		if err != nil {
			return err
		}
		var def odm.StudyEventDef
		if err := decode(body, &def); err != nil {
			return err
		}
		for _, fr := range def.FormRefs {
			if fr.FormOID == formOID {
				return check.FieldErrors{"form": fmt.Sprintf("Form %s is already collected at %s.", formOID, eventOID)}
			}
		}
		var used int
		err = tx.QueryRow(ctx, "SELECT form_version FROM study_form WHERE study_id = ? AND form_oid = ?", s.ID, formOID).Scan(&used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := clashes(ctx, tx, s, v); err != nil {
				return err
			}
			var position int
			if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(position), 0) FROM study_form WHERE study_id = ?", s.ID).Scan(&position); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO study_form (study_id, form_oid, form_version, position) VALUES (?, ?, ?, ?)",
				s.ID, formOID, version, position+1); err != nil {
				return err
			}
		case err != nil:
			return err
		case used != version:
			return check.FieldErrors{"form": fmt.Sprintf("Study %s uses version %d of form %s; it cannot use version %d as well.", code, used, formOID, version)}
		}
		m := odm.No
		if mandatory {
			m = odm.Yes
		}
		def.FormRefs = append(def.FormRefs, &odm.FormRef{FormOID: formOID, Mandatory: m})
		nb, err := canonical(&def)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE study_event SET definition = ? WHERE study_id = ? AND oid = ?", string(nb), s.ID, eventOID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO study_event_form (study_id, event_oid, form_oid, position, mandatory) VALUES (?, ?, ?, ?, ?)",
			s.ID, eventOID, formOID, len(def.FormRefs), mandatory); err != nil {
			return err
		}
		if err := touch(ctx, tx, by, s); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "study_event", EntityID: code + "/" + eventOID,
			Reason: reason, Changes: []audit.Change{{Field: "form", New: versionKey(formOID, version)}}})
	})
}
