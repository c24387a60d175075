package ocilayout

import (
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/verify"
)

// checkDigest refuses digests that cannot be verified, or could not be
// used as a path safely.
func checkDigest(d digest.Digest) error {
	return verify.Descriptor(ocispec.Descriptor{Digest: d})
}

func truncate(s string) string { return verify.Truncate(s) }
