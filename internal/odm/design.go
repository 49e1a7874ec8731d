package odm

// design is what the checks of clinical data need to know about one
// MetaDataVersion: which OIDs it defines and, for each item, its
// definition and allowed codes. It is built once after the metadata and
// looked up per value, so clinical checks cost a map access.
type design struct {
	events map[string]bool
	forms  map[string]bool
	groups map[string]bool
	items  map[string]*itemRule
}

type designKey struct{ study, mdv string }

// itemRule is what a value of one item is checked against.
type itemRule struct {
	def   *ItemDef
	codes map[string]bool // allowed coded values; nil when any value goes
}

// indexDesigns builds the designs of all MetaDataVersions in the document,
// following Include so that a version that builds on another knows its
// definitions too.
func (r *Reader) indexDesigns() {
	byKey := map[designKey]*MetaDataVersion{}
	for _, s := range r.doc.Studies {
		for _, m := range s.MetaDataVersions {
			byKey[designKey{s.OID, m.OID}] = m
		}
	}
	for key, m := range byKey {
		d := &design{events: map[string]bool{}, forms: map[string]bool{}, groups: map[string]bool{}, items: map[string]*itemRule{}}
		seen := map[*MetaDataVersion]bool{}
		for m != nil && !seen[m] {
			seen[m] = true
			d.add(m)
			if m.Include == nil {
				break
			}
			m = byKey[designKey{m.Include.StudyOID, m.Include.MetaDataVersionOID}]
		}
		r.designs[key] = d
	}
}

// add adds the definitions of m that d does not have yet: a version's own
// definitions win over those it includes.
func (d *design) add(m *MetaDataVersion) {
	for _, e := range m.StudyEventDefs {
		d.events[e.OID] = true
	}
	for _, f := range m.FormDefs {
		d.forms[f.OID] = true
	}
	for _, g := range m.ItemGroupDefs {
		d.groups[g.OID] = true
	}
	lists := map[string]*CodeList{}
	for _, cl := range m.CodeLists {
		lists[cl.OID] = cl
	}
	for _, it := range m.ItemDefs {
		if d.items[it.OID] != nil {
			continue
		}
		rule := &itemRule{def: it}
		if it.CodeListRef != nil {
			if cl := lists[it.CodeListRef.CodeListOID]; cl != nil && cl.ExternalCodeList == nil {
				rule.codes = map[string]bool{}
				for _, c := range cl.Items {
					rule.codes[c.CodedValue] = true
				}
				for _, c := range cl.EnumeratedItems {
					rule.codes[c.CodedValue] = true
				}
			}
		}
		d.items[it.OID] = rule
	}
}
