package odm

import (
	"context"
	"io"
	"iter"
)

// ReadAll reads a whole ODM file into memory: metadata, reference data and
// clinical data nested in their containers. It suits study designs and
// small data files; use a Reader to stream large ones. The diagnostics are
// returned even when reading fails, with what was found up to the failure.
func ReadAll(ctx context.Context, in io.Reader, opts ReadOptions) (*Document, *Diagnostics, error) {
	r := NewReader(in, opts)
	doc, err := r.Metadata(ctx)
	if err != nil {
		return doc, r.Diagnostics(), err
	}
	var n nester
	for {
		row, err := r.Next(ctx)
		if err == io.EOF {
			return doc, r.Diagnostics(), nil
		}
		if err != nil {
			return doc, r.Diagnostics(), err
		}
		n.add(doc, row)
	}
}

// nester puts streamed rows back into their containers. The Reader shares
// a container between the rows inside it, so a new pointer means a new
// container.
type nester struct {
	clinical  *ClinicalData
	reference *ReferenceData
	subject   *SubjectData
	event     *StudyEventData
	form      *FormData
	group     *ItemGroupData
}

func (n *nester) add(doc *Document, row *Row) {
	if row.Clinical != nil && row.Clinical != n.clinical {
		n.clinical, n.reference = row.Clinical, nil
		doc.ClinicalData = append(doc.ClinicalData, row.Clinical)
	}
	if row.Reference != nil && row.Reference != n.reference {
		n.reference, n.clinical = row.Reference, nil
		doc.ReferenceData = append(doc.ReferenceData, row.Reference)
	}
	if row.Subject != nil && row.Subject != n.subject {
		n.subject = row.Subject
		row.Clinical.Subjects = append(row.Clinical.Subjects, row.Subject)
	}
	if row.Event != nil && row.Event != n.event {
		n.event = row.Event
		row.Subject.StudyEvents = append(row.Subject.StudyEvents, row.Event)
	}
	if row.Form != nil && row.Form != n.form {
		n.form = row.Form
		if row.Event != nil {
			row.Event.Forms = append(row.Event.Forms, row.Form)
		} else {
			row.Subject.Forms = append(row.Subject.Forms, row.Form)
		}
	}
	if row.Group != nil && row.Group != n.group {
		n.group = row.Group
		if row.Form != nil {
			row.Form.ItemGroups = append(row.Form.ItemGroups, row.Group)
		} else {
			row.Reference.ItemGroups = append(row.Reference.ItemGroups, row.Group)
		}
	}
	if row.Item != nil {
		row.Group.Items = append(row.Group.Items, row.Item)
	}
}

// Rows returns the reference and clinical data d holds in memory as rows,
// in document order, ready for a Writer. Containers without items become
// rows without Item so that they are written too.
func (d *Document) Rows() iter.Seq[*Row] {
	return func(yield func(*Row) bool) {
		for _, ref := range d.ReferenceData {
			if len(ref.ItemGroups) == 0 && !yield(&Row{Reference: ref}) {
				return
			}
			for _, g := range ref.ItemGroups {
				if !groupRows(Row{Reference: ref, Group: g}, yield) {
					return
				}
			}
		}
		for _, c := range d.ClinicalData {
			if len(c.Subjects) == 0 && !yield(&Row{Clinical: c}) {
				return
			}
			for _, s := range c.Subjects {
				if !subjectRows(c, s, yield) {
					return
				}
			}
		}
	}
}

func subjectRows(c *ClinicalData, s *SubjectData, yield func(*Row) bool) bool {
	base := Row{Clinical: c, Subject: s}
	if len(s.StudyEvents) == 0 && len(s.Forms) == 0 {
		return yield(&base)
	}
	for _, e := range s.StudyEvents {
		ev := base
		ev.Event = e
		if len(e.Forms) == 0 && !yield(&ev) {
			return false
		}
		for _, f := range e.Forms {
			if !formRows(ev, f, yield) {
				return false
			}
		}
	}
	for _, f := range s.Forms {
		if !formRows(base, f, yield) {
			return false
		}
	}
	return true
}

func formRows(base Row, f *FormData, yield func(*Row) bool) bool {
	base.Form = f
	if len(f.ItemGroups) == 0 {
		return yield(&base)
	}
	for _, g := range f.ItemGroups {
		base.Group = g
		if !groupRows(base, yield) {
			return false
		}
	}
	return true
}

func groupRows(base Row, yield func(*Row) bool) bool {
	if len(base.Group.Items) == 0 {
		r := base
		return yield(&r)
	}
	for _, it := range base.Group.Items {
		r := base
		r.Item = it
		if !yield(&r) {
			return false
		}
	}
	return true
}
