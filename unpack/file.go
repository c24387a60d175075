package unpack

import (
	"io"
	"io/fs"
	"time"
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
