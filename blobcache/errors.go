package blobcache

import (
	"errors"

	"pgoci/internal/verify"
)

// Errors returned by the cache; test with [errors.Is]. A blob that is not
// cached also wraps oras-go's errdef.ErrNotFound, so that oras-go's copy
// functions take it for "not there yet".
var (
	// ErrNotFound: the cache holds no blob of that digest, or holds one of
	// another size than the descriptor says.
	ErrNotFound = errors.New("blobcache: blob not cached")
	// ErrDigest: content that does not hash to its descriptor's digest, or
	// a digest that is malformed or of an unavailable algorithm.
	ErrDigest = verify.ErrDigest
	// ErrSize: content longer or shorter than its descriptor's size, or a
	// negative size.
	ErrSize = verify.ErrSize
	// ErrTooLarge: a blob larger than the cache's bound ([Options].MaxSize)
	// is not stored: it would evict everything, itself included.
	ErrTooLarge = errors.New("blobcache: blob larger than the cache's bound")
	// ErrUnsafeDir: a directory the cache would use could be controlled
	// by someone else: a symbolic link where a directory belongs, a
	// directory owned by another user, or a temporary directory anyone may
	// write to without the sticky bit.
	ErrUnsafeDir = errors.New("blobcache: unsafe cache directory")
	// ErrNoDefaultDir: no directory of the default location chain
	// ([DefaultDir]) could be used; the error lists why for each.
	ErrNoDefaultDir = errors.New("blobcache: no usable default cache directory")
)
