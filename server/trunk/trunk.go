package trunk

import (
	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/wire"
)

// Trunk connects outbound calls to the telephone network: [Simulated] here,
// or the SIP gateway (package sipgw), given to the server with
// server.WithTrunk.
type Trunk interface {
	// Dial starts a call and returns at once: it must not block, because the
	// registry calls it. Progress is reported through d.Progress from the
	// trunk's own goroutines, never from within Dial. An error means the call
	// could not even be attempted (it fails with trunk_failed).
	Dial(d Dial) (Call, error)
}

// Dial describes an outbound call.
type Dial struct {
	CallID  string
	Account string
	From    string // the caller's registered number
	To      string // the number dialled
	// Audio takes the far end's audio as wire frames with the trunk's own
	// sequence numbers and timestamps.
	Audio endpoint.AudioSink
	// Progress reports the call's progress, in order: Ringing, then one of
	// Answered or Failed; after Answered, Held and Resumed as the far end
	// holds and resumes, and possibly Hangup. It may block briefly.
	Progress func(Event)
	// DTMF reports a digit the far end pressed (0-9, *, #; RFC 4733 events on
	// a SIP trunk); it reaches the caller once the call is answered. It may
	// block briefly, like Progress.
	DTMF func(digit byte)
}

// EventKind is a step of an outbound call.
type EventKind int

// Outbound call progress.
const (
	Ringing  EventKind = iota + 1 // the far end is alerting
	Answered                      // the far end answered; audio flows
	Failed                        // the call failed; Code says why
	Hangup                        // the far end hung up
	Held                          // the far end put the call on hold
	Resumed                       // the far end took it off hold
)

// Event is one step of an outbound call.
type Event struct {
	Kind    EventKind
	Code    wire.Code // Failed: busy, no_answer, not_found or trunk_failed
	Message string    // Failed: human-readable detail
}

// Call is one outbound call in progress. SendAudioRaw receives the app
// user's audio toward the far end (only once answered, never while held) on
// the caller's reader goroutine. None of the methods may block.
type Call interface {
	endpoint.AudioSink
	// SendDTMF sends a digit (0-9, *, #) to the far end.
	SendDTMF(digit byte)
	// Hold pauses (true) or resumes (false) the far end's audio.
	Hold(on bool)
	// Hangup ends the call; safe to call more than once.
	Hangup()
}
