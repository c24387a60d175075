package unpack

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// The pipeline passes the stream along in chunks: fixed-size buffers that
// each stage reads in place. A chunk sent to several stages (the tar stage
// and the diff_id hasher, say) is referenced once for each, and the last
// to release it returns it to the pool, so no stage copies another's bytes
// and memory stays bounded by the queues' capacities.

const (
	chunkSize = 256 << 10
	// queueLen is how many chunks may wait in one queue: enough to hide
	// one stage's pauses from the others (a file creation, a scheduler
	// switch), few enough to keep the working set in the caches.
	queueLen = 8
)

var errStopped = errors.New("unpack: stopped by the tar stage")

// chunk is one buffer of the stream. b is its filled part; refs counts the
// stages that still read it.
type chunk struct {
	b    []byte
	refs atomic.Int32
	blob bool // the blob's bytes, not (yet) uncompressed ones
}

// chunks recycles chunks across stages, layers and concurrent unpacks. It
// never blocks: a chunk is allocated when none is free, and the queues
// bound how many are in flight.
var chunks = sync.Pool{New: func() any { return &chunk{b: make([]byte, chunkSize)} }}

// getChunk returns an empty chunk, its b the whole buffer, referenced by no
// one.
func getChunk() *chunk {
	c := chunks.Get().(*chunk)
	c.b, c.blob = c.b[:cap(c.b)], false
	return c
}

// release drops one reference; the last returns the chunk to the pool.
func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		chunks.Put(c)
	}
}

// flow is what the stages of one layer share: the context and a stop
// signal that any stage raises when it fails, so the others give up
// instead of blocking on a queue nobody reads.
type flow struct {
	ctx  context.Context
	stop chan struct{}
	once sync.Once
}

func newFlow(ctx context.Context) *flow {
	return &flow{ctx: ctx, stop: make(chan struct{})}
}

func (f *flow) halt() { f.once.Do(func() { close(f.stop) }) }

// queue carries chunks, in order, from one sending stage to one reading
// stage; the sender closes it with its verdict.
type queue struct {
	f   *flow
	ch  chan *chunk
	err error // set before ch is closed: nil for a clean end
}

func newQueue(f *flow) *queue { return &queue{f: f, ch: make(chan *chunk, queueLen)} }

// send hands c (already referenced for the reader) to the reader. It fails
// once the flow is halted or its context done; c is then released.
func (q *queue) send(c *chunk) error {
	select {
	case q.ch <- c:
		return nil
	case <-q.f.stop:
		c.release()
		return errStopped
	case <-q.f.ctx.Done():
		c.release()
		return q.f.ctx.Err()
	}
}

// close ends the queue; err nil means a clean end. Only the sender calls it,
// once.
func (q *queue) close(err error) {
	q.err = err
	close(q.ch)
}

// fanOut sends c to every queue in qs, referencing it once for each.
func fanOut(c *chunk, qs []*queue) error {
	c.refs.Store(int32(len(qs)))
	for i, q := range qs {
		if err := q.send(c); err != nil {
			for range qs[i+1:] {
				c.release()
			}
			return err
		}
	}
	return nil
}

// chunkReader reads a queue as a stream: Read copies (for small reads such
// as tar headers and decoders), take lends the bytes in place.
type chunkReader struct {
	q   *queue
	cur *chunk // the chunk being read, or nil
	off int    // read position in cur.b
	n   int64  // bytes consumed so far
	err error  // sticky end or failure
}

// fetch makes the current chunk non-empty, releasing a finished one. At
// the end it returns the queue's error, or io.EOF for a clean end.
func (r *chunkReader) fetch() error {
	for r.cur == nil || r.off == len(r.cur.b) {
		if r.err != nil {
			return r.err
		}
		if r.cur != nil {
			r.cur.release()
			r.cur, r.off = nil, 0
		}
		select {
		case c, ok := <-r.q.ch:
			if !ok {
				r.err = r.q.err
				if r.err == nil {
					r.err = io.EOF
				}
				return r.err
			}
			r.cur, r.off = c, 0
		case <-r.q.f.stop:
			r.err = errStopped
		case <-r.q.f.ctx.Done():
			r.err = r.q.f.ctx.Err()
		}
	}
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.fetch(); err != nil {
		return 0, err
	}
	n := copy(p, r.cur.b[r.off:])
	r.off += n
	r.n += int64(n)
	return n, nil
}

// take returns up to max (> 0) bytes of the stream without copying them,
// and the chunk that holds them: they stay valid until the caller's next
// call of any method, or longer with a reference of the caller's own
// (c.refs.Add(1), then c.release()).
func (r *chunkReader) take(max int64) ([]byte, *chunk, error) {
	if err := r.fetch(); err != nil {
		return nil, nil, err
	}
	b := r.cur.b[r.off:]
	if int64(len(b)) > max {
		b = b[:max]
	}
	r.off += len(b)
	r.n += int64(len(b))
	return b, r.cur, nil
}

// skip discards n bytes. At a clean end it stops and returns io.EOF.
func (r *chunkReader) skip(n int64) error {
	for n > 0 {
		b, _, err := r.take(n)
		if err != nil {
			return err
		}
		n -= int64(len(b))
	}
	return nil
}

// close releases the chunk being read.
func (r *chunkReader) close() {
	if r.cur != nil {
		r.cur.release()
		r.cur = nil
	}
	if r.err == nil {
		r.err = errStopped
	}
}
