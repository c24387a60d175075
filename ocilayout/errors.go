package ocilayout

import (
	"errors"

	"pgoci/internal/verify"
)

// Errors returned by the store; test with [errors.Is]. Lookups of missing
// content also wrap oras-go's errdef.ErrNotFound, so oras-go's copy
// functions treat them as "not there yet".
var (
	// ErrNotLayout: the directory is not an OCI image layout (no
	// oci-layout file, an unsupported imageLayoutVersion, or an
	// index.json that is not an image index).
	ErrNotLayout = errors.New("ocilayout: not an OCI image layout")
	// ErrDigest: content does not hash to its descriptor's digest, or the
	// digest is malformed or of an unavailable algorithm.
	ErrDigest = verify.ErrDigest
	// ErrSize: content is not the size its descriptor says.
	ErrSize = verify.ErrSize
	// ErrNotFound: no blob, tag or index entry of that name.
	ErrNotFound = errors.New("ocilayout: not found")
	// ErrInvalidTag: a tag that is empty, too long or holds control
	// characters.
	ErrInvalidTag = errors.New("ocilayout: invalid tag")
	// ErrLock: index.json could not be locked (flock unsupported here).
	ErrLock = errors.New("ocilayout: cannot lock index.json")
)
