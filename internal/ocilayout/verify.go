package ocilayout

import (
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// NewVerifyReader returns a reader of r that hashes what it reads and,
// instead of io.EOF, returns an error wrapping [ErrSize] or [ErrDigest]
// when the content is not exactly d.Size bytes hashing to d.Digest. It
// reads at most one byte past d.Size, so a source that lies about its
// length costs nothing. Unlike oras-go's content.VerifyReader, the check
// happens inside Read: a consumer that only reads to EOF (an HTTP upload,
// io.Copy) cannot miss it.
func NewVerifyReader(r io.Reader, d ocispec.Descriptor) io.Reader {
	if err := checkDigest(d.Digest); err != nil {
		return &verifyReader{err: err}
	}
	if d.Size < 0 {
		return &verifyReader{err: fmt.Errorf("%w: %s: negative size %d", ErrSize, d.Digest, d.Size)}
	}
	return &verifyReader{r: io.LimitReader(r, d.Size+1), d: d, v: d.Digest.Verifier()}
}

type verifyReader struct {
	r   io.Reader
	d   ocispec.Descriptor
	v   digest.Verifier
	n   int64
	err error
}

func (vr *verifyReader) Read(p []byte) (int, error) {
	if vr.err != nil {
		return 0, vr.err
	}
	n, err := vr.r.Read(p)
	vr.n += int64(n)
	_, _ = vr.v.Write(p[:n]) // a digest.Verifier never fails to write
	if vr.n > vr.d.Size {
		vr.err = fmt.Errorf("%w: %s: descriptor says %d bytes, got more", ErrSize, vr.d.Digest, vr.d.Size)
		return 0, vr.err
	}
	if err == io.EOF {
		err = vr.atEOF()
	}
	if err != nil {
		vr.err = err
	}
	return n, err
}

func (vr *verifyReader) atEOF() error {
	if vr.n != vr.d.Size {
		return fmt.Errorf("%w: %s: descriptor says %d bytes, got %d", ErrSize, vr.d.Digest, vr.d.Size, vr.n)
	}
	if !vr.v.Verified() {
		return fmt.Errorf("%w: content does not hash to %s", ErrDigest, vr.d.Digest)
	}
	return io.EOF
}

// checkDigest refuses digests that cannot be verified, or could not be
// used as a path safely.
func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrDigest, truncate(string(d)), err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
