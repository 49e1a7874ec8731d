package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// CreateOptions change how Create registers a volunteer.
type CreateOptions struct {
	// DuplicateReason registers the volunteer although possible duplicates
	// were found; it is the reason recorded in the audit trail, with the
	// candidates' numbers. Without it, Create refuses with a
	// *DuplicatesError.
	DuplicateReason string
}

// prepare tidies what people typed into stored form and checks it: the
// volunteer rules, the codes against the instance's lists, and the PHI
// flags of answers from the question configuration.
func prepare(v volunteer.Volunteer, lists *Lists, lookup volunteer.ListLookup) (volunteer.Volunteer, check.FieldErrors) {
	v = volunteer.Tidy(v, CallingCode(strings.ToUpper(strings.TrimSpace(v.Address.Country))))
	lists.markPHIAnswers(&v)
	fe := volunteer.ValidateOn(v, volunteer.Today())
	for f, msg := range volunteer.CheckCodes(v, lookup) {
		if fe == nil {
			fe = check.FieldErrors{}
		}
		fe.Add(f, "%s", msg)
	}
	return v, fe
}

// Create registers a new volunteer: it tidies and validates v, looks for
// possible duplicates, assigns the next volunteer number and stores the
// volunteer with an audit entry, all in one transaction. The status
// defaults to active; a new volunteer cannot start privacy-removed.
func Create(ctx context.Context, db *store.DB, by audit.Actor, v volunteer.Volunteer, opts CreateOptions) (Record, error) {
	v.Number, v.ID = "", 0
	if v.Status == "" {
		v.Status = volunteer.StatusActive
	}
	if v.Status == volunteer.StatusPrivacyRemoved {
		return Record{}, check.FieldErrors{volunteer.FieldStatus: "A new volunteer cannot start with their personal data removed."}
	}
	var rec Record
	err := db.InTx(ctx, func(tx *store.Tx) error {
		lists, err := LoadLists(ctx, tx, false)
		if err != nil {
			return err
		}
		v, fe := prepare(v, lists, lists)
		if len(fe) > 0 {
			return fe
		}
		cands, err := FindDuplicates(ctx, tx, v, 0)
		if err != nil {
			return err
		}
		reason := strings.TrimSpace(opts.DuplicateReason)
		if len(cands) > 0 && reason == "" {
			return &DuplicatesError{Candidates: cands}
		}
		num, err := newNumberer(ctx, tx)
		if err != nil {
			return err
		}
		if v.Number, err = num.next(ctx, tx, v.PreferredSite); err != nil {
			return err
		}
		if rec, err = insert(ctx, tx, by, v); err != nil {
			return err
		}
		changes := audit.Diff(trailFields, nil, trailValues(v))
		if len(cands) == 0 {
			reason = ""
		} else {
			changes = append(changes, audit.Change{Field: "possible_duplicates", New: describeCandidates(cands)})
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: Entity, EntityID: v.Number,
			Reason: reason, Changes: changes})
	})
	return rec, err
}

// insert stores a prepared, numbered volunteer and its child rows.
func insert(ctx context.Context, tx *store.Tx, by audit.Actor, v volunteer.Volunteer) (Record, error) {
	now := time.Now().UTC()
	placeholders := strings.TrimSuffix(strings.Repeat("?, ", len(rowColumns)), ", ")
	id, err := tx.InsertID(ctx, "INSERT INTO volunteer ("+strings.Join(rowColumns, ", ")+") VALUES ("+placeholders+")",
		rowValues(v, now, by.Name, now, by.Name, 1)...)
	if store.IsUniqueViolation(err) {
		return Record{}, check.FieldErrors{volunteer.FieldNumber: "The volunteer number " + v.Number + " is already taken."}
	}
	if err != nil {
		return Record{}, fmt.Errorf("store volunteer %s: %w", v.Number, err)
	}
	v.ID = id
	c := newChildren()
	c.add(id, &v)
	if err := c.flush(ctx, tx); err != nil {
		return Record{}, fmt.Errorf("store volunteer %s: %w", v.Number, err)
	}
	return Record{Volunteer: v, CreatedAt: now, CreatedBy: by.Name, UpdatedAt: now, UpdatedBy: by.Name, Version: 1}, nil
}

// Open returns the volunteer with the given number as the user may see
// it: unmasked when canSeePHI, with a "view" entry in the audit trail in
// the same breath, so every view of unmasked PHI is recorded; masked
// (volunteer.Mask) otherwise, which records nothing.
func Open(ctx context.Context, db *store.DB, by audit.Actor, number string, canSeePHI bool) (Record, error) {
	rec, err := Get(ctx, db, number)
	if err != nil {
		return rec, err
	}
	if !canSeePHI {
		rec.Volunteer = volunteer.Mask(rec.Volunteer)
		return rec, nil
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.View, Entity: Entity, EntityID: rec.Number})
	})
	if err != nil {
		return rec, fmt.Errorf("record the view of volunteer %s: %w", number, err)
	}
	return rec, nil
}

