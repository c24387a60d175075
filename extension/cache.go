package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"

	"pgoci/blobcache"
	"pgoci/internal/tmpname"
	"pgoci/internal/verify"
	"pgoci/resolve"
)

// BlobCache is the blob cache [Root.Install] and [Root.Sync] fetch through
// ([RootOptions].Cache): blobs, manifests and indexes by digest. The
// default, which [RootOptions].CacheDir opens, is a
// [*blobcache.Cache]; another implementation (a shared volume, an object
// store) plugs in here. The three methods have the signatures of oras-go's
// content.Fetcher, content.Pusher and content.Deleter, and must be safe
// for concurrent use.
//
// The installer trusts no cache: every byte Fetch returns is verified
// against the descriptor before it is used (manifests, indexes and configs
// as they are read, layers by the unpacker, which hashes them anyway), and
// a blob that fails is removed with Delete and fetched from the source.
// An implementation therefore need not hash what it returns.
//
// What the installer offers to Push it streams while it fetches it, from
// another goroutine: content ends in io.EOF only once the installer has
// verified every byte against expected, and in an error otherwise, in
// which case nothing may be kept. An implementation that hashes the bytes
// itself, as blobcache's Push does, keeps that guarantee whatever its
// caller. One that also has a method
//
//	PushVerified(ctx context.Context, expected ocispec.Descriptor, content io.Reader) error
//
// (as [*blobcache.Cache] has) is given the blobs through it instead, with
// the same promise: the installer has hashed the bytes, and the cache
// need not hash them again.
type BlobCache interface {
	// Fetch opens the cached blob of target. A target.Size of -1 asks
	// for the blob of target.Digest whatever its size (a digest reference,
	// whose size is not known before its content); an implementation
	// that cannot answer that returns an error. Any error is a miss: the
	// installer asks the source.
	Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error)
	// Push stores what content yields as the blob of expected. It must
	// read content until it ends, or return: Push returning early (a blob
	// cached already) is fine. Its error is not the install's: a blob that
	// could not be cached is fetched again next time.
	Push(ctx context.Context, expected ocispec.Descriptor, content io.Reader) error
	// Delete removes the blob of target, which the installer found
	// corrupt.
	Delete(ctx context.Context, target ocispec.Descriptor) error
}

var _ BlobCache = (*blobcache.Cache)(nil)

// blobCache is the installer's side of a [BlobCache]: it verifies what
// it reads and streams what it fetches into it.
type blobCache struct{ c BlobCache }

// openCache opens the default cache in dir, unbounded.
func openCache(dir string) (*blobCache, error) {
	c, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		return nil, fmt.Errorf("extension: blob cache: %w", err)
	}
	return &blobCache{c: c}, nil
}

// defaultCacheDir is [blobcache.DefaultDir]: $PGOCI_CACHE_DIR, else
// os.UserCacheDir()/pgoci, else a private directory under os.TempDir().
func defaultCacheDir() (string, error) {
	d, err := blobcache.DefaultDir()
	if err != nil {
		return "", fmt.Errorf("extension: blob cache: %w (set RootOptions.CacheDir, or \"-\" for none)", err)
	}
	return d, nil
}

// corrupt is the error for a cached blob that failed its digest or size.
func corrupt(d digest.Digest, err error) error {
	return fmt.Errorf("extension: cached blob %s is corrupt (removed from the cache; try again): %w", d, err)
}

// open returns the cached content of desc, verified while read: a blob
// that does not hash to desc fails the read and is removed from the
// cache. false when the cache does not have it.
func (c *blobCache) open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, bool) {
	if desc.Size < 0 {
		return nil, false
	}
	rc, err := c.c.Fetch(ctx, desc)
	if err != nil {
		return nil, false
	}
	return &cachedReader{r: verify.NewReader(rc, desc, nil), rc: rc, ctx: ctx, cache: c.c, desc: desc}, true
}

// cachedReader verifies a cached blob as it is read; a blob that does
// not hash to its descriptor is removed from the cache and the read fails.
type cachedReader struct {
	r     io.Reader
	rc    io.ReadCloser
	ctx   context.Context
	cache BlobCache
	desc  ocispec.Descriptor
}

