package server

import (
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/wire"
)

// Event types reported to the hook set by WithEventHook.
const (
	EventCallStarted = "call_started" // a start was accepted and a call exists
	EventRejected    = "rejected"     // a start failed; Reason is the error code
	EventAnswered    = "answered"     // the call connected
	EventDTMF        = "dtmf"         // a party pressed Digit
	EventHold        = "hold"         // a party held (On) or resumed
	EventMute        = "mute"         // a party muted (On) or unmuted
	EventDeclined    = "declined"     // the callee declined
	EventEnded       = "ended"        // the call is over; Reason says why
	// Call resumption (PROTOCOL.md): a party's connection was lost (From is
	// the party, Reason how it was noticed: "socket" or "silent"), and it
	// came back (EventResumed on a new socket; EventRecovered on the same
	// one after a stall).
	EventConnLost  = "conn_lost"
	EventResumed   = "resumed"
	EventRecovered = "recovered"
)

// Event is something that happened to a call, for tests and metrics. It never
// carries credentials or audio.
type Event struct {
	Type    string
	Account string
	CallID  string // empty for a rejected start
	Kind    wire.CallKind
	From    string // the caller's registered number
	To      string // what the caller dialled
	Digit   string // dtmf
	On      bool   // hold, mute
	// Reason: ended: hangup (a party hung up), network_lost (a party's
	// connection was lost past the resume grace, or failed outright for a
	// party that cannot resume), keepalive_timeout, no_answer, declined,
	// cancelled, shutdown, busy, trunk_failed, …; rejected: the error code.
	Reason string
}

// Stats are the server's counters.
type Stats struct {
	ActiveCalls int // calls ringing or connected
	EventConns  int // live /v1/events connections
	// FramesRelayed counts client audio frames handed to the other party or
	// to a server endpoint; FramesDropped those that were not (muted, held,
	// not yet answered, or the receiver's queue full).
	FramesRelayed, FramesDropped uint64
	// FramesMalformed counts binary messages from clients that were not
	// valid audio frames: dropped, not answered (PROTOCOL.md).
	FramesMalformed uint64
	Push            push.Stats
}
