package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// bridgeConn is, on a call's home node, the socket of a phone connected
// to another node (the edge): a callSocket whose reads arrive as packets
// and whose writes leave as packets (bridge.go).
type bridgeConn struct {
	b        *bridge
	id       uint64
	edge     string
	h        wire.Handlers // set before the first packet is handed on
	lastRead atomic.Int64  // Unix ns: the edge's pings, and audio
	closed   atomic.Bool
	once     sync.Once
	done     chan struct{} // closed by finish; err is set then
	err      error
}

// Send implements callSocket.
func (c *bridgeConn) Send(m wire.Message) error {
	if c.closed.Load() {
		return wire.ErrClosed
	}
	body, err := wire.Encode(m)
	if err != nil {
		return err
	}
	return c.b.send(c.edge, pktMsg, c.id, body)
}

// SendAudioRaw implements callSocket: the per-frame path.
func (c *bridgeConn) SendAudioRaw(raw []byte) bool {
	ok := !c.closed.Load() && c.b.sendAudio(c.edge, c.id, raw)
	wire.ReleaseAudioBuffer(raw)
	return ok
}

// Close implements callSocket: the edge closes the phone's WebSocket with
// code after the messages sent before (NATS keeps one sender's packets in
// order), and the leg's "Run" returns nil.
func (c *bridgeConn) Close(code int, reason string) {
	if c.closed.CompareAndSwap(false, true) {
		_ = c.b.sendJSON(c.edge, pktClose, c.id, closeBody{Code: code, Reason: reason})
		c.finish(nil)
	}
}

// LastRead implements callSocket.
func (c *bridgeConn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// finish ends the bridge with err (what a WebSocket's Run would return).
func (c *bridgeConn) finish(err error) {
	c.once.Do(func() {
		c.closed.Store(true)
		c.err = err
		c.b.homes.delete(c.id)
		close(c.done)
	})
}

// fromEdge is a control message the phone sent.
func (c *bridgeConn) fromEdge(body []byte) {
	if c.closed.Load() {
		return
	}
	c.lastRead.Store(time.Now().UnixNano())
	m, err := wire.Decode(body)
	if err != nil {
		c.h.OnBadMessage(err)
		return
	}
	c.h.OnMessage(m)
}

// gone is the edge saying the phone's socket closed.
func (c *bridgeConn) gone(body []byte) { c.finish(goneError(body)) }
