package trust

import (
	"context"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/resolve"
)

// Verifier checks resolved images against a policy: set it as
// resolve.Options.Verifier (or extension.InstallOptions.Verifier), and
// every image resolved, dependencies included, is verified after resolve
// and before the first layer byte is fetched.
type Verifier struct {
	policy Policy
	opts   Options
}

var _ resolve.Verifier = (*Verifier)(nil)

// NewVerifier returns a Verifier for p. The policy is validated: keys,
// identities and trusted roots are checked now, not at the first image.
func NewVerifier(p Policy, opts Options) (*Verifier, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{policy: p, opts: opts}, nil
}

// Verify implements resolve.Verifier with [Verify]: the repository of ref
// selects the policy scope (an OCI layout gets the default scope only).
// It returns the digest of the signature that verified, "" when the
// scope requires none.
func (v *Verifier) Verify(ctx context.Context, src resolve.Source, ref resolve.Reference, index *ocispec.Descriptor, manifest ocispec.Descriptor) (digest.Digest, error) {
	t := Target{Index: index, Manifest: manifest}
	if ref.Layout == "" {
		t.Repository = ref.Registry + "/" + ref.Repository
	}
	res, err := Verify(ctx, src, t, v.policy, v.opts)
	if err != nil {
		return "", err
	}
	return res.Digest(), nil
}
