package study

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// The library pages edit a draft form version piece by piece: the form's
// own details, its item groups, items, code lists and measurement units.
// Each edit loads the draft, changes the definition, checks the whole of it
// and stores it in one transaction, with an audit entry per changed field
// (old and new value) and the user's reason. Parts the pages do not show
// (aliases, methods, conditions, vendor extensions, other languages) are
// kept as they were.

// DataTypes are the item data types the library pages offer, most used
// first. Items imported with another ODM data type keep it.
var DataTypes = []odm.DataType{odm.Text, odm.Integer, odm.Float, odm.Date, odm.Time, odm.Datetime, odm.String,
	odm.Boolean, odm.PartialDate, odm.PartialTime, odm.PartialDatetime, odm.Double, odm.URI}

// CodeListTypes are the data types ODM allows a code list.
var CodeListTypes = []odm.DataType{odm.Text, odm.Integer, odm.Float, odm.String}

// Comparators are the range check comparators, in the order the pages offer them.
var Comparators = []odm.Comparator{odm.GE, odm.LE, odm.GT, odm.LT, odm.EQ, odm.NE, odm.IN, odm.NOTIN}

// DraftRef names the draft a user opened: the form, its version number and
// the draft's optimistic-lock version.
type DraftRef struct {
	FormOID string
	Number  int
	Version int
}

// FormSpec is what the pages edit of the form itself.
type FormSpec struct {
	Name        string
	Repeating   bool
	Description string
}

// GroupSpec is an item group as the pages edit it, with its place in the form.
type GroupSpec struct {
	OID       string
	Name      string
	Repeating bool
	Mandatory bool // the group must be filled in (ItemGroupRef Mandatory)
}

// ItemSpec is an item as the pages edit it, with its place in a group.
type ItemSpec struct {
	GroupOID          string
	OID               string
	Name              string
	DataType          odm.DataType
	Length            *int
	SignificantDigits *int
	UnitOID           string // measurement unit, "" for none
	CodeListOID       string // code list, "" for free entry
	Question          string
	Help              string // shown to the person entering data (ODM Description)
	Mandatory         bool   // ItemRef Mandatory in its group
	RangeChecks       []RangeSpec
}

// RangeSpec is a range check on an item's value: Comparator against
// Values (several for IN and NOTIN), Soft (a warning) or Hard (refused).
type RangeSpec struct {
	Comparator odm.Comparator
	Values     []string
	SoftHard   odm.SoftHard
	Message    string
	// Expression marks a check written as a formal expression in an
	// imported file; the pages show it and keep it as it is.
	Expression string
}

// CodeListSpec is a code list with its coded values and their decodes.
type CodeListSpec struct {
	OID      string
	Name     string
	DataType odm.DataType
	Items    []CodeSpec
}

// CodeSpec is one entry of a code list.
type CodeSpec struct {
	Value  string
	Decode string
}

// UnitSpec is a measurement unit.
type UnitSpec struct {
	OID    string
	Name   string
	Symbol string
}

// text returns the first text of t, the one the pages edit.
func text(t *odm.Translations) string {
	if t == nil || len(t.Texts) == 0 {
		return ""
	}
	return t.Texts[0].Value
}

// setText replaces the first text of t (keeping its language and the other
// languages), or starts t in English; an empty s removes the first text.
func setText(t *odm.Translations, s string) *odm.Translations {
	s = strings.TrimSpace(s)
	if t == nil {
		if s == "" {
			return nil
		}
		return &odm.Translations{Texts: []odm.TranslatedText{{Lang: "en", Value: s}}}
	}
	c := *t
	c.Texts = slices.Clone(t.Texts)
	switch {
	case len(c.Texts) == 0 && s != "":
		c.Texts = []odm.TranslatedText{{Lang: "en", Value: s}}
	case s == "" && len(c.Texts) > 0:
		c.Texts = c.Texts[1:]
	case s != "":
		c.Texts[0].Value = s
	}
	if len(c.Texts) == 0 && len(c.Extensions.Attrs) == 0 && len(c.Extensions.Elements) == 0 {
		return nil
	}
	return &c
}

func yesNo(b bool) odm.YesNo {
	if b {
		return odm.Yes
	}
	return odm.No
}

