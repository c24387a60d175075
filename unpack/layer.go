package unpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// source -> producer (decompressing) -> tar stage (this goroutine),
	// with both digests hashed on a goroutine of their own from the same
	// chunks.
	fl := newFlow(ctx)
	hashQ := newQueue(fl)
	in, err := newSource(r, desc, opts.Progress, hashQ)
	if err != nil {
		return st, err
	}
	diffID := opts.DiffID
	if diffID != "" {
		if err := diffID.Validate(); err != nil {
			return st, fmt.Errorf("%w: diff_id %q: %v", ErrBadDescriptor, diffID, err)
		}
		if comp == compNone && diffID == desc.Digest {
			diffID = "" // an uncompressed layer is its tar: one hash checks both
		}
	}
	tarQ := newQueue(fl)
	prod := &producer{in: in, desc: desc, comp: comp, lim: opts.Limits, outs: []*queue{tarQ}}
	if diffID != "" {
		prod.outs = append(prod.outs, hashQ)
	}
	hashDone := make(chan error, 1)
	go func() { hashDone <- hasher(hashQ, desc, diffID) }()
	var wg sync.WaitGroup
	wg.Go(prod.run)

	src := &chunkReader{q: tarQ}
	a := newApplier(ctx, root, opts, &st, src)
	aerr := a.run()
	if aerr == nil {
		// Past the end-of-archive marker: drain, so the producer reads
		// the blob to its end (every byte verified) and its verdict
		// arrives.
		aerr = src.skip(math.MaxInt64)
		if aerr == io.EOF {
			aerr = nil
		}
	}
	if aerr != nil {
		fl.halt()
	}
	src.close()
	wg.Wait()
	if diffID == "" {
		hashQ.close(tarQ.err) // else the producer closed it
	}
	perr := tarQ.err // the producer's verdict, on the size included
	herr := <-hashDone

	st.BytesIn = in.n
	st.BytesOut = prod.out
	st.Duration = time.Since(start)
	switch {
	case perr != nil && !errors.Is(perr, errStopped):
		return st, perr // the stream's own failure explains any tar error
	case herr != nil && !errors.Is(herr, errStopped):
		return st, herr
	case aerr == nil && opts.Progress != nil:
		opts.Progress(in.n, desc.Size)
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
