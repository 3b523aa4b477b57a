// Package goid tells the current goroutine's ID, parsed from its stack header
// ("goroutine 42 [running]:"). Go hides goroutine identity on purpose; it is
// used only so that a loop can tell it is being called from itself and must
// not wait for itself (the SDK's callback dispatcher, the UI test loop).
package goid

import (
	"bytes"
	"runtime"
	"strconv"
)

// ID returns the calling goroutine's ID, or 0 if it cannot be read.
func ID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