func intText(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// FormSpecOf returns the editable fields of a definition's form.
func FormSpecOf(d FormDefinition) FormSpec {
	if d.Form == nil {
		return FormSpec{}
	}
	return FormSpec{Name: d.Form.Name, Repeating: d.Form.Repeating == odm.Yes, Description: text(d.Form.Description)}
}

// GroupSpecs returns the form's item groups in form order.
func GroupSpecs(d FormDefinition) []GroupSpec {
	var out []GroupSpec
	if d.Form == nil {
		return nil
	}
	for _, ref := range d.Form.ItemGroupRefs {
		g := findGroup(d, ref.ItemGroupOID)
		if g == nil {
			continue
		}
		out = append(out, GroupSpec{OID: g.OID, Name: g.Name, Repeating: g.Repeating == odm.Yes, Mandatory: ref.Mandatory == odm.Yes})
	}
	return out
}

// ItemSpecs returns the items of one group in group order.
func ItemSpecs(d FormDefinition, groupOID string) []ItemSpec {
	g := findGroup(d, groupOID)
	if g == nil {
		return nil
	}
	var out []ItemSpec
	for _, ref := range g.ItemRefs {
		if it := findItem(d, ref.ItemOID); it != nil {
			out = append(out, itemSpec(g.OID, ref, it))
		}
	}
	return out
}

// ItemSpecOf returns an item of a group, and whether it is there.
func ItemSpecOf(d FormDefinition, groupOID, itemOID string) (ItemSpec, bool) {
	for _, s := range ItemSpecs(d, groupOID) {
		if s.OID == itemOID {
			return s, true
		}
	}
	return ItemSpec{}, false
}

func itemSpec(group string, ref *odm.ItemRef, it *odm.ItemDef) ItemSpec {
	s := ItemSpec{GroupOID: group, OID: it.OID, Name: it.Name, DataType: it.DataType, Length: it.Length,
		SignificantDigits: it.SignificantDigits, Question: text(it.Question), Help: text(it.Description), Mandatory: ref.Mandatory == odm.Yes}
	if len(it.MeasurementUnitRefs) > 0 {
		s.UnitOID = it.MeasurementUnitRefs[0].MeasurementUnitOID
	}
	if it.CodeListRef != nil {
		s.CodeListOID = it.CodeListRef.CodeListOID
	}
	for _, rc := range it.RangeChecks {
		r := RangeSpec{Comparator: rc.Comparator, Values: rc.CheckValues, SoftHard: rc.SoftHard, Message: text(rc.ErrorMessage)}
		for _, fx := range rc.FormalExpressions {
			r.Expression += fx.Value
		}
		s.RangeChecks = append(s.RangeChecks, r)
	}
	return s
}

// CodeListSpecs returns the definition's code lists.
func CodeListSpecs(d FormDefinition) []CodeListSpec {
	var out []CodeListSpec
	for _, c := range d.CodeLists {
		s := CodeListSpec{OID: c.OID, Name: c.Name, DataType: c.DataType}
		for _, it := range c.Items {
			s.Items = append(s.Items, CodeSpec{Value: it.CodedValue, Decode: text(&it.Decode)})
		}
		for _, it := range c.EnumeratedItems {
			s.Items = append(s.Items, CodeSpec{Value: it.CodedValue})
		}
		out = append(out, s)
	}
	return out
}

// UnitSpecs returns the definition's measurement units.
func UnitSpecs(d FormDefinition) []UnitSpec {
	var out []UnitSpec
	for _, u := range d.Units {
		out = append(out, UnitSpec{OID: u.OID, Name: u.Name, Symbol: text(&u.Symbol)})
	}
	return out
}

func findGroup(d FormDefinition, oid string) *odm.ItemGroupDef {
	for _, g := range d.ItemGroups {
		if g.OID == oid {
			return g
		}
	}
	return nil
}

func findItem(d FormDefinition, oid string) *odm.ItemDef {
	for _, it := range d.Items {
		if it.OID == oid {
			return it
		}
	}
	return nil
}

// edit is one change to a draft's definition; it returns the audit changes
// it made (old and new values).
type edit func(d *FormDefinition) ([]audit.Change, error)

// editDraft applies fn to the draft ref names and stores the result.
func editDraft(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, reason string, fn edit) error {
	if strings.TrimSpace(reason) == "" {
		return check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := GetVersion(ctx, tx, ref.FormOID, ref.Number)
		if err != nil {
			return err
		}
		if old.Status != Draft {
			return check.FieldErrors{"form": fmt.Sprintf("Form %s version %d is published and cannot change; make a new draft from it.", ref.FormOID, ref.Number)}
		}
		if old.Version != ref.Version {
			return formConflict(ctx, tx, ref.FormOID)
		}
		def := old.Definition // decoded afresh from the row, so fn may change it freely
		changes, err := fn(&def)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		if err := checkDefinition(ctx, def); err != nil {
			return err
		}
		body, err := canonical(&def)
		if err != nil {
			return err
		}
		d := digest(body)
		now := time.Now().UTC()
		res, err := tx.Exec(ctx, `UPDATE library_form_version SET definition = ?, digest = ?, version = version + 1
			WHERE form_oid = ? AND number = ? AND version = ? AND status = ?`, string(body), d, ref.FormOID, ref.Number, ref.Version, string(Draft))
		if err != nil {
			return fmt.Errorf("save form %s draft: %w", ref.FormOID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &check.Conflict{Entity: "form", By: "another user", At: now}
		}
		if _, err := tx.Exec(ctx, "UPDATE library_form SET name = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE oid = ?",
			def.Form.Name, now, by.Name, ref.FormOID); err != nil {
			return fmt.Errorf("update library form %s: %w", ref.FormOID, err)
		}
		if err := indexItems(ctx, tx, ref.FormOID, ref.Number, def); err != nil {
			return err
		}
		changes = append(changes, audit.Change{Field: "digest", Old: old.Digest, New: d})
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "form_version",
			EntityID: versionKey(ref.FormOID, ref.Number), Reason: reason, Changes: changes})
	})
}

