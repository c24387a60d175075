package extension

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"

	"pgoci/internal/verify"
	"pgoci/resolve"
)

// blobCache is a content-addressed store of blobs, manifests and indexes:
// <dir>/blobs/<algorithm>/<hex>. A blob enters it only after its bytes
// hashed to its digest: fetched bytes are teed into a uniquely named
// temporary file under <dir>/tmp and renamed into place at EOF, so
// several processes can fill the same cache at once (the last rename of
// identical content wins). Reads are verified again while streaming, and a
// cached file that no longer hashes right is removed.
type blobCache struct{ dir string }

// cacheTempAge is how old a temporary file under <cache>/tmp must be to
// be taken for a crashed process's leftover.
const cacheTempAge = 24 * time.Hour

// openCache creates the cache directories under dir and removes old
// temporary files.
func openCache(dir string) (*blobCache, error) {
	c := &blobCache{dir: dir}
	for _, d := range []string{c.tmpDir(), filepath.Join(dir, "blobs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("extension: blob cache: %w", err)
		}
	}
	if entries, err := os.ReadDir(c.tmpDir()); err == nil {
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > cacheTempAge {
				os.Remove(filepath.Join(c.tmpDir(), e.Name()))
			}
		}
	}
	return c, nil
}

// defaultCacheDir is os.UserCacheDir()/pgoci.
func defaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("extension: blob cache: %w (set RootOptions.CacheDir, or \"-\" for none)", err)
	}
	return filepath.Join(d, "pgoci"), nil
}

func (c *blobCache) tmpDir() string { return filepath.Join(c.dir, "tmp") }

// path returns where d is stored, false for a digest that cannot name a
// file safely (unknown algorithm, malformed hex).
func (c *blobCache) path(d digest.Digest) (string, bool) {
	if d.Validate() != nil {
		return "", false
	}
	return filepath.Join(c.dir, "blobs", d.Algorithm().String(), d.Encoded()), true
}

// open returns the cached content of d, verified while read, if the
// cache holds it with the given size (size < 0: any size).
func (c *blobCache) open(d digest.Digest, size int64) (io.ReadCloser, int64, bool) {
	p, ok := c.path(d)
	if !ok {
		return nil, 0, false
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || (size >= 0 && fi.Size() != size) {
		f.Close()
		return nil, 0, false
	}
	v := verify.NewReader(f, ocispec.Descriptor{Digest: d, Size: fi.Size()}, nil)
	return &cachedReader{r: v, f: f, path: p, want: d}, fi.Size(), true
}

// cachedReader verifies a cached file as it is read; a file that does
// not hash to its name is removed from the cache and the read fails.
type cachedReader struct {
	r    io.Reader
	f    *os.File
	path string
	want digest.Digest
}

func (r *cachedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if errors.Is(err, verify.ErrDigest) || errors.Is(err, verify.ErrSize) {
		os.Remove(r.path)
		return n, fmt.Errorf("extension: cached blob %s is corrupt (removed from the cache; try again): %w", r.want, err)
	}
	return n, err
}

func (r *cachedReader) Close() error { return r.f.Close() }

// tee returns rc with every byte read also written to a temporary file
// that becomes the cached copy of desc once the bytes hashed to its
// digest and size. Content that cannot be cached passes through as is.
func (c *blobCache) tee(rc io.ReadCloser, desc ocispec.Descriptor) io.ReadCloser {
	p, ok := c.path(desc.Digest)
	if !ok || desc.Size < 0 {
		return rc
	}
	f, err := os.CreateTemp(c.tmpDir(), desc.Digest.Encoded()[:min(16, len(desc.Digest.Encoded()))]+"-*")
	if err != nil {
		return rc
	}
	return &teeReader{rc: rc, f: f, h: desc.Digest.Algorithm().Hash(), desc: desc, dst: p}
}

type teeReader struct {
	rc   io.ReadCloser
	f    *os.File // nil once finished or abandoned
	h    hash.Hash
	n    int64
	desc ocispec.Descriptor
	dst  string
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && t.f != nil {
		t.h.Write(p[:n])
		t.n += int64(n)
		if _, werr := t.f.Write(p[:n]); werr != nil || t.n > t.desc.Size {
			t.abandon()
		}
	}
	if errors.Is(err, io.EOF) {
		t.finish()
	}
	return n, err
}

// finish renames the temporary file into the cache when the bytes
// verified, else removes it.
func (t *teeReader) finish() {
	if t.f == nil {
		return
	}
	if t.n != t.desc.Size || digest.NewDigest(t.desc.Digest.Algorithm(), t.h) != t.desc.Digest {
		t.abandon()
		return
	}
	name := t.f.Name()
	err := t.f.Close()
	t.f = nil
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(t.dst), 0o755); err == nil {
			err = os.Rename(name, t.dst)
		}
	}
	if err != nil {
		os.Remove(name)
	}
}

