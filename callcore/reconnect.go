package callcore

import "time"

// Call resumption: an extension beyond the guide (PROTOCOL.md, "Call
// resumption"). When the call's WebSocket fails — a read error, a reset, or
// nothing at all from the server for MediaTimeout while the call is
// answered — the SDK does not end the call: it enters a reconnecting state,
// redials with backoff and resumes the same call on a new WebSocket, for as
// long as the server keeps the call (its resume grace, 30 s on the reference
// server). The far party is told, and so is this app:
//
//   - OnWebSocketStatusChanged(false) when the socket is lost, (true) when the
//     call is resumed on a new one;
//   - ReconnectCallback.OnCallReconnecting/OnCallReconnected, for this side
//     (remote false) and for the far party (remote true);
//   - CallStatus.IsReconnecting and IsRemoteReconnecting, in
//     OnCallStatusChanged.
//
// If the call cannot be resumed in time it ends with EndReasonNetworkLost
// (OnCallError with ErrWebSocketConnectionFailed, then onCallEnded).

// MediaTimeout is how long an answered call may receive nothing at all (no
// audio, no pong: the SDK pings once a second) before its socket counts as
// failed and the SDK reconnects. Twilio's media check is about as long.
const MediaTimeout = 3 * time.Second

// ReconnectCallback is an optional extension of CallProgressCallback: a
// callback that also implements it is told when a call's connection is lost
// and being restored, and when it is back. remote false is this phone's own
// connection to the server; remote true is the far party's (the server says
// so). Delivered in order with the other events; a call ending while
// reconnecting gets no OnCallReconnected, only its usual end events.
type ReconnectCallback interface {
	OnCallReconnecting(remote bool)
	OnCallReconnected(remote bool)
}

// OnCallReconnecting implements ReconnectCallback.
func (f CallbackFuncs) OnCallReconnecting(remote bool) {
	if f.Reconnecting != nil {
		f.Reconnecting(remote)
	}
}

// OnCallReconnected implements ReconnectCallback.
func (f CallbackFuncs) OnCallReconnected(remote bool) {
	if f.Reconnected != nil {
		f.Reconnected(remote)
	}
}

// EndReason says why a call ended. It is an extension beyond the guide,
// whose onCallEnded carries no reason: see EndReasonCallback and
// CallStats.EndReason.
type EndReason string

// End reasons.
const (
	EndReasonHangup           EndReason = "hangup"              // this side hung up (EndCall, Dispose, push "end")
	EndReasonRemoteHangup     EndReason = "remote_hangup"       // the far party hung up
	EndReasonDeclined         EndReason = "declined"            // the callee declined
	EndReasonNoAnswer         EndReason = "no_answer"           // nobody answered in time
	EndReasonNetworkLost      EndReason = "network_lost"        // this phone's connection was lost and not restored in time
	EndReasonRemoteLost       EndReason = "remote_network_lost" // the far party's connection was lost and not restored in time
	EndReasonKeepaliveTimeout EndReason = "keepalive_timeout"   // the server stopped hearing from a party (no resumption)
	EndReasonServerShutdown   EndReason = "server_shutdown"     // the server shut down (after its drain)
	EndReasonTrunkFailed      EndReason = "trunk_failed"        // the telephone network side failed (busy, unreachable, …)
	EndReasonFailed           EndReason = "failed"              // any other failure; OnCallError said which
)

// Describe returns a short sentence for a UI: "You hung up.", "The
// connection was lost.", …
func (r EndReason) Describe() string {
	switch r {
	case EndReasonHangup:
		return "You hung up."
	case EndReasonRemoteHangup:
		return "The other party hung up."
	case EndReasonDeclined:
		return "The call was declined."
	case EndReasonNoAnswer:
		return "No answer."
	case EndReasonNetworkLost:
		return "Your connection was lost and could not be restored."
	case EndReasonRemoteLost:
		return "The other party's connection was lost."
	case EndReasonKeepaliveTimeout:
		return "The connection timed out."
	case EndReasonServerShutdown:
		return "The call server shut down."
	case EndReasonTrunkFailed:
		return "The telephone network could not complete the call."
	case EndReasonFailed:
		return "The call failed."
	}
	return "The call ended."
}

// EndReasonCallback is an optional extension of CallProgressCallback: a
// callback that also implements it is told why a call ended, just before
// its OnCallEnded.
type EndReasonCallback interface {
	OnCallEndReason(callType CallType, reason EndReason)
}

// OnCallEndReason implements EndReasonCallback.
func (f CallbackFuncs) OnCallEndReason(t CallType, r EndReason) {
	if f.EndReason != nil {
		f.EndReason(t, r)
	}
}

var (
	_ ReconnectCallback = CallbackFuncs{}
	_ EndReasonCallback = CallbackFuncs{}
)
