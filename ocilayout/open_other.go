//go:build !unix

package ocilayout

import (
	"fmt"
	"os"
)

const oNoFollow = 0

// openRegular opens a blob for reading only if it is a regular file.
func openRegular(name string) (*os.File, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return os.Open(name)
}
