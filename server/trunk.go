package server

import (
	"github.com/onecxi/phone/wire"
)

// Trunk connects outbound calls to the telephone network. The reference
// server ships [SimulatedTrunk]; a SIP trunk will implement the same
// interface and be passed with [WithTrunk].
type Trunk interface {
	// Dial starts a call and returns at once: it must not block, because the
	// registry calls it. Progress is reported through d.Progress from the
	// trunk's own goroutines, never from within Dial. An error means the call
	// could not even be attempted (it fails with trunk_failed).
	Dial(d TrunkDial) (TrunkCall, error)
}

// TrunkDial describes an outbound call.
type TrunkDial struct {
	CallID  string
	Account string
	From    string // the caller's registered number
	To      string // the number dialled
	// Audio takes the far end's audio as wire frames with the trunk's own
	// sequence numbers and timestamps.
	Audio AudioSink
	// Progress reports the call's progress, in order: TrunkRinging, then one
	// of TrunkAnswered or TrunkFailed; after TrunkAnswered, TrunkHeld and
	// TrunkResumed as the far end holds and resumes, and possibly
	// TrunkHangup. It may block briefly.
	Progress func(TrunkEvent)
	// DTMF reports a digit the far end pressed (0-9, *, #; RFC 4733 events on
	// a SIP trunk); it reaches the caller once the call is answered. It may
	// block briefly, like Progress.
	DTMF func(digit byte)
}

// TrunkEventKind is a step of an outbound call.
type TrunkEventKind int

// Outbound call progress.
const (
	TrunkRinging  TrunkEventKind = iota + 1 // the far end is alerting
	TrunkAnswered                           // the far end answered; audio flows
	TrunkFailed                             // the call failed; Code says why
	TrunkHangup                             // the far end hung up
	TrunkHeld                               // the far end put the call on hold
	TrunkResumed                            // the far end took it off hold
)

// TrunkEvent is one step of an outbound call.
type TrunkEvent struct {
	Kind    TrunkEventKind
	Code    wire.Code // TrunkFailed: busy, no_answer, not_found or trunk_failed
	Message string    // TrunkFailed: human-readable detail
}

// TrunkCall is one outbound call in progress. SendAudioRaw receives the app
// user's audio toward the far end (only once answered, never while held) on
// the caller's reader goroutine. None of the methods may block.
type TrunkCall interface {
	AudioSink
	// SendDTMF sends a digit (0-9, *, #) to the far end.
	SendDTMF(digit byte)
	// Hold pauses (true) or resumes (false) the far end's audio.
	Hold(on bool)
	// Hangup ends the call; safe to call more than once.
	Hangup()
}

// trunkEndpoint adapts a TrunkCall to the registry's endpoint.
type trunkEndpoint struct{ TrunkCall }

func (t trunkEndpoint) dtmf(d byte)  { t.SendDTMF(d) }
func (t trunkEndpoint) hold(on bool) { t.Hold(on) }
func (t trunkEndpoint) close()       { t.Hangup() }