// checkDefinition refuses a definition that would not export as valid ODM
// 1.3.2, by writing it alone into a study and throwing the file away.
func checkDefinition(ctx context.Context, d FormDefinition) error {
	st := &odm.Study{OID: "CHECK", GlobalVariables: odm.GlobalVariables{StudyName: "check", StudyDescription: "check", ProtocolName: "check"}}
	if len(d.Units) > 0 {
		st.BasicDefinitions = &odm.BasicDefinitions{MeasurementUnits: d.Units}
	}
	st.MetaDataVersions = []*odm.MetaDataVersion{{OID: "MDV.CHECK", Name: "check", FormDefs: []*odm.FormDef{d.Form},
		ItemGroupDefs: d.ItemGroups, ItemDefs: d.Items, CodeLists: d.CodeLists, MethodDefs: d.Methods, ConditionDefs: d.Conditions}}
	doc := odm.NewDocument("CHECK", odm.Snapshot, time.Now())
	doc.Studies = []*odm.Study{st}
	_, err := odm.Write(ctx, io.Discard, doc, odm.WriteOptions{Compact: true})
	if err == nil {
		return nil
	}
	if ve, ok := err.(*odm.ValidationError); ok && len(ve.Problems) > 0 {
		msg := ve.Problems[0].Message
		return fmt.Errorf("The form would not be valid ODM: %s.", strings.TrimSuffix(msg, "."))
	}
	return fmt.Errorf("check form %s: %w", d.Form.OID, err)
}

// changed lists the fields whose values differ, each named prefix + field.
func changed(prefix string, fields []string, old, new map[string]string) []audit.Change {
	out := audit.Diff(fields, old, new)
	for i := range out {
		out[i].Field = prefix + out[i].Field
	}
	return out
}

// SaveFormDetails changes a draft form's name, repeating flag and description.
func SaveFormDetails(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, f FormSpec, reason string) error {
	if strings.TrimSpace(f.Name) == "" {
		return check.FieldErrors{"name": "This field is required."}
	}
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		old := FormSpecOf(*d)
		d.Form.Name = strings.TrimSpace(f.Name)
		d.Form.Repeating = yesNo(f.Repeating)
		d.Form.Description = setText(d.Form.Description, f.Description)
		fm := func(s FormSpec) map[string]string {
			return map[string]string{"name": s.Name, "repeating": strconv.FormatBool(s.Repeating), "description": s.Description}
		}
		return changed("form ", []string{"name", "repeating", "description"}, fm(old), fm(FormSpecOf(*d))), nil
	})
}

// checkOID adds a field error when oid is not one cohort accepts.
func checkOID(fe check.FieldErrors, field, oid, example string) {
	switch {
	case strings.TrimSpace(oid) == "":
		fe.Add(field, "This field is required.")
	case !oidPattern.MatchString(oid):
		fe.Add(field, "Use letters, digits, . - or _ without spaces (for example %s).", example)
	}
}

// SaveGroup adds an item group to a draft (original "") or changes the group
// whose OID was original.
func SaveGroup(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, original string, g GroupSpec, reason string) error {
	fe := check.FieldErrors{}
	g.OID, g.Name = strings.TrimSpace(g.OID), strings.TrimSpace(g.Name)
	checkOID(fe, "oid", g.OID, "IG.VITALS")
	if g.Name == "" {
		fe.Add("name", "This field is required.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		gm := func(s GroupSpec) map[string]string {
			return map[string]string{"oid": s.OID, "name": s.Name, "repeating": strconv.FormatBool(s.Repeating), "mandatory": strconv.FormatBool(s.Mandatory)}
		}
		fields := []string{"oid", "name", "repeating", "mandatory"}
		if g.OID != original && findGroup(*d, g.OID) != nil {
			return nil, check.FieldErrors{"oid": fmt.Sprintf("Form %s already has an item group %s.", ref.FormOID, g.OID)}
		}
		if original == "" {
			d.ItemGroups = append(d.ItemGroups, &odm.ItemGroupDef{OID: g.OID, Name: g.Name, Repeating: yesNo(g.Repeating)})
			d.Form.ItemGroupRefs = append(d.Form.ItemGroupRefs, &odm.ItemGroupRef{ItemGroupOID: g.OID, Mandatory: yesNo(g.Mandatory)})
			return changed("item group "+g.OID+" ", fields, nil, gm(g)), nil
		}
		def := findGroup(*d, original)
		if def == nil {
			return nil, check.FieldErrors{"oid": fmt.Sprintf("Form %s has no item group %s.", ref.FormOID, original)}
		}
		var old GroupSpec
		for _, s := range GroupSpecs(*d) {
			if s.OID == original {
				old = s
			}
		}
		def.OID, def.Name, def.Repeating = g.OID, g.Name, yesNo(g.Repeating)
		for _, r := range d.Form.ItemGroupRefs {
			if r.ItemGroupOID == original {
				r.ItemGroupOID, r.Mandatory = g.OID, yesNo(g.Mandatory)
			}
		}
		return changed("item group "+original+" ", fields, gm(old), gm(g)), nil
	})
}

