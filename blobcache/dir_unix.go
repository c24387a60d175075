//go:build unix

package blobcache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// privateDir creates d with permissions 0700, or accepts it as it is if
// this user owns it, and checks that nobody else can replace it.
func privateDir(d string) error {
	parent := filepath.Dir(d)
	pfi, err := os.Stat(parent) // may be a link: /tmp -> /private/tmp on macOS
	if err != nil {
		return fmt.Errorf("blobcache: %s: %w", d, err)
	}
	if pfi.Mode().Perm()&0o002 != 0 && pfi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%w: %s: %s is writable by everyone and lacks the sticky bit: another user could replace the cache", ErrUnsafeDir, d, parent)
	}
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("blobcache: %s: %w", d, err)
	}
	fi, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("blobcache: %s: %w", d, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory but a %s, which someone else may have put there", ErrUnsafeDir, d, fileKind(fi))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this user (uid %d): someone else created it first", ErrUnsafeDir, d, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("blobcache: %s: %w", d, err)
		}
	}
	return nil
}

func fileKind(fi fs.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t&fs.ModeSymlink != 0:
		return "symbolic link"
	case t == 0:
		return "regular file"
	default:
		return t.String()
	}
}
