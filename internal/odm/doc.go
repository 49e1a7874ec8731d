// Package odm reads and writes CDISC ODM 1.3.2, the XML format in which
// study designs and clinical data move between cohort and other systems.
// It knows nothing of storage: it turns files into a model and rows, and
// rows and a model into files.
//
// # Reading
//
// A Reader is lenient. It reads ODM 1.3, 1.3.1 and 1.3.2, with the ODM
// namespace or none, as OpenClinica, REDCap, OpenEDC and CDISC's own
// examples write them, and reports what it finds in Diagnostics: each with
// line, column, the nearest OID, a severity and a sentence.
//
//	r := odm.NewReader(file, odm.ReadOptions{Progress: report})
//	doc, err := r.Metadata(ctx) // studies and admin data, checked
//	for {
//		row, err := r.Next(ctx) // one ItemData with its subject, event, form, group
//		if err == io.EOF {
//			break
//		}
//		...
//	}
//	diags := r.Diagnostics()
//
// Metadata is small and read into memory; clinical data streams, so memory
// does not grow with the number of values. ReadAll reads a whole (small)
// file into a Document instead.
//
// Hostile input ends in a *ReadError naming the line: the reader never
// expands entities and refuses DOCTYPEs that declare them, and it bounds
// nesting depth, value and tag sizes and the number of elements it keeps
// (see ReadOptions).
//
// # Writing
//
// A Writer is strict: what it writes validates against the official ODM
// 1.3.2 schema, and it returns a *ValidationError rather than write a
// document that would not. Metadata comes from a Document; clinical data
// comes row by row, sorted by container, so memory stays flat.
//
//	w := odm.NewWriter(file, odm.WriteOptions{})
//	err := w.Begin(ctx, doc)
//	for each row { err = w.WriteRow(ctx, row) }
//	err = w.Close(ctx)
//	omitted := w.Omitted() // vendor extensions left out
//
// Write writes a Document with its clinical data in one call.
//
// # Vendor extensions
//
// Every model element has an Extensions field holding what the file put
// there beyond ODM: vendor attributes and elements, kept verbatim with their
// namespaces and places. By default the Writer leaves them out, because the
// ODM 1.3.2 schema allows none, and counts them; with KeepExtensions it
// writes them back where they were, so that import, export and import give
// the same model.
package odm
