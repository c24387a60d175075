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
