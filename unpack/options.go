package unpack

import (
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Options tune [Layer], [Apply] and [Staging.Commit]. The zero value is the
// safe default; each field documents its own.
type Options struct {
	// Limits caps what one layer may make the unpacker do. Zero fields take
	// the defaults documented on [Limits].
	Limits Limits

	// DiffID, when set, is the expected digest of the uncompressed tar
	// stream (the image config's rootfs.diff_ids entry for this layer). A
	// difference is [ErrDiffIDMismatch]. Default: not checked. [Apply] uses
	// each [LayerSource.DiffID] instead.
	DiffID digest.Digest

	// Durable fsyncs every file and directory written, and the parent of the
	// destination after the final rename, so a crash after a successful
	// return cannot lose the tree. Default: off (the page cache decides); see
	// the README for its measured cost.
	Durable bool

	// PreserveOwnership applies the numeric uid/gid of each entry with
	// lchown, only when the process runs as root. User and group names are
	// never looked up. Default: off (files belong to the caller).
	PreserveOwnership bool

	// NoSymlinkParents refuses every entry whose parent path goes through a
	// symlink, with [ErrSymlinkParent]. Default: off, and such a symlink is
	// resolved inside the root (as containerd does), so a layer may write
	// "lib/x86_64-linux-gnu/libfoo.so" over a lower layer's "lib -> usr/lib"
	// (usrmerge). Extension images never need it: set it for them.
	NoSymlinkParents bool

	// KeepSpecialBits keeps setuid, setgid and sticky bits. Default: off
	// (they are stripped from every file and directory).
	KeepSpecialBits bool

	// FileDigest, when set, is called after each regular file is written,
	// with its slash-separated path below the root, its size and the
	// SHA-256 of its content, hashed as it was written (on a goroutine of
	// its own, beside the writing): a caller that records file digests (an
	// installer) need not read the files again. A later entry or layer may
	// replace or remove the file; the calls come in the order the files
	// were written, so the last call for a path describes the last content
	// written there. It is called from one goroutine at a time, not the
	// caller's, and every call returns before [Layer] does. Default: none
	// (no hashing).
	FileDigest func(path string, size int64, d digest.Digest)

	// Progress, when set, is called with the compressed bytes read so far and
	// the total expected (the descriptor size, or the sum for [Apply]). It is
	// called from one goroutine at a time, about every MiB and once at the
	// end, once the layer is verified and applied, and must return quickly.
	// Default: none.
	Progress func(done, total int64)
}

// Limits bound the work one layer can cause. A zero field means its default;
// a negative field disables that check (not recommended for untrusted input).
// An exceeded limit is a [*LimitError] naming the field.
type Limits struct {
	// TotalBytes caps the uncompressed tar stream of one layer, headers and
	// padding included. Default 8 GiB. It also caps the descriptor's
	// (compressed) size, at TotalBytes plus an eighth plus 1 MiB (room for
	// incompressible data): a larger size is refused before reading.
	TotalBytes int64
	// Entries caps the number of tar entries in one layer plus the parent
	// directories their paths imply (created without an entry of their
	// own), so it bounds the filesystem objects one layer creates, and the
	// unpacker's memory, which grows with each directory. Default 1,000,000.
	Entries int64
	// FileBytes caps the size of one regular file. Default 4 GiB.
	FileBytes int64
	// PathBytes caps the length of one cleaned entry path. Default 4096.
	PathBytes int64
	// Depth caps the number of components of one entry path. Default 128.
	Depth int64
	// Ratio caps uncompressed bytes per compressed byte, checked once
	// RatioAfter uncompressed bytes have been produced. It stops
	// decompression bombs in seconds. Default 200.
	Ratio int64
	// RatioAfter is the uncompressed size below which Ratio is not checked
	// (small layers compress very well). Default 256 MiB.
	RatioAfter int64
	// WindowBytes caps the zstd window (and so the decoder's memory).
	// Default 128 MiB, enough for "zstd --ultra -22" and "--long=27".
	WindowBytes int64
}

// Default values of [Limits].
const (
	DefaultTotalBytes  = 8 << 30
	DefaultEntries     = 1_000_000
	DefaultFileBytes   = 4 << 30
	DefaultPathBytes   = 4096
	DefaultDepth       = 128
	DefaultRatio       = 200
	DefaultRatioAfter  = 256 << 20
	DefaultWindowBytes = 128 << 20
)

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = -1
		}
	}
	def(&l.TotalBytes, DefaultTotalBytes)
	def(&l.Entries, DefaultEntries)
	def(&l.FileBytes, DefaultFileBytes)
	def(&l.PathBytes, DefaultPathBytes)
	def(&l.Depth, DefaultDepth)
	def(&l.Ratio, DefaultRatio)
	def(&l.RatioAfter, DefaultRatioAfter)
	def(&l.WindowBytes, DefaultWindowBytes)
	return l
}

// over reports whether v exceeds max, where max < 0 means unlimited.
func over(v, max int64) bool { return max >= 0 && v > max }

func limitErr(name string, v, max int64) error {
	return &LimitError{Limit: name, Value: v, Max: max}
}

// Stats describe one unpack. [Apply] sums them over its layers.
type Stats struct {
	BytesIn   int64 // compressed bytes read and verified
	BytesOut  int64 // uncompressed tar bytes, end-of-archive padding included
	Entries   int64 // tar entries seen
	Files     int64 // regular files written
	Dirs      int64 // directories created (explicit or implied by a path)
	Symlinks  int64
	Hardlinks int64
	Whiteouts int64 // whiteout and opaque markers applied
	Skipped   int64 // entries not created: devices, fifos, ".", whiteout metadata, global headers
	Duration  time.Duration
}

func (s *Stats) add(o Stats) {
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.Entries += o.Entries
	s.Files += o.Files
	s.Dirs += o.Dirs
	s.Symlinks += o.Symlinks
	s.Hardlinks += o.Hardlinks
	s.Whiteouts += o.Whiteouts
	s.Skipped += o.Skipped
	s.Duration += o.Duration
}
