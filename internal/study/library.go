package study

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// FormDefinition is everything a form version needs to stand alone: the
// form, its item groups and items in order, the code lists, measurement
// units, methods and conditions they use, all as ODM 1.3.2 with the vendor
// extensions the file carried.
type FormDefinition struct {
	Form       *odm.FormDef
	ItemGroups []*odm.ItemGroupDef
	Items      []*odm.ItemDef
	CodeLists  []*odm.CodeList
	Units      []*odm.MeasurementUnit
	Methods    []*odm.MethodDef
	Conditions []*odm.ConditionDef
}

// VersionStatus says whether a form version may still change.
type VersionStatus string

// A draft may be edited; a published version never changes again.
const (
	Draft     VersionStatus = "draft"
	Published VersionStatus = "published"
)

// LibraryForm is a form of the CRF master library.
type LibraryForm struct {
	OID       string
	Name      string
	Latest    int // highest version number
	Published int // highest published version number, 0 if none
	UpdatedAt time.Time
	UpdatedBy string
}

// FormVersion is one version of a library form.
type FormVersion struct {
	FormOID     string
	Number      int
	Status      VersionStatus
	Definition  FormDefinition
	Digest      string // SHA-256 of the canonical definition
	CreatedAt   time.Time
	CreatedBy   string
	PublishedAt *time.Time
	PublishedBy string
	Version     int // optimistic lock of a draft
}

// LibraryItem is one item of a form version, for browsing.
type LibraryItem struct {
	GroupOID string
	ItemOID  string
	Name     string
	DataType string
}

