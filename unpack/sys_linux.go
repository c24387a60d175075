//go:build linux

package unpack

import (
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// createFile creates name in the directory h with
// openat(O_CREAT|O_EXCL|O_NOFOLLOW) on the directory's own descriptor and
// returns a rawFile. The directory is one the tree verified; O_EXCL and
// O_NOFOLLOW make the kernel refuse any existing name, symlink or not.
//
// Why not os.Root.OpenFile: an *os.File registers every descriptor with the
// runtime poller (an epoll_ctl that fails for regular files), locks around
// each write, and goes through os.Root's path walk; for a thousand small
// files that is measurable next to the openat+write+close that remain.
func createFile(h *handle, name string, perm fs.FileMode) (outFile, error) {
	dfd, err := h.dirFD()
	if err != nil {
		return nil, err
	}
	const flags = syscall.O_WRONLY | syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	for {
		fd, err := syscall.Openat(dfd, name, flags, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat", Path: name, Err: err}
		}
		return &rawFile{fd: fd, name: name}, nil
	}
}

// dirFD returns a descriptor of the directory, opening it through the
// os.Root on first use (the same directory the tree verified).
func (h *handle) dirFD() (int, error) {
	if h.dirFile == nil {
		f, err := h.Open(".")
		if err != nil {
			return -1, err
		}
		h.dirFile, h.fd = f, int(f.Fd())
	}
	return h.fd, nil
}

// rawFile is a file descriptor used with plain syscalls.
type rawFile struct {
	fd   int
	name string
}

func (f *rawFile) err(op string, err error) error {
	return &os.PathError{Op: op, Path: f.name, Err: err}
}

func (f *rawFile) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := syscall.Write(f.fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, f.err("write", err)
		}
		if m == 0 {
			return n, f.err("write", syscall.EIO)
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Chmod(mode fs.FileMode) error {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= syscall.S_ISUID
	}
	if mode&fs.ModeSetgid != 0 {
		m |= syscall.S_ISGID
	}
	if mode&fs.ModeSticky != 0 {
		m |= syscall.S_ISVTX
	}
	if err := syscall.Fchmod(f.fd, m); err != nil {
		return f.err("fchmod", err)
	}
	return nil
}

func (f *rawFile) Chown(uid, gid int) error {
	if err := syscall.Fchown(f.fd, uid, gid); err != nil {
		return f.err("fchown", err)
	}
	return nil
}

// setMtime sets atime and mtime through the descriptor (utimensat(fd, NULL),
// i.e. futimens): no path lookup, no symlink question, one syscall.
func (f *rawFile) setMtime(t time.Time) error {
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(t.UnixNano()), syscall.NsecToTimespec(t.UnixNano())}
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(f.fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return f.err("futimens", errno)
	}
	return nil
}

func (f *rawFile) Sync() error {
	if err := syscall.Fsync(f.fd); err != nil {
		return f.err("fsync", err)
	}
	return nil
}

// Close closes the descriptor once; Linux releases it even when close
// reports an error, so it is never retried.
func (f *rawFile) Close() error {
	fd := f.fd
	if fd < 0 {
		return nil
	}
	f.fd = -1
	if err := syscall.Close(fd); err != nil {
		return f.err("close", err)
	}
	return nil
}
