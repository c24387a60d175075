//go:build !unix

package linkage

import "os"

// fileKey identifies a file's content for the object cache.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
	path     string
}

func keyOf(path string, fi os.FileInfo) fileKey {
	return fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano(), path: path}
}
