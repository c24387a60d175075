package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"pgoci/internal/verify"
)

// MaxManifestSize is the largest manifest, index or config the resolver
// reads: 4 MiB, the limit registries apply to manifests. Anything larger
// is refused from its descriptor, before a byte is read.
const MaxManifestSize = 4 << 20

// Docker's manifest media types, read like their OCI counterparts.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
)

// IsIndexMediaType reports whether mt is an image index (OCI or Docker
// manifest list).
func IsIndexMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList
}

// IsManifestMediaType reports whether mt is an image manifest (OCI or
// Docker).
func IsManifestMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}

// IsConfigMediaType reports whether mt is an image config (OCI or Docker).
func IsConfigMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageConfig || mt == mediaTypeDockerConfig
}

// checkDescriptor refuses descriptors that cannot be verified or are too
// large to read, before anything is fetched.
func checkDescriptor(d ocispec.Descriptor) error {
	if err := verify.Descriptor(d); err != nil {
		return err
	}
	if d.Size > MaxManifestSize {
		return fmt.Errorf("%w: %s (%s) is %d bytes, over the %d-byte limit", ErrTooLarge, d.Digest, d.MediaType, d.Size, MaxManifestSize)
	}
	return nil
}

// FetchVerified fetches a manifest, index or config whole and verifies its
// size and digest. A descriptor over [MaxManifestSize] is refused before
// anything is fetched ([ErrTooLarge]).
func FetchVerified(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) ([]byte, error) {
	if err := checkDescriptor(d); err != nil {
		return nil, err
	}
	rc, err := src.Fetch(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("resolve: fetch %s: %w", d.Digest, err)
	}
	return readVerified(rc, d)
}

// readVerified reads rc, which must hold exactly d.Size bytes hashing to
// d.Digest, and closes it. It reads at most one byte past d.Size, so a
// body that lies about its length costs nothing; the buffer grows with
// what arrives, never from the announced size.
func readVerified(rc io.ReadCloser, d ocispec.Descriptor) ([]byte, error) {
	defer rc.Close()
	if err := checkDescriptor(d); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(verify.NewReader(rc, d, nil)); err != nil {
		if errors.Is(err, ErrSize) || errors.Is(err, ErrDigest) {
			return nil, err
		}
		return nil, fmt.Errorf("resolve: read %s: %w", d.Digest, err)
	}
	return buf.Bytes(), nil
}

// FetchObject resolves a tag or digest in src and reads the manifest or
// index it names, verified (digest, size, [MaxManifestSize]). With a
// registry this is one GET; otherwise a Resolve then a Fetch. A digest
// reference must come back with that digest ([ErrDigest]). The shape is
// not checked here: decode the body with [DecodeIndex] or [DecodeManifest].
func FetchObject(ctx context.Context, src Source, object string) (ocispec.Descriptor, []byte, error) {
	var want digest.Digest // "" for a tag
	if d, err := digest.Parse(object); err == nil {
		want = d
	}
	var (
		d    ocispec.Descriptor
		body []byte
		err  error
	)
	if rf, ok := src.(referenceFetcher); ok {
		var rc io.ReadCloser
		if d, rc, err = rf.FetchReference(ctx, object); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("resolve: fetch %s: %w", object, err)
		}
		if want != "" && d.Digest != want {
			rc.Close()
			return ocispec.Descriptor{}, nil, fmt.Errorf("%w: asked for %s, the source answered %s", ErrDigest, want, d.Digest)
		}
		body, err = readVerified(rc, d)
	} else {
		if d, err = src.Resolve(ctx, object); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("resolve: resolve %s: %w", object, err)
		}
		if want != "" && d.Digest != want {
			return ocispec.Descriptor{}, nil, fmt.Errorf("%w: asked for %s, the source answered %s", ErrDigest, want, d.Digest)
		}
		body, err = FetchVerified(ctx, src, d)
	}
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if !IsIndexMediaType(d.MediaType) && !IsManifestMediaType(d.MediaType) {
		// A layout resolves an untagged digest as a plain blob; the
		// content is verified, so its own mediaType field is believed.
		d.MediaType = sniffMediaType(body)
	}
	return d, body, nil
}

// manifestShape holds the fields that tell an index from a manifest.
type manifestShape struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType"`
	Config        *json.RawMessage `json:"config"`
	Layers        *json.RawMessage `json:"layers"`
	Manifests     *json.RawMessage `json:"manifests"`
}

func sniffMediaType(body []byte) string {
	var s manifestShape
	if json.Unmarshal(body, &s) != nil {
		return ""
	}
	return s.MediaType
}

// checkShape enforces that body is what d says: a manifest or index of a
// known media type whose mediaType field, when present, equals d's, with
// the fields of its kind and none of the other kind's. This is the
// CVE-2021-41190 rule: content must not be read as another type than the
// one it was verified as.
func checkShape(d ocispec.Descriptor, body []byte) error {
	if !IsIndexMediaType(d.MediaType) && !IsManifestMediaType(d.MediaType) {
		return fmt.Errorf("%w: %s has media type %q, want an image manifest or index", ErrMediaType, d.Digest, d.MediaType)
	}
	var s manifestShape
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidManifest, d.Digest, err)
	}
	if s.SchemaVersion != 2 {
		return fmt.Errorf("%w: %s: schemaVersion %d, want 2", ErrInvalidManifest, d.Digest, s.SchemaVersion)
	}
	if s.MediaType != "" && s.MediaType != d.MediaType {
		return fmt.Errorf("%w: %s: descriptor says %q, content says %q", ErrMediaType, d.Digest, d.MediaType, s.MediaType)
	}
	if IsIndexMediaType(d.MediaType) {
		if s.Config != nil || s.Layers != nil {
			return fmt.Errorf("%w: %s: an index with config or layers", ErrMediaType, d.Digest)
		}
		return nil
	}
	if s.Manifests != nil {
		return fmt.Errorf("%w: %s: a manifest with manifests", ErrMediaType, d.Digest)
	}
	if s.Config == nil {
		return fmt.Errorf("%w: %s: a manifest without config", ErrInvalidManifest, d.Digest)
	}
	return nil
}

// DecodeIndex decodes a verified index body after checking that it is
// what d says it is (see [DecodeManifest]).
func DecodeIndex(d ocispec.Descriptor, body []byte) (ocispec.Index, error) {
	var idx ocispec.Index
	if err := checkShape(d, body); err != nil {
		return idx, err
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		return idx, fmt.Errorf("%w: %s: %v", ErrInvalidManifest, d.Digest, err)
	}
	return idx, nil
}

// DecodeManifest decodes a verified manifest body after checking that it
// is what d says it is: a manifest or index of a known media type whose
// mediaType field, when present, equals d's, with the fields of its kind
// and none of the other's. Content must never be read as another type than
// the one it was verified as (CVE-2021-41190): a mismatch is [ErrMediaType].
func DecodeManifest(d ocispec.Descriptor, body []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := checkShape(d, body); err != nil {
		return m, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrInvalidManifest, d.Digest, err)
	}
	return m, nil
}