// RemoveGroup takes an item group and the items only it holds out of a draft.
func RemoveGroup(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, groupOID, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		g := findGroup(*d, groupOID)
		if g == nil {
			return nil, fmt.Errorf("item group %s of form %s: %w", groupOID, ref.FormOID, check.ErrNotFound)
		}
		d.Form.ItemGroupRefs = slices.DeleteFunc(d.Form.ItemGroupRefs, func(r *odm.ItemGroupRef) bool { return r.ItemGroupOID == groupOID })
		d.ItemGroups = slices.DeleteFunc(d.ItemGroups, func(x *odm.ItemGroupDef) bool { return x.OID == groupOID })
		changes := []audit.Change{{Field: "item group " + groupOID, Old: g.Name}}
		for _, ir := range g.ItemRefs {
			if dropUnusedItem(d, ir.ItemOID) {
				changes = append(changes, audit.Change{Field: "item " + ir.ItemOID, Old: ir.ItemOID})
			}
		}
		return changes, nil
	})
}

// dropUnusedItem removes an item no group refers to any more.
func dropUnusedItem(d *FormDefinition, itemOID string) bool {
	for _, g := range d.ItemGroups {
		for _, r := range g.ItemRefs {
			if r.ItemOID == itemOID {
				return false
			}
		}
	}
	n := len(d.Items)
	d.Items = slices.DeleteFunc(d.Items, func(x *odm.ItemDef) bool { return x.OID == itemOID })
	return len(d.Items) < n
}

// MoveGroup moves an item group one place up (by -1) or down (by 1) in the form.
func MoveGroup(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, groupOID string, step int, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		refs := d.Form.ItemGroupRefs
		i := slices.IndexFunc(refs, func(r *odm.ItemGroupRef) bool { return r.ItemGroupOID == groupOID })
		j := i + step
		if i < 0 || j < 0 || j >= len(refs) || step == 0 {
			return nil, nil
		}
		refs[i], refs[j] = refs[j], refs[i]
		refs[i].OrderNumber, refs[j].OrderNumber = refs[j].OrderNumber, refs[i].OrderNumber
		return []audit.Change{{Field: "item group " + groupOID + " position", Old: strconv.Itoa(i + 1), New: strconv.Itoa(j + 1)}}, nil
	})
}

// MoveItem moves an item one place up (-1) or down (1) in its group.
func MoveItem(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, groupOID, itemOID string, step int, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		g := findGroup(*d, groupOID)
		if g == nil {
			return nil, fmt.Errorf("item group %s of form %s: %w", groupOID, ref.FormOID, check.ErrNotFound)
		}
		refs := g.ItemRefs
		i := slices.IndexFunc(refs, func(r *odm.ItemRef) bool { return r.ItemOID == itemOID })
		j := i + step
		if i < 0 || j < 0 || j >= len(refs) || step == 0 {
			return nil, nil
		}
		refs[i], refs[j] = refs[j], refs[i]
		refs[i].OrderNumber, refs[j].OrderNumber = refs[j].OrderNumber, refs[i].OrderNumber
		return []audit.Change{{Field: "item " + itemOID + " position in " + groupOID, Old: strconv.Itoa(i + 1), New: strconv.Itoa(j + 1)}}, nil
	})
}

var itemFields = []string{"group", "oid", "name", "data_type", "length", "significant_digits", "unit", "code_list",
	"question", "help", "mandatory", "range_checks"}

func (s ItemSpec) fields() map[string]string {
	var rc []string
	for _, r := range s.RangeChecks {
		x := string(r.SoftHard) + " " + string(r.Comparator) + " " + strings.Join(r.Values, ",")
		if r.Expression != "" {
			x += " " + r.Expression
		}
		if r.Message != "" {
			x += " (" + r.Message + ")"
		}
		rc = append(rc, x)
	}
	return map[string]string{"group": s.GroupOID, "oid": s.OID, "name": s.Name, "data_type": string(s.DataType),
		"length": intText(s.Length), "significant_digits": intText(s.SignificantDigits), "unit": s.UnitOID,
		"code_list": s.CodeListOID, "question": s.Question, "help": s.Help, "mandatory": strconv.FormatBool(s.Mandatory),
		"range_checks": strings.Join(rc, "; ")}
}

