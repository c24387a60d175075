package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"pgoci/internal/verify"
)

// Store is an OCI image layout directory, open for reading and writing.
// All its methods are safe for concurrent use, also by several processes
// sharing the directory.
type Store struct {
	dir string
}

var (
	_ oras.Target     = (*Store)(nil)
	_ content.Storage = (*Store)(nil)
)

// lockFile is the flock(2) target that serialises index.json updates. It
// sits next to index.json; OCI tools ignore files they do not know.
const lockFile = "index.json.lock"

// New opens the OCI image layout at dir, creating the directory, its
// oci-layout file, an empty index.json and blobs/ when they are missing.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, ocispec.ImageBlobsDir), 0o755); err != nil {
		return nil, fmt.Errorf("ocilayout: create %s: %w", dir, err)
	}
	s := &Store{dir: dir}
	if err := s.init(); err != nil {
		return nil, err
	}
	return s, s.checkLayout()
}

// Open opens the existing OCI image layout at dir.
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir}
	if err := s.checkLayout(); err != nil {
		return nil, err
	}
	if _, err := s.Index(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the layout directory.
func (s *Store) Dir() string { return s.dir }

// init writes oci-layout and index.json when missing, under the lock so
// that two processes creating the same layout do not race.
func (s *Store) init() error {
	return s.withLock(func() error {
		layout := filepath.Join(s.dir, ocispec.ImageLayoutFile)
		if _, err := os.Stat(layout); errors.Is(err, fs.ErrNotExist) {
			b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
			if err := s.writeAtomic(ocispec.ImageLayoutFile, b); err != nil {
				return err
			}
		}
		if _, err := os.Stat(filepath.Join(s.dir, ocispec.ImageIndexFile)); errors.Is(err, fs.ErrNotExist) {
			return s.writeIndex(emptyIndex())
		}
		return nil
	})
}

func (s *Store) checkLayout() error {
	b, err := os.ReadFile(filepath.Join(s.dir, ocispec.ImageLayoutFile))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotLayout, s.dir, err)
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("%w: %s: oci-layout: %v", ErrNotLayout, s.dir, err)
	}
	if l.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%w: %s: imageLayoutVersion %q, want %q", ErrNotLayout, s.dir, truncate(l.Version), ocispec.ImageLayoutVersion)
	}
	return nil
}

// blobPath returns the path of d's blob; d must have passed checkDigest.
func (s *Store) blobPath(d digest.Digest) string {
	return filepath.Join(s.dir, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

// Exists reports whether the blob of d is in the store: a regular file of
// d's size, and, for content up to maxManifestSize (manifests, indexes,
// configs), hashing to d's digest. Copy tools skip the whole graph under
// an existing root, so a root must not be believed on its size alone;
// larger blobs are checked by size here and verified whenever read.
func (s *Store) Exists(_ context.Context, d ocispec.Descriptor) (bool, error) {
	if err := checkDigest(d.Digest); err != nil {
		return false, err
	}
	fi, err := os.Lstat(s.blobPath(d.Digest))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ocilayout: %s: %w", d.Digest, err)
	case !fi.Mode().IsRegular() || fi.Size() != d.Size:
		// Not the blob described: report it missing so that a push
		// replaces it.
		return false, nil
	case d.Size <= maxManifestSize:
		return s.hashes(d), nil
	}
	return true, nil
}

// hashes reports whether the blob of d reads back as d.
func (s *Store) hashes(d ocispec.Descriptor) bool {
	rc, err := s.Fetch(context.Background(), d)
	if err != nil {
		return false
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err == nil
}

// Fetch opens the blob of d. The reader verifies the content against d
// as it is read: a blob changed on disk is an
// error at the end of the stream, never a silent success. The caller
// closes it.
func (s *Store) Fetch(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := checkDigest(d.Digest); err != nil {
		return nil, err
	}
	f, err := openRegular(s.blobPath(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s: %w", ErrNotFound, d.Digest, errdef.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("ocilayout: %s: %w", d.Digest, err)
	}
	return readCloser{verify.NewReader(f, d, nil), f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
