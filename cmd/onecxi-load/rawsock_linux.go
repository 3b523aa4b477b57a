//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// rawSock is a call leg's TCP socket after set-up, taken away from Go's
// network poller and gorilla/websocket so that one poll loop (pollloop_linux.go)
// can serve hundreds of them with plain read(2) and write(2) calls. It is
// owned by one goroutine at a time: the poll loop while streaming, then
// hang-up.
type rawSock struct {
	fd     int
	in     []byte // received bytes not yet parsed: at most a partial frame
	out    []byte // the unsent tail of a partly written frame
	frame  []byte // scratch for the frame being written
	closed bool
}

// rxBufSize holds a partial frame of the largest size plus a whole one.
const rxBufSize = 2 * (maxFrameHeader + maxServerMessage)

var (
	errSocketBusy = errors.New("socket buffer full: frame dropped")
	errSockClosed = errors.New("socket closed")
)

// detach takes a plain-TCP WebSocket's socket for a rawSock. The socket's
// descriptor is duplicated and Go's own closed: that takes the socket off
// Go's poller (which would otherwise be woken for every frame too) while
// the duplicate keeps the connection open. The WebSocket must not be used
// afterwards. A TLS connection cannot be detached (its bytes are
// ciphertext); the error says so and the caller streams through gorilla.
func detach(ws *websocket.Conn) (*rawSock, error) {
	sc, ok := ws.NetConn().(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T is not a plain socket", ws.NetConn())
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, fmt.Errorf("duplicate socket: %w", dupErr)
	}
	_ = ws.NetConn().Close()
	// The socket is already non-blocking (Go sets it so); reads and writes
	// below rely on that.
	return &rawSock{fd: fd, in: make([]byte, 0, rxBufSize)}, nil
}

// write sends one message as a single masked client frame. A socket too
// full to take any of it drops the frame (errSocketBusy); a frame written
// only in part keeps its tail, sent before anything else.
func (r *rawSock) write(op int, payload []byte) error {
	if r.closed {
		return errSockClosed
	}
	if len(r.out) > 0 {
		if err := r.flush(); err != nil {
			return err
		}
		if len(r.out) > 0 {
			return errSocketBusy
		}
	}
	r.frame = appendClientFrame(r.frame[:0], byte(op), payload, rand.Uint32())
	n, err := unix.Write(r.fd, r.frame)
	switch {
	case errors.Is(err, unix.EAGAIN):
		return errSocketBusy
	case err != nil:
		return fmt.Errorf("write: %w", err)
	case n < len(r.frame):
		r.out = append(r.out[:0], r.frame[n:]...)
	}
	return nil
}

func (r *rawSock) flush() error {
	n, err := unix.Write(r.fd, r.out)
	if errors.Is(err, unix.EAGAIN) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	r.out = r.out[:copy(r.out, r.out[n:])]
	return nil
}

// readable reads what the socket holds and hands each whole frame to
// onFrame (which must not keep the payload). io.EOF means the server
// closed the connection.
func (r *rawSock) readable(onFrame func(op byte, payload []byte)) error {
	n, err := unix.Read(r.fd, r.in[len(r.in):cap(r.in)])
	switch {
	case errors.Is(err, unix.EAGAIN):
		return nil
	case err != nil:
		return fmt.Errorf("read: %w", err)
	case n == 0:
		return io.EOF
	}
	rest, err := parseServerFrames(r.in[:len(r.in)+n], onFrame)
	if err != nil {
		return err
	}
	r.in = r.in[:copy(r.in[:cap(r.in)], rest)]
	return nil
}

func (r *rawSock) close() {
	if !r.closed {
		r.closed = true
		_ = unix.Close(r.fd)
	}
}
