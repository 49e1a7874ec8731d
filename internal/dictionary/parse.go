package dictionary

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// ErrUnknownDistribution is returned by Detect and Parse when the files are
// neither a MedDRA nor a WHODrug distribution.
var ErrUnknownDistribution = errors.New("the files are neither a MedDRA ASCII distribution (with llt.asc) nor a WHODrug B3 distribution (with DD.txt)")

// Detect says which dictionary the distribution in fsys is, by the files it
// holds at its top or in its one subfolder: llt.asc for MedDRA, DD.txt for
// WHODrug.
func Detect(fsys fs.FS) (Kind, error) {
	for _, c := range []struct {
		kind   Kind
		marker string
	}{{MedDRA, lltFile}, {WHODrug, ddFile}} {
		d, err := openDistribution(fsys, c.marker)
		if err != nil {
			return "", fmt.Errorf("detect dictionary: %w", err)
		}
		if d.has(c.marker) {
			return c.kind, nil
		}
	}
	return "", ErrUnknownDistribution
}

// Parse detects the dictionary in fsys and parses it with ParseMedDRA or
// ParseWHODrug, so an upload page need not ask which one it is.
func Parse(ctx context.Context, fsys fs.FS) (*Version, error) {
	kind, err := Detect(fsys)
	if err != nil {
		return nil, err
	}
	if kind == MedDRA {
		return ParseMedDRA(ctx, fsys)
	}
	return ParseWHODrug(ctx, fsys)
}
