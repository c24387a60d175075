package referrers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/verify"
)

// Source is a repository or OCI layout to read referrers from.
// resolve.Source satisfies it, and so do oras-go's *remote.Repository
// and *oci.ReadOnlyStore (an OCI layout, resolve.Layout), with no
// adapter.
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

// Errors; test with [errors.Is].
var (
	// ErrTooMany: a subject lists more referrers than the bound given.
	ErrTooMany = errors.New("referrers: too many referrers")
	// ErrTooLarge: a manifest or blob over its size limit, refused before
	// it is read.
	ErrTooLarge = errors.New("referrers: content too large")
	// ErrInvalid: a referrer manifest or index that is not what its
	// descriptor says (media type, JSON, schema version).
	ErrInvalid = errors.New("referrers: invalid referrer")
	// ErrDigest and ErrSize: content that does not match its descriptor
	// (the same values as resolve's).
	ErrDigest = verify.ErrDigest
	ErrSize   = verify.ErrSize
)

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
	// DefaultMax bounds the referrers read for one subject when the
	// bound given is zero or negative.
	DefaultMax = 64
)

// Artifact types and annotations of what pgoci reads and writes.
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
	// AnnotationBundlePredicate is the annotation in which cosign states a
	// bundle referrer's predicate type.
	AnnotationBundlePredicate = "dev.sigstore.bundle.predicateType"
	// MediaTypeEmpty is the OCI empty descriptor's media type, the config
	// of a referrer.
	MediaTypeEmpty = "application/vnd.oci.empty.v1+json"

	mediaTypeDSSE = "application/vnd.dsse.envelope.v1+json"
)

// List lists the referrers of subject whose artifact type is
// artifactType ("" for all), at most max of them: more is
// ErrTooMany. The descriptors are the source's word, checked
// again when each manifest is read.
func List(ctx context.Context, src Source, subject ocispec.Descriptor, artifactType string, max int) ([]ocispec.Descriptor, error) {
	if max <= 0 {
		max = DefaultMax
	}
	subject = ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	var out []ocispec.Descriptor
	add := func(ds []ocispec.Descriptor) error {
		for _, d := range ds {
			if artifactType != "" && d.ArtifactType != artifactType {
				continue // a registry whose filter lies
			}
			if len(out) == max {
				return fmt.Errorf("%w: %s lists more than %d referrers of type %q", ErrTooMany, subject.Digest, max, artifactType)
			}
			out = append(out, d)
		}
		return nil
	}
	switch s := src.(type) {
	case registry.ReferrerLister:
		err := s.Referrers(ctx, subject, artifactType, add)
		if errors.Is(err, errdef.ErrUnsupported) {
			// A wrapper whose source cannot list: the tag schema.
			ds, terr := byTag(ctx, src, subject)
			if terr != nil {
				return nil, terr
			}
			err = add(ds)
		}
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			if errors.Is(err, ErrTooMany) {
				return nil, err
			}
			return nil, fmt.Errorf("referrers: list referrers of %s: %w", subject.Digest, err)
		}
	case content.ReadOnlyGraphStorage:
		preds, err := s.Predecessors(ctx, subject)
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return nil, fmt.Errorf("referrers: list referrers of %s: %w", subject.Digest, err)
		}
		if len(preds) > 4*max {
			return nil, fmt.Errorf("%w: %s has %d predecessors in the layout, over %d", ErrTooMany, subject.Digest, len(preds), 4*max)
		}
		for _, p := range preds {
			if p.MediaType != ocispec.MediaTypeImageManifest {
				continue // the indexes listing it are not referrers
			}
			m, err := FetchManifest(ctx, src, p)
			if err != nil {
				return nil, err
			}
			if m.Subject == nil || m.Subject.Digest != subject.Digest {
				continue
			}
			p.ArtifactType = ArtifactTypeOf(m)
			if err := add([]ocispec.Descriptor{p}); err != nil {
				return nil, err
			}
		}
	default:
		ds, err := byTag(ctx, src, subject)
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

// byTag reads the sha256-<hex> tag schema index of subject.
func byTag(ctx context.Context, src Source, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	tag := FallbackTag(subject.Digest, "")
	if tag == "" {
		return nil, nil
	}
	d, err := src.Resolve(ctx, tag)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("referrers: resolve %s: %w", tag, err)
	}
	if d.MediaType != ocispec.MediaTypeImageIndex {
		return nil, nil
	}
	body, err := FetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("%w: referrers index %s: %v", ErrInvalid, tag, err)
	}
	return idx.Manifests, nil
}

// FallbackTag is the tag derived from a digest: "sha256-<hex>" plus
// suffix (".sig", ".att", ".sbom" or "" for the referrers tag schema).
func FallbackTag(d digest.Digest, suffix string) string {
	if d.Validate() != nil {
		return ""
	}
	return d.Algorithm().String() + "-" + d.Encoded() + suffix
}

