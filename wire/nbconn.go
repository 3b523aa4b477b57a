package wire

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxPending bounds what an nbConn keeps for a peer that has stopped reading:
// past it, writes fail and the connection closes. Normally at most one
// message is ever pending, because the writer goroutine flushes after each.
const maxPending = 64 << 10

// errPendingFull is the write error of a peer that let maxPending fill.
var errPendingFull = errors.New("wire: peer not reading: pending writes over limit")

// nbConn is a TCP connection whose writes, once started, never block: what
// the kernel's socket buffer will not take at once is kept, in order, and
// written later by Flush on the Conn's writer goroutine. It lets the goroutine
// that relays a frame write it straight into the far end's socket, saving a
// goroutine hand-off per frame, without a slow far end ever stalling the
// relaying goroutine (see Conn.SendAudioRaw).
//
// Before start it is a plain pass-through (the HTTP handshake). Wrap a
// connection with WrapConn, or every accepted one with WrapListener; both
// leave connections that cannot do non-blocking writes unwrapped, and a Conn
// over an unwrapped socket simply queues every frame for its writer.
type nbConn struct {
	net.Conn
	rc syscall.RawConn

	mu      sync.Mutex
	on      bool        // started: writes are non-blocking
	pending []byte      // accepted but not yet written, in order
	busy    atomic.Bool // pending is non-empty or being flushed
	kick    func()      // told when bytes are left pending
	// tryWrite's callback and its arguments, bound once (under mu) so a
	// write allocates no closure.
	try   func(fd uintptr) bool
	tryP  []byte
	tryN  int
	tryEr error

	fmu   sync.Mutex // one Flush at a time
	spare []byte     // Flush's second buffer (under fmu)

	dmu sync.Mutex
	wdl time.Time // last write deadline passed down
}

// WrapConn returns c wrapped for non-blocking writes when c is a TCP
// connection on a platform that supports them, else c itself.
func WrapConn(c net.Conn) net.Conn {
	if !nonBlockingWrites {
		return c
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	nb := &nbConn{Conn: c, rc: rc}
	nb.try = func(fd uintptr) bool {
		nb.tryN, nb.tryEr = writeNow(fd, nb.tryP)
		return true
	}
	return nb
}

// WrapListener returns ln with every accepted connection passed through
// WrapConn. Wrap the TCP listener, beneath any TLS listener.
func WrapListener(ln net.Listener) net.Listener { return wrapListener{ln} }

type wrapListener struct{ net.Listener }

func (l wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WrapConn(c), nil
}

// DialContext dials like net.Dialer and wraps the result with WrapConn; it
// suits websocket.Dialer.NetDialContext.
func DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return WrapConn(c), nil
}

// findNB finds the nbConn under c, looking through TLS.
func findNB(c net.Conn) *nbConn {
	for range 4 {
		switch v := c.(type) {
		case *nbConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// start makes writes non-blocking; kick is called (and must not block) when
// bytes are left for Flush.
func (c *nbConn) start(kick func()) {
	c.mu.Lock()
	c.on, c.kick = true, kick
	c.mu.Unlock()
}

// Busy reports whether bytes are waiting to be written: a Write now would
// only add to them.
func (c *nbConn) Busy() bool { return c.busy.Load() }

// Write writes p, or as much as the socket takes at once and keeps the rest
// for Flush. It never blocks once started, and keeps byte order across calls.
func (c *nbConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.on {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	defer c.mu.Unlock()
	if c.busy.Load() {
		if len(c.pending)+len(p) > maxPending {
			return 0, errPendingFull
		}
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	n, err := c.tryWrite(p)
	if err != nil {
		return n, err
	}
	if n < len(p) {
		c.pending = append(c.pending[:0], p[n:]...)
		c.busy.Store(true)
		c.kick()
	}
	return len(p), nil
}

// tryWrite writes what the socket takes without waiting; the caller holds mu.
// A passed write deadline fails it, as it would a blocking write.
func (c *nbConn) tryWrite(p []byte) (int, error) {
	c.tryP = p
	rerr := c.rc.Write(c.try)
	n, err := c.tryN, c.tryEr
	c.tryP, c.tryEr = nil, nil
	if rerr != nil {
		return 0, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: rerr}
	}
	if err != nil {
		return n, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	return n, nil
}

// Flush writes the pending bytes, blocking until they are written or the
// write deadline passes. Writes arriving meanwhile are kept behind them.
func (c *nbConn) Flush() error {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.busy.Store(false)
			c.mu.Unlock()
			return nil
		}
		out := c.pending
		c.pending = c.spare[:0]
		c.mu.Unlock()
		// busy stays set, so no Write can slip its bytes in ahead of these.
		_, err := c.Conn.Write(out)
		c.spare = out[:0]
		if err != nil {
			return err
		}
	}
}

// SetWriteDeadline passes t down only when it changed: gorilla/websocket sets
// the deadline before every frame, and an unchanged one still costs a timer
// update in the runtime.
func (c *nbConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if t.Equal(c.wdl) && !t.IsZero() {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.wdl = t
	return nil
}

// SetDeadline keeps SetWriteDeadline's record true.
func (c *nbConn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.wdl = t
	return nil
}
