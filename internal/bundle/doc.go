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
//     key, "type/ECG", "meddra/27.1"), never by database id.
//   - An import adds and changes; it never deletes, archives or
//     deactivates. A record this instance has and the bundle lacks is shown
//     as "not in bundle, left as is": promotion must not take away what the
//     target instance decided on its own (an archived site, a local role).
//   - Records an instance must never take (integration-specific settings,
//     archived sites) are shown as ignored with the reason, and not applied.
//   - Inactive records travel with their state, so that what references
//     them still resolves, and a new record is created active or inactive
//     as the bundle has it; but an import never changes whether a record
//     this instance already has is active. A record whose active flag (or
//     device status retired, or archived site) differs is ignored with the
//     reason. The one exception is a dictionary's active version: a
//     dictionary has exactly one, so activating the bundle's steps the
//     previous one down.
//   - Everything is applied in one transaction: one failing record leaves the
//     instance exactly as it was. Importing the same bundle twice changes
//     nothing the second time.
//
// # Adding a category
//
// Write a file in this package with a type that implements Category by
// calling your domain package (the domain owns its tables; this package
// writes no SQL), and add a value of it to the list in categories.go at its
// place in the fixed order. For example, for a category of infusion
// protocols kept by a package protocol:
//
//	type protocolCategory struct{}
//
//	type protocolFields struct {
//		Name     string `json:"name"`
//		RateMLPH string `json:"rate_ml_per_h"` // decimal text
//		Active   bool   `json:"active"`
//	}
//
//	func (protocolCategory) Name() string     { return "infusion-protocols" }
//	func (protocolCategory) Promotable() bool { return true }
//
//	func (protocolCategory) Export(ctx context.Context, q store.Querier) ([]Record, error) {
//		protocols, err := protocol.List(ctx, q, true) // inactive ones too
//		if err != nil {
//			return nil, err
//		}
//		var out []Record
//		for _, p := range protocols {
//			r, err := NewRecord(p.Code, protocolFields{Name: p.Name, RateMLPH: decimalText(p.Rate), Active: p.Active})
//			if err != nil {
//				return nil, err
//			}
//			out = append(out, r)
//		}
//		return out, nil
//	}
//
//	func (protocolCategory) Apply(ctx context.Context, tx *store.Tx, by audit.Actor, reason string, records []Record) error {
//		for _, r := range records {
//			var f protocolFields
//			if err := r.Decode(&f); err != nil {
//				return recordError("infusion-protocols", r.Key, err)
//			}
//			rate, err := parseDecimal("rate_ml_per_h", f.RateMLPH, false)
//			if err == nil {
//				err = protocol.Import(ctx, tx, by, protocol.Protocol{Code: r.Key, Name: f.Name, Rate: rate}, f.Active, reason)
//			}
//			if err != nil {
//				return recordError("infusion-protocols", r.Key, err)
//			}
//		}
//		return nil
//	}
//
// The domain package's Import (in its promote.go) creates or updates one
// record inside the given transaction and audits it with the reason. The
// categories this build has show the patterns: roles.go, sites.go and
// settings.go; dictionaries.go (a large record kept compact as tuples);
// devices.go and labs.go (several kinds of record in one category, keyed
// "kind/CODE", applied in dependency order); labels.go (decimals as text);
// configlists.go (not promotable).
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