func (t *teeReader) abandon() {
	if t.f != nil {
		t.f.Close()
		os.Remove(t.f.Name())
		t.f = nil
	}
}

// Close caches the content if it was read whole (a reader that stops at
// the announced size without asking for EOF), then closes the source.
func (t *teeReader) Close() error {
	if t.n == t.desc.Size {
		t.finish()
	}
	t.abandon()
	return t.rc.Close()
}

// cachedSource is a [resolve.Source] that answers digests from the blob
// cache and caches what it fetches. Tags always go to the source (a tag
// can move); a digest reference the cache holds makes no request at all.
type cachedSource struct {
	src   resolve.Source
	cache *blobCache
}

var _ resolve.Source = (*cachedSource)(nil)

// cacheRefFetcher is oras-go's registry.ReferenceFetcher: one round trip
// for a tag's descriptor and content.
type cacheRefFetcher interface {
	FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error)
}

func (s *cachedSource) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	if d, ok := s.cachedManifest(reference); ok {
		return d, nil
	}
	return s.src.Resolve(ctx, reference)
}

func (s *cachedSource) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	if rc, _, ok := s.cache.open(target.Digest, target.Size); ok {
		return rc, nil
	}
	rc, err := s.src.Fetch(ctx, target)
	if err != nil {
		return nil, err
	}
	return s.cache.tee(rc, target), nil
}

func (s *cachedSource) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	return s.src.Tags(ctx, last, fn)
}

// Referrers lists the referrers of desc from the source (signatures and
// attestations are read fresh, never from the cache), for a source that
// can list them; otherwise it is errdef.ErrUnsupported and the caller
// falls back to the tag schema.
func (s *cachedSource) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func([]ocispec.Descriptor) error) error {
	if rl, ok := s.src.(registry.ReferrerLister); ok {
		return rl.Referrers(ctx, desc, artifactType, fn)
	}
	return errdef.ErrUnsupported
}

// FetchReference answers a cached digest from the cache, and otherwise
// asks the source (in one round trip when it can) and caches the content.
func (s *cachedSource) FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error) {
	if d, ok := s.cachedManifest(reference); ok {
		if rc, _, ok := s.cache.open(d.Digest, d.Size); ok {
			return d, rc, nil
		}
	}
	var (
		d   ocispec.Descriptor
		rc  io.ReadCloser
		err error
	)
	if rf, ok := s.src.(cacheRefFetcher); ok {
		d, rc, err = rf.FetchReference(ctx, reference)
	} else if d, err = s.src.Resolve(ctx, reference); err == nil {
		rc, err = s.src.Fetch(ctx, d)
	}
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return d, s.cache.tee(rc, d), nil
}

