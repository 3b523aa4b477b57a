package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/wire"
)

// Errors of Server.Inbound and ExternalLeg.
var (
	// ErrNoRoute: no account has the DID an inbound call is for.
	ErrNoRoute = errors.New("no route for the number dialled")
	// ErrShuttingDown: the server is stopping and takes no new calls.
	ErrShuttingDown = errors.New("the server is shutting down")
	// ErrControlRejected: hold or DTMF is not possible now (for example the
	// call is not connected yet); the message says why.
	ErrControlRejected = errors.New("control rejected")
)

// Bounds on what a trunk says about its caller.
const (
	maxCallerName  = 64
	anonymousCalls = "anonymous"
)

// LegConn carries one party of a call to and from the registry. A /v1/call
// WebSocket (*wire.Conn) is one; a trunk's inbound caller is another (see
// Server.Inbound). Send and Close are called from the registry goroutine and
// SendAudioRaw from relay goroutines: none may block.
type LegConn interface {
	// SendAudioRaw takes the other party's audio toward this one: wire
	// frames (header and samples), owned by the callee afterwards.
	endpoint.AudioSink
	// Send delivers a control message: ringing, answered, declined,
	// error{code,message}, end{reason}, dtmf{digit} or hold{on,remote}.
	Send(m wire.Message) error
	// Close says the server is done with this party (after its last
	// message); nothing is sent afterwards.
	Close(code int, reason string)
}

// InboundCall is what a trunk knows of a call arriving from the telephone
// network.
type InboundCall struct {
	DID  string // the number dialled, after the trunk's rewriting
	From string // the caller's number; anything but a number shows as "anonymous"
	Name string // the caller's display name, if the network gave one
}

// Inbound places a call arriving from a trunk on the DID plan of the account
// that owns in.DID: an echo or IVR DID answers at once, an app route rings
// every device of its registered number (events connections and push) like
// a call from an app. It returns at once; what happens next arrives on
// conn.Send — ringing, answered, or error{code} (unreachable, busy,
// no_answer, too_many_requests, shutting_down) followed by conn.Close.
//
// The returned ExternalLeg is how the trunk's side acts on the call: its
// audio, digits, hold, and hanging up. An unknown DID gives ErrNoRoute.
func (s *Server) Inbound(ctx context.Context, in InboundCall, conn LegConn) (*ExternalLeg, error) {
	if conn == nil {
		return nil, errors.New("server: Inbound needs a LegConn")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inbound call to %s: %w", wire.Quote(in.DID), err)
	}
	acct := s.auth.accountByDID(ctx, in.DID)
	if acct == nil {
		return nil, fmt.Errorf("inbound call to %s: %w", wire.Quote(in.DID), ErrNoRoute)
	}
	if s.shutting.Load() {
		return nil, ErrShuttingDown
	}
	caller := anonymousCalls
	if wire.ValidNumber(in.From) {
		caller = in.From
	}
	name := callerName(in.Name)
	log := s.log.With("account", acct.name, "trunkCaller", caller)
	x := &ExternalLeg{reg: s.reg, stats: s.stats}
	x.conn = &extConn{LegConn: conn, x: x}
	x.l = &leg{reg: s.reg, stats: s.stats, acct: acct, conn: x.conn, log: log, caller: caller, callerName: name}
	x.l.phase.Store(legStarted)
	// The key under which the registry knows this party: registered numbers
	// are digits, so a trunk caller can never collide with an app user, nor
	// two callers from one number with each other.
	m := wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: in.DID, RegisteredNumber: "trunk:" + newCallID()}
	targets := s.pushTargetsFor(acct, m)
	peers := s.ringPeersFor(acct, m)
	var added error
	err := s.reg.do(func() {
		if added = s.reg.addLeg(x.l); added == nil {
			s.reg.start(x.l, m, targets, peers, false)
			if x.l.call != nil {
				x.callID.Store(&x.l.call.id)
			}
		}
	})
	if err != nil || added != nil {
		return nil, ErrShuttingDown
	}
	return x, nil
}

// callerName keeps a display name short and printable: it reaches other
// people's screens and push payloads.
func callerName(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxCallerName {
		s = string(r[:maxCallerName])
	}
	return s
}

// ExternalLeg is the server's side of a trunk's inbound caller. Its methods
// may be called from any goroutine; SendAudioRaw never blocks.
type ExternalLeg struct {
	reg    *registry
	stats  *counters
	l      *leg
	conn   *extConn
	callID atomic.Pointer[string]
}

// CallID is the call's ID, or "" if the call was refused at once.
func (x *ExternalLeg) CallID() string {
	if id := x.callID.Load(); id != nil {
		return *id
	}
	return ""
}

// SendAudioRaw takes the caller's audio into the call: a wire frame, owned by
// the server afterwards. It goes where the caller's WebSocket audio would go
// (nowhere before the call is answered, or while muted or held).
func (x *ExternalLeg) SendAudioRaw(raw []byte) bool {
	if wire.CheckAudio(raw) != nil {
		x.stats.framesDropped.Add(1)
		return false
	}
	x.l.onAudio(raw)
	return true
}

// DTMF passes a digit the caller pressed (0-9, *, #) to the other party.
func (x *ExternalLeg) DTMF(digit byte) error {
	if !wire.ValidDigit(string(digit)) {
		return fmt.Errorf("%w: %q is not a DTMF digit (0-9, *, #)", ErrControlRejected, digit)
	}
	return x.control(func() (wire.Code, string) { return x.reg.dtmf(x.l, string(digit)) })
}

// Hold puts the call on hold (the other party hears hold music) or resumes
// it, as a re-INVITE from the network asks.
func (x *ExternalLeg) Hold(on bool) error {
	return x.control(func() (wire.Code, string) { return x.reg.hold(x.l, on) })
}

func (x *ExternalLeg) control(f func() (wire.Code, string)) error {
	var code wire.Code
	var msg string
	if err := x.reg.do(func() { code, msg = f() }); err != nil {
		return ErrShuttingDown
	}
	if code != "" {
		return fmt.Errorf("%w: %s (%s)", ErrControlRejected, msg, code)
	}
	return nil
}

// Hangup ends the call because the caller hung up (BYE or CANCEL from the
// network). Safe to call more than once, and after the server ended the call.
func (x *ExternalLeg) Hangup() {
	x.conn.closed.Store(true) // the caller is gone: nothing more to send it
	_ = x.reg.do(func() { x.reg.legGone(x.l) })
}

// extConn wraps a trunk's LegConn. A WebSocket leg is forgotten when its
// reader sees the close; a trunk caller has no reader, so closing it is what
// tells the registry it is gone.
type extConn struct {
	LegConn
	x      *ExternalLeg
	closed atomic.Bool
}

func (e *extConn) Send(m wire.Message) error {
	if e.closed.Load() {
		return wire.ErrClosed
	}
	return e.LegConn.Send(m)
}

func (e *extConn) SendAudioRaw(raw []byte) bool {
	if e.closed.Load() {
		return false
	}
	return e.LegConn.SendAudioRaw(raw)
}

// Close is called on the registry goroutine, so forgetting the leg is done
// from a goroutine of its own.
func (e *extConn) Close(code int, reason string) {
	if e.closed.Swap(true) {
		return
	}
	e.LegConn.Close(code, reason)
	r, l := e.x.reg, e.x.l
	r.spawn(func() { _ = r.do(func() { r.legGone(l) }) })
}
