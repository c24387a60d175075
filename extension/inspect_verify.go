package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"pgoci/resolve"
)

// Verification shared by Inspect and Copy. resolve verifies the same way
// but keeps its helpers unexported; the errors here wrap resolve's
// sentinels (resolve.ErrDigest, ErrSize, ErrTooLarge, ErrMediaType,
// ErrInvalidManifest) so callers test one set.

// Docker media types, read like their OCI counterparts.
const (
	dockerManifestType     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestListType = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerConfigType       = "application/vnd.docker.container.image.v1+json"
)

func isIndexMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == dockerManifestListType
}

func isManifestMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == dockerManifestType
}

func isConfigMediaType(mt string) bool {
	return mt == ocispec.MediaTypeImageConfig || mt == dockerConfigType
}

// verifiedReader hashes what it reads and, in place of io.EOF, returns an
// error when the content is not exactly d.Size bytes hashing to d.Digest.
// It reads at most one byte past d.Size. Every blob Copy moves and every
// manifest Inspect reads goes through one: oras-go's Fetch does not hash.
type verifiedReader struct {
	r   io.Reader
	d   ocispec.Descriptor
	v   digest.Verifier
	n   int64
	err error
	// count, when set, is told of every chunk read (progress).
	count func(n int64)
}

func newVerifiedReader(r io.Reader, d ocispec.Descriptor) *verifiedReader {
	vr := &verifiedReader{d: d}
	if err := checkDigestSize(d); err != nil {
		vr.err = err
		return vr
	}
	vr.r, vr.v = io.LimitReader(r, d.Size+1), d.Digest.Verifier()
	return vr
}

func (vr *verifiedReader) Read(p []byte) (int, error) {
	if vr.err != nil {
		return 0, vr.err
	}
	n, err := vr.r.Read(p)
	vr.n += int64(n)
	_, _ = vr.v.Write(p[:n]) // a digest.Verifier never fails to write
	if vr.n > vr.d.Size {
		vr.err = fmt.Errorf("%w: %s: descriptor says %d bytes, got more", resolve.ErrSize, vr.d.Digest, vr.d.Size)
		return 0, vr.err
	}
	if n > 0 && vr.count != nil {
		vr.count(int64(n))
	}
	switch {
	case err == io.EOF && vr.n != vr.d.Size:
		err = fmt.Errorf("%w: %s: descriptor says %d bytes, got %d", resolve.ErrSize, vr.d.Digest, vr.d.Size, vr.n)
	case err == io.EOF && !vr.v.Verified():
		err = fmt.Errorf("%w: content does not hash to %s", resolve.ErrDigest, vr.d.Digest)
	}
	if err != nil {
		vr.err = err
	}
	return n, err
}

func checkDigestSize(d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: descriptor digest %q: %v", resolve.ErrDigest, shorten(string(d.Digest)), err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s: negative size %d", resolve.ErrSize, d.Digest, d.Size)
	}
	return nil
}

// checkMetadataDescriptor refuses manifests, indexes and configs that
// cannot be verified or are over resolve.MaxManifestSize, before a byte
// is fetched.
func checkMetadataDescriptor(d ocispec.Descriptor) error {
	if err := checkDigestSize(d); err != nil {
		return err
	}
	if d.Size > resolve.MaxManifestSize {
		return fmt.Errorf("%w: %s (%s) is %d bytes, over the %d-byte limit", resolve.ErrTooLarge, d.Digest, d.MediaType, d.Size, resolve.MaxManifestSize)
	}
	return nil
}

// readVerifiedAll reads rc whole (d is a manifest, index or config, at
// most 4 MiB), verified, and closes it.
func readVerifiedAll(rc io.ReadCloser, d ocispec.Descriptor) ([]byte, error) {
	defer rc.Close()
	if err := checkMetadataDescriptor(d); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(newVerifiedReader(rc, d)); err != nil {
		return nil, fmt.Errorf("extension: read %s: %w", d.Digest, err)
	}
	return buf.Bytes(), nil
}