// FetchBlob reads d from src whole, verified against its digest and size,
// refusing a descriptor over max before anything is read.
func FetchBlob(ctx context.Context, src content.Fetcher, d ocispec.Descriptor, max int64) ([]byte, error) {
	if err := verify.Descriptor(d); err != nil {
		return nil, err
	}
	if d.Size > max {
		return nil, fmt.Errorf("%w: %s (%s) is %d bytes, over the %d-byte limit", ErrTooLarge, d.Digest, verify.Truncate(d.MediaType), d.Size, max)
	}
	rc, err := src.Fetch(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("referrers: fetch %s: %w", d.Digest, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(verify.NewReader(rc, d, nil)); err != nil {
		if errors.Is(err, ErrDigest) || errors.Is(err, ErrSize) {
			return nil, err
		}
		return nil, fmt.Errorf("referrers: read %s: %w", d.Digest, err)
	}
	return buf.Bytes(), nil
}

// FetchManifest reads and decodes an image manifest, verified, refusing
// content that is not an image manifest (CVE-2021-41190: content is never
// read as another type than the one verified).
func FetchManifest(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if d.MediaType != ocispec.MediaTypeImageManifest {
		return m, fmt.Errorf("%w: %s has media type %q, want an OCI image manifest", ErrInvalid, d.Digest, verify.Truncate(d.MediaType))
	}
	body, err := FetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: manifest %s: %v", ErrInvalid, d.Digest, err)
	}
	if m.MediaType != "" && m.MediaType != d.MediaType {
		return m, fmt.Errorf("%w: manifest %s: descriptor says %q, content says %q", ErrInvalid, d.Digest, d.MediaType, verify.Truncate(m.MediaType))
	}
	if m.SchemaVersion != 2 {
		return m, fmt.Errorf("%w: manifest %s: schemaVersion %d, want 2", ErrInvalid, d.Digest, m.SchemaVersion)
	}
	return m, nil
}

// FetchIndex reads and decodes an image index, verified.
func FetchIndex(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (ocispec.Index, error) {
	var idx ocispec.Index
	body, err := FetchBlob(ctx, src, d, MaxManifestSize)
	if err != nil {
		return idx, err
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		return idx, fmt.Errorf("referrers: index %s: %w", d.Digest, err)
	}
	if idx.MediaType != "" && idx.MediaType != d.MediaType {
		return idx, fmt.Errorf("referrers: index %s: descriptor says %q, content says %q", d.Digest, d.MediaType, verify.Truncate(idx.MediaType))
	}
	return idx, nil
}

// ArtifactTypeOf is a manifest's artifact type: its artifactType
// field, else its config's media type (OCI 1.1 guidance).
func ArtifactTypeOf(m ocispec.Manifest) string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

// Push pushes blob (of media type layerType) and a manifest of
// artifactType whose subject is subject, with annotations, to dst, and
// returns the manifest's descriptor. The config is the OCI empty
// descriptor, as cosign and oras write it. Content already there is not
// an error. oras-go's *remote.Repository maintains the sha256-<hex> tag
// index when the registry has no referrers API; failing to delete the
// index it superseded (a registry without deletes) is not an error.
func Push(ctx context.Context, dst content.Pusher, subject ocispec.Descriptor, artifactType, layerType string, blob []byte, annotations map[string]string) (ocispec.Descriptor, error) {
	if err := verify.Descriptor(subject); err != nil {
		return ocispec.Descriptor{}, err
	}
	layer := content.NewDescriptorFromBytes(layerType, blob)
	config := content.NewDescriptorFromBytes(MediaTypeEmpty, emptyJSON)
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations:  maps.Clone(annotations),
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("referrers: manifest: %w", err)
	}
	md := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mb)
	md.ArtifactType = artifactType
	md.Annotations = maps.Clone(annotations)
	for _, b := range []struct {
		d    ocispec.Descriptor
		body []byte
	}{{layer, blob}, {config, emptyJSON}, {md, mb}} {
		if err := PushBlob(ctx, dst, b.d, b.body); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return md, nil
}

// emptyJSON is the OCI empty descriptor's content.
var emptyJSON = []byte("{}")

// PushBlob pushes body as d; content already there is not an error, nor
// is failing to delete a superseded referrers tag index.
func PushBlob(ctx context.Context, dst content.Pusher, d ocispec.Descriptor, body []byte) error {
	err := dst.Push(ctx, d, bytes.NewReader(body))
	var re *remote.ReferrersError
	switch {
	case err == nil, errors.Is(err, errdef.ErrAlreadyExists):
		return nil
	case errors.As(err, &re) && re.IsReferrersIndexDelete():
		// The referrers tag index was updated; only removing the
		// superseded one failed (a registry without deletes).
		return nil
	}
	return fmt.Errorf("referrers: push %s (%s): %w", d.Digest, d.MediaType, err)
}