// cachedManifest returns the descriptor of a digest reference the cache
// holds, its media type read from the content's mediaType field (the
// resolver verifies the content and its shape anyway).
func (s *cachedSource) cachedManifest(reference string) (ocispec.Descriptor, bool) {
	d, err := digest.Parse(reference)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	rc, size, ok := s.cache.open(d, -1)
	if !ok {
		return ocispec.Descriptor{}, false
	}
	defer rc.Close()
	if size > resolve.MaxManifestSize {
		return ocispec.Descriptor{}, false
	}
	body, err := io.ReadAll(rc)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	var shape struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &shape) != nil || shape.MediaType == "" {
		return ocispec.Descriptor{}, false
	}
	return ocispec.Descriptor{MediaType: shape.MediaType, Digest: d, Size: size}, true
}

// cacheRandom returns 8 random hex digits for unique temporary names.
func cacheRandom() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// installIsLayout reports whether ref names an OCI layout ("oci:DIR").
func installIsLayout(ref string) bool { return strings.HasPrefix(ref, resolve.LayoutPrefix) }

// layerReader opens a layer for unpack.Layer, which verifies its digest
// and size as it reads: the cache does not hash the bytes a second time.
// A cached copy is read as is; a fetched one is teed into a temporary
// file. done must be called with the unpacker's error: a verified fetch
// is kept in the cache, a cached copy that failed its digest is removed
// from it (and the error says so), anything else is discarded.
func (s *cachedSource) layerReader(ctx context.Context, l ocispec.Descriptor) (io.ReadCloser, func(error) error, error) {
	c := s.cache
	if p, ok := c.path(l.Digest); ok {
		if f, err := os.Open(p); err == nil {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() == l.Size {
				return f, func(err error) error {
					// A failure may come from a copy spoiled on disk: the
					// copy is hashed then (only then), and dropped if so.
					if err != nil && !errors.Is(err, context.Canceled) && !c.holds(p, l) {
						os.Remove(p)
						return fmt.Errorf("extension: cached blob %s is corrupt (removed from the cache; try again): %w", l.Digest, err)
					}
					return err
				}, nil
			}
			f.Close()
		}
	}
	rc, err := s.src.Fetch(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	t := s.cache.rawTee(rc, l)
	return t, t.done, nil
}

// holds reports whether the file at p hashes to desc.
func (c *blobCache) holds(p string, desc ocispec.Descriptor) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, verify.NewReader(f, desc, nil))
	return err == nil
}

// rawTee is tee without hashing: the caller verifies the bytes and says
// so with done.
func (c *blobCache) rawTee(rc io.ReadCloser, desc ocispec.Descriptor) *rawTeeReader {
	t := &rawTeeReader{rc: rc}
	p, ok := c.path(desc.Digest)
	if !ok || desc.Size < 0 {
		return t
	}
	f, err := os.CreateTemp(c.tmpDir(), desc.Digest.Encoded()[:min(16, len(desc.Digest.Encoded()))]+"-*")
	if err == nil {
		t.f, t.dst, t.size = f, p, desc.Size
	}
	return t
}

type rawTeeReader struct {
	rc   io.ReadCloser
	f    *os.File // nil when not caching
	dst  string
	n    int64
	size int64
}

func (t *rawTeeReader) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && t.f != nil {
		t.n += int64(n)
		if _, werr := t.f.Write(p[:n]); werr != nil || t.n > t.size {
			t.discard()
		}
	}
	return n, err
}

func (t *rawTeeReader) Close() error { return t.rc.Close() }

// done keeps the copy when the bytes verified (err is nil) and all of
// them were written, and discards it otherwise; it returns err.
func (t *rawTeeReader) done(err error) error {
	if t.f == nil {
		return err
	}
	if err != nil || t.n != t.size {
		t.discard()
		return err
	}
	name := t.f.Name()
	cerr := t.f.Close()
	t.f = nil
	if cerr == nil {
		if cerr = os.MkdirAll(filepath.Dir(t.dst), 0o755); cerr == nil {
			cerr = os.Rename(name, t.dst)
		}
	}
	if cerr != nil {
		os.Remove(name) // not cached: the install itself is fine
	}
	return nil
}

func (t *rawTeeReader) discard() {
	if t.f != nil {
		t.f.Close()
		os.Remove(t.f.Name())
		t.f = nil
	}
}
