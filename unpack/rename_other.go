//go:build !linux

package unpack

// renameNoReplace renames oldpath to newpath unless newpath exists; here
// with a check before the rename (see renameCheck).
func renameNoReplace(oldpath, newpath string) error { return renameCheck(oldpath, newpath) }
