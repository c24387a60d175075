//go:build !linux

package unpack

import (
	"io/fs"
	"os"
	"time"
)

// createFile creates name in h through its os.Root (O_EXCL never follows a
// symlink).
func createFile(h *handle, name string, perm fs.FileMode) (outFile, error) {
	f, err := h.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{File: f, parent: h.Root, name: name}, nil
}

// osFile is an *os.File whose mtime is set by name in its parent's handle;
// only this package writes in the tree, so the name still refers to it.
type osFile struct {
	*os.File
	parent *os.Root
	name   string
}

func (f *osFile) setMtime(t time.Time) error { return f.parent.Chtimes(f.name, t, t) }
