//go:build !linux

package unpack

import (
	"os"
	"time"
)

// setMtime falls back to Chtimes on the name in its parent's handle; only
// this package writes in the tree, so the name still refers to f.
func setMtime(_ *os.File, parent *os.Root, base string, t time.Time) error {
	return parent.Chtimes(base, t, t)
}
