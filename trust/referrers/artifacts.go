package referrers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
)

// Kinds of attached artifacts, as [Artifacts] classifies them.
const (
	KindSignature   = "signature"
	KindAttestation = "attestation"
	KindSBOM        = "sbom"
	KindOther       = "other"
)

// Artifact is something attached to an image: a referrer, or a manifest
// of the older cosign layout tagged after the image's digest.
type Artifact struct {
	// Subject is the digest it is attached to.
	Subject digest.Digest `json:"subject"`
	// Descriptor is the artifact's manifest (copy it with everything
	// under it, e.g. oras.CopyGraph).
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Kind is KindSignature, KindAttestation, KindSBOM or KindOther, from
	// the artifact type, annotations or legacy tag suffix (unverified).
	Kind string `json:"kind"`
	// Tag is the legacy tag to give it at the destination
	// ("sha256-<hex>.sig", ".att", ".sbom"); "" for a referrer, which
	// the destination finds through its subject (a registry without the
	// referrers API needs the referrers tag index updated: oras-go's
	// *remote.Repository does it when the manifest is pushed).
	Tag string `json:"tag,omitempty"`
}

// Artifacts lists what is attached to subject in src, for copying: every
// referrer, whatever its artifact type (signatures, attestations, SBOMs,
// others), and the legacy sha256-<hex>.sig, .att and .sbom tags. At most
// max referrers ([ErrTooMany] past that; 0 is [DefaultMax]); nothing
// is verified here but the legacy manifests' descriptors, which come from
// the source's tags. Referrers of the artifacts themselves (a signature
// of an SBOM) are the caller's to list, with a depth bound.
func Artifacts(ctx context.Context, src Source, subject ocispec.Descriptor, max int) ([]Artifact, error) {
	return ArtifactsIn(ctx, src, subject, max, nil)
}

// ArtifactsIn is [Artifacts] for one of many subjects of a repository
// whose tags were listed once ([LegacyTags]): a legacy tag not in legacy
// is not asked for, which spares three requests per subject. A nil
// legacy asks for each.
func ArtifactsIn(ctx context.Context, src Source, subject ocispec.Descriptor, max int, legacy map[string]bool) ([]Artifact, error) {
	refs, err := List(ctx, src, subject, "", max)
	if err != nil {
		return nil, err
	}
	var out []Artifact
	for _, r := range refs {
		out = append(out, Artifact{Subject: subject.Digest, Descriptor: r, Kind: kindOf(r)})
	}
	for _, l := range []struct{ suffix, kind string }{{".sig", KindSignature}, {".att", KindAttestation}, {".sbom", KindSBOM}} {
		tag := FallbackTag(subject.Digest, l.suffix)
		if tag == "" {
			break
		}
		if legacy != nil && !legacy[tag] {
			continue
		}
		d, err := src.Resolve(ctx, tag)
		if err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("referrers: resolve %s: %w", tag, err)
		}
		out = append(out, Artifact{Subject: subject.Digest, Descriptor: d, Kind: l.kind, Tag: tag})
	}
	return out, nil
}

// kindOf classifies a referrer by its artifact type and annotations.
func kindOf(r ocispec.Descriptor) string {
	switch r.ArtifactType {
	case ArtifactTypeBundle:
		if pt := r.Annotations[AnnotationBundlePredicate]; pt != "" && pt != PredicateCosignSign {
			return KindAttestation
		}
		return KindSignature
	case ArtifactTypeSPDX, "application/vnd.cyclonedx+json", "text/spdx", "application/vnd.syft+json":
		return KindSBOM
	case ArtifactTypeInToto, mediaTypeDSSE:
		return KindAttestation
	case "application/vnd.dev.cosign.artifact.sig.v1+json":
		return KindSignature
	}
	return KindOther
}

// maxTagsListed bounds the tags [LegacyTags] reads.
const maxTagsListed = 100_000

// TagLister lists a repository's tags, page by page (oras-go's
// registry.TagLister; resolve's sources implement it).
type TagLister interface {
	Tags(ctx context.Context, last string, fn func(tags []string) error) error
}

// LegacyTags lists src's tags once and returns those of cosign's legacy
// layout (sha256-<hex>.sig, .att, .sbom), for [ArtifactsIn]. ok is false
// when src cannot list its tags, or holds more than 100,000: the caller
// then asks for each tag.
func LegacyTags(ctx context.Context, src any) (tags map[string]bool, ok bool, err error) {
	tl, can := src.(TagLister)
	if !can {
		return nil, false, nil
	}
	tags = map[string]bool{}
	n := 0
	errTooMany := errors.New("too many tags")
	err = tl.Tags(ctx, "", func(page []string) error {
		for _, t := range page {
			if n++; n > maxTagsListed {
				return errTooMany
			}
			if isLegacyTag(t) {
				tags[t] = true
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errTooMany), errors.Is(err, errdef.ErrNotFound), errors.Is(err, errdef.ErrUnsupported):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("referrers: list tags: %w", err)
	}
	return tags, true, nil
}

// isLegacyTag reports whether t is a sha256-<64 hex>.sig, .att or .sbom
// tag.
func isLegacyTag(t string) bool {
	rest, ok := strings.CutPrefix(t, "sha256-")
	if !ok || len(rest) < 64 {
		return false
	}
	switch rest[64:] {
	case ".sig", ".att", ".sbom":
		return digest.NewDigestFromEncoded(digest.SHA256, rest[:64]).Validate() == nil
	}
	return false
}