// validateItem checks an item against the draft it goes into.
func validateItem(d FormDefinition, s ItemSpec) error {
	fe := check.FieldErrors{}
	checkOID(fe, "oid", s.OID, "I.WEIGHT")
	if s.Name == "" {
		fe.Add("name", "This field is required.")
	}
	if findGroup(d, s.GroupOID) == nil {
		fe.Add("group", "Choose one of the form's item groups.")
	}
	if !s.DataType.Valid() {
		fe.Add("data_type", "Choose a data type.")
	}
	if s.Length != nil && (*s.Length < 1 || *s.Length > 4000) {
		fe.Add("length", "Give a length from 1 to 4000, or leave it empty.")
	}
	if s.SignificantDigits != nil {
		switch {
		case *s.SignificantDigits < 0 || *s.SignificantDigits > 20:
			fe.Add("significant_digits", "Give 0 to 20 digits after the decimal point, or leave it empty.")
		case s.DataType != odm.Float && s.DataType != odm.Double:
			fe.Add("significant_digits", "Only float and double items have significant digits.")
		}
	}
	if s.UnitOID != "" && !slices.ContainsFunc(d.Units, func(u *odm.MeasurementUnit) bool { return u.OID == s.UnitOID }) {
		fe.Add("unit", "Choose one of the form's measurement units, or none.")
	}
	if s.CodeListOID != "" {
		i := slices.IndexFunc(d.CodeLists, func(c *odm.CodeList) bool { return c.OID == s.CodeListOID })
		switch {
		case i < 0:
			fe.Add("code_list", "Choose one of the form's code lists, or none.")
		case d.CodeLists[i].DataType != s.DataType:
			fe.Add("code_list", "Code list %s holds %s values; give the item data type %s or choose another list.",
				s.CodeListOID, d.CodeLists[i].DataType, d.CodeLists[i].DataType)
		}
	}
	for i, r := range s.RangeChecks {
		field := fmt.Sprintf("range_%d", i)
		if r.Expression != "" {
			continue
		}
		switch {
		case !r.Comparator.Valid():
			fe.Add(field, "Choose a comparator.")
		case len(r.Values) == 0:
			fe.Add(field, "Give the value to compare with.")
		case len(r.Values) > 1 && r.Comparator != odm.IN && r.Comparator != odm.NOTIN:
			fe.Add(field, "Only IN and NOT IN compare with several values; give one value.")
		case !r.SoftHard.Valid():
			fe.Add(field, "Say whether the check is soft (a warning) or hard (the value is refused).")
		}
		for _, v := range r.Values {
			if !valueFits(s.DataType, v) {
				fe.Add(field, "%q is not a %s value.", v, s.DataType)
			}
		}
	}
	return fe.Err()
}

// valueFits reports whether v is a value of type t, for the numeric types a
// range check most often compares; other types are left to the ODM writer.
func valueFits(t odm.DataType, v string) bool {
	switch t {
	case odm.Integer:
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case odm.Float, odm.Double:
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	}
	return v != ""
}

// SaveItem adds an item to a group of a draft (original "") or changes the
// item whose OID was original in group originalGroup; a changed GroupOID
// moves the item to the end of that group.
func SaveItem(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, originalGroup, original string, s ItemSpec, reason string) error {
	s.OID, s.Name, s.Question, s.Help = strings.TrimSpace(s.OID), strings.TrimSpace(s.Name), strings.TrimSpace(s.Question), strings.TrimSpace(s.Help)
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		if err := validateItem(*d, s); err != nil {
			return nil, err
		}
		if s.OID != original && findItem(*d, s.OID) != nil {
			return nil, check.FieldErrors{"oid": fmt.Sprintf("Form %s already has an item %s.", ref.FormOID, s.OID)}
		}
		var it *odm.ItemDef
		var iref *odm.ItemRef
		var old map[string]string
		if original == "" {
			it = &odm.ItemDef{}
			iref = &odm.ItemRef{}
			d.Items = append(d.Items, it)
			g := findGroup(*d, s.GroupOID)
			g.ItemRefs = append(g.ItemRefs, iref)
		} else {
			prev, ok := ItemSpecOf(*d, originalGroup, original)
			if !ok {
				return nil, fmt.Errorf("item %s of group %s: %w", original, originalGroup, check.ErrNotFound)
			}
			old = prev.fields()
			// Checks written as formal expressions are kept as imported; the
			// page does not post them, so they are not a change.
			checks := slices.DeleteFunc(slices.Clone(s.RangeChecks), func(r RangeSpec) bool { return r.Expression != "" })
			for _, r := range prev.RangeChecks {
				if r.Expression != "" {
					checks = append(checks, r)
				}
			}
			s.RangeChecks = checks
			it = findItem(*d, original)
			og := findGroup(*d, originalGroup)
			i := slices.IndexFunc(og.ItemRefs, func(r *odm.ItemRef) bool { return r.ItemOID == original })
			iref = og.ItemRefs[i]
			if s.GroupOID != originalGroup {
				og.ItemRefs = slices.Delete(og.ItemRefs, i, i+1)
				ng := findGroup(*d, s.GroupOID)
				if slices.ContainsFunc(ng.ItemRefs, func(r *odm.ItemRef) bool { return r.ItemOID == original }) {
					return nil, check.FieldErrors{"group": fmt.Sprintf("Item group %s already holds item %s.", s.GroupOID, original)}
				}
				iref.OrderNumber = nil
				ng.ItemRefs = append(ng.ItemRefs, iref)
			}
			if s.OID != original {
				// The item is renamed everywhere the draft refers to it.
				for _, g := range d.ItemGroups {
					for _, r := range g.ItemRefs {
						if r.ItemOID == original {
							r.ItemOID = s.OID
						}
					}
				}
			}
		}
		applyItem(it, s)
		iref.ItemOID, iref.Mandatory = s.OID, yesNo(s.Mandatory)
		prefix := "item " + s.OID + " "
		if original != "" {
			prefix = "item " + original + " "
		}
		return changed(prefix, itemFields, old, s.fields()), nil
	})
}

