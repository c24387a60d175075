package trust

import (
	"context"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"pgoci/trust/referrers"
)

// Source is where signatures and attestations are read from: the
// repository (or OCI layout) of the image. resolve.Source satisfies it,
// and so do oras-go's *remote.Repository and *oci.ReadOnlyStore, with no
// adapter. See referrers.Source for how referrers are listed: the OCI
// referrers API, its sha256-<hex> tag fallback (CNCF distribution 2.8),
// or a layout's manifests.
type Source = referrers.Source

// Size caps and bounds; see the referrers package.
const (
	// MaxManifestSize bounds a manifest or index read: 4 MiB.
	MaxManifestSize = referrers.MaxManifestSize
	// MaxBlobSize bounds a bundle, statement or payload read: 16 MiB.
	MaxBlobSize = referrers.MaxBlobSize
	// DefaultMaxReferrers bounds the referrers read for one subject when
	// Options.MaxReferrers is zero.
	DefaultMaxReferrers = referrers.DefaultMax
)

// Artifact types and predicate types.
const (
	// ArtifactTypeBundle is the artifact type of a cosign v3 signature or
	// attestation referrer (a sigstore bundle v0.3).
	ArtifactTypeBundle = referrers.ArtifactTypeBundle
	// PredicateCosignSign is the predicate type of the in-toto statement
	// a cosign v3 signature signs: a bundle with it is a signature, any
	// other predicate type an attestation.
	PredicateCosignSign = referrers.PredicateCosignSign
)

// Kinds of artifacts examined.
const (
	KindSignature   = referrers.KindSignature
	KindAttestation = referrers.KindAttestation
)

const (
	mediaTypeBundlePrefix  = "application/vnd.dev.sigstore.bundle"
	mediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	mediaTypeDSSE          = "application/vnd.dsse.envelope.v1+json"
	mediaTypeInTotoLayer   = "application/vnd.in-toto+json"

	annotationCosignSignature   = "dev.cosignproject.cosign/signature"
	annotationCosignCertificate = "dev.sigstore.cosign/certificate"
	annotationCosignBundle      = "dev.sigstore.cosign/bundle"
	annotationBundleContent     = "dev.sigstore.bundle.content"
	annotationBundlePredicate   = referrers.AnnotationBundlePredicate
	annotationDockerRefType     = "vnd.docker.reference.type"
	annotationDockerRefDigest   = "vnd.docker.reference.digest"
	annotationInTotoPredicate   = "in-toto.io/predicate-type"
)

// Options bounds what verification reads. The zero value uses the
// defaults.
type Options struct {
	// MaxReferrers bounds the referrers of each subject that are read
	// (after filtering by artifact type where the registry can), and the
	// signatures of a legacy .sig manifest. Default
	// [DefaultMaxReferrers]; more is [ErrTooManyReferrers].
	MaxReferrers int
}

func (o Options) maxReferrers() int {
	if o.MaxReferrers > 0 {
		return o.MaxReferrers
	}
	return DefaultMaxReferrers
}

// invalid makes a malformed referrer an invalid signature.
func invalid(err error) error {
	if errors.Is(err, referrers.ErrInvalid) {
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return err
}

func listReferrers(ctx context.Context, src Source, subject ocispec.Descriptor, artifactType string, max int) ([]ocispec.Descriptor, error) {
	refs, err := referrers.List(ctx, src, subject, artifactType, max)
	return refs, invalid(err)
}

func fetchBlob(ctx context.Context, src content.Fetcher, d ocispec.Descriptor, max int64) ([]byte, error) {
	return referrers.FetchBlob(ctx, src, d, max)
}

func fetchManifest(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Manifest, error) {
	m, err := referrers.FetchManifest(ctx, src, d)
	return m, invalid(err)
}

func fetchIndex(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Index, error) {
	return referrers.FetchIndex(ctx, src, d)
}

func manifestArtifactType(m ocispec.Manifest) string { return referrers.ArtifactTypeOf(m) }

func fallbackTag(d digest.Digest, suffix string) string { return referrers.FallbackTag(d, suffix) }

func pushReferrer(ctx context.Context, dst content.Pusher, subject ocispec.Descriptor, artifactType, layerType string, blob []byte, annots map[string]string) (ocispec.Descriptor, error) {
	d, err := referrers.Push(ctx, dst, subject, artifactType, layerType, blob, annots)
	if err != nil {
		return d, fmt.Errorf("trust: %w", err)
	}
	return d, nil
}

func push(ctx context.Context, dst content.Pusher, d ocispec.Descriptor, body []byte) error {
	return referrers.PushBlob(ctx, dst, d, body)
}

// isNotFound reports a source's "no such tag".
func isNotFound(err error) bool { return errors.Is(err, errdef.ErrNotFound) }
