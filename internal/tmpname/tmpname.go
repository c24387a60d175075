// Package tmpname makes the random part of temporary file names, so that
// files written next to their destination and renamed into place never
// collide. It has that one job; extension, internal/view and
// internal/pg17 use it.
package tmpname

import (
	"crypto/rand"
	"encoding/hex"
)

// Suffix returns 8 random hex digits for a unique temporary name.
func Suffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
