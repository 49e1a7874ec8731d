package odm

import (
	"encoding/xml"
	"fmt"
)

// The readers of the ODM root's attributes and of Study and everything in
// it. Each reads its attributes, then its children, and records where it
// started so that the checks can point at it.

func (r *Reader) readDocumentAttrs(el xml.StartElement) {
	d := r.doc
	r.pos[d] = r.here()
	recorded := map[string]bool{"xml": true, "xmlns": true}
	for _, a := range el.Attr {
		// Keep what a Writer can declare again: not the reserved prefixes,
		// not an undeclaration, not a prefix twice.
		if a.Name.Space == "xmlns" && !recorded[a.Name.Local] && a.Value != "" && a.Value != xmlNamespace {
			recorded[a.Name.Local] = true
			d.Namespaces = append(d.Namespaces, NamespaceDecl{Prefix: a.Name.Local, URI: a.Value})
		}
	}
	r.attrs(el, &d.Extensions, "", func(name, v string) bool {
		switch name {
		case "Description":
			d.Description = v
		case "FileType":
			d.FileType = FileType(r.enum(v, fileTypes, "ODM", name, ""))
		case "Granularity":
			d.Granularity = Granularity(r.enum(v, granularities, "ODM", name, ""))
		case "Archival":
			d.Archival = r.yesOnly(&d.Extensions, "ODM", name, v, "")
		case "FileOID":
			d.FileOID = v
		case "CreationDateTime":
			d.CreationDateTime = v
		case "PriorFileOID":
			d.PriorFileOID = v
		case "AsOfDateTime":
			d.AsOfDateTime = v
		case "ODMVersion":
			d.ODMVersion = v
		case "Originator":
			d.Originator = v
		case "SourceSystem":
			d.SourceSystem = v
		case "SourceSystemVersion":
			d.SourceSystemVersion = v
		case "ID":
			d.ID = v
		default:
			return false
		}
		return true
	})
	switch d.ODMVersion {
	case Version:
	case "":
		r.note(Info, CodeVersion, d.FileOID, "the file does not say which ODM version it is; it was read as ODM 1.3.2")
	default:
		r.note(Info, CodeVersion, d.FileOID, fmt.Sprintf("the file declares ODM version %s; it was read as ODM 1.3.2", d.ODMVersion))
	}
}

func (r *Reader) readStudy(el xml.StartElement) (*Study, error) {
	s := &Study{}
	r.pos[s] = r.here()
	r.attrs(el, &s.Extensions, "", func(name, v string) bool {
		if name == "OID" {
			s.OID = v
			return true
		}
		return false
	})
	haveGlobals := false
	err := r.children("Study", s.OID, &s.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "GlobalVariables":
			if haveGlobals {
				return false, nil
			}
			haveGlobals = true
			return true, r.readGlobalVariables(c, s)
		case "BasicDefinitions":
			if s.BasicDefinitions != nil {
				return false, nil
			}
			b, err := r.readBasicDefinitions(c, s.OID)
			s.BasicDefinitions = b
			return true, err
		case "MetaDataVersion":
			m, err := r.readMetaDataVersion(c)
			s.MetaDataVersions = append(s.MetaDataVersions, m)
			return true, err
		}
		return false, nil
	})
	if err == nil && !haveGlobals {
		r.noteAt(r.pos[s], Error, CodeMissingElement, s.OID, fmt.Sprintf("the study %s has no GlobalVariables", s.OID))
	}
	return s, err
}

func (r *Reader) readGlobalVariables(el xml.StartElement, s *Study) error {
	g := &s.GlobalVariables
	r.attrs(el, &g.Extensions, s.OID, nil)
	seen := map[string]bool{}
	return r.children("GlobalVariables", s.OID, &g.Extensions, func(c xml.StartElement) (bool, error) {
		if seen[c.Name.Local] {
			return false, nil
		}
		seen[c.Name.Local] = true
		var target *string
		switch c.Name.Local {
		case "StudyName":
			target = &g.StudyName
		case "StudyDescription":
			target = &g.StudyDescription
		case "ProtocolName":
			target = &g.ProtocolName
		default:
			return false, nil
		}
		v, err := r.leaf(c, s.OID)
		*target = v
		return true, err
	})
}

