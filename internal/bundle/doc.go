// Package bundle moves configuration between instances: it exports roles,
// sites, settings and the other configuration categories of one instance
// into a configuration bundle — a deterministic, versioned, hashed JSON
// document — and imports such a bundle into another instance, first as a
// preview of what would change and then in one audited transaction. The
// lifecycle promotes configuration from a Sandbox or Pre-PROD instance into
// VAL and PROD this way.
//
// # Rules every import keeps
//
//   - Records are matched by natural key (role code, site code, setting
//     key), never by database id.
//   - An import adds and changes; it never deletes, archives or
//     deactivates. A record this instance has and the bundle lacks is shown
//     as "not in bundle, left as is": promotion must not take away what the
//     target instance decided on its own (an archived site, a local role).
//   - Records an instance must never take (integration-specific settings,
//     archived sites) are shown as ignored with the reason, and not applied.
//   - Everything is applied in one transaction: one failing record leaves the
//     instance exactly as it was. Importing the same bundle twice changes
//     nothing the second time.
//
// # Adding a category
//
// Write a file in this package with a type that implements Category by
// calling your domain package (the domain owns its tables; this package
// writes no SQL), and add a value of it to the list in categories.go at its
// place in the fixed order. For example, for devices:
//
//	type deviceCategory struct{}
//
//	type deviceFields struct {
//		Name  string `json:"name"`
//		Model string `json:"model"`
//	}
//
//	func (deviceCategory) Name() string     { return "devices" }
//	func (deviceCategory) Promotable() bool { return true }
//
//	func (deviceCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
//		devices, err := device.List(ctx, q) // active devices only
//		if err != nil {
//			return nil, err
//		}
//		var out []Record
//		for _, d := range devices {
//			r, err := NewRecord(d.Code, deviceFields{Name: d.Name, Model: d.Model})
//			if err != nil {
//				return nil, err
//			}
//			out = append(out, r)
//		}
//		return out, nil
//	}
//
//	func (deviceCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
//		for _, r := range records {
//			var f deviceFields
//			if err := r.Decode(&f); err != nil {
//				return err
//			}
//			if err := device.Import(ctx, tx, by, device.Device{Code: r.Key, Name: f.Name, Model: f.Model}, reason); err != nil {
//				return recordError("devices", r.Key, err)
//			}
//		}
//		return nil
//	}
//
// Export returns what this instance has; the bundle sorts records by key and
// refuses duplicate keys. Fields are any JSON-encodable struct or map; use
// text for numbers whose exact spelling matters (reference ranges). Apply is
// given only the records that are new or differ from this instance, must
// validate each and return an error naming it, and must audit every change
// with the reason it is given (it names the bundle). A category whose
// records this instance must sometimes refuse also implements Skipper. A
// category that comes from the migration program rather than from
// promotion (configure-lists) returns false from Promotable: it is exported
// only when asked for by name.
//
// # Determinism
//
// The same data exported with the same options gives byte-identical
// bundles: fixed indentation, keys sorted, categories in the fixed order,
// records sorted by key. The one input that is not data is the export time
// in the manifest, ExportOptions.At: it defaults to the wall clock (to the
// second), and callers who need identical bytes pass it (the command line's
// --at). The manifest's SHA-256 covers the whole document except the hash
// itself, export time included, so a bundle cannot be changed after export
// without the import noticing.
package bundle
