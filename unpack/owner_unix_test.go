//go:build unix

package unpack_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// wantOwner checks the numeric owner of name.
func wantOwner(t *testing.T, e env, name string, uid int) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(e.dst, name))
	if err != nil {
		t.Fatal(err)
	}
	if got := int(fi.Sys().(*syscall.Stat_t).Uid); got != uid {
		t.Errorf("%s uid = %d, want %d", name, got, uid)
	}
}
