//go:build !unix

package wire

import "errors"

// nonBlockingWrites is false where Go's raw socket handles cannot be written
// without its poller (Windows): WrapConn then leaves connections unwrapped
// and every frame goes through the writer goroutine.
const nonBlockingWrites = false

func writeNow(uintptr, []byte) (int, error) {
	return 0, errors.New("wire: non-blocking writes are not supported on this platform")
}
