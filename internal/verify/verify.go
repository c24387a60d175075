// Package verify holds pgoci's one verifying reader: content from a
// registry, an OCI layout or a cache is hashed and counted while it is
// read, and a body that is not exactly the descriptor's size and digest
// ends in an error instead of io.EOF. resolve, extension, the OCI layout
// store and the blob cache all read through it (the cache counts without
// hashing what its caller hashed already: NewSizeReader); the unpacker
// verifies inside its own pipeline. WithContext stops a long copy when
// its context ends.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Sentinels. The packages that read through this one re-export them under
// their own names (resolve.ErrDigest is ErrDigest), so one errors.Is test
// works whichever package reported the failure.
var (
	// ErrDigest: content that does not hash to its descriptor's digest,
	// or a digest that cannot be verified.
	ErrDigest = errors.New("digest mismatch")
	// ErrSize: content longer or shorter than its descriptor's size, or a
	// negative size.
	ErrSize = errors.New("size mismatch")
)

// Descriptor refuses a descriptor whose content cannot be verified: a
// malformed digest or unknown algorithm (which could not name a file
// safely either), or a negative size.
func Descriptor(d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: descriptor digest %q: %v", ErrDigest, Truncate(string(d.Digest)), err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s: negative size %d", ErrSize, d.Digest, d.Size)
	}
	return nil
}

// NewReader returns a reader of r that hashes and counts what it reads
// and, instead of io.EOF, returns an error wrapping [ErrSize] or
// [ErrDigest] when the content is not exactly d.Size bytes hashing to
// d.Digest. It reads at most one byte past d.Size, so a source that lies
// about its length costs nothing. The check is inside Read: a consumer that
// only reads to EOF (an HTTP upload, io.Copy) cannot miss it, unlike
// oras-go's content.VerifyReader. count, if not nil, is told of every
// chunk read.
func NewReader(r io.Reader, d ocispec.Descriptor, count func(n int64)) io.Reader {
	if err := Descriptor(d); err != nil {
		return &reader{err: err}
	}
	return &reader{r: io.LimitReader(r, d.Size+1), d: d, v: d.Digest.Verifier(), count: count}
}

// NewSizeReader is [NewReader] without the hash: for a caller that hashes
// the same bytes itself as they stream past (the installer's unpacker,
// in front of the blob cache) and must not pay for it twice. Content that
// is not exactly d.Size bytes still ends in an error wrapping [ErrSize].
func NewSizeReader(r io.Reader, d ocispec.Descriptor) io.Reader {
	if err := Descriptor(d); err != nil {
		return &reader{err: err}
	}
	return &reader{r: io.LimitReader(r, d.Size+1), d: d}
}

// WithContext returns a reader of r that fails with ctx's error once ctx
// is done, checked before every read: a long copy stops between reads.
func WithContext(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// reader checks the size of what it reads and, when v is set, its digest.
type reader struct {
	r     io.Reader
	d     ocispec.Descriptor
	v     digest.Verifier // nil: count only (NewSizeReader)
	n     int64
	err   error
	count func(int64)
}

func (vr *reader) Read(p []byte) (int, error) {
	if vr.err != nil {
		return 0, vr.err
	}
	n, err := vr.r.Read(p)
	vr.n += int64(n)
	if vr.v != nil {
		_, _ = vr.v.Write(p[:n]) // a digest.Verifier never fails to write
	}
	if vr.n > vr.d.Size {
		vr.err = fmt.Errorf("%w: %s: descriptor says %d bytes, got more", ErrSize, vr.d.Digest, vr.d.Size)
		return 0, vr.err
	}
	if n > 0 && vr.count != nil {
		vr.count(int64(n))
	}
	if err == io.EOF {
		err = vr.atEOF()
	}
	if err != nil {
		vr.err = err
	}
	return n, err
}

func (vr *reader) atEOF() error {
	if vr.n != vr.d.Size {
		return fmt.Errorf("%w: %s: descriptor says %d bytes, got %d", ErrSize, vr.d.Digest, vr.d.Size, vr.n)
	}
	if vr.v != nil && !vr.v.Verified() {
		return fmt.Errorf("%w: content does not hash to %s", ErrDigest, vr.d.Digest)
	}
	return io.EOF
}

// Truncate shortens untrusted strings quoted in error messages.
func Truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
