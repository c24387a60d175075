package unpack

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// maxRemoveDepth bounds the recursion of unlockTree; trees the unpacker
// builds are at most Limits.Depth deep, so this only stops a runaway.
const maxRemoveDepth = 4096

// removeAll removes name in r and everything under it. When a plain
// removal fails (an unprivileged process cannot unlink the entries of a
// 0555 directory a layer made), it makes every directory under name
// writable, without following symlinks out of r, and tries again.
func removeAll(r *os.Root, name string) error {
	err := r.RemoveAll(name)
	if err == nil {
		return nil
	}
	if uerr := unlockTree(r, name, 0); uerr != nil {
		return err
	}
	return r.RemoveAll(name)
}

// unlockTree gives the owner rwx on name, if it is a directory, and on
// every directory under it. Symlinks and files are left alone.
func unlockTree(r *os.Root, name string, depth int) error {
	if depth > maxRemoveDepth {
		return fs.ErrInvalid
	}
	fi, err := r.Lstat(name)
	if err != nil || !fi.IsDir() {
		return err
	}
	if fi.Mode().Perm()&0o700 != 0o700 {
		if err := r.Chmod(name, fi.Mode().Perm()|0o700); err != nil {
			return err
		}
	}
	sub, err := r.OpenRoot(name)
	if err != nil {
		return err
	}
	defer sub.Close()
	f, err := sub.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := unlockTree(sub, n, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// removePath is removeAll for a host path: p's parent is the root.
func removePath(p string) error {
	r, err := os.OpenRoot(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer r.Close()
	return removeAll(r, filepath.Base(p))
}

// RemoveAll removes the tree at p, like [os.RemoveAll], including the
// read-only directories layers may make: when a plain removal fails, it
// gives the owner write permission on every directory under p, without
// following symbolic links, and tries again. Use it to remove what Layer,
// Apply or a Staging made, as an unprivileged process as well.
func RemoveAll(p string) error {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return removePath(p)
}
