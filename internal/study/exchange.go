package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/audit"
	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/odm"
	"github.com/cohort-clinical/cohort/internal/store"
)

// ImportOptions tunes Import.
type ImportOptions struct {
	// ConfirmWarnings applies a file whose report has warnings; without it
	// such a file is only reported.
	ConfirmWarnings bool
	// Reason is recorded in the audit trail; the default names the file.
	Reason string
	// DryRun reads and checks the file and reports, but stores nothing.
	DryRun bool
	// Progress, if set, is called with the bytes read so far.
	Progress func(bytesRead int64)
}

// ImportReport says what an import found and did.
type ImportReport struct {
	Diagnostics []odm.Diagnostic // the reader's, then the mapping's
	Suppressed  int              // diagnostics counted but not listed
	Errors      int
	Warnings    int
	Infos       int
	// Applied is true when the design was stored. It is false when there
	// were errors, or warnings without ConfirmWarnings.
	Applied bool
	// NeedsConfirmation is true when only unconfirmed warnings stopped it.
	NeedsConfirmation bool
	Studies           []string // codes of the studies of the file, created or existing
	Existing          []string // codes of those the instance had already: design kept, data appended
	Forms             int      // forms in the file's designs
	ItemData          int64    // clinical values in the file
	// ValuesAdded and ValuesChanged count the clinical values an import
	// added to, or changed in, studies the instance had already.
	ValuesAdded, ValuesChanged int64
}

func (r *ImportReport) add(d odm.Diagnostic) {
	r.Diagnostics = append(r.Diagnostics, d)
	switch d.Severity {
	case odm.Error:
		r.Errors++
	case odm.Warning:
		r.Warnings++
	default:
		r.Infos++
	}
}

// ErrImportRefused is returned (wrapped) when an import applied nothing
// because of errors in the file.
var ErrImportRefused = errors.New("the file has errors; nothing was imported")

// plannedStudy is one Study of a file, mapped to what will be stored.
type plannedStudy struct {
	study Study
	id    int64 // once stored
	mdv   string
	// existing is true for a study this instance already has: its design
	// stays as it is and clinical data is appended with audit.
	existing bool
	shell    shell
	events   []plannedEvent
	forms    []FormDefinition
}

type plannedEvent struct {
	def      *odm.StudyEventDef
	position int
}