func (r *Reader) readBasicDefinitions(el xml.StartElement, oid string) (*BasicDefinitions, error) {
	b := &BasicDefinitions{}
	r.pos[b] = r.here()
	r.attrs(el, &b.Extensions, oid, nil)
	err := r.children("BasicDefinitions", oid, &b.Extensions, func(c xml.StartElement) (bool, error) {
		if c.Name.Local != "MeasurementUnit" {
			return false, nil
		}
		m, err := r.readMeasurementUnit(c)
		b.MeasurementUnits = append(b.MeasurementUnits, m)
		return true, err
	})
	return b, err
}

func (r *Reader) readMeasurementUnit(el xml.StartElement) (*MeasurementUnit, error) {
	m := &MeasurementUnit{}
	r.pos[m] = r.here()
	r.attrs(el, &m.Extensions, "", func(name, v string) bool {
		switch name {
		case "OID":
			m.OID = v
		case "Name":
			m.Name = v
		default:
			return false
		}
		return true
	})
	haveSymbol := false
	err := r.children("MeasurementUnit", m.OID, &m.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Symbol":
			if haveSymbol {
				return false, nil
			}
			haveSymbol = true
			return true, r.translationsInto(c, m.OID, &m.Symbol)
		case "Alias":
			return r.addAlias(c, m.OID, &m.Aliases)
		}
		return false, nil
	})
	return m, err
}

func (r *Reader) readMetaDataVersion(el xml.StartElement) (*MetaDataVersion, error) {
	m := &MetaDataVersion{}
	r.pos[m] = r.here()
	r.attrs(el, &m.Extensions, "", func(name, v string) bool {
		switch name {
		case "OID":
			m.OID = v
		case "Name":
			m.Name = v
		case "Description":
			m.Description = v
		default:
			return false
		}
		return true
	})
	err := r.children("MetaDataVersion", m.OID, &m.Extensions, func(c xml.StartElement) (bool, error) {
		var err error
		switch c.Name.Local {
		case "Include":
			if m.Include != nil {
				return false, nil
			}
			m.Include = &Include{}
			r.pos[m.Include] = r.here()
			r.attrs(c, &m.Include.Extensions, m.OID, func(name, v string) bool {
				switch name {
				case "StudyOID":
					m.Include.StudyOID = v
				case "MetaDataVersionOID":
					m.Include.MetaDataVersionOID = v
				default:
					return false
				}
				return true
			})
			err = r.children("Include", m.OID, &m.Include.Extensions, nil)
		case "Protocol":
			if m.Protocol != nil {
				return false, nil
			}
			m.Protocol, err = r.readProtocol(c, m.OID)
		case "StudyEventDef":
			var d *StudyEventDef
			d, err = r.readStudyEventDef(c)
			m.StudyEventDefs = append(m.StudyEventDefs, d)
		case "FormDef":
			var d *FormDef
			d, err = r.readFormDef(c)
			m.FormDefs = append(m.FormDefs, d)
		case "ItemGroupDef":
			var d *ItemGroupDef
			d, err = r.readItemGroupDef(c)
			m.ItemGroupDefs = append(m.ItemGroupDefs, d)
		case "ItemDef":
			var d *ItemDef
			d, err = r.readItemDef(c)
			m.ItemDefs = append(m.ItemDefs, d)
		case "CodeList":
			var d *CodeList
			d, err = r.readCodeList(c)
			m.CodeLists = append(m.CodeLists, d)
		case "ImputationMethod":
			d := &ImputationMethod{}
			r.pos[d] = r.here()
			d.Value, err = r.textContent(c, m.OID, &d.Extensions, func(name, v string) bool {
				if name == "OID" {
					d.OID = v
					return true
				}
				return false
			})
			m.ImputationMethods = append(m.ImputationMethods, d)
		case "Presentation":
			d := &Presentation{}
			r.pos[d] = r.here()
			d.Value, err = r.textContent(c, m.OID, &d.Extensions, func(name, v string) bool {
				switch name {
				case "OID":
					d.OID = v
				case "xml:lang":
					d.Lang = v
				default:
					return false
				}
				return true
			})
			m.Presentations = append(m.Presentations, d)
		case "ConditionDef":
			var d *ConditionDef
			d, err = r.readConditionDef(c)
			m.ConditionDefs = append(m.ConditionDefs, d)
		case "MethodDef":
			var d *MethodDef
			d, err = r.readMethodDef(c)
			m.MethodDefs = append(m.MethodDefs, d)
		default:
			return false, nil
		}
		return true, err
	})
	return m, err
}

