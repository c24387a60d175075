package unpack

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer applies one layer blob, read from r, to root. desc gives the blob's
// media type (which picks the decompressor), digest and size; r is read to
// its end so every byte is verified, and is not closed.
//
// The blob is hashed, decompressed and applied in one streaming pass, the
// stages running concurrently with bounded buffers. Verification can only
// finish at EOF, so when Layer returns an error (a digest mismatch found at
// the end, a hostile entry, a limit, a cancelled ctx) root may hold part of
// the layer: apply into a [Staging] directory (or use [Apply]) so the caller
// never sees unverified content. root must not be changed by anyone else
// while Layer runs.
//
// Entries are applied as described in the package documentation: whiteouts
// are honoured, names and link targets are confined to root, and a symlink
// in a parent path is resolved inside root (or refused, with
// [Options.NoSymlinkParents]) so the kernel never follows one for a write.
func Layer(ctx context.Context, root *os.Root, r io.Reader, desc ocispec.Descriptor, opts Options) (Stats, error) {
	start := time.Now()
	opts.Limits = opts.Limits.withDefaults()
	var st Stats
	comp, err := compressionOf(desc.MediaType)
	if err != nil {
		return st, err
	}
	if over(desc.Size, maxBlobSize(opts.Limits.TotalBytes)) {
		return st, limitErr("TotalBytes", desc.Size, opts.Limits.TotalBytes)
	}
	v, err := newVerifier(r, desc, opts.Progress)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pipe := newBufPipe(ctx)
	prod := &producer{v: v, comp: comp, lim: opts.Limits, diffID: opts.DiffID, pipe: pipe}
	done := make(chan error, 1)
	go func() {
		err := prod.run()
		pipe.close(err)
		done <- err
	}()

	a := newApplier(ctx, root, opts, &st)
	aerr := a.run(tar.NewReader(pipe))
	if aerr == nil {
		// Past the end-of-archive marker: drain, so trailing bytes are
		// hashed and the verdict of the producer arrives.
		_, aerr = io.Copy(io.Discard, pipe)
	}
	if aerr != nil {
		pipe.close(errStopped)
	}
	perr := <-done

	st.BytesIn = v.n.Load()
	st.BytesOut = prod.out
	st.Duration = time.Since(start)
	if perr != nil && !errors.Is(perr, errStopped) {
		return st, perr // the stream's own failure explains any tar error
	}
	return st, aerr
}

// maxBlobSize is the largest compressed size accepted for a layer whose
// uncompressed stream may be total bytes: incompressible data grows a
// little when compressed (gzip stored blocks add 5 bytes per 64 KiB, zstd
// raw blocks 3 per 128 KiB, each gzip member about 20), so an eighth more
// and 1 MiB is generous; a descriptor claiming more cannot be a layer
// within the limits and is refused before any byte is read. Negative
// (TotalBytes unlimited) means no cap.
func maxBlobSize(total int64) int64 {
	if total < 0 {
		return -1
	}
	if total > (math.MaxInt64-1<<20)/9*8 {
		return math.MaxInt64
	}
	return total + total/8 + 1<<20
}
