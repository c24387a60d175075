//go:build linux

package unpack

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// setMtime sets a file's atime and mtime through its descriptor
// (utimensat(fd, NULL, ...), i.e. futimens): no path lookup, no symlink
// question, one syscall.
func setMtime(f *os.File, _ *os.Root, _ string, t time.Time) error {
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(t.UnixNano()), syscall.NsecToTimespec(t.UnixNano())}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "futimens", Path: f.Name(), Err: errno}
	}
	return nil
}
