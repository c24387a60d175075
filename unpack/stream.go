package unpack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash"
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

// source reads the blob for the decompressor, on the producer's goroutine,
// in chunks that it also sends to the hasher for the blob's digest: every
// byte is counted and hashed once, and the hash overlaps the decoding. It
// refuses to read past the descriptor's size, so a lying descriptor cannot
// make it read (or the caller allocate) more; a blob that ends short or
// runs long is [ErrSizeMismatch].
type source struct {
	r        io.Reader
	desc     ocispec.Descriptor
	hq       *queue // the hasher's
	n        int64  // read from r so far
	used     int64  // handed to the decompressor so far (the ratio guard's)
	cur      *chunk // being read, referenced by the source
	off      int
	err      error // sticky, after the bytes of cur: io.EOF at a clean end
	progress func(done, total int64)
	reported int64
}

func newSource(r io.Reader, desc ocispec.Descriptor, progress func(done, total int64), hq *queue) (*source, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: digest %q: %v", ErrBadDescriptor, desc.Digest, err)
	}
	if desc.Size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrBadDescriptor, desc.Size)
	}
	return &source{r: r, desc: desc, hq: hq, progress: progress}, nil
}

func (s *source) Read(p []byte) (int, error) {
	for s.cur == nil || s.off == len(s.cur.b) {
		if s.err != nil {
			return 0, s.err
		}
		s.next()
	}
	n := copy(p, s.cur.b[s.off:])
	s.off += n
	s.used += int64(n)
	return n, nil
}

// next reads the next chunk of the blob and sends it to the hasher; an
// error (or the end) is kept for after its bytes.
func (s *source) next() {
	s.close()
	c := getChunk()
	if rest := readAllowance(s.desc.Size, s.n); int64(len(c.b)) > rest {
		c.b = c.b[:rest] // one byte past the size is enough to know it lies
	}
	m, err := fill(s.r, c.b)
	if m == 0 {
		chunks.Put(c)
	} else {
		c.b, c.blob = c.b[:m], true
		s.n += int64(m)
		c.refs.Store(2) // the source's and the hasher's
		if serr := s.hq.send(c); serr != nil {
			c.release()
			s.err = serr
			return
		}
		s.cur, s.off = c, 0
		if s.n > s.desc.Size {
			err = detail(ErrSizeMismatch, "blob %s is longer than its descriptor size %d", s.desc.Digest, s.desc.Size)
		} else if s.progress != nil && s.n-s.reported >= 1<<20 {
			s.reported = s.n
			s.progress(s.n, s.desc.Size)
		}
	}
	if err == io.EOF && s.n != s.desc.Size {
		// Ends short: a truncated download, reported as a size mismatch.
		err = detail(ErrSizeMismatch, "blob %s: read %d bytes, descriptor says %d", s.desc.Digest, s.n, s.desc.Size)
	}
	s.err = err
}

// close releases the chunk being read.
func (s *source) close() {
	if s.cur != nil {
		s.cur.release()
		s.cur = nil
	}
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

// producer runs in its own goroutine: source -> decompressor -> chunks for
// the tar stage and the hasher, with the byte limits and the ratio guard.
type producer struct {
	in   *source
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
		case <-p.in.hq.f.stop:
			// The tar stage gave up first: whatever the decoder made of
			// that is no verdict on the stream.
			err = errStopped
		default:
		}
	}
	p.in.close()
	for _, q := range p.outs {
		q.close(err)
	}
	if err != nil {
		// The tar stage must not wait for chunks that will not come.
		p.in.hq.f.halt()
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

// finish reads the rest of the blob, which must be empty, and so checks
// its size; the hasher checks its digest.
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
	in := max(p.in.used, 1)
	if ratio := p.out / in; ratio > p.lim.Ratio {
		return limitErr("Ratio", ratio, p.lim.Ratio)
	}
	return nil
}

// hasher hashes on its own goroutine, from one queue, the blob's chunks
// (its digest) and the uncompressed chunks (the diff_id; nil diffID: not
// hashed), while the decompressor and the tar stage work on the same
// chunks. At a clean end of the queue it returns the verdicts: a blob
// digest mismatch first.
func hasher(q *queue, desc ocispec.Descriptor, diffID digest.Digest) error {
	blob := desc.Digest.Algorithm().Digester()
	bw := blob.Hash()
	var diff digest.Digester
	var dw hash.Hash
	if diffID != "" {
		diff = diffID.Algorithm().Digester()
		dw = diff.Hash()
	}
	stopped := false
	for c := range q.ch {
		if !stopped {
			select {
			case <-q.f.stop:
				stopped = true // nobody will look at the verdict
			default:
				if c.blob {
					bw.Write(c.b)
				} else if dw != nil {
					dw.Write(c.b)
				}
			}
		}
		c.release()
	}
	switch {
	case q.err != nil:
		return q.err
	case stopped:
		return errStopped
	}
	if got := blob.Digest(); got != desc.Digest {
		return detail(ErrDigestMismatch, "blob: descriptor says %s, content hashes to %s", desc.Digest, got)
	}
	if diff != nil {
		if got := diff.Digest(); got != diffID {
			return detail(ErrDiffIDMismatch, "config says %s, uncompressed layer hashes to %s", diffID, got)
		}
	}
	return nil
}
