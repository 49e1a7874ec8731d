// Package study keeps the clinic's studies, their designs (study events and
// the forms collected at each) and the CRF master library of forms with
// immutable published versions, and moves designs in and out as CDISC ODM
// 1.3.2 through internal/odm.
//
// A study's design is stored as rows for what users browse and edit (events
// with epoch, arm, order and nominal time; forms per event; the chosen
// version of each form) plus the rest of its ODM Study (global variables,
// protocol, conditions, methods, definitions no form uses, vendor
// extensions) as canonical JSON of internal/odm types. A library form
// version holds the form's full definition the same way. Export puts the
// pieces back together, so that import, export and import store the same.
package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
)

// Status is where a study is in its life.
type Status string

// The statuses. A study is designed, then active (collecting data), then
// locked (data frozen), then archived; archived studies also record
// historical participation brought in by the migration.
const (
	Design   Status = "design"
	Active   Status = "active"
	Locked   Status = "locked"
	Archived Status = "archived"
)

// Statuses lists the statuses in life order.
var Statuses = []Status{Design, Active, Locked, Archived}

// transitions are the allowed status changes. A locked study may be
// unlocked (back to active) to correct data.
var transitions = map[Status][]Status{
	Design: {Active},
	Active: {Locked},
	Locked: {Active, Archived},
}

// CanMove reports whether a study may go from status from to status to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Next returns the statuses a study in status s may move to.
func Next(s Status) []Status { return transitions[s] }

// Phases are the phases a study may be given.
var Phases = []string{"I", "Ia", "Ib", "I/II", "II", "III", "IV"}

// Study is one clinical study run (or once run) by the clinic.
type Study struct {
	ID             int64
	Code           string // the clinic's natural key, such as CRU-2026-001
	OID            string // the ODM Study OID, kept as imported
	Title          string
	Phase          string
	Sponsor        string
	ProtocolNumber string
	Status         Status
	CreatedAt      time.Time
	UpdatedAt      time.Time
	UpdatedBy      string
	Version        int
}

