//go:build !unix

package blobcache

import (
	"fmt"
	"os"
)

// privateDir creates d, which must be a real directory. os.TempDir() is
// private to the user on Windows: ownership is not checked.
func privateDir(d string) error {
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("blobcache: %s: %w", d, err)
	}
	fi, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("blobcache: %s: %w", d, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (%s)", ErrUnsafeDir, d, fi.Mode().Type())
	}
	return nil
}
