//go:build linux

package unpack_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// wantNoXattrs checks that the unpacker applied no extended attribute to
// name (the kernel may add security.selinux itself).
func wantNoXattrs(t *testing.T, e env, name string) {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := syscall.Listxattr(filepath.Join(e.dst, name), buf)
	if err != nil && !errors.Is(err, syscall.ENOTSUP) {
		t.Fatal(err)
	}
	for x := range strings.SplitSeq(string(buf[:max(n, 0)]), "\x00") {
		if x != "" && x != "security.selinux" {
			t.Errorf("%s has xattr %q", name, x)
		}
	}
}
