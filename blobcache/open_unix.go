//go:build unix

package blobcache

import (
	"fmt"
	"os"
	"syscall"
)

// openRegular opens a blob for reading only if it is a regular file:
// without following a final symbolic link, and without blocking on a FIFO
// planted in the cache (O_NONBLOCK has no effect on regular files).
// It returns the file's information too.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
