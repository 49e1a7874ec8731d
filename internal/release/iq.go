package release

import (
	"context"

	"github.com/cohort-clinical/cohort/internal/console"
)

// BuildSHA256 is the SHA-256 a registered build's binary had when it was
// registered, so an Installation Qualification compares the binary an
// instance runs from with it (console.BuildFingerprints).
func (c *Catalog) BuildSHA256(ctx context.Context, ref console.Build) (string, error) {
	b, err := Get(ctx, c.DB, ref.Version, ref.Number)
	if err != nil {
		return "", err
	}
	return b.SHA256, nil
}

var _ console.BuildFingerprints = (*Catalog)(nil)