// applyItem writes the edited fields into it, keeping what the pages do not edit.
func applyItem(it *odm.ItemDef, s ItemSpec) {
	it.OID, it.Name, it.DataType, it.Length, it.SignificantDigits = s.OID, s.Name, s.DataType, s.Length, s.SignificantDigits
	it.Question = setText(it.Question, s.Question)
	it.Description = setText(it.Description, s.Help)
	switch {
	case s.UnitOID == "":
		it.MeasurementUnitRefs = nil
	case len(it.MeasurementUnitRefs) == 0:
		it.MeasurementUnitRefs = []*odm.MeasurementUnitRef{{MeasurementUnitOID: s.UnitOID}}
	default:
		it.MeasurementUnitRefs[0].MeasurementUnitOID = s.UnitOID
	}
	switch {
	case s.CodeListOID == "":
		it.CodeListRef = nil
	case it.CodeListRef == nil:
		it.CodeListRef = &odm.CodeListRef{CodeListOID: s.CodeListOID}
	default:
		it.CodeListRef.CodeListOID = s.CodeListOID
	}
	// Formal-expression checks stay as imported; value checks are the pages'.
	var checks []*odm.RangeCheck
	for _, rc := range it.RangeChecks {
		if len(rc.FormalExpressions) > 0 {
			checks = append(checks, rc)
		}
	}
	for _, r := range s.RangeChecks {
		if r.Expression != "" {
			continue
		}
		rc := &odm.RangeCheck{Comparator: r.Comparator, SoftHard: r.SoftHard, CheckValues: r.Values, ErrorMessage: setText(nil, r.Message)}
		if s.UnitOID != "" {
			rc.MeasurementUnitRef = &odm.MeasurementUnitRef{MeasurementUnitOID: s.UnitOID}
		}
		checks = append(checks, rc)
	}
	it.RangeChecks = checks
}

// RemoveItem takes an item out of a group of a draft, and out of the draft
// when no other group holds it.
func RemoveItem(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, groupOID, itemOID, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		g := findGroup(*d, groupOID)
		if g == nil || !slices.ContainsFunc(g.ItemRefs, func(r *odm.ItemRef) bool { return r.ItemOID == itemOID }) {
			return nil, fmt.Errorf("item %s of group %s: %w", itemOID, groupOID, check.ErrNotFound)
		}
		g.ItemRefs = slices.DeleteFunc(g.ItemRefs, func(r *odm.ItemRef) bool { return r.ItemOID == itemOID })
		dropUnusedItem(d, itemOID)
		return []audit.Change{{Field: "item " + itemOID + " in " + groupOID, Old: itemOID}}, nil
	})
}

func (c CodeListSpec) fields() map[string]string {
	var items []string
	for _, it := range c.Items {
		items = append(items, it.Value+"="+it.Decode)
	}
	return map[string]string{"oid": c.OID, "name": c.Name, "data_type": string(c.DataType), "items": strings.Join(items, "; ")}
}

