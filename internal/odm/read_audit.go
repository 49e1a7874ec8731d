package odm

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Readers of what clinical containers and items carry besides data: audit
// records, signatures and annotations. oid is the key of the holder.

func (r *Reader) readAuditRecord(el xml.StartElement, oid string) (*AuditRecord, error) {
	at := r.here()
	a := &AuditRecord{}
	r.attrs(el, &a.Extensions, oid, func(name, v string) bool {
		switch name {
		case "EditPoint":
			a.EditPoint = EditPoint(r.enum(v, editPoints, "AuditRecord", name, oid))
		case "UsedImputationMethod":
			a.UsedImputationMethod = YesNo(r.enum(v, yesNos, "AuditRecord", name, oid))
		case "ID":
			a.ID = v
		default:
			return false
		}
		return true
	})
	seen := map[string]bool{}
	err := r.children("AuditRecord", oid, &a.Extensions, func(c xml.StartElement) (bool, error) {
		name := c.Name.Local
		if seen[name] {
			return false, nil
		}
		seen[name] = true
		switch name {
		case "UserRef":
			return true, r.oidRef(c, oid, "UserOID", &a.UserRef.UserOID, &a.UserRef.Extensions)
		case "LocationRef":
			return true, r.oidRef(c, oid, "LocationOID", &a.LocationRef.LocationOID, &a.LocationRef.Extensions)
		case "DateTimeStamp":
			v, err := r.leaf(c, oid)
			a.DateTimeStamp = v
			return true, err
		case "ReasonForChange":
			v, err := r.leaf(c, oid)
			a.ReasonForChange = v
			return true, err
		case "SourceID":
			v, err := r.leaf(c, oid)
			a.SourceID = v
			return true, err
		}
		seen[name] = false
		return false, nil
	})
	if err == nil {
		r.checker().auditRecord(at, a, oid)
	}
	return a, err
}

func (r *Reader) readSignature(el xml.StartElement, oid string) (*Signature, error) {
	at := r.here()
	s := &Signature{}
	r.attrs(el, &s.Extensions, oid, func(name, v string) bool {
		if name == "ID" {
			s.ID = v
			return true
		}
		return false
	})
	seen := map[string]bool{}
	err := r.children("Signature", oid, &s.Extensions, func(c xml.StartElement) (bool, error) {
		name := c.Name.Local
		if seen[name] {
			return false, nil
		}
		seen[name] = true
		switch name {
		case "UserRef":
			return true, r.oidRef(c, oid, "UserOID", &s.UserRef.UserOID, &s.UserRef.Extensions)
		case "LocationRef":
			return true, r.oidRef(c, oid, "LocationOID", &s.LocationRef.LocationOID, &s.LocationRef.Extensions)
		case "SignatureRef":
			return true, r.oidRef(c, oid, "SignatureOID", &s.SignatureRef.SignatureOID, &s.SignatureRef.Extensions)
		case "DateTimeStamp":
			v, err := r.leaf(c, oid)
			s.DateTimeStamp = v
			return true, err
		case "CryptoBindingManifest":
			v, err := r.leaf(c, oid)
			s.CryptoBindingManifest = v
			return true, err
		}
		seen[name] = false
		return false, nil
	})
	if err == nil {
		r.checker().signature(at, s, oid)
	}
	return s, err
}

func (r *Reader) readAnnotation(el xml.StartElement, oid string) (*Annotation, error) {
	at := r.here()
	a := &Annotation{}
	haveSeqNum := false
	r.attrs(el, &a.Extensions, oid, func(name, v string) bool {
		switch name {
		case "SeqNum":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return false // kept as an extension; the missing SeqNum is reported below
			}
			a.SeqNum, haveSeqNum = n, true
		case "TransactionType":
			a.TransactionType = TransactionType(r.enum(v, transactionTypes, "Annotation", name, oid))
		case "ID":
			a.ID = v
		default:
			return false
		}
		return true
	})
	if !haveSeqNum {
		r.noteAt(at, Error, CodeMissingAttribute, oid, fmt.Sprintf("an Annotation in %s has no integer SeqNum, which ODM requires", oidOr(oid)))
	}
	err := r.children("Annotation", oid, &a.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "Comment":
			if a.Comment != nil {
				return false, nil
			}
			cm := &Comment{}
			v, err := r.textContent(c, oid, &cm.Extensions, func(name, v string) bool {
				if name == "SponsorOrSite" {
					cm.SponsorOrSite = CommentType(r.enum(v, commentTypes, "Comment", name, oid))
					return true
				}
				return false
			})
			cm.Value = v
			a.Comment = cm
			return true, err
		case "Flag":
			f, err := r.readFlag(c, oid)
			a.Flags = append(a.Flags, f)
			return true, err
		}
		return false, nil
	})
	if err == nil {
		r.checker().annotation(at, a, oid)
	}
	return a, err
}

func (r *Reader) readFlag(el xml.StartElement, oid string) (*Flag, error) {
	f := &Flag{}
	r.attrs(el, &f.Extensions, oid, nil)
	haveValue := false
	err := r.children("Flag", oid, &f.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "FlagValue":
			if haveValue {
				return false, nil
			}
			haveValue = true
			v, err := r.textContent(c, oid, &f.FlagValue.Extensions, codeListAttr(&f.FlagValue.CodeListOID))
			f.FlagValue.Value = v
			return true, err
		case "FlagType":
			if f.FlagType != nil {
				return false, nil
			}
			t := &FlagType{}
			v, err := r.textContent(c, oid, &t.Extensions, codeListAttr(&t.CodeListOID))
			t.Value = v
			f.FlagType = t
			return true, err
		}
		return false, nil
	})
	return f, err
}

func codeListAttr(target *string) attrFunc {
	return func(name, v string) bool {
		if name == "CodeListOID" {
			*target = v
			return true
		}
		return false
	}
}
