package unpack

import (
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// Sentinel errors. Every error returned by this package wraps one of them (or
// a context error), so callers test with [errors.Is]. Errors about one tar
// entry are an [*EntryError] naming the entry; exceeded limits are a
// [*LimitError] naming the limit.
var (
	// ErrBadDescriptor: the layer descriptor cannot be verified against
	// (missing or unsupported digest, negative size).
	ErrBadDescriptor = errors.New("unpack: invalid layer descriptor")
	// ErrUnknownMediaType: the descriptor's media type is not a layer type
	// this package knows (OCI or Docker tar, tar+gzip, tar+zstd).
	ErrUnknownMediaType = errors.New("unpack: unknown layer media type")
	// ErrMediaTypeMismatch: the bytes do not start the way the media type
	// says they should (gzip or zstd magic, or compressed bytes declared as
	// plain tar).
	ErrMediaTypeMismatch = errors.New("unpack: content does not match media type")
	// ErrDigestMismatch: the compressed bytes do not hash to the descriptor's
	// digest. Found at EOF; everything written is to be discarded.
	ErrDigestMismatch = errors.New("unpack: digest mismatch")
	// ErrDiffIDMismatch: the uncompressed tar stream does not hash to the
	// expected diff_id from the image config.
	ErrDiffIDMismatch = errors.New("unpack: diff_id mismatch")
	// ErrSizeMismatch: the stream is longer or shorter than the descriptor's
	// size. A longer stream is stopped as soon as it passes the size.
	ErrSizeMismatch = errors.New("unpack: size mismatch")
	// ErrCorrupt: the compressed stream or the tar stream is malformed.
	ErrCorrupt = errors.New("unpack: corrupt layer")
	// ErrTruncated: the compressed or tar stream ends in the middle.
	ErrTruncated = errors.New("unpack: truncated layer")
	// ErrTrailingData: bytes follow the end of the compressed stream.
	ErrTrailingData = errors.New("unpack: trailing data after compressed stream")
	// ErrInvalidName: an entry name (or link target) is empty, contains NUL
	// or invalid UTF-8, or has a component longer than 255 bytes.
	ErrInvalidName = errors.New("unpack: invalid entry name")
	// ErrPathEscapes: an entry name climbs out of the root with "..".
	ErrPathEscapes = errors.New("unpack: path escapes the root")
	// ErrLinkEscapes: a symlink or hardlink target resolves outside the
	// root, or resolving a symlink in a parent path would climb above it.
	ErrLinkEscapes = errors.New("unpack: link target escapes the root")
	// ErrSymlinkParent: a whiteout would remove through a symlink in its
	// parent path, a hardlink target is reached through one, or (with
	// [Options.NoSymlinkParents]) any entry's parent path goes through one.
	ErrSymlinkParent = errors.New("unpack: path goes through a symlink")
	// ErrSymlinkLoop: resolving a parent path inside the root follows more
	// than 40 symlinks (a loop such as "a -> b", "b -> a", then "a/x").
	ErrSymlinkLoop = errors.New("unpack: too many levels of symlinks")
	// ErrNotDir: a parent of an entry exists and is not a directory.
	ErrNotDir = errors.New("unpack: parent is not a directory")
	// ErrHardlinkTarget: a hardlink target is missing, or is not a regular
	// file (a symlink, a directory, the entry itself).
	ErrHardlinkTarget = errors.New("unpack: hardlink target is not a regular file in the root")
	// ErrSparse: sparse entries (GNU or PAX) are refused.
	ErrSparse = errors.New("unpack: sparse entries are not supported")
	// ErrUnsupportedType: the tar entry type is not one this package applies
	// or knowingly skips.
	ErrUnsupportedType = errors.New("unpack: unsupported tar entry type")
	// ErrWhiteout: a whiteout names nothing (".wh."), the directory itself
	// (".wh..") or its parent (".wh...").
	ErrWhiteout = errors.New("unpack: invalid whiteout")
	// ErrLimit: a [Limits] value was exceeded; the error is a [*LimitError].
	ErrLimit = errors.New("unpack: limit exceeded")
	// ErrExist: the destination given to [Stage] or [Apply] already exists.
	ErrExist = errors.New("unpack: destination already exists")
)

// LimitError reports which of the [Limits] was exceeded. It unwraps to
// [ErrLimit].
type LimitError struct {
	Limit string // field name in Limits, e.g. "TotalBytes"
	Value int64  // the value that was reached (may be a lower bound)
	Max   int64  // the configured maximum
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("unpack: limit exceeded: %s %d > %d (Limits.%s)", e.Limit, e.Value, e.Max, e.Limit)
}

// Unwrap returns [ErrLimit].
func (e *LimitError) Unwrap() error { return ErrLimit }

// EntryError is an error about one tar entry. Name is the entry name as it
// appears in the archive (possibly hostile: quote it when printing).
type EntryError struct {
	Name string
	Err  error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("unpack: entry %q: %s", e.Name, strings.TrimPrefix(e.Err.Error(), "unpack: "))
}

// Unwrap returns the underlying error.
func (e *EntryError) Unwrap() error { return e.Err }

// LayerError says which layer of an [Apply] failed.
type LayerError struct {
	Index  int           // position in the layers given to Apply
	Digest digest.Digest // the layer's descriptor digest
	Err    error
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("unpack: layer %d (%s): %s", e.Index, e.Digest, strings.TrimPrefix(e.Err.Error(), "unpack: "))
}

// Unwrap returns the underlying error.
func (e *LayerError) Unwrap() error { return e.Err }

func entryErr(name string, err error) error {
	var ee *EntryError
	if errors.As(err, &ee) {
		return err
	}
	return &EntryError{Name: name, Err: err}
}

// detail wraps a sentinel with a human explanation, keeping errors.Is.
func detail(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

func isSentinel(err, target error) bool { return errors.Is(err, target) }
