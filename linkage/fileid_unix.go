//go:build unix

package linkage

import (
	"os"
	"syscall"
)

// fileKey identifies a file's content for the object cache and, like the
// loader's (st_dev, st_ino) check, an object already loaded under another
// name.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
	path     string // used only where the platform has no inode numbers
}

func keyOf(path string, fi os.FileInfo) fileKey {
	k := fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.dev, k.ino = uint64(st.Dev), uint64(st.Ino)
	} else {
		k.path = path
	}
	return k
}
