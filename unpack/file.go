package unpack

import (
	"crypto/sha256"
	"io"
	"io/fs"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// outFile is a regular file being written by the tar stage, created by
// createFile (in sys_linux.go with plain syscalls, elsewhere an *os.File
// from the parent's os.Root).
type outFile interface {
	io.Writer
	Chmod(mode fs.FileMode) error
	Chown(uid, gid int) error
	setMtime(t time.Time) error
	Sync() error
	Close() error
}

// fileSeg is a piece of a file's content for the fileHasher, lent with a
// reference on its chunk; end marks the file's last piece, sent once the
// file is written.
type fileSeg struct {
	b    []byte
	c    *chunk // nil for no content (an empty file's end)
	end  bool
	path string
	size int64
}

// fileHasher hashes file contents for [Options.FileDigest] on a goroutine
// of its own, so the third hash of each byte overlaps the decoding, the
// other hashes and the writing; it calls fn in file order, from that one
// goroutine.
type fileHasher struct {
	ch   chan fileSeg
	done chan struct{}
	fn   func(path string, size int64, d digest.Digest)
}

func newFileHasher(fn func(string, int64, digest.Digest)) *fileHasher {
	h := &fileHasher{ch: make(chan fileSeg, 4*queueLen), done: make(chan struct{}), fn: fn}
	go h.run()
	return h
}

func (h *fileHasher) run() {
	defer close(h.done)
	sum := sha256.New()
	for s := range h.ch {
		if s.c != nil {
			sum.Write(s.b)
			s.c.release()
		}
		if s.end {
			h.fn(s.path, s.size, digest.NewDigest(digest.SHA256, sum))
			sum.Reset()
		}
	}
}

// wait ends the hasher after the last file sent and waits until every
// call of fn has returned.
func (h *fileHasher) wait() {
	close(h.ch)
	<-h.done
}