var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_.-]{0,39}$`)

// Validate checks a study's fields and returns FieldErrors naming each problem.
func (s Study) Validate() error {
	fe := check.FieldErrors{}
	switch {
	case strings.TrimSpace(s.Code) == "":
		fe.Add("code", "This field is required.")
	case !codePattern.MatchString(s.Code):
		fe.Add("code", "Use 1–40 capital letters, digits, ., - or _ (for example CRU-2026-001).")
	}
	switch {
	case strings.TrimSpace(s.Title) == "":
		fe.Add("title", "This field is required.")
	case len(s.Title) > 500:
		fe.Add("title", "Keep the title under 500 characters.")
	}
	if s.Phase != "" && !slices.Contains(Phases, s.Phase) {
		fe.Add("phase", "Choose one of %s.", strings.Join(Phases, ", "))
	}
	if len(s.Sponsor) > 200 {
		fe.Add("sponsor", "Keep the sponsor under 200 characters.")
	}
	if len(s.ProtocolNumber) > 100 {
		fe.Add("protocol_number", "Keep the protocol number under 100 characters.")
	}
	if !slices.Contains(Statuses, s.Status) {
		fe.Add("status", "%q is not a study status.", s.Status)
	}
	return fe.Err()
}

// CodeFor turns an ODM OID into a study code: capitals, with characters a
// code may not hold replaced by "-".
func CodeFor(oid string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(oid) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	c := strings.TrimLeft(b.String(), "_.-")
	if c == "" {
		c = "STUDY"
	}
	return c
}

func (s Study) fields() map[string]string {
	return map[string]string{"code": s.Code, "oid": s.OID, "title": s.Title, "phase": s.Phase, "sponsor": s.Sponsor,
		"protocol_number": s.ProtocolNumber, "status": string(s.Status)}
}

var fields = []string{"code", "oid", "title", "phase", "sponsor", "protocol_number", "status"}

const columns = "id, code, oid, title, phase, sponsor, protocol_number, status, created_at, updated_at, updated_by, version"

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Study, error) {
	var s Study
	err := r.Scan(&s.ID, &s.Code, &s.OID, &s.Title, &s.Phase, &s.Sponsor, &s.ProtocolNumber, &s.Status,
		&s.CreatedAt, &s.UpdatedAt, &s.UpdatedBy, &s.Version)
	return s, err
}

// List returns the studies by code.
func List(ctx context.Context, db store.Querier) ([]Study, error) {
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM study ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	defer rows.Close()
	var out []Study
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list studies: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Get returns the study with the given code.
func Get(ctx context.Context, db store.Querier, code string) (Study, error) {
	s, err := scan(db.QueryRow(ctx, "SELECT "+columns+" FROM study WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("study %q: %w", code, check.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read study %s: %w", code, err)
	}
	return s, nil
}

// Create stores a new study in design status, with an empty design, and
// audits it.
func Create(ctx context.Context, db *store.DB, by audit.Actor, s Study) (Study, error) {
	s.Status = Design
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		s, err = insert(ctx, tx, by, s, "")
		return err
	})
	return s, err
}

// CreateArchived stores a study that ran before cohort, in archived status,
// so that the volunteers' historical participation can point at it. The
// migration program uses it; reason says where the record comes from.
func CreateArchived(ctx context.Context, tx *store.Tx, by audit.Actor, s Study, reason string) (Study, error) {
	s.Status = Archived
	return insert(ctx, tx, by, s, reason)
}

func insert(ctx context.Context, tx *store.Tx, by audit.Actor, s Study, reason string) (Study, error) {
	s.Code = strings.TrimSpace(s.Code)
	if s.OID == "" {
		s.OID = s.Code
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	now := time.Now().UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO study (code, oid, title, phase, sponsor, protocol_number, status, design, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.Code, s.OID, s.Title, s.Phase, s.Sponsor, s.ProtocolNumber, string(s.Status), "{}", now, now, by.Name)
	if store.IsUniqueViolation(err) {
		return s, check.FieldErrors{"code": fmt.Sprintf("A study with code %s already exists.", s.Code)}
	}
	if err != nil {
		return s, fmt.Errorf("create study %s: %w", s.Code, err)
	}
	s.ID, s.CreatedAt, s.UpdatedAt, s.UpdatedBy, s.Version = id, now, now, by.Name, 1
	return s, audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "study", EntityID: s.Code,
		Reason: reason, Changes: audit.Diff(fields, nil, s.fields())})
}

// Update saves changes to a study's title, phase, sponsor and protocol
// number. version is the version the user opened; a newer one means someone
// else saved first and the save is refused with a Conflict.
func Update(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, s Study, reason string) error {
	return change(ctx, db, by, code, version, reason, audit.Update, func(old Study) (Study, error) {
		s.ID, s.Code, s.OID, s.Status = old.ID, old.Code, old.OID, old.Status
		return s, s.Validate()
	})
}

// SetStatus moves a study to another status along the allowed transitions.
func SetStatus(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, to Status, reason string) error {
	action := audit.Update
	if to == Archived {
		action = audit.Archive
	}
	return change(ctx, db, by, code, version, reason, action, func(old Study) (Study, error) {
		if !CanMove(old.Status, to) {
			return old, check.FieldErrors{"status": fmt.Sprintf("A study in status %s cannot move to %s.", old.Status, to)}
		}
		old.Status = to
		return old, nil
	})
}

func change(ctx context.Context, db *store.DB, by audit.Actor, code string, version int, reason string,
	action audit.Action, apply func(Study) (Study, error)) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := Get(ctx, tx, code)
		if err != nil {
			return err
		}
		if old.Version != version {
			return &check.Conflict{Entity: "study", By: old.UpdatedBy, At: old.UpdatedAt}
		}
		s, err := apply(old)
		if err != nil {
			return err
		}
		changes := audit.Diff(fields, old.fields(), s.fields())
		if len(changes) == 0 {
			return nil
		}
		res, err := tx.Exec(ctx, `UPDATE study SET title = ?, phase = ?, sponsor = ?, protocol_number = ?, status = ?,
			updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?`,
			s.Title, s.Phase, s.Sponsor, s.ProtocolNumber, string(s.Status), time.Now().UTC(), by.Name, old.ID, version)
		if err != nil {
			return fmt.Errorf("save study %s: %w", code, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "study", By: "another user", At: time.Now().UTC()}
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: action, Entity: "study", EntityID: code, Reason: reason, Changes: changes})
	})
}
