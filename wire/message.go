package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every decoding and validation error.
var ErrMalformed = errors.New("wire: malformed message")

// Type names a control message.
type Type string

// Control message types. Direction: C = client to server, S = server to client.
const (
	TypeStart    Type = "start"    // C: open a call (first message)
	TypeRinging  Type = "ringing"  // S: far end is alerting
	TypeAnswered Type = "answered" // S: far end answered; audio flows
	TypeDeclined Type = "declined" // S: far end declined
	TypeMute     Type = "mute"     // C: microphone muted or not (On)
	TypeHold     Type = "hold"     // C: hold or resume (On); S: far end held (Remote)
	TypeDTMF     Type = "dtmf"     // C/S: one digit
	TypeEnd      Type = "end"      // C/S: hang up, with a Reason
	TypeError    Type = "error"    // S: a request failed (Code, Message, Ref)
	TypeAck      Type = "ack"      // S: the request Ref succeeded
	TypeStatus   Type = "status"   // C: ask for call state; S: the state
	TypePing     Type = "ping"     // C/S: application keep-alive, echoes TS
	TypePong     Type = "pong"     // C/S: answer to ping
	TypeIncoming Type = "incoming" // S (events): a call for this number, or its end
	TypeHello    Type = "hello"    // S (events): registration accepted
	TypeDraining Type = "draining" // S (call, events): the server is draining; MS until it cuts calls

	// Call resumption (resume.go).
	TypeResumable    Type = "resumable"    // S: the call's ID, resume token and grace (MS), before the first reply
	TypeResume       Type = "resume"       // C: first message on a new /v1/call socket: take over a lost one
	TypeResumed      Type = "resumed"      // S: the resume succeeded; State says where the call is
	TypeReconnecting Type = "reconnecting" // S: the far party lost its connection (Remote)
	TypeReconnected  Type = "reconnected"  // S: the far party is back (Remote)
)

// CallKind is a call type as the wire names it.
type CallKind string

// Call kinds for [TypeStart].
const (
	KindInbound        CallKind = "inbound"           // app dials a server DID
	KindOutbound       CallKind = "outbound"          // app dials a phone number via the trunk
	KindAppToApp       CallKind = "app_to_app"        // app calls another app user
	KindAppToAppAnswer CallKind = "app_to_app_answer" // app answers an app-to-app call
)

// Valid reports whether k is one of the four kinds.
func (k CallKind) Valid() bool {
	switch k {
	case KindInbound, KindOutbound, KindAppToApp, KindAppToAppAnswer:
		return true
	}
	return false
}

// End reasons.
const (
	ReasonHangup    = "hangup"    // the sending side hung up
	ReasonRemote    = "remote"    // the far end hung up
	ReasonDeclined  = "declined"  // the callee declined
	ReasonNoAnswer  = "no_answer" // ring timeout
	ReasonCancelled = "cancelled" // caller hung up while ringing
	ReasonAnswered  = "answered_elsewhere"
	ReasonError     = "error"
	ReasonShutdown  = "shutdown" // the server shut down (after its drain): "server_shutdown"
	// ReasonNetworkLost: a party's connection was lost and not resumed
	// within the server's resume grace (or, for a client that cannot
	// resume, failed outright).
	ReasonNetworkLost = "network_lost"
	// ReasonKeepaliveTimeout: the server heard nothing from a party that
	// cannot resume for PongWait.
	ReasonKeepaliveTimeout = "keepalive_timeout"
	ReasonTrunkFailed      = "trunk_failed" // the telephone network side failed
)

