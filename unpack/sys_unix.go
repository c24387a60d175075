//go:build unix

package unpack

import (
	"io/fs"
	"syscall"
)

const oNoFollow = syscall.O_NOFOLLOW

// umask is the process umask, read once at start: files whose mode it
// would not change are created with their final mode and need no fchmod.
var umask = func() fs.FileMode {
	m := syscall.Umask(0o22)
	syscall.Umask(m)
	return fs.FileMode(m)
}()
