package odm

import "encoding/xml"

func (r *Reader) readAdminData(el xml.StartElement) (*AdminData, error) {
	a := &AdminData{}
	r.pos[a] = r.here()
	r.attrs(el, &a.Extensions, "", func(name, v string) bool {
		if name == "StudyOID" {
			a.StudyOID = v
			return true
		}
		return false
	})
	err := r.children("AdminData", a.StudyOID, &a.Extensions, func(c xml.StartElement) (bool, error) {
		switch c.Name.Local {
		case "User":
			u, err := r.readUser(c)
			a.Users = append(a.Users, u)
			return true, err
		case "Location":
			l, err := r.readLocation(c)
			a.Locations = append(a.Locations, l)
			return true, err
		case "SignatureDef":
			s, err := r.readSignatureDef(c)
			a.SignatureDefs = append(a.SignatureDefs, s)
			return true, err
		}
		return false, nil
	})
	return a, err
}

func (r *Reader) readUser(el xml.StartElement) (*User, error) {
	u := &User{}
	r.pos[u] = r.here()
	r.attrs(el, &u.Extensions, "", func(name, v string) bool {
		switch name {
		case "OID":
			u.OID = v
		case "UserType":
			u.UserType = UserType(r.enum(v, userTypes, "User", name, u.OID))
		default:
			return false
		}
		return true
	})
	single := map[string]*string{
		"LoginName": &u.LoginName, "DisplayName": &u.DisplayName, "FullName": &u.FullName,
		"FirstName": &u.FirstName, "LastName": &u.LastName, "Organization": &u.Organization, "Pager": &u.Pager,
	}
	many := map[string]*[]string{"Email": &u.Emails, "Fax": &u.Faxes, "Phone": &u.Phones, "Certificate": &u.Certificates}
	seen := map[string]bool{}
	err := r.children("User", u.OID, &u.Extensions, func(c xml.StartElement) (bool, error) {
		name := c.Name.Local
		if target, ok := single[name]; ok {
			if seen[name] {
				return false, nil
			}
			seen[name] = true
			v, err := r.leaf(c, u.OID)
			*target = v
			return true, err
		}
		if target, ok := many[name]; ok {
			v, err := r.leaf(c, u.OID)
			*target = append(*target, v)
			return true, err
		}
		switch name {
		case "Address":
			ad, err := r.readAddress(c, u.OID)
			u.Addresses = append(u.Addresses, ad)
			return true, err
		case "Picture":
			if u.Picture != nil {
				return false, nil
			}
			p := &Picture{}
			r.pos[p] = r.here()
			r.attrs(c, &p.Extensions, u.OID, func(name, v string) bool {
				switch name {
				case "PictureFileName":
					p.PictureFileName = v
				case "ImageType":
					p.ImageType = v
				default:
					return false
				}
				return true
			})
			u.Picture = p
			return true, r.children("Picture", u.OID, &p.Extensions, nil)
		case "LocationRef":
			ref := &LocationRef{}
			r.pos[ref] = r.here()
			u.LocationRefs = append(u.LocationRefs, ref)
			return true, r.oidRef(c, u.OID, "LocationOID", &ref.LocationOID, &ref.Extensions)
		}
		return false, nil
	})
	return u, err
}

func (r *Reader) readAddress(el xml.StartElement, oid string) (*Address, error) {
	a := &Address{}
	r.attrs(el, &a.Extensions, oid, nil)
	single := map[string]*string{
		"City": &a.City, "StateProv": &a.StateProv, "Country": &a.Country,
		"PostalCode": &a.PostalCode, "OtherText": &a.OtherText,
	}
	seen := map[string]bool{}
	err := r.children("Address", oid, &a.Extensions, func(c xml.StartElement) (bool, error) {
		name := c.Name.Local
		if name == "StreetName" {
			v, err := r.leaf(c, oid)
			a.StreetNames = append(a.StreetNames, v)
			return true, err
		}
		target, ok := single[name]
		if !ok || seen[name] {
			return false, nil
		}
		seen[name] = true
		v, err := r.leaf(c, oid)
		*target = v
		return true, err
	})
	return a, err
}

func (r *Reader) readLocation(el xml.StartElement) (*Location, error) {
	l := &Location{}
	r.pos[l] = r.here()
	r.attrs(el, &l.Extensions, "", func(name, v string) bool {
		switch name {
		case "OID":
			l.OID = v
		case "Name":
			l.Name = v
		case "LocationType":
			l.LocationType = LocationType(r.enum(v, locationTypes, "Location", name, l.OID))
		default:
			return false
		}
		return true
	})
	err := r.children("Location", l.OID, &l.Extensions, func(c xml.StartElement) (bool, error) {
		if c.Name.Local != "MetaDataVersionRef" {
			return false, nil
		}
		ref := &MetaDataVersionRef{}
		r.pos[ref] = r.here()
		r.attrs(c, &ref.Extensions, l.OID, func(name, v string) bool {
			switch name {
			case "StudyOID":
				ref.StudyOID = v
			case "MetaDataVersionOID":
				ref.MetaDataVersionOID = v
			case "EffectiveDate":
				ref.EffectiveDate = v
			default:
				return false
			}
			return true
		})
		l.MetaDataVersionRefs = append(l.MetaDataVersionRefs, ref)
		return true, r.children("MetaDataVersionRef", l.OID, &ref.Extensions, nil)
	})
	return l, err
}

func (r *Reader) readSignatureDef(el xml.StartElement) (*SignatureDef, error) {
	s := &SignatureDef{}
	r.pos[s] = r.here()
	r.attrs(el, &s.Extensions, "", func(name, v string) bool {
		switch name {
		case "OID":
			s.OID = v
		case "Methodology":
			s.Methodology = SignMethod(r.enum(v, signMethods, "SignatureDef", name, s.OID))
		default:
			return false
		}
		return true
	})
	seen := map[string]bool{}
	err := r.children("SignatureDef", s.OID, &s.Extensions, func(c xml.StartElement) (bool, error) {
		var target *string
		switch c.Name.Local {
		case "Meaning":
			target = &s.Meaning
		case "LegalReason":
			target = &s.LegalReason
		default:
			return false, nil
		}
		if seen[c.Name.Local] {
			return false, nil
		}
		seen[c.Name.Local] = true
		v, err := r.leaf(c, s.OID)
		*target = v
		return true, err
	})
	return s, err
}
