package unpack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	// Register the hashes go-digest may name.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// feeder reads the blob in chunks on its own goroutine: it counts and
// hashes every byte, refuses to read past the descriptor's size (so a
// lying descriptor cannot make it read, or the caller allocate, more), and
// hands the chunks to the decompressor while it hashes them. It ends its
// queue with its verdict: nil only when the blob had exactly the size and
// digest of its descriptor.
type feeder struct {
	r        io.Reader
	d        digest.Digester
	desc     ocispec.Descriptor
	n        int64 // read so far
	progress func(done, total int64)
	out      *queue
}

func newFeeder(r io.Reader, desc ocispec.Descriptor, progress func(done, total int64), out *queue) (*feeder, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: digest %q: %v", ErrBadDescriptor, desc.Digest, err)
	}
	if desc.Size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrBadDescriptor, desc.Size)
	}
	return &feeder{r: r, d: desc.Digest.Algorithm().Digester(), desc: desc, progress: progress, out: out}, nil
}

func (f *feeder) run() { f.out.close(f.feed()) }

func (f *feeder) feed() error {
	var reported int64
	h := f.d.Hash()
	for {
		c := getChunk()
		if rest := readAllowance(f.desc.Size, f.n); int64(len(c.b)) > rest {
			c.b = c.b[:rest] // one byte past the size is enough to know it lies
		}
		m, err := fill(f.r, c.b)
		if m > 0 {
			c.b = c.b[:m]
			f.n += int64(m)
			// The decompressor reads the chunk while it is hashed here.
			c.refs.Store(2)
			if serr := f.out.send(c); serr != nil {
				return serr
			}
			h.Write(c.b)
			c.release()
			if f.n > f.desc.Size {
				return detail(ErrSizeMismatch, "blob %s is longer than its descriptor size %d", f.desc.Digest, f.desc.Size)
			}
			if f.progress != nil && f.n-reported >= 1<<20 {
				reported = f.n
				f.progress(f.n, f.desc.Size)
			}
		} else {
			chunks.Put(c)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if f.n != f.desc.Size {
		// Ends short: a truncated download, reported as a size mismatch.
		return detail(ErrSizeMismatch, "blob %s: read %d bytes, descriptor says %d", f.desc.Digest, f.n, f.desc.Size)
	}
	if got := f.d.Digest(); got != f.desc.Digest {
		return detail(ErrDigestMismatch, "blob: descriptor says %s, content hashes to %s", f.desc.Digest, got)
	}
	if f.progress != nil {
		f.progress(f.n, f.desc.Size)
	}
	return nil
}

// readAllowance is how many more bytes may be read after n of a blob of
// the given size: the rest plus one byte, to see a blob that is longer. It
// never overflows (a descriptor may claim math.MaxInt64) and is never
// negative.
func readAllowance(size, n int64) int64 {
	if n > size {
		return 0
	}
	rest := size - n
	if rest < math.MaxInt64 {
		rest++
	}
	return rest
}

// producer runs in its own goroutine: feeder's chunks -> decompressor ->
// chunks for the tar stage and the diff_id hasher, with the byte limits
// and the ratio guard.
type producer struct {
	in   *chunkReader // the feeder's chunks
	desc ocispec.Descriptor
	comp compression
	lim  Limits
	outs []*queue
	out  int64 // uncompressed bytes produced; owned by this goroutine
}

// run produces the whole stream and closes the output queues with the
// first error, or nil.
func (p *producer) run() {
	err := p.produce()
	if err != nil {
		select {
		case <-p.in.q.f.stop:
			// The tar stage gave up first: whatever the decoder made of
			// that is no verdict on the stream.
			err = errStopped
		default:
		}
	}
	for _, q := range p.outs {
		q.close(err)
	}
	p.in.close()
	if err != nil {
		// The feeder must not wait on a queue nobody reads.
		p.in.q.f.halt()
	}
}

func (p *producer) produce() error {
	br := bufio.NewReaderSize(p.in, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF {
		return err
	}
	if err := checkMagic(p.comp, p.desc.MediaType, head); err != nil {
		return err
	}
	switch p.comp {
	case compGzip:
		err = p.gunzip(br)
	case compZstd:
		err = p.unzstd(br)
	default:
		err = p.copy(br)
	}
	if err != nil {
		return err
	}
	return p.finish(br)
}

// finish reads the rest of the blob, which must be empty; the feeder's
// verdict on size and digest arrives as the end of its queue.
func (p *producer) finish(br *bufio.Reader) error {
	var one [1]byte
	for {
		m, err := br.Read(one[:])
		if m > 0 {
			return detail(ErrTrailingData, "blob %s: bytes after the end of the compressed stream", p.desc.Digest)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// gunzip decodes one or more concatenated gzip members; anything else after
// a member is trailing data.
func (p *producer) gunzip(br *bufio.Reader) error {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return gzipErr(err, false)
	}
	defer zr.Close()
	for {
		zr.Multistream(false)
		if err := p.copy(zr); err != nil {
			return gzipErr(err, false)
		}
		next, err := br.Peek(2)
		if len(next) == 0 && err == io.EOF {
			return nil
		}
		if len(next) < 2 || next[0] != gzipMagic[0] || next[1] != gzipMagic[1] {
			if err != nil && err != io.EOF {
				return err
			}
			return detail(ErrTrailingData, "blob %s: bytes after the gzip stream", p.desc.Digest)
		}
		if err := zr.Reset(br); err != nil {
			return gzipErr(err, true)
		}
	}
}

func gzipErr(err error, member bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%w: gzip: %v", ErrTruncated, err)
	case isOurs(err):
		return err
	}
	return fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
}

func (p *producer) unzstd(br *bufio.Reader) error {
	zr, err := zstd.NewReader(br,
		zstd.WithDecoderMaxWindow(uint64(windowCap(p.lim.WindowBytes))),
		zstd.WithDecoderMaxMemory(uint64(windowCap(p.lim.WindowBytes))),
		zstd.WithDecoderConcurrency(zstdConcurrency),
		zstd.WithDecoderLowmem(false),
	)
	if err != nil {
		return fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	defer zr.Close()
	err = p.copy(zr)
	zr.Close() // waits for its goroutines: nothing else reads br now
	switch {
	case err == nil || isOurs(err):
		return err
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return &LimitError{Limit: "WindowBytes", Value: p.lim.WindowBytes + 1, Max: p.lim.WindowBytes}
	case errors.Is(err, zstd.ErrMagicMismatch) && p.out > 0:
		return detail(ErrTrailingData, "blob %s: bytes after the zstd stream", p.desc.Digest)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: zstd: %v", ErrTruncated, err)
	}
	return fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
}

// zstdConcurrency 1 decodes on the producer's goroutine, synchronously.
// With the hashes and the tar stage on goroutines of their own, the
// decoder's asynchronous mode (three goroutines handing blocks along)
// bought no overlap the pipeline lacked and cost CPU: decoding the 60 MB
// PostgreSQL tree took about 70 ms of CPU with 1 against 90 to 110 ms with
// 4 (and 2 was worse), and a smaller peak RSS.
const zstdConcurrency = 1

func windowCap(w int64) int64 {
	if w < 0 {
		return 1 << 40
	}
	return w
}

// isOurs reports errors that must pass through unchanged: this package's
// sentinels that the verifier or the limits raise, and the pipe's stop.
func isOurs(err error) bool {
	return errors.Is(err, ErrSizeMismatch) || errors.Is(err, ErrLimit) ||
		errors.Is(err, errStopped) || errors.Is(err, ErrTrailingData) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// copy moves decompressed bytes into chunks for the output queues,
// enforcing TotalBytes and the ratio guard per chunk.
func (p *producer) copy(r io.Reader) error {
	for {
		c := getChunk()
		n, err := fill(r, c.b)
		if n > 0 {
			c.b = c.b[:n]
			p.out += int64(n)
			if over(p.out, p.lim.TotalBytes) {
				return limitErr("TotalBytes", p.out, p.lim.TotalBytes)
			}
			if err := p.ratioGuard(); err != nil {
				return err
			}
			if serr := fanOut(c, p.outs); serr != nil {
				return serr
			}
		} else {
			chunks.Put(c)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fill reads until buf is full or r fails; unlike io.ReadFull it keeps a
// clean io.EOF distinct from a decoder's io.ErrUnexpectedEOF.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *producer) ratioGuard() error {
	if p.comp == compNone || p.lim.Ratio < 0 || p.out <= p.lim.RatioAfter {
		return nil
	}
	in := max(p.in.n, 1)
	if ratio := p.out / in; ratio > p.lim.Ratio {
		return limitErr("Ratio", ratio, p.lim.Ratio)
	}
	return nil
}

// hasher hashes a queue's chunks on its own goroutine (the diff_id, while
// the tar stage writes the same chunks) and reports whether the stream
// ended cleanly with the digest want.
func hasher(q *queue, want digest.Digest) error {
	h := want.Algorithm().Digester()
	w := h.Hash()
	stopped := false
	for c := range q.ch {
		if !stopped {
			select {
			case <-q.f.stop:
				stopped = true // nobody will look at the verdict
			default:
				w.Write(c.b)
			}
		}
		c.release()
	}
	if q.err != nil {
		return q.err
	}
	if stopped {
		return errStopped
	}
	if got := h.Digest(); got != want {
		return detail(ErrDiffIDMismatch, "config says %s, uncompressed layer hashes to %s", want, got)
	}
	return nil
}
