//go:build unix

package wire

import (
	"errors"
	"syscall"
)

// nonBlockingWrites: Go keeps sockets in non-blocking mode on Unix, so a
// write(2) on the raw descriptor returns at once.
const nonBlockingWrites = true

// writeNow writes what the socket takes without waiting; a full socket buffer
// is (0, nil).
func writeNow(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Write(int(fd), p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return 0, nil
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}