func (r *Reader) readProtocol(el xml.StartElement, oid string) (*Protocol, error) {
	p := &Protocol{}
	r.pos[p] = r.here()
	r.attrs(el, &p.Extensions, oid, nil)
	err := r.children("Protocol", oid, &p.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			return r.description(c, oid, &p.Description)
		case "StudyEventRef":
			ref := &StudyEventRef{}
			r.pos[ref] = r.here()
			r.attrs(c, &ref.Extensions, oid, r.refAttrs("StudyEventRef", oid, &ref.Extensions, "StudyEventOID", &ref.StudyEventOID,
				&ref.OrderNumber, &ref.Mandatory, &ref.CollectionExceptionConditionOID))
			p.StudyEventRefs = append(p.StudyEventRefs, ref)
			return true, r.children("StudyEventRef", oid, &ref.Extensions, nil)
		case "Alias":
			return r.addAlias(c, oid, &p.Aliases)
		}
		return false, nil
	})
	return p, err
}

// refAttrs returns the attrFunc of StudyEventRef, FormRef, ItemGroupRef and
// ItemRef, which share OrderNumber, Mandatory and
// CollectionExceptionConditionOID.
func (r *Reader) refAttrs(elem, oid string, ext *Extensions, refName string, ref *string, order **int, mandatory *YesNo, exception *string) attrFunc {
	return func(name, v string) bool {
		switch name {
		case refName:
			*ref = v
		case "OrderNumber":
			*order = r.integer(ext, elem, name, v, oid)
		case "Mandatory":
			*mandatory = YesNo(r.enum(v, yesNos, elem, name, oid))
		case "CollectionExceptionConditionOID":
			*exception = v
		default:
			return false
		}
		return true
	}
}

// defAttrs returns an attrFunc for the OID, Name and Repeating of a
// definition, passing other names to more.
func (r *Reader) defAttrs(elem string, oid, defName *string, repeating *YesNo, more attrFunc) attrFunc {
	return func(name, v string) bool {
		switch name {
		case "OID":
			*oid = v
		case "Name":
			*defName = v
		case "Repeating":
			if repeating == nil {
				return false
			}
			*repeating = YesNo(r.enum(v, yesNos, elem, name, *oid))
		default:
			return more != nil && more(name, v)
		}
		return true
	}
}

func (r *Reader) readStudyEventDef(el xml.StartElement) (*StudyEventDef, error) {
	d := &StudyEventDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("StudyEventDef", &d.OID, &d.Name, &d.Repeating, func(name, v string) bool {
		switch name {
		case "Type":
			d.Type = EventType(r.enum(v, eventTypes, "StudyEventDef", name, d.OID))
		case "Category":
			d.Category = v
		default:
			return false
		}
		return true
	}))
	err := r.children("StudyEventDef", d.OID, &d.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			return r.description(c, d.OID, &d.Description)
		case "FormRef":
			ref := &FormRef{}
			r.pos[ref] = r.here()
			r.attrs(c, &ref.Extensions, d.OID, r.refAttrs("FormRef", d.OID, &ref.Extensions, "FormOID", &ref.FormOID,
				&ref.OrderNumber, &ref.Mandatory, &ref.CollectionExceptionConditionOID))
			d.FormRefs = append(d.FormRefs, ref)
			return true, r.children("FormRef", d.OID, &ref.Extensions, nil)
		case "Alias":
			return r.addAlias(c, d.OID, &d.Aliases)
		}
		return false, nil
	})
	return d, err
}

