package blobcache

import (
	"context"
	_ "crypto/sha256" // the digest algorithms blobs may be named by
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"pgoci/internal/verify"
)

// Options tunes [Open]. The zero value is an unbounded cache.
type Options struct {
	// MaxSize bounds the total size of the cached blobs, in bytes. When a
	// [Cache.Push] takes the cache over it, the least recently used blobs
	// are removed until it is not (see the package documentation, "The
	// bound"). A blob larger than MaxSize is not stored ([ErrTooLarge]).
	// 0: no bound. Negative: an error.
	MaxSize int64
}

// Cache is a content-addressed blob cache in one directory. Its methods
// are safe for concurrent use, also by several processes sharing the
// directory, each with its own Cache.
type Cache struct {
	dir     string
	maxSize int64

	mu sync.Mutex
	// total is the size of the blobs as the last listing found it plus
	// what this Cache stored since; -1 when not known.
	total int64
	// listed is when the blobs were last listed.
	listed time.Time
}

var (
	_ content.Storage = (*Cache)(nil)
	_ content.Deleter = (*Cache)(nil)
)

const (
	// tempAge is how old a temporary file must be to be taken for the
	// leftover of a process that crashed mid-write.
	tempAge = 24 * time.Hour
	// touchAfter is how stale a blob's use time must be for a read to
	// record a new one: reads within a minute of the last recorded use
	// cost no write.
	touchAfter = time.Minute
	// copyBuffer is the buffer Push copies with.
	copyBuffer = 256 << 10
	// relistAfter is how long a bounded Cache trusts its running total
	// before it lists the blobs again, to learn what other processes
	// stored and removed.
	relistAfter = 10 * time.Second
)

// Open opens the cache in dir, creating dir, dir/blobs and dir/tmp when
// they are missing, and removes temporary files older than a day (the
// leftovers of crashed writes). dir itself may be a symbolic link (a cache
// moved to another disk); blobs and tmp inside it must be real
// directories ([ErrUnsafeDir]).
func Open(dir string, opts Options) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("blobcache: open: empty directory name")
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("blobcache: open %s: MaxSize %d is negative (0 for no bound)", dir, opts.MaxSize)
	}
	c := &Cache{dir: dir, maxSize: opts.MaxSize, total: -1}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blobcache: open %s: %w", dir, err)
	}
	for _, d := range []string{c.blobsDir(), c.tmpDir()} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("blobcache: open %s: %w", dir, err)
		}
		if err := realDir(d); err != nil {
			return nil, err
		}
	}
	c.removeStaleTemp()
	return c, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// MaxSize returns the bound the cache was opened with (0: none).
func (c *Cache) MaxSize() int64 { return c.maxSize }

func (c *Cache) blobsDir() string { return filepath.Join(c.dir, "blobs") }
func (c *Cache) tmpDir() string   { return filepath.Join(c.dir, "tmp") }

// path returns where the blob of d is stored: blobs/<algorithm>/<hex>.
// A digest that cannot name a file safely (malformed, unknown algorithm)
// is an error wrapping [ErrDigest].
func (c *Cache) path(d digest.Digest) (string, error) {
	if err := verify.Descriptor(ocispec.Descriptor{Digest: d}); err != nil {
		return "", fmt.Errorf("blobcache: %w", err)
	}
	return filepath.Join(c.blobsDir(), d.Algorithm().String(), d.Encoded()), nil
}

// realDir refuses a path that is not a directory, or is a symbolic link:
// removing or renaming through a planted link would act outside the
// cache.
func realDir(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("blobcache: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (%s)", ErrUnsafeDir, p, fi.Mode().Type())
	}
	return nil
}

func notFound(d digest.Digest, dir, why string) error {
	return fmt.Errorf("%w: %s in %s: %s: %w", ErrNotFound, d, dir, why, errdef.ErrNotFound)
}

// Fetch opens the cached blob of target and records the use (see "The
// bound"). target.Size is checked against the file before it is opened
// for the caller: a blob of another size is [ErrNotFound]. A target.Size
// of -1 opens the blob of the digest whatever its size, for a digest
// reference whose size is not known yet.
//
// Fetch does not hash the content: every blob hashed to its digest when
// it entered the cache ([Cache.Push]), and hashing again on every read
// would double the cost of a reader that verifies anyway, as pgoci's
// installer does. A reader that must notice a later change on disk
// verifies what it reads (oras-go's content.VerifyReader) and calls
// [Cache.Delete] for a blob that fails.
func (c *Cache) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if target.Size < -1 {
		return nil, fmt.Errorf("blobcache: %w: %s: negative size %d", ErrSize, target.Digest, target.Size)
	}
	p, err := c.path(target.Digest)
	if err != nil {
		return nil, err
	}
	f, fi, err := openRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(target.Digest, c.dir, "no such blob")
	}
	if err != nil {
		return nil, notFound(target.Digest, c.dir, err.Error())
	}
	if target.Size >= 0 && fi.Size() != target.Size {
		f.Close()
		return nil, notFound(target.Digest, c.dir, fmt.Sprintf("the cached file is %d bytes, the descriptor says %d", fi.Size(), target.Size))
	}
	touch(p, fi.ModTime())
	return f, nil
}

// Exists reports whether the cache holds a blob of target's digest and
// size. Like [Cache.Fetch], it does not hash the content.
func (c *Cache) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p, err := c.path(target.Digest)
	if err != nil {
		return false, err
	}
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("blobcache: %s: %w", p, err)
	}
	return fi.Mode().IsRegular() && fi.Size() == target.Size, nil
}

