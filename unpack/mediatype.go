package unpack

import (
	"bytes"
	"fmt"
	"strings"
)

// compression is how a layer's tar stream is encoded.
type compression int

const (
	compNone compression = iota
	compGzip
	compZstd
)

func (c compression) String() string {
	return [...]string{"tar", "gzip", "zstd"}[c]
}

// Layer media types this package accepts, OCI and Docker.
var mediaTypes = map[string]compression{
	"application/vnd.oci.image.layer.v1.tar":                       compNone,
	"application/vnd.oci.image.layer.v1.tar+gzip":                  compGzip,
	"application/vnd.oci.image.layer.v1.tar+zstd":                  compZstd,
	"application/vnd.oci.image.layer.nondistributable.v1.tar":      compNone,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": compGzip,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": compZstd,
	"application/vnd.docker.image.rootfs.diff.tar":                 compNone,
	"application/vnd.docker.image.rootfs.diff.tar.gzip":            compGzip,
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":    compGzip,
	"application/vnd.docker.image.rootfs.diff.tar.zstd":            compZstd,
}

// MediaTypeSupported reports whether [Layer] accepts layers of media type mt.
func MediaTypeSupported(mt string) bool {
	_, ok := mediaTypes[mt]
	return ok
}

func compressionOf(mt string) (compression, error) {
	c, ok := mediaTypes[mt]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownMediaType, mt)
	}
	return c, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// isZstdStart reports whether b starts a zstd frame or a skippable frame
// (magic 0x184D2A50..5F, little endian).
func isZstdStart(b []byte) bool {
	if bytes.HasPrefix(b, zstdMagic) {
		return true
	}
	return len(b) >= 4 && b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18
}

// checkMagic compares the first bytes of a layer with its declared
// compression. head may be short (a tiny or empty stream).
func checkMagic(c compression, mt string, head []byte) error {
	var ok bool
	switch c {
	case compGzip:
		ok = bytes.HasPrefix(head, gzipMagic)
	case compZstd:
		ok = isZstdStart(head)
	default:
		// A tar has no reliable magic (v7 headers have none), but compressed
		// bytes declared as tar are certainly wrong.
		ok = !bytes.HasPrefix(head, gzipMagic) && !isZstdStart(head)
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%w: %q declared, bytes start %s", ErrMediaTypeMismatch, mt, sniff(head))
}

func sniff(head []byte) string {
	switch {
	case len(head) == 0:
		return "empty"
	case bytes.HasPrefix(head, gzipMagic):
		return "as gzip"
	case isZstdStart(head):
		return "as zstd"
	case len(head) >= 262 && strings.HasPrefix(string(head[257:262]), "ustar"):
		return "as tar"
	}
	return fmt.Sprintf("% x", head[:min(len(head), 4)])
}
