//go:build !unix

package blobcache

import (
	"fmt"
	"os"
)

// openRegular opens a blob for reading only if it is a regular file, and
// returns the file's information too.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, fi, nil
}