func (r *Reader) readFormDef(el xml.StartElement) (*FormDef, error) {
	d := &FormDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("FormDef", &d.OID, &d.Name, &d.Repeating, nil))
	err := r.children("FormDef", d.OID, &d.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			return r.description(c, d.OID, &d.Description)
		case "ItemGroupRef":
			ref := &ItemGroupRef{}
			r.pos[ref] = r.here()
			r.attrs(c, &ref.Extensions, d.OID, r.refAttrs("ItemGroupRef", d.OID, &ref.Extensions, "ItemGroupOID", &ref.ItemGroupOID,
				&ref.OrderNumber, &ref.Mandatory, &ref.CollectionExceptionConditionOID))
			d.ItemGroupRefs = append(d.ItemGroupRefs, ref)
			return true, r.children("ItemGroupRef", d.OID, &ref.Extensions, nil)
		case "ArchiveLayout":
			a := &ArchiveLayout{}
			r.pos[a] = r.here()
			r.attrs(c, &a.Extensions, d.OID, func(name, v string) bool {
				switch name {
				case "OID":
					a.OID = v
				case "PdfFileName":
					a.PdfFileName = v
				case "PresentationOID":
					a.PresentationOID = v
				default:
					return false
				}
				return true
			})
			d.ArchiveLayouts = append(d.ArchiveLayouts, a)
			return true, r.children("ArchiveLayout", d.OID, &a.Extensions, nil)
		case "Alias":
			return r.addAlias(c, d.OID, &d.Aliases)
		}
		return false, nil
	})
	return d, err
}

func (r *Reader) readItemGroupDef(el xml.StartElement) (*ItemGroupDef, error) {
	d := &ItemGroupDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("ItemGroupDef", &d.OID, &d.Name, &d.Repeating, func(name, v string) bool {
		switch name {
		case "IsReferenceData":
			d.IsReferenceData = YesNo(r.enum(v, yesNos, "ItemGroupDef", name, d.OID))
		case "SASDatasetName":
			d.SASDatasetName = v
		case "Domain":
			d.Domain = v
		case "Origin":
			d.Origin = v
		case "Role":
			d.Role = v
		case "Purpose":
			d.Purpose = v
		case "Comment":
			d.Comment = v
		default:
			return false
		}
		return true
	}))
	err := r.children("ItemGroupDef", d.OID, &d.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			return r.description(c, d.OID, &d.Description)
		case "ItemRef":
			ref := &ItemRef{}
			r.pos[ref] = r.here()
			common := r.refAttrs("ItemRef", d.OID, &ref.Extensions, "ItemOID", &ref.ItemOID,
				&ref.OrderNumber, &ref.Mandatory, &ref.CollectionExceptionConditionOID)
			r.attrs(c, &ref.Extensions, d.OID, func(name, v string) bool {
				switch name {
				case "KeySequence":
					ref.KeySequence = r.integer(&ref.Extensions, "ItemRef", name, v, d.OID)
				case "MethodOID":
					ref.MethodOID = v
				case "ImputationMethodOID":
					ref.ImputationMethodOID = v
				case "Role":
					ref.Role = v
				case "RoleCodeListOID":
					ref.RoleCodeListOID = v
				default:
					return common(name, v)
				}
				return true
			})
			d.ItemRefs = append(d.ItemRefs, ref)
			return true, r.children("ItemRef", d.OID, &ref.Extensions, nil)
		case "Alias":
			return r.addAlias(c, d.OID, &d.Aliases)
		}
		return false, nil
	})
	return d, err
}

