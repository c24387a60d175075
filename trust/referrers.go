package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"

	"pgoci/internal/verify"
)

// Source is where signatures, attestations and SBOMs are read from: the
// repository of the image. resolve.Source satisfies it, and so do
// oras-go's *remote.Repository and *oci.ReadOnlyStore (an OCI layout,
// resolve.Layout), with no adapter.
//
// Referrers are listed through the optional methods a Source may have, in
// this order:
//   - registry.ReferrerLister (oras-go's *remote.Repository): the OCI
//     referrers API, which oras-go falls back from to the sha256-<hex>
//     tag schema when the registry has no referrers API (CNCF
//     distribution 2.8 answers 404, and the fallback is taken);
//   - content.ReadOnlyGraphStorage (an OCI layout store): the manifests
//     of the layout whose subject is the digest;
//   - otherwise the sha256-<hex> tag schema index, through Resolve.
//
// Nothing a Source returns is trusted: every body is read through a
// verifying reader against its descriptor, with a size cap, and every
// list is bounded.
type Source interface {
	// Resolve returns the descriptor of a tag or digest.
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
	// Fetch opens the content of target; the caller closes it.
	Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error)
}

// Size caps. Anything larger is refused from its descriptor, before a
// byte is read ([ErrTooLarge]).
const (
	// MaxManifestSize bounds a manifest or index: 4 MiB, what registries
	// accept.
	MaxManifestSize = 4 << 20
	// MaxBlobSize bounds a sigstore bundle, an in-toto statement, a
	// legacy signature payload or an SBOM read: 16 MiB (provenance of a
	// large build stays well under it).
	MaxBlobSize = 16 << 20
	// DefaultMaxReferrers bounds the referrers read for one subject when
	// Options.MaxReferrers is zero.
	DefaultMaxReferrers = 64
)

// Artifact types and media types of what this package reads and writes.
const (
	// ArtifactTypeBundle is the artifact type of a cosign v3 signature or
	// attestation referrer (a sigstore bundle v0.3).
	ArtifactTypeBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// ArtifactTypeSPDX is the artifact type of an SPDX JSON SBOM referrer,
	// the one Trivy's --sbom-sources oci looks for.
	ArtifactTypeSPDX = "application/spdx+json"
	// ArtifactTypeInToto is the artifact type cosign gives to attestations
	// copied as OCI 1.1 referrers in the older layout.
	ArtifactTypeInToto = "application/vnd.in-toto+json"

	// PredicateCosignSign is the predicate type of the in-toto statement
	// a cosign v3 signature signs: a bundle with it is a signature, any
	// other predicate type an attestation.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

	mediaTypeBundlePrefix  = "application/vnd.dev.sigstore.bundle"
	mediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	mediaTypeDSSE          = "application/vnd.dsse.envelope.v1+json"
	mediaTypeEmpty         = "application/vnd.oci.empty.v1+json"
	mediaTypeInTotoLayer   = "application/vnd.in-toto+json"

	annotationCosignSignature   = "dev.cosignproject.cosign/signature"
	annotationCosignCertificate = "dev.sigstore.cosign/certificate"
	annotationCosignChain       = "dev.sigstore.cosign/chain"
	annotationCosignBundle      = "dev.sigstore.cosign/bundle"
	annotationBundleContent     = "dev.sigstore.bundle.content"
	annotationBundlePredicate   = "dev.sigstore.bundle.predicateType"
	annotationDockerRefType     = "vnd.docker.reference.type"
	annotationDockerRefDigest   = "vnd.docker.reference.digest"
	annotationInTotoPredicate   = "in-toto.io/predicate-type"
)

// Options bounds what verification reads. The zero value uses the
// defaults.
type Options struct {
	// MaxReferrers bounds the referrers of each subject that are read
	// (after filtering by artifact type where the registry can).
	// Default [DefaultMaxReferrers]; more is [ErrTooManyReferrers].
	MaxReferrers int
}

func (o Options) maxReferrers() int {
	if o.MaxReferrers > 0 {
		return o.MaxReferrers
	}
	return DefaultMaxReferrers
}

