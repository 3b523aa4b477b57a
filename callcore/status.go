package callcore

import (
	"fmt"
	"strings"
)

// CallState is where a call is in its life. It is an extension over the
// guide's CallStatus, for UIs that show "Calling…" or "Ringing…".
type CallState int

// Call states.
const (
	CallStateIdle       CallState = iota // no call
	CallStateConnecting                  // Start called; connecting to the server
	CallStateRinging                     // the far end is alerting
	CallStateActive                      // answered; audio flows
)

// String returns "idle", "connecting", "ringing" or "active".
func (s CallState) String() string {
	switch s {
	case CallStateIdle:
		return "idle"
	case CallStateConnecting:
		return "connecting"
	case CallStateRinging:
		return "ringing"
	case CallStateActive:
		return "active"
	}
	return fmt.Sprintf("CallState(%d)", int(s))
}

// CallStatus is an immutable snapshot of the call state (the guide's
// CallStatus). Fields are exported for reading; the With helpers return
// modified copies, as the guide's copyWith does. The zero value is "no call".
type CallStatus struct {
	IsCallOngoing    bool     // a call is connecting, ringing or active
	IsMuted          bool     // the microphone is muted
	IsOnHold         bool     // this side put the call on hold
	IsSpeakerOn      bool     // audio is routed to the loudspeaker
	CallType         CallType // CallTypeNone when idle
	CurrentDID       string   // the DID or number this call is with
	RegisteredNumber string   // this user's registered number for the call

	// Extensions over the guide.
	State          CallState // finer than IsCallOngoing
	IsRemoteOnHold bool      // the far end put this side on hold
	CallID         string    // the server's call ID once known

	// IsReconnecting: this phone lost the call's connection and is
	// restoring it; IsRemoteReconnecting: the far party is (ReconnectCallback).
	IsReconnecting       bool
	IsRemoteReconnecting bool
}

// WithCallOngoing returns a copy with IsCallOngoing set.
func (s CallStatus) WithCallOngoing(v bool) CallStatus { s.IsCallOngoing = v; return s }

// WithMuted returns a copy with IsMuted set.
func (s CallStatus) WithMuted(v bool) CallStatus { s.IsMuted = v; return s }

// WithOnHold returns a copy with IsOnHold set.
func (s CallStatus) WithOnHold(v bool) CallStatus { s.IsOnHold = v; return s }

// WithSpeakerOn returns a copy with IsSpeakerOn set.
func (s CallStatus) WithSpeakerOn(v bool) CallStatus { s.IsSpeakerOn = v; return s }

// WithCallType returns a copy with CallType set.
func (s CallStatus) WithCallType(v CallType) CallStatus { s.CallType = v; return s }

// WithCurrentDID returns a copy with CurrentDID set.
func (s CallStatus) WithCurrentDID(v string) CallStatus { s.CurrentDID = v; return s }

// WithRegisteredNumber returns a copy with RegisteredNumber set.
func (s CallStatus) WithRegisteredNumber(v string) CallStatus { s.RegisteredNumber = v; return s }

// WithState returns a copy with State set and IsCallOngoing following it.
func (s CallStatus) WithState(v CallState) CallStatus {
	s.State = v
	s.IsCallOngoing = v != CallStateIdle
	return s
}

// WithRemoteOnHold returns a copy with IsRemoteOnHold set.
func (s CallStatus) WithRemoteOnHold(v bool) CallStatus { s.IsRemoteOnHold = v; return s }

// WithReconnecting returns a copy with IsReconnecting set.
func (s CallStatus) WithReconnecting(v bool) CallStatus { s.IsReconnecting = v; return s }

// WithRemoteReconnecting returns a copy with IsRemoteReconnecting set.
func (s CallStatus) WithRemoteReconnecting(v bool) CallStatus { s.IsRemoteReconnecting = v; return s }

// WithCallID returns a copy with CallID set.
func (s CallStatus) WithCallID(v string) CallStatus { s.CallID = v; return s }

// Equal reports whether every field is equal (the guide's ==).
func (s CallStatus) Equal(o CallStatus) bool { return s == o }

// String is the guide's toString: every field, names as in the guide.
func (s CallStatus) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CallStatus(isCallOngoing: %t, isMuted: %t, isOnHold: %t, isSpeakerOn: %t, ",
		s.IsCallOngoing, s.IsMuted, s.IsOnHold, s.IsSpeakerOn)
	fmt.Fprintf(&b, "callType: %s, currentDID: %s, registeredNumber: %s, state: %s",
		orNull(s.CallType.String()), orNull(s.CurrentDID), orNull(s.RegisteredNumber), s.State)
	if s.IsRemoteOnHold {
		b.WriteString(", isRemoteOnHold: true")
	}
	if s.CallID != "" {
		fmt.Fprintf(&b, ", callId: %s", s.CallID)
	}
	if s.IsReconnecting {
		b.WriteString(", isReconnecting: true")
	}
	if s.IsRemoteReconnecting {
		b.WriteString(", isRemoteReconnecting: true")
	}
	b.WriteString(")")
	return b.String()
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}