// touch records a use of the blob at p, last recorded at used, by
// setting its modification time to now: only when used is over a minute
// old, so that repeated reads cost no write. A failure (a read-only
// cache) only makes the blob look older to the bound.
func touch(p string, used time.Time) {
	now := time.Now()
	if now.Sub(used) < touchAfter {
		return
	}
	_ = os.Chtimes(p, time.Time{}, now) // a zero time leaves the access time alone
}

// Push stores what r yields as the blob of expected. The bytes are written to a
// uniquely named temporary file under tmp/, hashed and counted as they
// are written, and renamed to blobs/<algorithm>/<hex> only when they are
// exactly expected.Size bytes hashing to expected.Digest: otherwise the
// temporary file is removed and the error wraps [ErrSize] or [ErrDigest].
// Readers never see a partial blob, and several processes may push the
// same blob at once (the last rename of identical bytes wins). A blob
// present already, of the right size, is a success without reading r;
// it counts as used.
//
// With a bound, a blob larger than [Options].MaxSize is [ErrTooLarge],
// before r is read; after a blob is stored, the least recently used
// blobs are removed while the cache is over the bound, never the blob just
// stored. Failures of that clean-up do not fail the Push: [Cache.Prune]
// reports them.
//
// Push does not sync the blob to disk: after a power loss a blob may be
// short or damaged, which a reader that verifies notices (see
// [Cache.Fetch]).
func (c *Cache) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	return c.push(ctx, expected, r, true)
}

// PushVerified is [Cache.Push] for a caller that hashes the same bytes
// itself, as they stream past, and ends r with an error rather than
// io.EOF when they do not hash to expected.Digest: the pgoci installer,
// whose unpacker verifies every layer it reads. The bytes are counted,
// not hashed, so a blob is not hashed twice on its way to disk; a blob
// of the wrong size is still refused ([ErrSize]). Bytes nobody verifies
// go through Push. What a caller breaking that promise stores is found
// out by every reader that verifies, as after a power loss.
func (c *Cache) PushVerified(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	return c.push(ctx, expected, r, false)
}

// push stores r as the blob of expected, hashing it when hash is set and
// only counting it otherwise.
func (c *Cache) push(ctx context.Context, expected ocispec.Descriptor, r io.Reader, hash bool) error {
	if err := verify.Descriptor(expected); err != nil {
		return fmt.Errorf("blobcache: push: %w", err)
	}
	if c.maxSize > 0 && expected.Size > c.maxSize {
		return fmt.Errorf("%w: push %s: %d bytes, the cache in %s holds at most %d", ErrTooLarge, expected.Digest, expected.Size, c.dir, c.maxSize)
	}
	p, err := c.path(expected.Digest)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == expected.Size {
		touch(p, fi.ModTime())
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blobcache: push %s: %w", expected.Digest, err)
	}
	algDir := filepath.Dir(p)
	if err := os.Mkdir(algDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("blobcache: push %s: %w", expected.Digest, err)
	}
	if err := realDir(algDir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.tmpDir(), expected.Digest.Encoded()[:16]+"-*")
	if err != nil {
		return fmt.Errorf("blobcache: push %s: %w", expected.Digest, err)
	}
	name := tmp.Name()
	src := verify.WithContext(ctx, r)
	if hash {
		src = verify.NewReader(src, expected, nil)
	} else {
		src = verify.NewSizeReader(src, expected)
	}
	_, err = io.CopyBuffer(writerOnly{tmp}, src, make([]byte, copyBuffer))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, p)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("blobcache: push %s into %s: %w", expected.Digest, c.dir, err)
	}
	if c.maxSize > 0 {
		c.bound(ctx, expected)
	}
	return nil
}

// bound enforces the bound after d was stored. Listing the blobs costs a
// stat per blob, so it is done only when this Cache does not know the
// total, when its writes would take the total over the bound, or when the
// total is over relistAfter old; otherwise d's size is added to it.
func (c *Cache) bound(ctx context.Context, d ocispec.Descriptor) {
	c.mu.Lock()
	list := c.total < 0 || c.total+d.Size > c.maxSize || time.Since(c.listed) > relistAfter
	if !list {
		c.total += d.Size
	}
	c.mu.Unlock()
	if !list {
		return
	}
	listed := time.Now()
	total, err := c.shrink(ctx, c.maxSize, d.Digest, nil)
	c.setTotal(total, listed, err)
}

// setTotal records the total a listing at listed found (unknown on err).
func (c *Cache) setTotal(total int64, listed time.Time, err error) {
	if err != nil {
		c.forgetTotal()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total, c.listed = total, listed
}

// forgetTotal makes the next bounded Push list the blobs.
func (c *Cache) forgetTotal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = -1
}

// Delete removes the blob of target (a blob a reader found corrupt). A
// reader that has it open keeps reading it where the system allows (see
// "Other systems"). A blob not cached is [ErrNotFound].
func (c *Cache) Delete(ctx context.Context, target ocispec.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.path(target.Digest)
	if err != nil {
		return err
	}
	if err := realDir(filepath.Dir(p)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return notFound(target.Digest, c.dir, "no such blob")
		}
		return err
	}
	err = os.Remove(p)
	c.forgetTotal()
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(target.Digest, c.dir, "no such blob")
	}
	if err != nil {
		return fmt.Errorf("blobcache: delete %s: %w", target.Digest, err)
	}
	return nil
}

// removeStaleTemp removes the temporary files older than tempAge and
// returns how many it removed.
func (c *Cache) removeStaleTemp() int {
	entries, err := os.ReadDir(c.tmpDir())
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > tempAge {
			if os.Remove(filepath.Join(c.tmpDir(), e.Name())) == nil {
				n++
			}
		}
	}
	return n
}

// writerOnly hides *os.File's ReadFrom, so that io.CopyBuffer uses the
// buffer it is given.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
