package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// The study design page edits events (name, type, repeating, epoch, arm or
// cohort, nominal time, order), removes them, and changes which published
// version of a form the study uses. Every change needs the study in design
// status, the study version the user opened (a newer one is a Conflict
// naming who changed it), and a reason; each is audited with old and new
// values and touches the study, so that its version moves with its design.

// inDesignAt is inDesign for a user who opened the study at version.
func inDesignAt(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string, fn func(tx *store.Tx, s Study) error) error {
	return inDesign(ctx, db, by, code, reason, func(tx *store.Tx, s Study) error {
		if s.Version != version {
			return &check.Conflict{Entity: "study", By: s.UpdatedBy, At: s.UpdatedAt}
		}
		return fn(tx, s)
	})
}

// touch records that by changed study s's design now.
func touch(ctx context.Context, tx *store.Tx, by audit.Actor, s Study) error {
	if _, err := tx.Exec(ctx, "UPDATE study SET updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?", time.Now().UTC(), by.Name, s.ID); err != nil {
		return fmt.Errorf("save study %s: %w", s.Code, err)
	}
	return nil
}

// OffsetText writes a nominal offset in minutes as hours for the pages,
// such as "24", "-0.5" or "1.25".
func OffsetText(minutes *int) string {
	if minutes == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*minutes)/60, 'f', -1, 64)
}

// StudyDay is the protocol day of a nominal offset from the first dose:
// day 1 is the dosing day and the day before it is day -1 (there is no day
// 0, as protocols count).
func StudyDay(minutes int) int {
	d := minutes / 1440
	if minutes < 0 && minutes%1440 != 0 {
		d--
	}
	if d >= 0 {
		return d + 1
	}
	return d
}

func (e Event) fields() map[string]string {
	off := ""
	if e.NominalOffsetMinutes != nil {
		off = strconv.Itoa(*e.NominalOffsetMinutes)
	}
	return map[string]string{"name": e.Name, "type": string(e.Type), "repeating": strconv.FormatBool(e.Repeating),
		"epoch": e.Epoch, "arm": e.Arm, "nominal_offset_minutes": off, "window_before_minutes": intText(e.WindowBeforeMinutes),
		"window_after_minutes": intText(e.WindowAfterMinutes), "order": strconv.Itoa(e.Order)}
}

var eventFields = []string{"name", "type", "repeating", "epoch", "arm", "nominal_offset_minutes", "window_before_minutes", "window_after_minutes", "order"}

// GetEvent returns one event of a study.
func GetEvent(ctx context.Context, db store.Querier, code, eventOID string) (Event, error) {
	events, err := Events(ctx, db, code)
	if err != nil {
		return Event{}, err
	}
	for _, e := range events {
		if e.OID == eventOID {
			return e, nil
		}
	}
	return Event{}, fmt.Errorf("event %s of study %s: %w", eventOID, code, check.ErrNotFound)
}

// validateEvent checks the fields the design page edits.
func validateEvent(e Event) error {
	fe := check.FieldErrors{}
	if strings.TrimSpace(e.Name) == "" {
		fe.Add("event_name", "This field is required.")
	}
	if !e.Type.Valid() {
		fe.Add("event_type", "Choose Scheduled, Unscheduled or Common.")
	}
	if len(e.Epoch) > 100 {
		fe.Add("epoch", "Keep the epoch under 100 characters.")
	}
	if len(e.Arm) > 100 {
		fe.Add("arm", "Keep the arm or cohort under 100 characters.")
	}
	if e.NominalOffsetMinutes != nil && (*e.NominalOffsetMinutes < -365*1440 || *e.NominalOffsetMinutes > 5*365*1440) {
		fe.Add("offset_hours", "Give a planned time within a year before and five years after the reference time.")
	}
	for field, w := range map[string]*int{"window_before": e.WindowBeforeMinutes, "window_after": e.WindowAfterMinutes} {
		switch {
		case w == nil:
		case *w < 0 || *w > 365*1440:
			fe.Add(field, "Give a window from 0 minutes to a year, or leave it empty.")
		case e.NominalOffsetMinutes == nil:
			fe.Add(field, "A window needs a nominal time to be around; give the nominal time too.")
		}
	}
	return fe.Err()
}