// SaveCodeList adds a code list to a draft (original "") or changes one.
// Items with an empty coded value are left out.
func SaveCodeList(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, original string, c CodeListSpec, reason string) error {
	c.OID, c.Name = strings.TrimSpace(c.OID), strings.TrimSpace(c.Name)
	fe := check.FieldErrors{}
	checkOID(fe, "oid", c.OID, "CL.YESNO")
	if c.Name == "" {
		fe.Add("name", "This field is required.")
	}
	if !c.DataType.ValidForCodeList() {
		fe.Add("data_type", "Choose text, integer, float or string.")
	}
	var items []CodeSpec
	seen := map[string]bool{}
	for i, it := range c.Items {
		it.Value, it.Decode = strings.TrimSpace(it.Value), strings.TrimSpace(it.Decode)
		if it.Value == "" && it.Decode == "" {
			continue
		}
		field := fmt.Sprintf("code_%d", i)
		switch {
		case it.Value == "":
			fe.Add(field, "Give the coded value stored for %q.", it.Decode)
		case it.Decode == "":
			fe.Add(field, "Give the text shown for %q.", it.Value)
		case seen[it.Value]:
			fe.Add(field, "The coded value %q is in the list twice.", it.Value)
		case c.DataType.ValidForCodeList() && !valueFits(c.DataType, it.Value):
			fe.Add(field, "%q is not a %s value.", it.Value, c.DataType)
		}
		seen[it.Value] = true
		items = append(items, it)
	}
	if len(items) == 0 {
		fe.Add("code_0", "Give at least one coded value with its text.")
	}
	c.Items = items
	if err := fe.Err(); err != nil {
		return err
	}
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		fields := []string{"oid", "name", "data_type", "items"}
		if c.OID != original && slices.ContainsFunc(d.CodeLists, func(x *odm.CodeList) bool { return x.OID == c.OID }) {
			return nil, check.FieldErrors{"oid": fmt.Sprintf("Form %s already has a code list %s.", ref.FormOID, c.OID)}
		}
		var cl *odm.CodeList
		var old map[string]string
		if original == "" {
			cl = &odm.CodeList{}
			d.CodeLists = append(d.CodeLists, cl)
		} else {
			i := slices.IndexFunc(d.CodeLists, func(x *odm.CodeList) bool { return x.OID == original })
			if i < 0 {
				return nil, fmt.Errorf("code list %s of form %s: %w", original, ref.FormOID, check.ErrNotFound)
			}
			cl = d.CodeLists[i]
			old = CodeListSpecs(FormDefinition{CodeLists: []*odm.CodeList{cl}})[0].fields()
		}
		// Decodes keep their other languages and aliases when a value stays.
		prev := map[string]*odm.CodeListItem{}
		for _, it := range cl.Items {
			prev[it.CodedValue] = it
		}
		cl.OID, cl.Name, cl.DataType = c.OID, c.Name, c.DataType
		cl.EnumeratedItems, cl.ExternalCodeList = nil, nil
		cl.Items = nil
		for _, it := range c.Items {
			ci := &odm.CodeListItem{CodedValue: it.Value}
			if p := prev[it.Value]; p != nil {
				cp := *p
				ci = &cp
			}
			ci.Decode = *setText(&ci.Decode, it.Decode)
			cl.Items = append(cl.Items, ci)
		}
		for _, it := range d.Items {
			if it.CodeListRef == nil || it.CodeListRef.CodeListOID != original || original == "" {
				continue
			}
			if it.DataType != c.DataType {
				return nil, check.FieldErrors{"data_type": fmt.Sprintf("Item %s uses this list and holds %s values; the list must hold %s values too.", it.OID, it.DataType, it.DataType)}
			}
			it.CodeListRef.CodeListOID = c.OID
		}
		return changed("code list "+or(original, c.OID)+" ", fields, old, c.fields()), nil
	})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// RemoveCodeList takes a code list no item uses out of a draft.
func RemoveCodeList(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, oid, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		for _, it := range d.Items {
			if it.CodeListRef != nil && it.CodeListRef.CodeListOID == oid {
				return nil, fmt.Errorf("Item %s uses code list %s; give the item another list (or none) first.", it.OID, oid)
			}
		}
		for _, g := range d.ItemGroups {
			for _, r := range g.ItemRefs {
				if r.RoleCodeListOID == oid {
					return nil, fmt.Errorf("Item group %s uses code list %s for a role; it cannot be removed.", g.OID, oid)
				}
			}
		}
		n := len(d.CodeLists)
		d.CodeLists = slices.DeleteFunc(d.CodeLists, func(x *odm.CodeList) bool { return x.OID == oid })
		if len(d.CodeLists) == n {
			return nil, fmt.Errorf("code list %s of form %s: %w", oid, ref.FormOID, check.ErrNotFound)
		}
		return []audit.Change{{Field: "code list " + oid, Old: oid}}, nil
	})
}