// listReferrers lists the referrers of subject whose artifact type is
// artifactType ("" for all), at most max of them: more is
// ErrTooManyReferrers. The descriptors are the source's word, checked
// again when each manifest is read.
func listReferrers(ctx context.Context, src Source, subject ocispec.Descriptor, artifactType string, max int) ([]ocispec.Descriptor, error) {
	subject = ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	var out []ocispec.Descriptor
	add := func(ds []ocispec.Descriptor) error {
		for _, d := range ds {
			if artifactType != "" && d.ArtifactType != artifactType {
				continue // a registry whose filter lies
			}
			if len(out) == max {
				return fmt.Errorf("%w: %s lists more than %d referrers of type %q", ErrTooManyReferrers, subject.Digest, max, artifactType)
			}
			out = append(out, d)
		}
		return nil
	}
	switch s := src.(type) {
	case registry.ReferrerLister:
		err := s.Referrers(ctx, subject, artifactType, add)
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			if errors.Is(err, ErrTooManyReferrers) {
				return nil, err
			}
			return nil, fmt.Errorf("trust: list referrers of %s: %w", subject.Digest, err)
		}
	case content.ReadOnlyGraphStorage:
		preds, err := s.Predecessors(ctx, subject)
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return nil, fmt.Errorf("trust: list referrers of %s: %w", subject.Digest, err)
		}
		if len(preds) > 4*max {
			return nil, fmt.Errorf("%w: %s has %d predecessors in the layout, over %d", ErrTooManyReferrers, subject.Digest, len(preds), 4*max)
		}
		for _, p := range preds {
			if p.MediaType != ocispec.MediaTypeImageManifest {
				continue // the indexes listing it are not referrers
			}
			m, err := fetchManifest(ctx, src, p)
			if err != nil {
				return nil, err
			}
			if m.Subject == nil || m.Subject.Digest != subject.Digest {
				continue
			}
			p.ArtifactType = manifestArtifactType(m)
			if err := add([]ocispec.Descriptor{p}); err != nil {
				return nil, err
			}
		}
	default:
		ds, err := referrersByTag(ctx, src, subject)
		if err != nil {
			return nil, err
		}
		if err := add(ds); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	return slices.CompactFunc(out, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest }), nil
}

// referrersByTag reads the sha256-<hex> tag schema index of subject.
func referrersByTag(ctx context.Context, src Source, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	tag := fallbackTag(subject.Digest, "")
	if tag == "" {
		return nil, nil
	}
	d, err := src.Resolve(ctx, tag)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("trust: resolve %s: %w", tag, err)
	}
	if d.MediaType != ocispec.MediaTypeImageIndex {
		return nil, nil
	}
	body, err := fetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("%w: referrers index %s: %v", ErrInvalidSignature, tag, err)
	}
	return idx.Manifests, nil
}

// fallbackTag is the tag derived from a digest: "sha256-<hex>" plus
// suffix (".sig", ".att", ".sbom" or "" for the referrers tag schema).
func fallbackTag(d digest.Digest, suffix string) string {
	if d.Validate() != nil {
		return ""
	}
	return d.Algorithm().String() + "-" + d.Encoded() + suffix
}

// fetchBlob reads d from src whole, verified against its digest and size,
// refusing a descriptor over max before anything is read.
func fetchBlob(ctx context.Context, src content.Fetcher, d ocispec.Descriptor, max int64) ([]byte, error) {
	if err := verify.Descriptor(d); err != nil {
		return nil, err
	}
	if d.Size > max {
		return nil, fmt.Errorf("%w: %s (%s) is %d bytes, over the %d-byte limit", ErrTooLarge, d.Digest, shorten(d.MediaType), d.Size, max)
	}
	rc, err := src.Fetch(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("trust: fetch %s: %w", d.Digest, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(verify.NewReader(rc, d, nil)); err != nil {
		if errors.Is(err, ErrDigest) || errors.Is(err, ErrSize) {
			return nil, err
		}
		return nil, fmt.Errorf("trust: read %s: %w", d.Digest, err)
	}
	return buf.Bytes(), nil
}

// fetchManifest reads and decodes an image manifest, verified, refusing
// content that is not an image manifest (CVE-2021-41190: content is never
// read as another type than the one verified).
func fetchManifest(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if d.MediaType != ocispec.MediaTypeImageManifest {
		return m, fmt.Errorf("%w: %s has media type %q, want an OCI image manifest", ErrInvalidSignature, d.Digest, shorten(d.MediaType))
	}
	body, err := fetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: manifest %s: %v", ErrInvalidSignature, d.Digest, err)
	}
	if m.MediaType != "" && m.MediaType != d.MediaType {
		return m, fmt.Errorf("%w: manifest %s: descriptor says %q, content says %q", ErrInvalidSignature, d.Digest, d.MediaType, shorten(m.MediaType))
	}
	if m.SchemaVersion != 2 {
		return m, fmt.Errorf("%w: manifest %s: schemaVersion %d, want 2", ErrInvalidSignature, d.Digest, m.SchemaVersion)
	}
	return m, nil
}

// fetchIndex reads and decodes an image index, verified.
func fetchIndex(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Index, error) {
	var idx ocispec.Index
	body, err := fetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return idx, err
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		return idx, fmt.Errorf("trust: index %s: %w", d.Digest, err)
	}
	if idx.MediaType != "" && idx.MediaType != d.MediaType {
		return idx, fmt.Errorf("trust: index %s: descriptor says %q, content says %q", d.Digest, d.MediaType, shorten(idx.MediaType))
	}
	return idx, nil
}

// manifestArtifactType is a manifest's artifact type: its artifactType
// field, else its config's media type (OCI 1.1 guidance).
func manifestArtifactType(m ocispec.Manifest) string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}