// Message is every control message. Fields unused by a Type are omitted.
type Message struct {
	Type Type `json:"type"`
	// Ref correlates a client request (mute, hold, dtmf, status) with the
	// server's ack or error. Zero means no reply is wanted.
	Ref uint32 `json:"ref,omitempty"`

	CallID string `json:"callId,omitempty"`

	// start
	Kind             CallKind `json:"kind,omitempty"`
	To               string   `json:"to,omitempty"`               // DID, phone number or registered number
	RegisteredNumber string   `json:"registeredNumber,omitempty"` // the sender's own number
	CallFrom         string   `json:"callFrom,omitempty"`         // caller ID to show (answer)
	DeviceID         string   `json:"deviceId,omitempty"`         // the answering install (answer), see CheckDeviceID
	// resumable, resume: the call's resume token (see CheckResumeToken).
	Token string `json:"token,omitempty"`

	// mute, hold
	On     *bool `json:"on,omitempty"`
	Remote bool  `json:"remote,omitempty"` // hold: the far end did it

	// dtmf
	Digit string `json:"digit,omitempty"`

	// end, declined
	Reason string `json:"reason,omitempty"`

	// error
	Code    Code   `json:"code,omitempty"`
	Message string `json:"message,omitempty"`

	// status reply
	State  string `json:"state,omitempty"` // "ringing", "active", "ended"
	Muted  bool   `json:"muted,omitempty"`
	Held   bool   `json:"held,omitempty"`
	Server string `json:"server,omitempty"`

	// ping, pong: sender's clock in Unix milliseconds, echoed back.
	TS int64 `json:"ts,omitempty"`

	// draining: milliseconds until the server ends the calls still up
	// (with end{reason:"shutdown"}), 1 to MaxDrain. resumable: the resume
	// grace, 1 to MaxResumeGrace.
	MS int64 `json:"ms,omitempty"`

	// incoming: the guide's push payload, field for field.
	Push *PushPayload `json:"push,omitempty"`
}

// PushPayload is the guide's incoming-call push payload (section 9). It is the
// same object whether it arrives by FCM, APNs or the events connection.
type PushPayload struct {
	CallFrom         string `json:"callFrom"`
	CallTo           string `json:"callTo"`
	CallType         string `json:"callType"` // "Outbound", "Inbound" or "APPTOAPP"
	RegisteredNumber string `json:"registeredNumber"`
	CallerName       string `json:"callerName,omitempty"`
	CallID           string `json:"callId,omitempty"`
	Environment      string `json:"environment,omitempty"` // "PRODUCTION" or "DEVELOPMENT"
	Timestamp        int64  `json:"timestamp,omitempty"`   // Unix ms
	Platform         string `json:"platform,omitempty"`
	Event            string `json:"event,omitempty"` // "initial" or "end"
}

// Push event values.
const (
	EventInitial = "initial"
	EventEnd     = "end"
)

// Bool returns a pointer to b, for Message.On.
func Bool(b bool) *bool { return &b }

// Encode validates m and returns its JSON.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(b) > MaxTextMessage {
		return nil, fmt.Errorf("%w: %d bytes over the %d-byte limit", ErrMalformed, len(b), MaxTextMessage)
	}
	return b, nil
}