func (r *Reader) readItemDef(el xml.StartElement) (*ItemDef, error) {
	d := &ItemDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("ItemDef", &d.OID, &d.Name, nil, func(name, v string) bool {
		switch name {
		case "DataType":
			d.DataType = DataType(r.enum(v, dataTypes, "ItemDef", name, d.OID))
		case "Length":
			d.Length = r.integer(&d.Extensions, "ItemDef", name, v, d.OID)
		case "SignificantDigits":
			d.SignificantDigits = r.integer(&d.Extensions, "ItemDef", name, v, d.OID)
		case "SASFieldName":
			d.SASFieldName = v
		case "SDSVarName":
			d.SDSVarName = v
		case "Origin":
			d.Origin = v
		case "Comment":
			d.Comment = v
		default:
			return false
		}
		return true
	}))
	err := r.children("ItemDef", d.OID, &d.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description", "Question":
			target := &d.Description
			if c.Name.Local == "Question" {
				target = &d.Question
			}
			if *target != nil {
				return false, nil
			}
			t, err := r.translations(c, d.OID)
			*target = t
			return true, err
		case "ExternalQuestion":
			if d.ExternalQuestion != nil {
				return false, nil
			}
			q := &ExternalQuestion{}
			r.attrs(c, &q.Extensions, d.OID, func(name, v string) bool {
				switch name {
				case "Dictionary":
					q.Dictionary = v
				case "Version":
					q.Version = v
				case "Code":
					q.Code = v
				default:
					return false
				}
				return true
			})
			d.ExternalQuestion = q
			return true, r.children("ExternalQuestion", d.OID, &q.Extensions, nil)
		case "MeasurementUnitRef":
			ref := &MeasurementUnitRef{}
			r.pos[ref] = r.here()
			d.MeasurementUnitRefs = append(d.MeasurementUnitRefs, ref)
			return true, r.oidRef(c, d.OID, "MeasurementUnitOID", &ref.MeasurementUnitOID, &ref.Extensions)
		case "RangeCheck":
			rc, err := r.readRangeCheck(c, d.OID)
			d.RangeChecks = append(d.RangeChecks, rc)
			return true, err
		case "CodeListRef":
			if d.CodeListRef != nil {
				return false, nil
			}
			d.CodeListRef = &CodeListRef{}
			r.pos[d.CodeListRef] = r.here()
			return true, r.oidRef(c, d.OID, "CodeListOID", &d.CodeListRef.CodeListOID, &d.CodeListRef.Extensions)
		case "Role":
			v, err := r.leaf(c, d.OID)
			d.Roles = append(d.Roles, v)
			return true, err
		case "Alias":
			return r.addAlias(c, d.OID, &d.Aliases)
		}
		return false, nil
	})
	return d, err
}

func (r *Reader) readRangeCheck(el xml.StartElement, oid string) (*RangeCheck, error) {
	rc := &RangeCheck{}
	r.pos[rc] = r.here()
	r.attrs(el, &rc.Extensions, oid, func(name, v string) bool {
		switch name {
		case "Comparator":
			rc.Comparator = Comparator(r.enum(v, comparators, "RangeCheck", name, oid))
		case "SoftHard":
			rc.SoftHard = SoftHard(r.enum(v, softHards, "RangeCheck", name, oid))
		default:
			return false
		}
		return true
	})
	err := r.children("RangeCheck", oid, &rc.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "CheckValue":
			v, err := r.leaf(c, oid)
			rc.CheckValues = append(rc.CheckValues, v)
			return true, err
		case "FormalExpression":
			f, err := r.formalExpression(c, oid)
			rc.FormalExpressions = append(rc.FormalExpressions, f)
			return true, err
		case "MeasurementUnitRef":
			if rc.MeasurementUnitRef != nil {
				return false, nil
			}
			rc.MeasurementUnitRef = &MeasurementUnitRef{}
			r.pos[rc.MeasurementUnitRef] = r.here()
			return true, r.oidRef(c, oid, "MeasurementUnitOID", &rc.MeasurementUnitRef.MeasurementUnitOID, &rc.MeasurementUnitRef.Extensions)
		case "ErrorMessage":
			if rc.ErrorMessage != nil {
				return false, nil
			}
			t, err := r.translations(c, oid)
			rc.ErrorMessage = t
			return true, err
		}
		return false, nil
	})
	return rc, err
}