// needReason refuses a change without a reason for change.
func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return nil
}

// change runs apply on the stored volunteer inside a transaction after the
// checks every change shares: the record exists, the user saw the current
// version, and its personal data was not removed.
func change(ctx context.Context, db *store.DB, number string, version int, apply func(tx *store.Tx, old Record) error) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, number)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "volunteer", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		if old.Status == volunteer.StatusPrivacyRemoved {
			return fmt.Errorf("The personal data of volunteer %s was removed for privacy; the record can no longer be changed.", number)
		}
		return apply(tx, old)
	})
}

// save writes v over the stored row of old, guarded by the version, and
// rewrites the child rows when children is set.
func save(ctx context.Context, tx *store.Tx, by audit.Actor, old Record, v volunteer.Volunteer, children bool) error {
	sets := make([]string, 0, len(rowColumns))
	for _, c := range rowColumns {
		if c == "created_at" || c == "created_by" || c == "version" {
			continue
		}
		sets = append(sets, c+" = ?")
	}
	now := time.Now().UTC()
	vals := rowValues(v, old.CreatedAt, old.CreatedBy, now, by.Name, 0)
	args := make([]any, 0, len(vals)+2)
	for i, c := range rowColumns {
		if c != "created_at" && c != "created_by" && c != "version" {
			args = append(args, vals[i])
		}
	}
	args = append(args, old.ID, old.Version)
	res, err := tx.Exec(ctx, "UPDATE volunteer SET "+strings.Join(sets, ", ")+", version = version + 1 WHERE id = ? AND version = ?", args...)
	if err != nil {
		return fmt.Errorf("save volunteer %s: %w", old.Number, err)
	}
	// On PostgreSQL another transaction may have saved between our read and
	// this update; the version guard then matches no row.
	if n, _ := res.RowsAffected(); n != 1 {
		return &check.Conflict{Entity: "volunteer", By: "another user", At: now}
	}
	if !children {
		return nil
	}
	if err := deleteChildren(ctx, tx, old); err != nil {
		return err
	}
	c := newChildren()
	c.add(old.ID, &v)
	return c.flush(ctx, tx)
}

// Update saves changes to a volunteer. version is the version the user
// opened; a newer one means someone else saved first, and the save is
// refused with a *check.Conflict rather than overwriting their change. The
// number never changes and the status changes only through ChangeStatus
// and RemovePersonalData; every changed field is audited with its old and
// new value and the reason.
func Update(ctx context.Context, db *store.DB, by audit.Actor, number string, version int, v volunteer.Volunteer, reason string) error {
	if err := needReason(reason); err != nil {
		return err
	}
	return change(ctx, db, number, version, func(tx *store.Tx, old Record) error {
		v.ID, v.Number, v.Status = old.ID, old.Number, old.Status
		lists, err := LoadLists(ctx, tx, false)
		if err != nil {
			return err
		}
		v, fe := prepare(v, lists, acceptExisting(lists, old.Volunteer))
		for f, msg := range volunteer.ValidateUpdate(old.Volunteer, v, volunteer.Today()) {
			if fe == nil {
				fe = check.FieldErrors{}
			}
			fe.Add(f, "%s", msg)
		}
		if len(fe) > 0 {
			return fe
		}
		changes := audit.Diff(trailFields, trailValues(old.Volunteer), trailValues(v))
		if len(changes) == 0 {
			return nil
		}
		if err := save(ctx, tx, by, old, v, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: Entity, EntityID: number, Reason: reason, Changes: changes})
	})
}

// ChangeStatus moves a volunteer to another status, as
// volunteer.CheckStatusChange allows, with a reason. Privacy removal has
// its own function, because it needs the user's password and erases data.
func ChangeStatus(ctx context.Context, db *store.DB, by audit.Actor, number string, version int, status volunteer.Status, reason string) error {
	if status == volunteer.StatusPrivacyRemoved {
		return check.FieldErrors{volunteer.FieldStatus: "Remove the volunteer's personal data on the privacy removal page; it needs your password."}
	}
	if err := needReason(reason); err != nil {
		return err
	}
	return change(ctx, db, number, version, func(tx *store.Tx, old Record) error {
		if err := volunteer.CheckStatusChange(old.Status, status); err != nil {
			return check.FieldErrors{volunteer.FieldStatus: err.Error()}
		}
		if old.Status == status {
			return nil
		}
		v := old.Volunteer
		v.Status = status
		if err := save(ctx, tx, by, old, v, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: StatusChange, Entity: Entity, EntityID: number, Reason: reason,
			Changes: []audit.Change{{Field: volunteer.FieldStatus, Old: string(old.Status), New: string(status)}}})
	})
}