// SaveUnit adds a measurement unit to a draft (original "") or changes one.
func SaveUnit(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, original string, u UnitSpec, reason string) error {
	u.OID, u.Name, u.Symbol = strings.TrimSpace(u.OID), strings.TrimSpace(u.Name), strings.TrimSpace(u.Symbol)
	fe := check.FieldErrors{}
	checkOID(fe, "oid", u.OID, "MU.KG")
	if u.Name == "" {
		fe.Add("name", "This field is required.")
	}
	if u.Symbol == "" {
		fe.Add("symbol", "Give the symbol shown beside values, for example kg.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	um := func(s UnitSpec) map[string]string {
		return map[string]string{"oid": s.OID, "name": s.Name, "symbol": s.Symbol}
	}
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		if u.OID != original && slices.ContainsFunc(d.Units, func(x *odm.MeasurementUnit) bool { return x.OID == u.OID }) {
			return nil, check.FieldErrors{"oid": fmt.Sprintf("Form %s already has a measurement unit %s.", ref.FormOID, u.OID)}
		}
		var mu *odm.MeasurementUnit
		var old map[string]string
		if original == "" {
			mu = &odm.MeasurementUnit{}
			d.Units = append(d.Units, mu)
		} else {
			i := slices.IndexFunc(d.Units, func(x *odm.MeasurementUnit) bool { return x.OID == original })
			if i < 0 {
				return nil, fmt.Errorf("unit %s of form %s: %w", original, ref.FormOID, check.ErrNotFound)
			}
			mu = d.Units[i]
			old = um(UnitSpec{OID: mu.OID, Name: mu.Name, Symbol: text(&mu.Symbol)})
		}
		mu.OID, mu.Name = u.OID, u.Name
		mu.Symbol = *setText(&mu.Symbol, u.Symbol)
		if original != "" && original != u.OID {
			for _, it := range d.Items {
				for _, r := range it.MeasurementUnitRefs {
					if r.MeasurementUnitOID == original {
						r.MeasurementUnitOID = u.OID
					}
				}
				for _, rc := range it.RangeChecks {
					if rc.MeasurementUnitRef != nil && rc.MeasurementUnitRef.MeasurementUnitOID == original {
						rc.MeasurementUnitRef.MeasurementUnitOID = u.OID
					}
				}
			}
		}
		return changed("unit "+or(original, u.OID)+" ", []string{"oid", "name", "symbol"}, old, um(u)), nil
	})
}

// RemoveUnit takes a measurement unit no item uses out of a draft.
func RemoveUnit(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, oid, reason string) error {
	return editDraft(ctx, db, by, ref, reason, func(d *FormDefinition) ([]audit.Change, error) {
		for _, it := range d.Items {
			for _, r := range it.MeasurementUnitRefs {
				if r.MeasurementUnitOID == oid {
					return nil, fmt.Errorf("Item %s uses unit %s; give the item another unit (or none) first.", it.OID, oid)
				}
			}
		}
		n := len(d.Units)
		d.Units = slices.DeleteFunc(d.Units, func(x *odm.MeasurementUnit) bool { return x.OID == oid })
		if len(d.Units) == n {
			return nil, fmt.Errorf("unit %s of form %s: %w", oid, ref.FormOID, check.ErrNotFound)
		}
		return []audit.Change{{Field: "unit " + oid, Old: oid}}, nil
	})
}

// DiscardDraft throws a draft version away, as a data manager abandons
// changes that will not be published. A form whose only version was the
// draft leaves the library. Published versions are never discarded. It
// reports whether the form is still in the library.
func DiscardDraft(ctx context.Context, db *store.DB, by audit.Actor, ref DraftRef, reason string) (bool, error) {
	if strings.TrimSpace(reason) == "" {
		return false, check.FieldErrors{"reason": "Say why you are making this change (reason for change)."}
	}
	remains := true
	err := db.InTx(ctx, func(tx *store.Tx) error {
		old, err := GetVersion(ctx, tx, ref.FormOID, ref.Number)
		if err != nil {
			return err
		}
		if old.Status != Draft {
			return check.FieldErrors{"form": fmt.Sprintf("Form %s version %d is published and is kept for ever; only a draft can be discarded.", ref.FormOID, ref.Number)}
		}
		if old.Version != ref.Version {
			return formConflict(ctx, tx, ref.FormOID)
		}
		for _, q := range []string{"DELETE FROM library_item WHERE form_oid = ? AND number = ?",
			"DELETE FROM library_form_version WHERE form_oid = ? AND number = ?"} {
			if _, err := tx.Exec(ctx, q, ref.FormOID, ref.Number); err != nil {
				return fmt.Errorf("discard form %s version %d: %w", ref.FormOID, ref.Number, err)
			}
		}
		var left int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM library_form_version WHERE form_oid = ?", ref.FormOID).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			remains = false
			if _, err := tx.Exec(ctx, "DELETE FROM library_form WHERE oid = ?", ref.FormOID); err != nil {
				return fmt.Errorf("discard form %s: %w", ref.FormOID, err)
			}
		} else if _, err := tx.Exec(ctx, "UPDATE library_form SET updated_at = ?, updated_by = ?, version = version + 1 WHERE oid = ?",
			time.Now().UTC(), by.Name, ref.FormOID); err != nil {
			return fmt.Errorf("discard form %s version %d: %w", ref.FormOID, ref.Number, err)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Update, Entity: "form_version", EntityID: versionKey(ref.FormOID, ref.Number),
			Reason: reason, Changes: []audit.Change{{Field: "status", Old: string(Draft), New: "discarded"}, {Field: "digest", Old: old.Digest}}})
	})
	return remains, err
}