func (r *cachedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if errors.Is(err, verify.ErrDigest) || errors.Is(err, verify.ErrSize) {
		_ = r.cache.Delete(context.WithoutCancel(r.ctx), r.desc)
		return n, corrupt(r.desc.Digest, err)
	}
	return n, err
}

func (r *cachedReader) Close() error { return r.rc.Close() }

// manifest returns the cached content of the digest d, of any size up to
// resolve.MaxManifestSize, when it hashes to d; a cached copy that does
// not is removed.
func (c *blobCache) manifest(ctx context.Context, d digest.Digest) ([]byte, bool) {
	if d.Validate() != nil {
		return nil, false
	}
	target := ocispec.Descriptor{Digest: d, Size: -1}
	rc, err := c.c.Fetch(ctx, target)
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, resolve.MaxManifestSize+1))
	if err != nil || len(body) > resolve.MaxManifestSize {
		return nil, false
	}
	if d.Algorithm().FromBytes(body) != d {
		_ = c.c.Delete(ctx, target)
		return nil, false
	}
	return body, true
}

// tee returns rc with every byte read also streamed into the cache's
// Push of desc, in another goroutine. With auto, the content is offered
// as complete when rc ends: rc must then be a verifying reader, whose
// io.EOF means the bytes hashed right. Without, the caller says so with
// done. Content that cannot be cached (a descriptor that cannot be
// verified) passes through as is.
func (c *blobCache) tee(ctx context.Context, rc io.ReadCloser, desc ocispec.Descriptor, auto bool) *teeReader {
	t := &teeReader{rc: rc, size: desc.Size, auto: auto}
	if verify.Descriptor(desc) != nil {
		return t
	}
	pr, pw := io.Pipe()
	t.pw, t.pushed = pw, make(chan struct{})
	push := c.c.Push
	if v, ok := c.c.(verifiedPusher); ok {
		push = v.PushVerified // the bytes reach io.EOF only verified: see BlobCache
	}
	go func() {
		defer close(t.pushed)
		_ = push(ctx, desc, pr)
		// A Push that returned early (the blob was cached meanwhile) or
		// failed unblocks the writer, which then stops teeing.
		pr.CloseWithError(errPushDone)
	}()
	return t
}

// verifiedPusher is a [BlobCache] that takes bytes its caller verified
// without hashing them again.
type verifiedPusher interface {
	PushVerified(ctx context.Context, expected ocispec.Descriptor, content io.Reader) error
}

var _ verifiedPusher = (*blobcache.Cache)(nil)

// errPushDone is what the tee's writes see once Push returned, and
// errAbandoned what Push sees of content not read to its verified end.
var (
	errPushDone  = errors.New("extension: cache push returned")
	errAbandoned = errors.New("extension: content not read whole, or not verified")
)

type teeReader struct {
	rc     io.ReadCloser
	pw     *io.PipeWriter // nil once finished, or when not caching
	pushed chan struct{}  // closed when Push returned
	n      int64
	size   int64
	auto   bool
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && t.pw != nil {
		t.n += int64(n)
		if t.n > t.size {
			t.finish(errAbandoned)
		} else if _, werr := t.pw.Write(p[:n]); werr != nil {
			t.finish(werr)
		}
	}
	if t.pw != nil && err != nil {
		if t.auto && err == io.EOF {
			t.finish(nil)
		} else if err != io.EOF {
			t.finish(err)
		}
	}
	return n, err
}

// finish ends the content Push reads: with io.EOF when err is nil (the
// bytes verified), else with err; and waits for Push to return.
func (t *teeReader) finish(err error) {
	if t.pw == nil {
		return
	}
	t.pw.CloseWithError(err) // nil: io.EOF
	t.pw = nil
	<-t.pushed
}

// done is the layer path's verdict: the bytes are offered as complete
// when the unpacker verified them (err is nil) and all were read. It
// returns err.
func (t *teeReader) done(err error) error {
	if err == nil && t.n == t.size {
		t.finish(nil)
	}
	t.finish(errAbandoned)
	return err
}

