package extension

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Compression selects how layers are compressed when packing.
type Compression string

// Compressions pgoci writes. The zero value means [Zstd].
const (
	// Zstd is the default: it decodes two to three times faster than gzip
	// and compresses PostgreSQL trees better.
	Zstd Compression = "zstd"
	// Gzip is for registries and runtimes that predate zstd layers.
	Gzip Compression = "gzip"
)

func (c Compression) orDefault() Compression {
	if c == "" {
		return Zstd
	}
	return c
}

// mediaType returns the OCI layer media type for c.
func (c Compression) mediaType() (string, error) {
	switch c.orDefault() {
	case Zstd:
		return ocispec.MediaTypeImageLayerZstd, nil
	case Gzip:
		return ocispec.MediaTypeImageLayerGzip, nil
	}
	return "", fmt.Errorf("%w: %q (want %q or %q)", ErrUnknownCompression, string(c), Zstd, Gzip)
}

// newCompressor wraps w. The encoders are configured for reproducible output:
// the same input always gives the same bytes, so packing twice gives the
// same digest.
func (c Compression) newCompressor(w io.Writer) (io.WriteCloser, error) {
	switch c.orDefault() {
	case Zstd:
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(true),
		)
	case Gzip:
		// gzip.NewWriterLevel leaves the header's name and mtime empty.
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	}
	_, err := c.mediaType()
	return nil, err
}
