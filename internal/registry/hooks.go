package registry

import (
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Hooks are the decisions a [Mirrored] leaves to its caller: resolve
// names a mirror's failure with its exported error type, verifies
// content against its own limits and classifies errors with its own
// sentinels.
type Hooks struct {
	// MirrorError makes the error for one mirror's failure to serve
	// object: what OnMirrorError is told, what the error of a failed
	// operation lists, and what a large blob's read ends in.
	MirrorError func(mirror, upstream, object string, err error) error
	// Report, when set, is told of each mirror failure passed over.
	Report func(error)
	// ReadVerified reads rc, which must hold exactly d's content, and
	// closes it.
	ReadVerified func(rc io.ReadCloser, d ocispec.Descriptor) ([]byte, error)
	// Temporary reports an error that may go away if tried again.
	Temporary func(error) bool
	// WholeSize is the largest content read whole from a mirror and
	// verified before it is returned; larger blobs are streamed.
	WholeSize int64
}