// Import reads an ODM file and stores each Study's design: the study (in
// design status), its events, and its forms as published library versions
// (reusing a version whose definition is identical). All studies are
// stored in one transaction, or none: a file with errors applies nothing,
// and one with warnings only with ConfirmWarnings. Clinical data (ItemData
// with their containers' keys, audit records, signatures, annotations and
// extensions) is streamed into the same transaction in batches, so memory
// does not grow with the number of values.
//
// A Study the instance already has keeps its design: the same
// MetaDataVersion with identical content is reported as info, with other
// content or another OID as an error. Its clinical data is appended (new
// values) or updated (changed values), each change in the audit trail; see
// docs/odm-profile.md.
func Import(ctx context.Context, db *store.DB, by audit.Actor, in io.Reader, opts ImportOptions) (*ImportReport, error) {
	rep := &ImportReport{}
	r := odm.NewReader(in, odm.ReadOptions{Progress: opts.Progress})
	var mapping ImportReport // the mapping's own diagnostics, listed after the reader's
	finish := func(err error) (*ImportReport, error) {
		ds := r.Diagnostics()
		rep.Diagnostics = append(slices.Clone(ds.List), mapping.Diagnostics...)
		rep.Suppressed = ds.Suppressed
		rep.Errors = ds.Count(odm.Error) + mapping.Errors
		rep.Warnings = ds.Count(odm.Warning) + mapping.Warnings
		rep.Infos = ds.Count(odm.Info) + mapping.Infos
		// Studies the clinical data found in the instance.
		rep.Studies = append(rep.Studies, mapping.Studies...)
		rep.Existing = append(rep.Existing, mapping.Existing...)
		rep.ValuesAdded, rep.ValuesChanged = mapping.ValuesAdded, mapping.ValuesChanged
		var re *odm.ReadError
		if errors.As(err, &re) {
			rep.add(odm.Diagnostic{Line: re.Line, Column: re.Column, Severity: odm.Error, Code: odm.CodeStructure, Message: re.Error()})
			return rep, fmt.Errorf("%w: %v", ErrImportRefused, err)
		}
		if err != nil {
			return rep, err
		}
		if rep.Errors > 0 {
			return rep, ErrImportRefused
		}
		rep.NeedsConfirmation = rep.Warnings > 0 && !opts.ConfirmWarnings
		return rep, nil
	}
	doc, err := r.Metadata(ctx)
	if err != nil {
		return finish(err)
	}
	plans := planImport(ctx, db, doc, &mapping)
	for _, p := range plans {
		rep.Studies = append(rep.Studies, p.study.Code)
		if p.existing {
			rep.Existing = append(rep.Existing, p.study.Code)
		}
		rep.Forms += len(p.forms)
	}
	metaErrors := r.Diagnostics().Count(odm.Error) + mapping.Errors
	metaWarnings := r.Diagnostics().Count(odm.Warning) + mapping.Warnings
	if opts.DryRun || metaErrors > 0 || metaWarnings > 0 && !opts.ConfirmWarnings {
		// Nothing will be stored; read on only to complete the report.
		n, err := drain(ctx, r)
		rep.ItemData = n
		if len(plans) == 0 && n == 0 && err == nil {
			mapping.add(nothingToImport)
		}
		return finish(err)
	}
	reason := opts.Reason
	if reason == "" {
		reason = "ODM import"
		if doc.FileOID != "" {
			reason += " of file " + doc.FileOID
		}
	}
	// Studies, designs and clinical data go in one transaction, streamed:
	// problems found in the clinical data roll everything back.
	errRollback := errors.New("roll back")
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ids := map[string]*plannedStudy{}
		for _, p := range plans {
			if p.existing {
				ids[p.study.OID] = p
				continue
			}
			if err := p.apply(ctx, tx, by, reason); err != nil {
				return err
			}
			ids[p.study.OID] = p
		}
		n, err := storeClinical(ctx, tx, r, ids, by, reason, &mapping)
		rep.ItemData = n
		if err != nil {
			return err
		}
		if len(plans) == 0 && n == 0 {
			mapping.add(nothingToImport)
		}
		ds := r.Diagnostics()
		if ds.Count(odm.Error)+mapping.Errors > 0 || ds.Count(odm.Warning)+mapping.Warnings > 0 && !opts.ConfirmWarnings {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		return finish(nil)
	}
	if err != nil {
		var fe check.FieldErrors
		if errors.As(err, &fe) {
			for _, msg := range fe {
				mapping.add(odm.Diagnostic{Severity: odm.Error, Code: odm.CodeDuplicate, Message: msg})
			}
			rep, _ := finish(nil)
			return rep, fmt.Errorf("%w: %v", ErrImportRefused, err)
		}
		return finish(err)
	}
	rep, err = finish(nil)
	rep.Applied = err == nil
	rep.NeedsConfirmation = false
	return rep, err
}

func drain(ctx context.Context, r *odm.Reader) (int64, error) {
	var n int64
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if row.Item != nil {
			n++
		}
	}
}

// planImport maps each Study of doc to what will be stored, adding the
// mapping's own diagnostics to rep.
func planImport(ctx context.Context, db store.Querier, doc *odm.Document, rep *ImportReport) []*plannedStudy {
	if len(doc.Studies) == 0 {
		rep.add(odm.Diagnostic{Severity: odm.Info, Code: odm.CodeMissingElement,
			Message: "The file has no Study; its clinical data, if any, goes to studies this instance has."})
		return nil
	}
	if len(doc.AdminData) > 0 {
		rep.add(odm.Diagnostic{Severity: odm.Info, Code: odm.CodeNotKept, Message: "AdminData (users, locations, sign-off) is not imported."})
	}
	var out []*plannedStudy
	codes := map[string]bool{}
	for _, st := range doc.Studies {
		if s, err := Get(ctx, db, CodeFor(st.OID)); err == nil {
			codes[s.Code] = true
			out = append(out, planExisting(ctx, db, s, st, rep))
			continue
		}
		p := planStudy(st, rep)
		p.shell.Namespaces = doc.Namespaces
		if codes[p.study.Code] {
			rep.add(odm.Diagnostic{OID: st.OID, Severity: odm.Error, Code: odm.CodeDuplicate,
				Message: fmt.Sprintf("Two studies of the file would both get study code %s.", p.study.Code)})
		}
		codes[p.study.Code] = true
		if err := p.study.Validate(); err != nil {
			rep.add(odm.Diagnostic{OID: st.OID, Severity: odm.Error, Code: odm.CodeBadValue,
				Message: fmt.Sprintf("Study %s cannot be stored: %v", st.OID, err)})
		}
		out = append(out, p)
	}
	return out
}

