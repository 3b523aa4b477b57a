package server

import (
	"crypto/rand"
	"encoding/hex"
)

// newCallID returns "c_" and 12 random bytes in hex: unguessable, because a
// call ID is all a decline request names.
func newCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return "c_" + hex.EncodeToString(b[:])
}
