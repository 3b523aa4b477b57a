package wire

// Code is a machine-readable error code carried in [TypeError] messages and
// HTTP error bodies. The SDK maps each to one of its error kinds.
type Code string

// Error codes.
const (
	CodeUnauthorized     Code = "unauthorized"      // bad account or API key
	CodeBadRequest       Code = "bad_request"       // malformed or out-of-order message
	CodeInvalidInput     Code = "invalid_input"     // a field is empty or out of range
	CodeUnsupported      Code = "unsupported"       // protocol version or feature unknown
	CodeNotFound         Code = "not_found"         // DID, number or call unknown
	CodeUnreachable      Code = "unreachable"       // callee has no device that can ring
	CodeBusy             Code = "busy"              // callee or trunk busy
	CodeNoAnswer         Code = "no_answer"         // ring timeout
	CodeSelfCall         Code = "self_call"         // caller and callee share a registered number
	CodeNumberInUse      Code = "number_in_use"     // registered number already in a call elsewhere
	CodeAlreadyAnswered  Code = "already_answered"  // another device answered first
	CodeTrunkFailed      Code = "trunk_failed"      // PSTN leg failed
	CodeInternal         Code = "internal"          // server fault
	CodeCallEnded        Code = "call_ended"        // the call is over; nothing to act on
	CodeControlRejected  Code = "control_rejected"  // mute/hold/dtmf not possible now
	CodeTooManyRequests  Code = "too_many_requests" // rate or capacity limit
	CodeShuttingDown     Code = "shutting_down"     // server is stopping
	CodeUnknownCodeValue Code = ""                  // absent
)

// WebSocket close codes. 1000-1011 are RFC 6455's; 4000-4999 are ours.
const (
	CloseNormal        = 1000 // call ended normally
	CloseGoingAway     = 1001 // server shutting down or client leaving
	CloseProtocolError = 1002 // undecodable frame
	ClosePolicy        = 1008 // message out of order
	CloseTooLarge      = 1009 // message over the read limit
	CloseInternal      = 1011 // server fault
	CloseUnauthorized  = 4001 // credentials rejected after upgrade
	CloseUnsupported   = 4002 // protocol version not supported
	CloseStartTimeout  = 4003 // no start message in time
	CloseKeepAlive     = 4008 // no pong within PongWait
	CloseReplaced      = 4009 // the call resumed on another connection
	// CloseMoved: the server node is leaving its cluster; a client that
	// can resume resumes the call (through the load balancer, on another
	// node), as after any close it did not ask for.
	CloseMoved = 4010
)