// Close offers the content as complete when it was read whole and
// verified by a reader that stopped at the announced size without asking
// for io.EOF, discards it otherwise, and closes the source.
func (t *teeReader) Close() error {
	if t.pw != nil && t.auto && t.n == t.size {
		if _, err := t.rc.Read(make([]byte, 1)); err == io.EOF {
			t.finish(nil)
		}
	}
	t.finish(errAbandoned)
	return t.rc.Close()
}

// verifiedReadCloser is a verifying reader of rc that closes rc.
type verifiedReadCloser struct {
	io.Reader
	io.Closer
}

func verifying(rc io.ReadCloser, d ocispec.Descriptor) io.ReadCloser {
	return verifiedReadCloser{verify.NewReader(rc, d, nil), rc}
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
	if d, _, ok := s.cachedManifest(ctx, reference); ok {
		return d, nil
	}
	return s.src.Resolve(ctx, reference)
}

func (s *cachedSource) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	if rc, ok := s.cache.open(ctx, target); ok {
		return rc, nil
	}
	rc, err := s.src.Fetch(ctx, target)
	if err != nil {
		return nil, err
	}
	return s.cache.tee(ctx, verifying(rc, target), target, true), nil
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
	if d, body, ok := s.cachedManifest(ctx, reference); ok {
		return d, io.NopCloser(bytes.NewReader(body)), nil
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
	return d, s.cache.tee(ctx, verifying(rc, d), d, true), nil
}

// cachedManifest returns the descriptor and content of a digest reference
// the cache holds, its media type read from the content's mediaType field
// (the resolver verifies the content and its shape anyway).
func (s *cachedSource) cachedManifest(ctx context.Context, reference string) (ocispec.Descriptor, []byte, bool) {
	d, err := digest.Parse(reference)
	if err != nil {
		return ocispec.Descriptor{}, nil, false
	}
	body, ok := s.cache.manifest(ctx, d)
	if !ok {
		return ocispec.Descriptor{}, nil, false
	}
	var shape struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &shape) != nil || shape.MediaType == "" {
		return ocispec.Descriptor{}, nil, false
	}
	return ocispec.Descriptor{MediaType: shape.MediaType, Digest: d, Size: int64(len(body))}, body, true
}

// cacheRandom returns 8 random hex digits for unique temporary names.
func cacheRandom() string { return tmpname.Suffix() }

// installIsLayout reports whether ref names an OCI layout ("oci:DIR").
func installIsLayout(ref string) bool { return strings.HasPrefix(ref, resolve.LayoutPrefix) }

// layerReader opens a layer for unpack.Layer, which verifies its digest
// and size as it reads: a cached copy is not hashed a second time (only
// when unpacking it failed, to tell a spoiled copy), and a fetched one is
// offered to the cache as complete only once the unpacker verified it.
// done must be called with the unpacker's error: a cached copy that fails
// its digest is removed from the cache (and the error says so).
func (s *cachedSource) layerReader(ctx context.Context, l ocispec.Descriptor) (io.ReadCloser, func(error) error, error) {
	c := s.cache
	if rc, err := c.c.Fetch(ctx, l); err == nil {
		return rc, func(err error) error {
			// The context's own end is not the copy's fault.
			if err != nil && ctx.Err() == nil {
				if herr := c.holds(ctx, l); herr != nil {
					_ = c.c.Delete(ctx, l)
					return corrupt(l.Digest, err)
				}
			}
			return err
		}, nil
	}
	rc, err := s.src.Fetch(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	t := c.tee(ctx, rc, l, false)
	return t, t.done, nil
}

// holds reads the cached copy of desc again, verifying it: nil when it
// hashes right or could not be read (it may have been pruned meanwhile:
// then it is not known to be spoiled), the digest or size error when it
// does not.
func (c *blobCache) holds(ctx context.Context, desc ocispec.Descriptor) error {
	rc, err := c.c.Fetch(ctx, desc)
	if err != nil {
		return nil
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, verify.NewReader(rc, desc, nil))
	if errors.Is(err, verify.ErrDigest) || errors.Is(err, verify.ErrSize) {
		return err
	}
	return nil
}
