//go:build unix

package ocilayout

import (
	"fmt"
	"os"
	"syscall"
)

// oNoFollow refuses to open a symbolic link as the last component.
const oNoFollow = syscall.O_NOFOLLOW

// openRegular opens a blob for reading only if it is a regular file:
// without following a final symbolic link, and without blocking on a FIFO
// planted in the layout (O_NONBLOCK has no effect on regular files).
func openRegular(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