// EditEvent saves an event's name, type, repeating flag, epoch, arm or
// cohort, nominal time and place in the schedule (Order, 1 for first).
// version is the study version the user opened.
func EditEvent(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, e Event, reason string) error {
	e.Name, e.Epoch, e.Arm = strings.TrimSpace(e.Name), strings.TrimSpace(e.Epoch), strings.TrimSpace(e.Arm)
	if err := validateEvent(e); err != nil {
		return err
	}
	return inDesignAt(ctx, db, by, code, version, reason, func(tx *store.Tx, s Study) error {
		return saveEvent(ctx, tx, by, s, e, reason)
	})
}

// saveEvent stores e over the event with its OID in study s.
func saveEvent(ctx context.Context, tx *store.Tx, by audit.Actor, s Study, e Event, reason string) error {
	old, err := GetEvent(ctx, tx, s.Code, e.OID)
	if err != nil {
		return err
	}
	var body []byte
	if err := tx.QueryRow(ctx, "SELECT definition FROM study_event WHERE study_id = ? AND oid = ?", s.ID, e.OID).Scan(&body); err != nil {
		return fmt.Errorf("read event %s: %w", e.OID, err)
	}
	var def odm.StudyEventDef
	if err := decode(body, &def); err != nil {
		return err
	}
	// The epoch travels in ODM as the event's Category.
	def.Name, def.Type, def.Repeating, def.Category = e.Name, e.Type, yesNo(e.Repeating), e.Epoch
	setScheduleAliases(&def, e.schedule())
	nb, err := canonical(&def)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE study_event SET name = ?, event_type = ?, repeating = ?, epoch = ?, arm = ?, nominal_offset_minutes = ?,
		window_before_minutes = ?, window_after_minutes = ?, definition = ? WHERE study_id = ? AND oid = ?`,
		e.Name, string(e.Type), e.Repeating, e.Epoch, e.Arm, intArg(e.NominalOffsetMinutes),
		intArg(e.WindowBeforeMinutes), intArg(e.WindowAfterMinutes), string(nb), s.ID, e.OID); err != nil {
		return fmt.Errorf("save event %s: %w", e.OID, err)
	}
	if e.Order < 1 {
		e.Order = old.Order
	}
	if e.Order != old.Order {
		if e.Order, err = placeEvent(ctx, tx, s, e.OID, e.Order); err != nil {
			return err
		}
	}
	changes := audit.Diff(eventFields, old.fields(), e.fields())
	if len(changes) == 0 {
		return nil
	}
	if err := touch(ctx, tx, by, s); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "study_event", EntityID: s.Code + "/" + e.OID,
		Reason: reason, Changes: changes})
}

// placeEvent moves an event to position (1-based, clamped to the schedule),
// numbers the events 1…n and keeps the protocol in step; it returns the
// position the event got.
func placeEvent(ctx context.Context, tx *store.Tx, s Study, eventOID string, position int) (int, error) {
	order, err := eventOrder(ctx, tx, s.ID)
	if err != nil {
		return 0, err
	}
	i := slices.Index(order, eventOID)
	if i < 0 {
		return 0, fmt.Errorf("event %s of study %s: %w", eventOID, s.Code, check.ErrNotFound)
	}
	order = slices.Delete(order, i, i+1)
	if position < 1 {
		position = 1
	}
	if position > len(order)+1 {
		position = len(order) + 1
	}
	order = slices.Insert(order, position-1, eventOID)
	if err := renumberEvents(ctx, tx, s.ID, order); err != nil {
		return 0, err
	}
	return position, syncProtocol(ctx, tx, s)
}

func eventOrder(ctx context.Context, tx *store.Tx, studyID int64) ([]string, error) {
	rows, err := tx.Query(ctx, "SELECT oid FROM study_event WHERE study_id = ? ORDER BY position", studyID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var oid string
		if err := rows.Scan(&oid); err != nil {
			return nil, err
		}
		out = append(out, oid)
	}
	return out, rows.Err()
}

func renumberEvents(ctx context.Context, tx *store.Tx, studyID int64, order []string) error {
	for i, oid := range order {
		if _, err := tx.Exec(ctx, "UPDATE study_event SET position = ? WHERE study_id = ? AND oid = ?", i+1, studyID, oid); err != nil {
			return fmt.Errorf("order event %s: %w", oid, err)
		}
	}
	return nil
}

// syncProtocol makes the ODM Protocol of study s list its events in
// schedule order, keeping what an imported protocol said of each event
// (mandatory, collection exception condition, extensions). A study designed
// in cohort gets a Protocol on its first event, as other systems expect.
func syncProtocol(ctx context.Context, tx *store.Tx, s Study) error {
	var body []byte
	if err := tx.QueryRow(ctx, "SELECT design FROM study WHERE id = ?", s.ID).Scan(&body); err != nil {
		return fmt.Errorf("read design of study %s: %w", s.Code, err)
	}
	var sh shell
	if err := decode(body, &sh); err != nil {
		return err
	}
	if sh.Study == nil {
		sh.Study = &odm.Study{OID: s.OID}
	}
	if len(sh.Study.MetaDataVersions) == 0 {
		sh.Study.MetaDataVersions = []*odm.MetaDataVersion{{OID: "MDV." + s.OID, Name: s.Title}}
	}
	mv := sh.Study.MetaDataVersions[0]
	if mv.Protocol == nil {
		mv.Protocol = &odm.Protocol{}
	}
	prev := map[string]*odm.StudyEventRef{}
	for _, r := range mv.Protocol.StudyEventRefs {
		prev[r.StudyEventOID] = r
	}
	rows, err := tx.Query(ctx, "SELECT oid, event_type FROM study_event WHERE study_id = ? ORDER BY position", s.ID)
	if err != nil {
		return fmt.Errorf("list events of study %s: %w", s.Code, err)
	}
	var refs []*odm.StudyEventRef
	for rows.Next() {
		var oid, typ string
		if err := rows.Scan(&oid, &typ); err != nil {
			rows.Close()
			return err
		}
		r := prev[oid]
		if r == nil {
			r = &odm.StudyEventRef{StudyEventOID: oid, Mandatory: yesNo(odm.EventType(typ) == odm.Scheduled)}
		}
		n := len(refs) + 1
		r.OrderNumber = &n
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	mv.Protocol.StudyEventRefs = refs
	nb, err := canonical(&sh)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE study SET design = ? WHERE id = ?", string(nb), s.ID); err != nil {
		return fmt.Errorf("save design of study %s: %w", s.Code, err)
	}
	return nil
}

// MoveEvent moves an event one place earlier (step -1) or later (1) in
// the schedule.
func MoveEvent(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, eventOID string, step int, reason string) error {
	return inDesignAt(ctx, db, by, code, version, reason, func(tx *store.Tx, s Study) error {
		e, err := GetEvent(ctx, tx, code, eventOID)
		if err != nil {
			return err
		}
		e.Order += step
		return saveEvent(ctx, tx, by, s, e, reason)
	})
}

// RemoveEvent takes an event out of a study's design, with the forms it
// collected there; a form no other event collects leaves the study too.
func RemoveEvent(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, eventOID, reason string) error {
	return inDesignAt(ctx, db, by, code, version, reason, func(tx *store.Tx, s Study) error {
		old, err := GetEvent(ctx, tx, code, eventOID)
		if err != nil {
			return err
		}
		if err := dataAt(ctx, tx, s, eventOID, ""); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM study_event_form WHERE study_id = ? AND event_oid = ?", s.ID, eventOID); err != nil {
			return fmt.Errorf("remove event %s: %w", eventOID, err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM study_event WHERE study_id = ? AND oid = ?", s.ID, eventOID); err != nil {
			return fmt.Errorf("remove event %s: %w", eventOID, err)
		}
		for _, f := range old.Forms {
			if err := dropUnusedForm(ctx, tx, s, f.FormOID); err != nil {
				return err
			}
		}
		order, err := eventOrder(ctx, tx, s.ID)
		if err != nil {
			return err
		}
		if err := renumberEvents(ctx, tx, s.ID, order); err != nil {
			return err
		}
		if err := syncProtocol(ctx, tx, s); err != nil {
			return err
		}
		if err := touch(ctx, tx, by, s); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "study_event", EntityID: code + "/" + eventOID,
			Reason: reason, Changes: audit.Diff(eventFields, old.fields(), nil)})
	})
}

// dataAt refuses a design change that would orphan clinical data already
// stored at an event (and form, when formOID is given).
func dataAt(ctx context.Context, tx *store.Tx, s Study, eventOID, formOID string) error {
	q := `SELECT COUNT(*) FROM item_group_data g LEFT JOIN item_data d ON d.study_id = g.study_id AND d.group_data = g.id
		WHERE g.study_id = ? AND g.event_oid = ?`
	args := []any{s.ID, eventOID}
	if formOID != "" {
		q += " AND g.form_oid = ?"
		args = append(args, formOID)
	}
	var n int
	if err := tx.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return fmt.Errorf("count data at event %s: %w", eventOID, err)
	}
	if n > 0 {
		return fmt.Errorf("Study %s holds %d values at %s; its design there cannot be removed.", s.Code, n, strings.TrimSpace(eventOID+" "+formOID))
	}
	return nil
}

// dropUnusedForm takes a form out of a study when no event collects it.
func dropUnusedForm(ctx context.Context, tx *store.Tx, s Study, formOID string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM study_event_form WHERE study_id = ? AND form_oid = ?", s.ID, formOID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM study_form WHERE study_id = ? AND form_oid = ?", s.ID, formOID); err != nil {
		return fmt.Errorf("remove form %s from study %s: %w", formOID, s.Code, err)
	}
	return nil
}

// UnassignForm stops collecting a form at an event.
func UnassignForm(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, eventOID, formOID, reason string) error {
	return inDesignAt(ctx, db, by, code, version, reason, func(tx *store.Tx, s Study) error {
		var body []byte
		err := tx.QueryRow(ctx, "SELECT definition FROM study_event WHERE study_id = ? AND oid = ?", s.ID, eventOID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("event %s of study %s: %w", eventOID, code, check.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var def odm.StudyEventDef
		if err := decode(body, &def); err != nil {
			return err
		}
		n := len(def.FormRefs)
		def.FormRefs = slices.DeleteFunc(def.FormRefs, func(r *odm.FormRef) bool { return r.FormOID == formOID })
		if len(def.FormRefs) == n {
			return fmt.Errorf("Form %s is not collected at %s.", formOID, eventOID)
		}
		if err := dataAt(ctx, tx, s, eventOID, formOID); err != nil {
			return err
		}
		nb, err := canonical(&def)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE study_event SET definition = ? WHERE study_id = ? AND oid = ?", string(nb), s.ID, eventOID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM study_event_form WHERE study_id = ? AND event_oid = ? AND form_oid = ?", s.ID, eventOID, formOID); err != nil {
			return err
		}
		if err := dropUnusedForm(ctx, tx, s, formOID); err != nil {
			return err
		}
		if err := touch(ctx, tx, by, s); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "study_event", EntityID: code + "/" + eventOID,
			Reason: reason, Changes: []audit.Change{{Field: "form", Old: formOID}}})
	})
}

// ChangeFormVersion makes a study use another published version of a form
// it collects, at every event that collects it.
func ChangeFormVersion(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, formOID string, to int, reason string) error {
	return inDesignAt(ctx, db, by, code, version, reason, func(tx *store.Tx, s Study) error {
		var from int
		err := tx.QueryRow(ctx, "SELECT form_version FROM study_form WHERE study_id = ? AND form_oid = ?", s.ID, formOID).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("Study %s does not use form %s.", code, formOID)
		}
		if err != nil {
			return err
		}
		if from == to {
			return nil
		}
		v, err := GetVersion(ctx, tx, formOID, to)
		if errors.Is(err, check.ErrNotFound) {
			return check.FieldErrors{"form_version": fmt.Sprintf("The library has no form %s version %d.", formOID, to)}
		}
		if err != nil {
			return err
		}
		if v.Status != Published {
			return check.FieldErrors{"form_version": fmt.Sprintf("Form %s version %d is a draft; publish it before a study uses it.", formOID, to)}
		}
		if err := clashes(ctx, tx, s, v); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE study_form SET form_version = ? WHERE study_id = ? AND form_oid = ?", to, s.ID, formOID); err != nil {
			return fmt.Errorf("change form %s of study %s: %w", formOID, code, err)
		}
		if err := touch(ctx, tx, by, s); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "study", EntityID: code, Reason: reason,
			Changes: []audit.Change{{Field: "form " + formOID, Old: versionKey(formOID, from), New: versionKey(formOID, to)}}})
	})
}

// clashes refuses form version v when it defines an item group, item, code
// list or unit under an OID that another form of study s defines
// differently: an ODM MetaDataVersion holds one definition per OID, so the
// export would otherwise silently drop one of them.
func clashes(ctx context.Context, tx *store.Tx, s Study, v FormVersion) error {
	forms, err := formsOf(ctx, tx, s.ID)
	if err != nil {
		return err
	}
	mine := definitionsOf(v.Definition)
	for _, f := range forms {
		if f.FormOID == v.FormOID {
			continue
		}
		other, err := GetVersion(ctx, tx, f.FormOID, f.Version)
		if err != nil {
			return err
		}
		for key, body := range definitionsOf(other.Definition) {
			if b, ok := mine[key]; ok && b != body {
				return fmt.Errorf("Form %s and form %s (version %d) define %s differently; a study holds one definition of each OID, so make them the same or rename one.",
					versionKey(v.FormOID, v.Number), f.FormOID, f.Version, key)
			}
		}
	}
	return nil
}

// definitionsOf maps "item group IG.X", "item I.X", "code list CL.X" and
// "unit MU.X" to their canonical JSON.
func definitionsOf(d FormDefinition) map[string]string {
	out := map[string]string{}
	put := func(key string, v any) {
		b, err := canonical(v)
		if err == nil {
			out[key] = string(b)
		}
	}
	for _, g := range d.ItemGroups {
		put("item group "+g.OID, g)
	}
	for _, it := range d.Items {
		put("item "+it.OID, it)
	}
	for _, c := range d.CodeLists {
		put("code list "+c.OID, c)
	}
	for _, u := range d.Units {
		put("unit "+u.OID, u)
	}
	return out
}

// nullInt turns a nullable column into a pointer.
func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	m := int(n.Int64)
	return &m
}

// intArg turns a pointer into a nullable column value.
func intArg(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// The alias contexts under which an event's cohort-only scheduling
// attributes travel in ODM: ODM 1.3.2 has no attribute for them, and an
// Alias keeps the export schema-valid while other systems can read or
// ignore them.
const (
	AliasArm           = "cohort.arm"
	AliasNominalOffset = "cohort.nominal_offset_minutes"
	AliasWindowBefore  = "cohort.window_before_minutes"
	AliasWindowAfter   = "cohort.window_after_minutes"
)

// Schedule is what cohort schedules by that ODM does not carry: an event's
// arm or cohort, nominal time and window, in minutes.
type Schedule struct {
	Arm                  string
	NominalOffsetMinutes *int
	WindowBeforeMinutes  *int
	WindowAfterMinutes   *int
}

func (e Event) schedule() Schedule {
	return Schedule{Arm: e.Arm, NominalOffsetMinutes: e.NominalOffsetMinutes, WindowBeforeMinutes: e.WindowBeforeMinutes, WindowAfterMinutes: e.WindowAfterMinutes}
}

func (e *Event) applySchedule(s Schedule) {
	e.Arm, e.NominalOffsetMinutes, e.WindowBeforeMinutes, e.WindowAfterMinutes = s.Arm, s.NominalOffsetMinutes, s.WindowBeforeMinutes, s.WindowAfterMinutes
}

// setScheduleAliases writes s into def's aliases, replacing earlier ones
// and keeping every other alias.
func setScheduleAliases(def *odm.StudyEventDef, s Schedule) {
	def.Aliases = slices.DeleteFunc(def.Aliases, func(a odm.Alias) bool {
		return a.Context == AliasArm || a.Context == AliasNominalOffset || a.Context == AliasWindowBefore || a.Context == AliasWindowAfter
	})
	if s.Arm != "" {
		def.Aliases = append(def.Aliases, odm.Alias{Context: AliasArm, Name: s.Arm})
	}
	for _, a := range []struct {
		context string
		value   *int
	}{{AliasNominalOffset, s.NominalOffsetMinutes}, {AliasWindowBefore, s.WindowBeforeMinutes}, {AliasWindowAfter, s.WindowAfterMinutes}} {
		if a.value != nil {
			def.Aliases = append(def.Aliases, odm.Alias{Context: a.context, Name: strconv.Itoa(*a.value)})
		}
	}
}

// ScheduleFromAliases reads the schedule cohort wrote as aliases of an
// event (see AliasArm), so that an import can restore it; a missing or
// malformed alias leaves its field empty.
func ScheduleFromAliases(def *odm.StudyEventDef) Schedule {
	var s Schedule
	number := func(v string) *int {
		if n, err := strconv.Atoi(v); err == nil {
			return &n
		}
		return nil
	}
	for _, a := range def.Aliases {
		switch a.Context {
		case AliasArm:
			s.Arm = a.Name
		case AliasNominalOffset:
			s.NominalOffsetMinutes = number(a.Name)
		case AliasWindowBefore:
			s.WindowBeforeMinutes = number(a.Name)
		case AliasWindowAfter:
			s.WindowAfterMinutes = number(a.Name)
		}
	}
	return s
}