func planStudy(st *odm.Study, rep *ImportReport) *plannedStudy {
	title := st.GlobalVariables.StudyName
	if title == "" {
		title = st.OID
	}
	p := &plannedStudy{study: Study{Code: CodeFor(st.OID), OID: st.OID, Title: title, ProtocolNumber: st.GlobalVariables.ProtocolName, Status: Design}}
	sh := *st
	sh.MetaDataVersions = nil
	p.shell.Study = &sh
	if len(st.MetaDataVersions) == 0 {
		rep.add(odm.Diagnostic{OID: st.OID, Severity: odm.Info, Code: odm.CodeMissingElement,
			Message: fmt.Sprintf("Study %s has no MetaDataVersion; it is created without a design.", st.OID)})
		return p
	}
	for _, m := range st.MetaDataVersions[1:] {
		rep.add(odm.Diagnostic{OID: m.OID, Severity: odm.Warning, Code: odm.CodeNotKept,
			Message: fmt.Sprintf("Study %s has more than one MetaDataVersion; only the first (%s) is imported, not %s.", st.OID, st.MetaDataVersions[0].OID, m.OID)})
	}
	m := st.MetaDataVersions[0]
	p.mdv = m.OID
	var units []*odm.MeasurementUnit
	if st.BasicDefinitions != nil {
		units = st.BasicDefinitions.MeasurementUnits
	}
	ix := newIndex(m, units)
	for _, f := range m.FormDefs {
		p.forms = append(p.forms, ix.closure(f))
	}
	for i, e := range m.StudyEventDefs {
		p.events = append(p.events, plannedEvent{def: e, position: i + 1})
	}
	// The shell keeps what no form took.
	mv := *m
	mv.StudyEventDefs, mv.FormDefs = nil, nil
	mv.ItemGroupDefs = unused(m.ItemGroupDefs, ix.used, func(d *odm.ItemGroupDef) string { return "G:" + d.OID })
	mv.ItemDefs = unused(m.ItemDefs, ix.used, func(d *odm.ItemDef) string { return "I:" + d.OID })
	mv.CodeLists = unused(m.CodeLists, ix.used, func(d *odm.CodeList) string { return "C:" + d.OID })
	mv.MethodDefs = unused(m.MethodDefs, ix.used, func(d *odm.MethodDef) string { return "M:" + d.OID })
	mv.ConditionDefs = unused(m.ConditionDefs, ix.used, func(d *odm.ConditionDef) string { return "K:" + d.OID })
	if st.BasicDefinitions != nil {
		bd := *st.BasicDefinitions
		bd.MeasurementUnits = unused(bd.MeasurementUnits, ix.used, func(d *odm.MeasurementUnit) string { return "U:" + d.OID })
		sh.BasicDefinitions = &bd
	}
	sh.MetaDataVersions = []*odm.MetaDataVersion{&mv}
	return p
}

func unused[T any](defs []T, used map[string]bool, key func(T) string) []T {
	var out []T
	for _, d := range defs {
		if !used[key(d)] {
			out = append(out, d)
		}
	}
	return out
}

// index finds a MetaDataVersion's definitions by OID and remembers which
// ones forms took.
type index struct {
	groups     map[string]*odm.ItemGroupDef
	items      map[string]*odm.ItemDef
	codeLists  map[string]*odm.CodeList
	units      map[string]*odm.MeasurementUnit
	methods    map[string]*odm.MethodDef
	conditions map[string]*odm.ConditionDef
	used       map[string]bool
}

func byOID[T any](defs []T, oid func(T) string) map[string]T {
	m := make(map[string]T, len(defs))
	for _, d := range defs {
		if _, dup := m[oid(d)]; !dup {
			m[oid(d)] = d
		}
	}
	return m
}