// Forms lists the library's forms by OID.
func Forms(ctx context.Context, db store.Querier) ([]LibraryForm, error) {
	rows, err := db.Query(ctx, `SELECT f.oid, f.name, f.updated_at, f.updated_by,
		COALESCE((SELECT MAX(number) FROM library_form_version v WHERE v.form_oid = f.oid), 0),
		COALESCE((SELECT MAX(number) FROM library_form_version v WHERE v.form_oid = f.oid AND v.status = ?), 0)
		FROM library_form f ORDER BY f.oid`, string(Published))
	if err != nil {
		return nil, fmt.Errorf("list library forms: %w", err)
	}
	defer rows.Close()
	var out []LibraryForm
	for rows.Next() {
		var f LibraryForm
		if err := rows.Scan(&f.OID, &f.Name, &f.UpdatedAt, &f.UpdatedBy, &f.Latest, &f.Published); err != nil {
			return nil, fmt.Errorf("list library forms: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

const versionColumns = "form_oid, number, status, definition, digest, created_at, created_by, published_at, published_by, version"

func scanVersion(r scanner) (FormVersion, error) {
	var v FormVersion
	var def []byte
	var pub sql.NullTime
	err := r.Scan(&v.FormOID, &v.Number, &v.Status, &def, &v.Digest, &v.CreatedAt, &v.CreatedBy, &pub, &v.PublishedBy, &v.Version)
	if err != nil {
		return v, err
	}
	if pub.Valid {
		t := pub.Time
		v.PublishedAt = &t
	}
	return v, decode(def, &v.Definition)
}

// Versions lists a form's versions, newest first.
func Versions(ctx context.Context, db store.Querier, formOID string) ([]FormVersion, error) {
	rows, err := db.Query(ctx, "SELECT "+versionColumns+" FROM library_form_version WHERE form_oid = ? ORDER BY number DESC", formOID)
	if err != nil {
		return nil, fmt.Errorf("list versions of form %s: %w", formOID, err)
	}
	defer rows.Close()
	var out []FormVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list versions of form %s: %w", formOID, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetVersion returns one version of a library form.
func GetVersion(ctx context.Context, db store.Querier, formOID string, number int) (FormVersion, error) {
	v, err := scanVersion(db.QueryRow(ctx, "SELECT "+versionColumns+" FROM library_form_version WHERE form_oid = ? AND number = ?", formOID, number))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("form %s version %d: %w", formOID, number, check.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("read form %s version %d: %w", formOID, number, err)
	}
	return v, nil
}

// Items lists the items of a form version in form order.
func Items(ctx context.Context, db store.Querier, formOID string, number int) ([]LibraryItem, error) {
	rows, err := db.Query(ctx, `SELECT group_oid, item_oid, name, data_type FROM library_item
		WHERE form_oid = ? AND number = ? ORDER BY position`, formOID, number)
	if err != nil {
		return nil, fmt.Errorf("list items of form %s version %d: %w", formOID, number, err)
	}
	defer rows.Close()
	var out []LibraryItem
	for rows.Next() {
		var it LibraryItem
		if err := rows.Scan(&it.GroupOID, &it.ItemOID, &it.Name, &it.DataType); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// validateDefinition checks what the library needs of a definition; the
// ODM rules themselves are checked by the writer on export and the reader
// on import.
func validateDefinition(d FormDefinition) error {
	fe := check.FieldErrors{}
	if d.Form == nil {
		fe.Add("form", "The definition has no form.")
		return fe.Err()
	}
	if strings.TrimSpace(d.Form.OID) == "" {
		fe.Add("oid", "This field is required.")
	}
	if strings.TrimSpace(d.Form.Name) == "" {
		fe.Add("name", "This field is required.")
	}
	return fe.Err()
}

// CreateForm adds a form to the library with an empty draft version 1.
func CreateForm(ctx context.Context, db *store.DB, by audit.Actor, oid, name string) (FormVersion, error) {
	def := FormDefinition{Form: &odm.FormDef{OID: strings.TrimSpace(oid), Name: strings.TrimSpace(name), Repeating: odm.No}}
	if err := validateDefinition(def); err != nil {
		return FormVersion{}, err
	}
	var v FormVersion
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		v, err = addVersion(ctx, tx, by, def, Draft, "")
		return err
	})
	return v, err
}

// addVersion stores def as the next version of its form, creating the
// library form on its first version.
func addVersion(ctx context.Context, tx *store.Tx, by audit.Actor, def FormDefinition, status VersionStatus, reason string) (FormVersion, error) {
	if err := validateDefinition(def); err != nil {
		return FormVersion{}, err
	}
	oid := def.Form.OID
	body, err := canonical(&def)
	if err != nil {
		return FormVersion{}, err
	}
	now := time.Now().UTC()
	var number int
	err = tx.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) FROM library_form_version WHERE form_oid = ?", oid).Scan(&number)
	if err != nil {
		return FormVersion{}, fmt.Errorf("add version of form %s: %w", oid, err)
	}
	if number == 0 {
		_, err = tx.Exec(ctx, "INSERT INTO library_form (oid, name, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
			oid, def.Form.Name, now, now, by.Name)
		if err != nil {
			return FormVersion{}, fmt.Errorf("create library form %s: %w", oid, err)
		}
	} else if status == Draft {
		var drafts int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM library_form_version WHERE form_oid = ? AND status = ?", oid, string(Draft)).Scan(&drafts); err != nil {
			return FormVersion{}, err
		}
		if drafts > 0 {
			return FormVersion{}, check.FieldErrors{"form": fmt.Sprintf("Form %s already has a draft; edit or publish it first.", oid)}
		}
	}
	number++
	v := FormVersion{FormOID: oid, Number: number, Status: status, Definition: def, Digest: digest(body), CreatedAt: now, CreatedBy: by.Name, Version: 1}
	var pubAt any
	if status == Published {
		v.PublishedAt, v.PublishedBy, pubAt = &now, by.Name, now
	}
	_, err = tx.Exec(ctx, `INSERT INTO library_form_version (form_oid, number, status, definition, digest, created_at, created_by, published_at, published_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, oid, number, string(status), string(body), v.Digest, now, by.Name, pubAt, v.PublishedBy)
	if err != nil {
		return v, fmt.Errorf("store form %s version %d: %w", oid, number, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE library_form SET name = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE oid = ?",
		def.Form.Name, now, by.Name, oid); err != nil {
		return v, fmt.Errorf("update library form %s: %w", oid, err)
	}
	if err := indexItems(ctx, tx, oid, number, def); err != nil {
		return v, err
	}
	return v, audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Create, Entity: "form_version", EntityID: versionKey(oid, number),
		Reason: reason, Changes: []audit.Change{{Field: "status", New: string(status)}, {Field: "digest", New: v.Digest}}})
}

func versionKey(oid string, number int) string { return oid + " v" + strconv.Itoa(number) }

func indexItems(ctx context.Context, tx *store.Tx, oid string, number int, def FormDefinition) error {
	if _, err := tx.Exec(ctx, "DELETE FROM library_item WHERE form_oid = ? AND number = ?", oid, number); err != nil {
		return fmt.Errorf("index form %s: %w", oid, err)
	}
	groups := map[string]*odm.ItemGroupDef{}
	for _, g := range def.ItemGroups {
		groups[g.OID] = g
	}
	items := map[string]*odm.ItemDef{}
	for _, it := range def.Items {
		items[it.OID] = it
	}
	pos := 0
	for _, gr := range def.Form.ItemGroupRefs {
		g := groups[gr.ItemGroupOID]
		if g == nil {
			continue
		}
		for _, ir := range g.ItemRefs {
			it := items[ir.ItemOID]
			if it == nil {
				continue
			}
			pos++
			if _, err := tx.Exec(ctx, `INSERT INTO library_item (form_oid, number, position, group_oid, item_oid, name, data_type)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, oid, number, pos, g.OID, it.OID, it.Name, string(it.DataType)); err != nil {
				return fmt.Errorf("index form %s item %s: %w", oid, it.OID, err)
			}
		}
	}
	return nil
}

// SaveDraft replaces the definition of a draft version. version is the
// draft's version the user opened. Published versions are refused: change
// one by making a new draft (NewDraft).
func SaveDraft(ctx context.Context, db *store.DB, by audit.Actor, oid string, number, version int, def FormDefinition, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	if err := validateDefinition(def); err != nil {
		return err
	}
	if def.Form.OID != oid {
		return check.FieldErrors{"oid": "A form version cannot change its form's OID."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := GetVersion(ctx, tx, oid, number)
		if err != nil {
			return err
		}
		if old.Status != Draft {
			return check.FieldErrors{"form": fmt.Sprintf("Form %s version %d is published and cannot change; make a new draft.", oid, number)}
		}
		if old.Version != version {
			return formConflict(ctx, tx, oid)
		}
		body, err := canonical(&def)
		if err != nil {
			return err
		}
		d := digest(body)
		res, err := tx.Exec(ctx, `UPDATE library_form_version SET definition = ?, digest = ?, version = version + 1
			WHERE form_oid = ? AND number = ? AND version = ? AND status = ?`, string(body), d, oid, number, version, string(Draft))
		if err != nil {
			return fmt.Errorf("save form %s draft: %w", oid, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "form version", By: "another user", At: time.Now().UTC()}
		}
		if err := indexItems(ctx, tx, oid, number, def); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE library_form SET name = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE oid = ?",
			def.Form.Name, time.Now().UTC(), by.Name, oid); err != nil {
			return fmt.Errorf("update library form %s: %w", oid, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "form_version", EntityID: versionKey(oid, number),
			Reason: reason, Changes: []audit.Change{{Field: "digest", Old: old.Digest, New: d}}})
	})
}

