//go:build windows

package blobcache

import (
	"errors"
	"syscall"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION: the file is open in a
// process that did not allow its removal.
const errorSharingViolation = syscall.Errno(32)

// isBusy reports whether a removal failed because the file is open: Go
// opens files without FILE_SHARE_DELETE, so a blob being read cannot be
// removed on Windows.
func isBusy(err error) bool {
	return errors.Is(err, errorSharingViolation) || errors.Is(err, syscall.ERROR_ACCESS_DENIED)
}