// Decode parses and validates one control message. Unknown fields are
// rejected so that a typo is an error rather than a silently ignored option.
func Decode(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxTextMessage {
		return m, fmt.Errorf("%w: %d bytes over the %d-byte limit", ErrMalformed, len(b), MaxTextMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, QuoteError(err))
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: trailing data after the message", ErrMalformed)
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Validate checks the fields the message's Type requires.
func (m Message) Validate() error {
	for name, v := range map[string]string{
		"callId": m.CallID, "to": m.To, "registeredNumber": m.RegisteredNumber,
		"callFrom": m.CallFrom, "reason": m.Reason, "message": m.Message,
		"state": m.State, "server": m.Server,
	} {
		if !utf8.ValidString(v) {
			return malformed("%s is not UTF-8", name)
		}
		if len(v) > MaxNameLen {
			return malformed("%s is longer than %d bytes", name, MaxNameLen)
		}
	}
	switch m.Type {
	case TypeStart:
		if !m.Kind.Valid() {
			return malformed("start: unknown call kind %s", Quote(string(m.Kind)))
		}
		if err := checkNumber("to", m.To); err != nil {
			return err
		}
		if err := checkNumber("registeredNumber", m.RegisteredNumber); err != nil {
			return err
		}
		if m.CallFrom != "" {
			if err := checkNumber("callFrom", m.CallFrom); err != nil {
				return err
			}
		}
		if m.DeviceID != "" {
			if err := CheckDeviceID(m.DeviceID); err != nil {
				return err
			}
		}
	case TypeMute, TypeHold:
		if m.On == nil {
			return malformed("%s: missing \"on\"", m.Type)
		}
	case TypeDTMF:
		if !ValidDigit(m.Digit) {
			return malformed("dtmf: %s is not one of 0-9 * #", Quote(m.Digit))
		}
	case TypeError:
		if m.Code == "" {
			return malformed("error: missing code")
		}
	case TypeIncoming:
		if m.Push == nil {
			return malformed("incoming: missing push payload")
		}
		if err := m.Push.Validate(); err != nil {
			return err
		}
	case TypeDraining:
		if m.MS < 1 || m.MS > MaxDrain.Milliseconds() {
			return malformed("draining: ms %d is outside 1..%d", m.MS, MaxDrain.Milliseconds())
		}
	case TypeResumable, TypeResume, TypeResumed:
		if err := validateResume(m); err != nil {
			return err
		}
	case TypeRinging, TypeAnswered, TypeDeclined, TypeEnd, TypeAck,
		TypeStatus, TypePing, TypePong, TypeHello, TypeReconnecting, TypeReconnected:
	case "":
		return malformed("missing type")
	default:
		return malformed("unknown type %s", Quote(string(m.Type)))
	}
	return nil
}

// ValidDigit reports whether d is one DTMF digit: 0-9, * or #.
func ValidDigit(d string) bool {
	return len(d) == 1 && strings.ContainsRune("0123456789*#", rune(d[0]))
}

// ValidNumber reports whether s is a plausible number: 1 to MaxNumberLen
// characters of digits with an optional leading '+'. DIDs, phone numbers and
// registered numbers all follow it.
func ValidNumber(s string) bool {
	if len(s) == 0 || len(s) > MaxNumberLen {
		return false
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '+' && i == 0 && len(s) > 1:
		default:
			return false
		}
	}
	return true
}

func checkNumber(field, s string) error {
	if !ValidNumber(s) {
		return malformed("%s %s is not a number (digits, optional leading +, at most %d)", field, Quote(s), MaxNumberLen)
	}
	return nil
}

// Push call types (the guide's spelling).
const (
	PushInbound  = "Inbound"
	PushOutbound = "Outbound"
	PushAppToApp = "APPTOAPP"
)

// Validate checks the guide's required push fields and the form of the
// optional ones.
func (p *PushPayload) Validate() error {
	if err := checkNumber("callFrom", p.CallFrom); err != nil {
		return err
	}
	if err := checkNumber("callTo", p.CallTo); err != nil {
		return err
	}
	if err := checkNumber("registeredNumber", p.RegisteredNumber); err != nil {
		return err
	}
	switch p.CallType {
	case PushInbound, PushOutbound, PushAppToApp:
	default:
		return malformed("callType %s is not Outbound, Inbound or APPTOAPP", Quote(p.CallType))
	}
	switch p.Event {
	case "", EventInitial, EventEnd:
	default:
		return malformed("event %s is not initial or end", Quote(p.Event))
	}
	for name, v := range map[string]string{"callerName": p.CallerName, "callId": p.CallID,
		"environment": p.Environment, "platform": p.Platform} {
		if !utf8.ValidString(v) || len(v) > MaxNameLen {
			return malformed("%s is not UTF-8 of at most %d bytes", name, MaxNameLen)
		}
	}
	if p.Timestamp < 0 {
		return malformed("timestamp %d is negative", p.Timestamp)
	}
	return nil
}