// Publish freezes a draft: from now on the version never changes and
// studies may use it.
func Publish(ctx context.Context, db *store.DB, by audit.Actor, oid string, number, version int, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := GetVersion(ctx, tx, oid, number)
		if err != nil {
			return err
		}
		if old.Status != Draft {
			return check.FieldErrors{"form": fmt.Sprintf("Form %s version %d is already published.", oid, number)}
		}
		if old.Version != version {
			return formConflict(ctx, tx, oid)
		}
		if len(old.Definition.Items) == 0 {
			return fmt.Errorf("Form %s version %d has no items; add an item group with items before publishing it.", oid, number)
		}
		if err := checkDefinition(ctx, old.Definition); err != nil {
			return err
		}
		now := time.Now().UTC()
		res, err := tx.Exec(ctx, `UPDATE library_form_version SET status = ?, published_at = ?, published_by = ?, version = version + 1
			WHERE form_oid = ? AND number = ? AND version = ?`, string(Published), now, by.Name, oid, number, version)
		if err != nil {
			return fmt.Errorf("publish form %s version %d: %w", oid, number, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "form version", By: "another user", At: now}
		}
		if _, err := tx.Exec(ctx, "UPDATE library_form SET updated_at = ?, updated_by = ?, version = version + 1 WHERE oid = ?", now, by.Name, oid); err != nil {
			return fmt.Errorf("publish form %s version %d: %w", oid, number, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "form_version", EntityID: versionKey(oid, number),
			Reason: reason, Changes: []audit.Change{{Field: "status", Old: string(Draft), New: string(Published)}}})
	})
}

// NewDraft starts the next version of a form as a copy of version from.
// A form has at most one draft at a time.
func NewDraft(ctx context.Context, db *store.DB, by audit.Actor, oid string, from int, reason string) (FormVersion, error) {
	if strings.TrimSpace(reason) == "" {
		return FormVersion{}, check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	var v FormVersion
	err := db.InTx(ctx, func(tx *store.Tx) error {
		src, err := GetVersion(ctx, tx, oid, from)
		if err != nil {
			return err
		}
		v, err = addVersion(ctx, tx, by, src.Definition, Draft, reason)
		return err
	})
	return v, err
}

// publishedVersion returns the number of the published version of def's
// form whose definition is exactly def, storing def as a new published
// version if there is none. Importing the same form twice so reuses one
// version.
func publishedVersion(ctx context.Context, tx *store.Tx, by audit.Actor, def FormDefinition, reason string) (int, error) {
	body, err := canonical(&def)
	if err != nil {
		return 0, err
	}
	var number int
	err = tx.QueryRow(ctx, `SELECT number FROM library_form_version WHERE form_oid = ? AND digest = ? AND status = ?
		ORDER BY number DESC LIMIT 1`, def.Form.OID, digest(body), string(Published)).Scan(&number)
	if err == nil {
		return number, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("look up form %s: %w", def.Form.OID, err)
	}
	v, err := addVersion(ctx, tx, by, def, Published, reason)
	return v.Number, err
}

// formConflict says who last changed a library form, for a user whose
// copy is out of date.
func formConflict(ctx context.Context, tx *store.Tx, oid string) error {
	var who string
	var at time.Time
	if err := tx.QueryRow(ctx, "SELECT updated_by, updated_at FROM library_form WHERE oid = ?", oid).Scan(&who, &at); err != nil {
		return fmt.Errorf("read form %s: %w", oid, err)
	}
	return &check.Conflict{Entity: "form", By: who, At: at}
}