func newIndex(m *odm.MetaDataVersion, units []*odm.MeasurementUnit) *index {
	return &index{
		groups:     byOID(m.ItemGroupDefs, func(d *odm.ItemGroupDef) string { return d.OID }),
		items:      byOID(m.ItemDefs, func(d *odm.ItemDef) string { return d.OID }),
		codeLists:  byOID(m.CodeLists, func(d *odm.CodeList) string { return d.OID }),
		units:      byOID(units, func(d *odm.MeasurementUnit) string { return d.OID }),
		methods:    byOID(m.MethodDefs, func(d *odm.MethodDef) string { return d.OID }),
		conditions: byOID(m.ConditionDefs, func(d *odm.ConditionDef) string { return d.OID }),
		used:       map[string]bool{},
	}
}

// closure collects what form f needs, in the order f refers to it.
func (ix *index) closure(f *odm.FormDef) FormDefinition {
	def := FormDefinition{Form: f}
	seen := map[string]bool{}
	take := func(key string) bool {
		ix.used[key] = true
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	condition := func(oid string) {
		if c := ix.conditions[oid]; c != nil && take("K:"+oid) {
			def.Conditions = append(def.Conditions, c)
		}
	}
	unit := func(ref *odm.MeasurementUnitRef) {
		if ref == nil {
			return
		}
		if u := ix.units[ref.MeasurementUnitOID]; u != nil && take("U:"+u.OID) {
			def.Units = append(def.Units, u)
		}
	}
	codeList := func(oid string) {
		if c := ix.codeLists[oid]; c != nil && take("C:"+oid) {
			def.CodeLists = append(def.CodeLists, c)
		}
	}
	for _, gr := range f.ItemGroupRefs {
		condition(gr.CollectionExceptionConditionOID)
		g := ix.groups[gr.ItemGroupOID]
		if g == nil || !take("G:"+g.OID) {
			continue
		}
		def.ItemGroups = append(def.ItemGroups, g)
		for _, ir := range g.ItemRefs {
			condition(ir.CollectionExceptionConditionOID)
			codeList(ir.RoleCodeListOID)
			if m := ix.methods[ir.MethodOID]; m != nil && take("M:"+m.OID) {
				def.Methods = append(def.Methods, m)
			}
			it := ix.items[ir.ItemOID]
			if it == nil || !take("I:"+it.OID) {
				continue
			}
			def.Items = append(def.Items, it)
			if it.CodeListRef != nil {
				codeList(it.CodeListRef.CodeListOID)
			}
			for _, u := range it.MeasurementUnitRefs {
				unit(u)
			}
			for _, rc := range it.RangeChecks {
				unit(rc.MeasurementUnitRef)
			}
		}
	}
	return def
}

func (p *plannedStudy) apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string) error {
	s, err := insert(ctx, tx, by, p.study, reason)
	if err != nil {
		return err
	}
	p.id = s.ID
	body, err := canonical(&p.shell)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE study SET design = ? WHERE id = ?", string(body), s.ID); err != nil {
		return fmt.Errorf("store design of study %s: %w", s.Code, err)
	}
	for i, f := range p.forms {
		n, err := publishedVersion(ctx, tx, by, f, reason)
		if err != nil {
			return fmt.Errorf("import form %s: %w", f.Form.OID, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO study_form (study_id, form_oid, form_version, position) VALUES (?, ?, ?, ?)",
			s.ID, f.Form.OID, n, i+1); err != nil {
			return fmt.Errorf("import form %s: %w", f.Form.OID, err)
		}
	}
	for _, e := range p.events {
		if err := insertEvent(ctx, tx, s.ID, e.def, e.position); err != nil {
			return err
		}
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: audit.Import, Entity: "study", EntityID: s.Code, Reason: reason,
		Changes: []audit.Change{{Field: "design", New: fmt.Sprintf("%d events, %d forms", len(p.events), len(p.forms))}}})
}

