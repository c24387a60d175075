package unpack

import (
	"context"
	"errors"
	"io"
	"sync"
)

// bufPipe carries decompressed bytes from the producer goroutine to the tar
// stage in fixed-size buffers over a bounded channel. It measured faster than
// io.Pipe (no rendezvous per Read) and bounds memory to nbuf*bufSize.
type bufPipe struct {
	ctx  context.Context // the reader gives up when it is done
	full chan []byte     // filled buffers, in order
	free chan []byte     // buffers to reuse
	done chan struct{}

	once sync.Once
	err  error // set before done is closed; io.EOF on clean end

	cur []byte // reader side: the unread part of the current buffer
	own []byte // reader side: the whole current buffer, to recycle
}

const (
	pipeBufSize = 256 << 10
	pipeBufs    = 8
)

var errStopped = errors.New("unpack: stopped by the tar stage")

func newBufPipe(ctx context.Context) *bufPipe {
	p := &bufPipe{
		ctx:  ctx,
		full: make(chan []byte, pipeBufs),
		free: make(chan []byte, pipeBufs+1),
		done: make(chan struct{}),
	}
	return p
}

// buffer returns an empty buffer for the writer, reusing a free one when
// possible. At most pipeBufs+2 buffers exist at any time.
func (p *bufPipe) buffer() []byte {
	select {
	case b := <-p.free:
		return b[:cap(b)]
	default:
		return make([]byte, pipeBufSize)
	}
}

// send hands a filled buffer to the reader. It fails once the pipe is closed
// from either side or ctx is done.
func (p *bufPipe) send(b []byte) error {
	select {
	case p.full <- b:
		return nil
	case <-p.done:
		return errStopped
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// close ends the stream: err == nil means a clean EOF. The first call wins;
// both sides call it (the reader with errStopped to make the writer give up).
func (p *bufPipe) close(err error) {
	p.once.Do(func() {
		if err == nil {
			err = io.EOF
		}
		p.err = err
		close(p.done)
	})
}

// Read implements io.Reader for the tar stage. Buffers already sent are
// delivered before the close error.
func (p *bufPipe) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.own != nil {
			select {
			case p.free <- p.own:
			default:
			}
			p.own = nil
		}
		select {
		case buf := <-p.full:
			p.cur, p.own = buf, buf
		case <-p.ctx.Done():
			return 0, p.ctx.Err()
		case <-p.done:
			// Drain what was sent before the close.
			select {
			case buf := <-p.full:
				p.cur, p.own = buf, buf
			default:
				return 0, p.err
			}
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}
