package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/verify"
)

// maxManifestSize bounds what Push keeps in memory to look for a subject
// field: manifests, as registries cap them, are at most 4 MiB.
const maxManifestSize = 4 << 20

// Push writes the blob of expected from r. The content goes to a
// temporary file in the blob's own directory, is verified against
// expected's size and digest while it is written, synced, and renamed
// into place: a reader never sees a partial blob, and a failed or
// cancelled push leaves nothing behind. A blob already present is a
// success, without reading r.
//
// A manifest with a subject field (a signature, an SBOM, an attestation)
// is also recorded in index.json as an untagged entry, so that it stays
// reachable and OCI layout readers that list referrers from index.json
// (oras-go's content/oci) find it.
func (s *Store) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	if err := checkDigest(expected.Digest); err != nil {
		return err
	}
	if expected.Size < 0 {
		return fmt.Errorf("%w: %s: negative size %d", ErrSize, expected.Digest, expected.Size)
	}
	exists, err := s.Exists(ctx, expected)
	if err != nil {
		return err
	}
	// Exists trusts the size of large blobs; a push has the bytes at hand,
	// so a same-size blob that does not hash right is replaced.
	exists = exists && (expected.Size <= maxManifestSize || s.hashes(expected))
	var body []byte
	if !exists {
		if body, err = s.writeBlob(ctx, expected, r); err != nil {
			return err
		}
	} else if isManifest(expected.MediaType) && expected.Size <= maxManifestSize {
		if body, err = os.ReadFile(s.blobPath(expected.Digest)); err != nil {
			return fmt.Errorf("ocilayout: %s: %w", expected.Digest, err)
		}
	}
	if hasSubject(body) {
		return s.addUntagged(expected)
	}
	return nil
}

// writeBlob streams r into the blob of d and returns the content when it
// is a manifest small enough to look into.
func (s *Store) writeBlob(ctx context.Context, d ocispec.Descriptor, r io.Reader) ([]byte, error) {
	final := s.blobPath(d.Digest)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	// The blob directories must be real: a planted symlink would send the
	// write outside the layout.
	for _, p := range []string{filepath.Dir(dir), dir} {
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s is not a directory", ErrNotLayout, p)
		}
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+d.Digest.Encoded()[:12]+"-*")
	if err != nil {
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()

	var keep bytes.Buffer
	w := io.Writer(tmp)
	if isManifest(d.MediaType) && d.Size <= maxManifestSize {
		w = io.MultiWriter(tmp, &keep)
	}
	if _, err := io.Copy(w, verify.NewReader(verify.WithContext(ctx, r), d, nil)); err != nil {
		return nil, fmt.Errorf("ocilayout: write blob %s: %w", d.Digest, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("ocilayout: sync blob %s: %w", d.Digest, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("ocilayout: close blob %s: %w", d.Digest, err)
	}
	// Renaming over a blob another writer finished meanwhile is harmless:
	// both hold the same verified bytes.
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return keep.Bytes(), nil
}

func isManifest(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return false
}

func hasSubject(body []byte) bool {
	if len(body) == 0 {
		return false
	}
	var m struct {
		Subject *ocispec.Descriptor `json:"subject"`
	}
	return json.Unmarshal(body, &m) == nil && m.Subject != nil && m.Subject.Digest != ""
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ocilayout: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("ocilayout: sync %s: %w", dir, err)
	}
	return nil
}