func insertEvent(ctx context.Context, tx *store.Tx, studyID int64, d *odm.StudyEventDef, position int) error {
	body, err := canonical(d)
	if err != nil {
		return err
	}
	typ := d.Type
	if typ == "" {
		typ = odm.Scheduled
	}
	// The schedule travels as cohort.* aliases; the columns are filled from
	// them so an imported event reads and sorts like one designed here.
	sc := ScheduleFromAliases(d)
	if _, err := tx.Exec(ctx, `INSERT INTO study_event (study_id, oid, name, event_type, repeating, epoch, arm, position,
		nominal_offset_minutes, window_before_minutes, window_after_minutes, definition)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, studyID, d.OID, d.Name, string(typ), d.Repeating == odm.Yes, d.Category, sc.Arm, position,
		sc.NominalOffsetMinutes, sc.WindowBeforeMinutes, sc.WindowAfterMinutes, string(body)); err != nil {
		return fmt.Errorf("import event %s: %w", d.OID, err)
	}
	for i, fr := range d.FormRefs {
		if _, err := tx.Exec(ctx, `INSERT INTO study_event_form (study_id, event_oid, form_oid, position, mandatory) VALUES (?, ?, ?, ?, ?)`,
			studyID, d.OID, fr.FormOID, i+1, fr.Mandatory == odm.Yes); err != nil {
			return fmt.Errorf("import event %s form %s: %w", d.OID, fr.FormOID, err)
		}
	}
	return nil
}

// ODMStudy puts a study's stored design back together as an ODM Study:
// its shell, its events, and the chosen version of each form with what the
// form needs, each definition once.
func ODMStudy(ctx context.Context, db store.Querier, code string) (*odm.Study, []odm.NamespaceDecl, error) {
	s, err := Get(ctx, db, code)
	if err != nil {
		return nil, nil, err
	}
	var body []byte
	if err := db.QueryRow(ctx, "SELECT design FROM study WHERE id = ?", s.ID).Scan(&body); err != nil {
		return nil, nil, fmt.Errorf("read design of study %s: %w", code, err)
	}
	var sh shell
	if err := decode(body, &sh); err != nil {
		return nil, nil, err
	}
	st := sh.Study
	if st == nil {
		st = &odm.Study{}
	}
	st.OID = s.OID
	st.GlobalVariables.StudyName = s.Title
	st.GlobalVariables.ProtocolName = s.ProtocolNumber
	if st.GlobalVariables.ProtocolName == "" {
		// ODM requires a protocol name; a study without a protocol number
		// yet goes by its code.
		st.GlobalVariables.ProtocolName = s.Code
	}
	if st.GlobalVariables.StudyDescription == "" {
		st.GlobalVariables.StudyDescription = s.Title
	}
	forms, err := formsOf(ctx, db, s.ID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Query(ctx, "SELECT definition FROM study_event WHERE study_id = ? ORDER BY position", s.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("read events of study %s: %w", code, err)
	}
	var events []*odm.StudyEventDef
	for rows.Next() {
		var b []byte
		var e odm.StudyEventDef
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if err := decode(b, &e); err != nil {
			rows.Close()
			return nil, nil, err
		}
		events = append(events, &e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(st.MetaDataVersions) == 0 {
		if len(forms) == 0 && len(events) == 0 {
			return st, sh.Namespaces, nil
		}
		st.MetaDataVersions = []*odm.MetaDataVersion{{OID: "MDV." + s.OID, Name: s.Title}}
	}
	mv := st.MetaDataVersions[0]
	rest := *mv
	mv.StudyEventDefs, mv.FormDefs, mv.ItemGroupDefs, mv.ItemDefs, mv.CodeLists, mv.MethodDefs, mv.ConditionDefs =
		events, nil, nil, nil, nil, nil, nil
	var units []*odm.MeasurementUnit
	for _, f := range forms {
		v, err := GetVersion(ctx, db, f.FormOID, f.Version)
		if err != nil {
			return nil, nil, err
		}
		d := v.Definition
		mv.FormDefs = append(mv.FormDefs, d.Form)
		mv.ItemGroupDefs = merge(mv.ItemGroupDefs, d.ItemGroups, func(x *odm.ItemGroupDef) string { return x.OID })
		mv.ItemDefs = merge(mv.ItemDefs, d.Items, func(x *odm.ItemDef) string { return x.OID })
		mv.CodeLists = merge(mv.CodeLists, d.CodeLists, func(x *odm.CodeList) string { return x.OID })
		mv.MethodDefs = merge(mv.MethodDefs, d.Methods, func(x *odm.MethodDef) string { return x.OID })
		mv.ConditionDefs = merge(mv.ConditionDefs, d.Conditions, func(x *odm.ConditionDef) string { return x.OID })
		units = merge(units, d.Units, func(x *odm.MeasurementUnit) string { return x.OID })
	}
	mv.ItemGroupDefs = merge(mv.ItemGroupDefs, rest.ItemGroupDefs, func(x *odm.ItemGroupDef) string { return x.OID })
	mv.ItemDefs = merge(mv.ItemDefs, rest.ItemDefs, func(x *odm.ItemDef) string { return x.OID })
	mv.CodeLists = merge(mv.CodeLists, rest.CodeLists, func(x *odm.CodeList) string { return x.OID })
	mv.MethodDefs = merge(mv.MethodDefs, rest.MethodDefs, func(x *odm.MethodDef) string { return x.OID })
	mv.ConditionDefs = merge(mv.ConditionDefs, rest.ConditionDefs, func(x *odm.ConditionDef) string { return x.OID })
	if len(units) > 0 {
		if st.BasicDefinitions == nil {
			st.BasicDefinitions = &odm.BasicDefinitions{}
		}
		st.BasicDefinitions.MeasurementUnits = merge(units, st.BasicDefinitions.MeasurementUnits, func(x *odm.MeasurementUnit) string { return x.OID })
	}
	return st, sh.Namespaces, nil
}

// merge appends to list the definitions of more whose OIDs it lacks.
func merge[T any](list, more []T, oid func(T) string) []T {
	for _, d := range more {
		if !slices.ContainsFunc(list, func(x T) bool { return oid(x) == oid(d) }) {
			list = append(list, d)
		}
	}
	return list
}

// ExportOptions tunes Export.
type ExportOptions struct {
	// What is "metadata" (the default), "clinical" or "both".
	What string
	// KeepExtensions writes vendor extensions back (the file is then not
	// valid ODM 1.3.2 but loses nothing).
	KeepExtensions bool
	// Now is the file's creation time; zero means the current time.
	Now time.Time
	// Progress, if set, is called with the clinical rows written so far.
	Progress func(rowsWritten int64)
}

// Export writes a study as ODM 1.3.2 to out: its design (metadata), its
// clinical data, or both. Clinical data streams from a database cursor into
// the writer, so memory does not grow with the number of values. Without
// KeepExtensions the file validates against the official schema.
func Export(ctx context.Context, db store.Querier, code string, out io.Writer, opts ExportOptions) (odm.Omitted, error) {
	var metadata, clinical bool
	switch opts.What {
	case "", "metadata":
		metadata = true
	case "clinical":
		clinical = true
	case "both":
		metadata, clinical = true, true
	default:
		return odm.Omitted{}, fmt.Errorf("export study %s: say metadata, clinical or both, not %q", code, opts.What)
	}
	s, err := Get(ctx, db, code)
	if err != nil {
		return odm.Omitted{}, err
	}
	st, ns, err := ODMStudy(ctx, db, code)
	if err != nil {
		return odm.Omitted{}, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	doc := odm.NewDocument(fmt.Sprintf("cohort.%s.%s", CodeFor(st.OID), now.UTC().Format("20060102T150405Z")), odm.Snapshot, now)
	doc.Namespaces = ns
	switch {
	case metadata && clinical:
		doc.Granularity = odm.GranularityAll
	case metadata:
		doc.Granularity = odm.GranularityMetadata
	default:
		doc.Granularity = odm.GranularityAllClinicalData
	}
	if metadata {
		doc.Studies = []*odm.Study{st}
	}
	w := odm.NewWriter(out, odm.WriteOptions{KeepExtensions: opts.KeepExtensions, Progress: opts.Progress})
	if err := w.Begin(ctx, doc); err != nil {
		var ve *odm.ValidationError
		if errors.As(err, &ve) {
			// The design is incomplete: say so as a sentence the user can act on.
			return w.Omitted(), fmt.Errorf("Study %s cannot be exported yet: %s", code, strings.TrimSuffix(ve.Error(), ".")+".")
		}
		return w.Omitted(), fmt.Errorf("export study %s: %w", code, err)
	}
	if clinical {
		mdv := ""
		if len(st.MetaDataVersions) > 0 {
			mdv = st.MetaDataVersions[0].OID
		}
		if err := writeClinical(ctx, db, s.ID, st.OID, mdv, w); err != nil {
			return w.Omitted(), fmt.Errorf("export clinical data of study %s: %w", code, err)
		}
	}
	if err := w.Close(ctx); err != nil {
		return w.Omitted(), fmt.Errorf("export study %s: %w", code, err)
	}
	return w.Omitted(), nil
}