func (r *Reader) readCodeList(el xml.StartElement) (*CodeList, error) {
	cl := &CodeList{}
	r.pos[cl] = r.here()
	r.attrs(el, &cl.Extensions, "", r.defAttrs("CodeList", &cl.OID, &cl.Name, nil, func(name, v string) bool {
		switch name {
		case "DataType":
			cl.DataType = DataType(r.enum(v, codeListTypes, "CodeList", name, cl.OID))
		case "SASFormatName":
			cl.SASFormatName = v
		default:
			return false
		}
		return true
	}))
	err := r.children("CodeList", cl.OID, &cl.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			return r.description(c, cl.OID, &cl.Description)
		case "CodeListItem":
			it := &CodeListItem{}
			r.pos[it] = r.here()
			r.attrs(c, &it.Extensions, cl.OID, r.codedValueAttrs("CodeListItem", cl.OID, &it.Extensions, &it.CodedValue, &it.Rank, &it.OrderNumber))
			haveDecode := false
			err := r.children("CodeListItem", cl.OID, &it.Extensions, func(cc xml.StartElement) (bool, error) {
				switch cc.Name.Local {
				case "Decode":
					if haveDecode {
						return false, nil
					}
					haveDecode = true
					return true, r.translationsInto(cc, cl.OID, &it.Decode)
				case "Alias":
					return r.addAlias(cc, cl.OID, &it.Aliases)
				}
				return false, nil
			})
			cl.Items = append(cl.Items, it)
			return true, err
		case "EnumeratedItem":
			it := &EnumeratedItem{}
			r.pos[it] = r.here()
			r.attrs(c, &it.Extensions, cl.OID, r.codedValueAttrs("EnumeratedItem", cl.OID, &it.Extensions, &it.CodedValue, &it.Rank, &it.OrderNumber))
			err := r.children("EnumeratedItem", cl.OID, &it.Extensions, func(cc xml.StartElement) (bool, error) {
				if cc.Name.Local != "Alias" {
					return false, nil
				}
				a, err := r.alias(cc, cl.OID)
				it.Aliases = append(it.Aliases, a)
				return true, err
			})
			cl.EnumeratedItems = append(cl.EnumeratedItems, it)
			return true, err
		case "ExternalCodeList":
			if cl.ExternalCodeList != nil {
				return false, nil
			}
			x := &ExternalCodeList{}
			r.attrs(c, &x.Extensions, cl.OID, func(name, v string) bool {
				switch name {
				case "Dictionary":
					x.Dictionary = v
				case "Version":
					x.Version = v
				case "href":
					x.Href = v
				case "ref":
					x.Ref = v
				default:
					return false
				}
				return true
			})
			cl.ExternalCodeList = x
			return true, r.children("ExternalCodeList", cl.OID, &x.Extensions, nil)
		case "Alias":
			return r.addAlias(c, cl.OID, &cl.Aliases)
		}
		return false, nil
	})
	return cl, err
}

// codedValueAttrs returns the attrFunc of CodeListItem and EnumeratedItem.
func (r *Reader) codedValueAttrs(elem, oid string, ext *Extensions, value *string, rank **float64, order **int) attrFunc {
	return func(name, v string) bool {
		switch name {
		case "CodedValue":
			*value = v
		case "Rank":
			*rank = r.decimal(ext, elem, name, v, oid)
		case "OrderNumber":
			*order = r.integer(ext, elem, name, v, oid)
		default:
			return false
		}
		return true
	}
}

func (r *Reader) readConditionDef(el xml.StartElement) (*ConditionDef, error) {
	d := &ConditionDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("ConditionDef", &d.OID, &d.Name, nil, nil))
	err := r.children("ConditionDef", d.OID, &d.Extensions,
		r.expressionChildren(d.OID, &d.Description, &d.FormalExpressions, &d.Aliases))
	return d, err
}

func (r *Reader) readMethodDef(el xml.StartElement) (*MethodDef, error) {
	d := &MethodDef{}
	r.pos[d] = r.here()
	r.attrs(el, &d.Extensions, "", r.defAttrs("MethodDef", &d.OID, &d.Name, nil, func(name, v string) bool {
		if name == "Type" {
			d.Type = MethodType(r.enum(v, methodTypes, "MethodDef", name, d.OID))
			return true
		}
		return false
	}))
	err := r.children("MethodDef", d.OID, &d.Extensions,
		r.expressionChildren(d.OID, &d.Description, &d.FormalExpressions, &d.Aliases))
	return d, err
}

// expressionChildren returns the childFunc shared by ConditionDef and
// MethodDef.
func (r *Reader) expressionChildren(oid string, desc *Translations, exprs *[]*FormalExpression, aliases *[]Alias) childFunc {
	haveDescription := false
	return func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Description":
			if haveDescription {
				return false, nil
			}
			haveDescription = true
			return true, r.translationsInto(c, oid, desc)
		case "FormalExpression":
			f, err := r.formalExpression(c, oid)
			*exprs = append(*exprs, f)
			return true, err
		case "Alias":
			a, err := r.alias(c, oid)
			*aliases = append(*aliases, a)
			return true, err
		}
		return false, nil
	}
}