func fetchVerifiedAll(ctx context.Context, f content.Fetcher, d ocispec.Descriptor) ([]byte, error) {
	if err := checkMetadataDescriptor(d); err != nil {
		return nil, err
	}
	rc, err := f.Fetch(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("extension: fetch %s: %w", d.Digest, err)
	}
	return readVerifiedAll(rc, d)
}

// fetchRoot resolves a tag or digest in src and reads the manifest or
// index it names, verified; a digest must come back as that digest. A
// registry answers in one GET (FetchReference).
func fetchRoot(ctx context.Context, src resolve.Source, object string) (ocispec.Descriptor, []byte, error) {
	var want digest.Digest // "" for a tag
	if d, err := digest.Parse(object); err == nil {
		want = d
	}
	var (
		d    ocispec.Descriptor
		rc   io.ReadCloser
		body []byte
		err  error
	)
	if rf, ok := src.(registry.ReferenceFetcher); ok {
		d, rc, err = rf.FetchReference(ctx, object)
	} else if d, err = src.Resolve(ctx, object); err == nil {
		if err = checkMetadataDescriptor(d); err == nil {
			rc, err = src.Fetch(ctx, d)
		}
	}
	if err != nil {
		return d, nil, fmt.Errorf("extension: fetch %s: %w", shorten(object), err)
	}
	if want != "" && d.Digest != want {
		rc.Close()
		return d, nil, fmt.Errorf("%w: asked for %s, the source answered %s", resolve.ErrDigest, want, d.Digest)
	}
	if body, err = readVerifiedAll(rc, d); err != nil {
		return d, nil, err
	}
	if !isIndexMediaType(d.MediaType) && !isManifestMediaType(d.MediaType) {
		// A layout resolves an untagged digest as a plain blob; the
		// content is verified, so its own mediaType field is believed.
		d.MediaType = sniffMediaType(body)
	}
	return d, body, checkShape(d, body)
}

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

// checkShape enforces that body is what d says it is, as resolve does
// (CVE-2021-41190): a manifest or index of a known media type whose
// mediaType field, when present, equals d's, with the fields of its kind.
func checkShape(d ocispec.Descriptor, body []byte) error {
	if !isIndexMediaType(d.MediaType) && !isManifestMediaType(d.MediaType) {
		return fmt.Errorf("%w: %s has media type %q, want an image manifest or index", resolve.ErrMediaType, d.Digest, d.MediaType)
	}
	var s manifestShape
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("%w: %s: %v", resolve.ErrInvalidManifest, d.Digest, err)
	}
	switch {
	case s.SchemaVersion != 2:
		return fmt.Errorf("%w: %s: schemaVersion %d, want 2", resolve.ErrInvalidManifest, d.Digest, s.SchemaVersion)
	case s.MediaType != "" && s.MediaType != d.MediaType:
		return fmt.Errorf("%w: %s: descriptor says %q, content says %q", resolve.ErrMediaType, d.Digest, d.MediaType, s.MediaType)
	case isIndexMediaType(d.MediaType) && (s.Config != nil || s.Layers != nil):
		return fmt.Errorf("%w: %s: an index with config or layers", resolve.ErrMediaType, d.Digest)
	case isManifestMediaType(d.MediaType) && s.Manifests != nil:
		return fmt.Errorf("%w: %s: a manifest with manifests", resolve.ErrMediaType, d.Digest)
	case isManifestMediaType(d.MediaType) && s.Config == nil:
		return fmt.Errorf("%w: %s: a manifest without config", resolve.ErrInvalidManifest, d.Digest)
	}
	return nil
}

// decodeChecked checks body's shape against d and decodes it into v.
func decodeChecked(d ocispec.Descriptor, body []byte, v any) error {
	if err := checkShape(d, body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", resolve.ErrInvalidManifest, d.Digest, err)
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
