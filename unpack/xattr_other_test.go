//go:build !linux

package unpack_test

import "testing"

// wantNoXattrs: extended attributes are read with Linux system calls; the
// unpacker never applies any, on any system.
func wantNoXattrs(t *testing.T, _ env, _ string) { t.Helper() }
