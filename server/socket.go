package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/wire"
)

// maxPending bounds the control messages kept for a leg whose connection is
// lost, to be delivered when it resumes. A call sends few (answered, hold,
// dtmf, end); past the bound the oldest are dropped. attach queues them all
// at once on the new socket, after resumed: together they must fit in its
// control queue, or wire.Conn would close it as a peer not reading.
const maxPending = wire.ControlQueue - 1

// callSocket is what carries one socket of a /v1/call leg: the WebSocket
// itself (*wire.Conn), or, for a phone connected to another node of the
// cluster, the bridge from that node (bridgeConn, bridge.go).
type callSocket interface {
	Send(wire.Message) error
	SendAudioRaw([]byte) bool
	Close(code int, reason string)
	// LastRead is when anything last arrived from the phone.
	LastRead() time.Time
}

// sockBox holds a callSocket for an atomic pointer.
type sockBox struct{ c callSocket }

// legSocket is the LegConn of a /v1/call leg: the leg's current WebSocket,
// which a resume swaps (Call resumption, resume.go). Everything that sends
// to a leg — the other party's relay, the echo, IVR and trunk far ends,
// hold music, the registry — holds the legSocket, never the *wire.Conn, so
// a resumed leg needs no rewiring.
//
// While the leg has no socket (lost, waiting for a resume) audio toward it
// is dropped and control messages are kept (up to maxPending) to be sent
// first thing on the new socket. While its socket is only suspected dead
// (silent for wire.MediaTimeout) they are sent on it and a copy is kept:
// the client is about to give that socket up, and what it never read
// reaches it after the resume; if the same socket comes back instead the
// copies are forgotten.
type legSocket struct {
	cur atomic.Pointer[sockBox] // nil while lost

	mu      sync.Mutex
	pending []wire.Message
	suspect bool // the current socket is silent: keep copies
	closed  bool // Close was called: the leg is over
}

func newLegSocket(c callSocket) *legSocket {
	s := &legSocket{}
	s.cur.Store(&sockBox{c})
	return s
}

// SendAudioRaw implements endpoint.AudioSink: the per-frame path, one
// atomic load.
func (s *legSocket) SendAudioRaw(raw []byte) bool {
	b := s.cur.Load()
	if b == nil {
		wire.ReleaseAudioBuffer(raw)
		return false
	}
	return b.c.SendAudioRaw(raw)
}

// Send implements LegConn.
func (s *legSocket) Send(m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return wire.ErrClosed
	}
	c := s.conn()
	if c != nil && !s.suspect {
		return c.Send(m)
	}
	if c != nil {
		_ = c.Send(m) // and keep a copy, below
	}
	if len(s.pending) == maxPending {
		copy(s.pending, s.pending[1:])
		s.pending = s.pending[:maxPending-1]
	}
	s.pending = append(s.pending, m)
	return nil
}

// Close implements LegConn: the leg is over. A lost leg has no socket to
// close; its pending messages are dropped (a late resume is answered from
// the call's tombstone instead).
func (s *legSocket) Close(code int, reason string) {
	s.mu.Lock()
	s.closed = true
	s.pending = nil
	c := s.conn()
	s.mu.Unlock()
	if c != nil {
		c.Close(code, reason)
	}
}

// suspectSilent marks the current socket as silent (on) or heard from
// again (off: the copies kept meanwhile were delivered on it, and are
// forgotten).
func (s *legSocket) suspectSilent(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on && s.conn() != nil {
		s.pending = nil
	}
	s.suspect = on
}

// conn is the current socket, nil while lost.
func (s *legSocket) conn() callSocket {
	if b := s.cur.Load(); b != nil {
		return b.c
	}
	return nil
}

// detach forgets c if it is still the current socket, and reports whether
// it was.
func (s *legSocket) detach(c callSocket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.cur.Load(); b != nil && b.c == c {
		s.cur.Store(nil)
		return true
	}
	return false
}

// attach makes c the current socket: first is sent on it, then every
// pending message, in order, and the socket it replaces (one the server
// had not yet noticed was dead) is closed. It fails once the leg is over.
func (s *legSocket) attach(c callSocket, first wire.Message) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	_ = c.Send(first)
	for _, m := range s.pending {
		_ = c.Send(m)
	}
	s.pending = nil
	s.suspect = false
	old := s.cur.Swap(&sockBox{c})
	s.mu.Unlock()
	if old != nil {
		old.c.Close(wire.CloseReplaced, "the call resumed on another connection")
	}
	return true
}
