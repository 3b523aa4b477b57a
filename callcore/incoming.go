package callcore

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// IncomingCallData is an incoming call (guide section 9): the one value the
// SDK keeps for it, whether the push arrived by FCM, VoIP push or the events
// connection. It is decoded once where the call comes in
// (ParseIncomingCall for a payload the app hands to HandleIncomingCallWithUI,
// IncomingCallFromPush for the events connection's push object) and flows
// unchanged from there: duplicate detection, the pending-call store (its
// JSON is the guide's payload), and the platform's incoming-call UI.
//
// A value from either decoder is valid: the numbers are numbers, CallType is
// a call type, Event is "", "initial" or "end", and the text fields are
// UTF-8 of at most wire.MaxNameLen bytes.
type IncomingCallData struct {
	// Required.
	CallFrom         string   // caller's number or DID
	CallTo           string   // recipient's registered number
	CallType         CallType // from "Outbound", "Inbound" or "APPTOAPP"
	RegisteredNumber string   // this user's registered number

	// Optional.
	CallerName  string    // display name for the call UI
	CallID      string    // the server's ID for this call
	Environment string    // "PRODUCTION" or "DEVELOPMENT"
	Timestamp   time.Time // when the call started ringing (millisecond precision); zero if absent
	Platform    string    // the platform the push was sent for
	Event       string    // "initial" (or "") for a new call, "end" to terminate
}

// Push payload field names, as the guide spells them.
const (
	fieldCallFrom         = "callFrom"
	fieldCallTo           = "callTo"
	fieldCallType         = "callType"
	fieldRegisteredNumber = "registeredNumber"
	fieldCallerName       = "callerName"
	fieldCallID           = "callId"
	fieldEnvironment      = "environment"
	fieldTimestamp        = "timestamp"
	fieldPlatform         = "platform"
	fieldEvent            = "event"
)

// ParseIncomingCall decodes and validates a push payload the app was handed:
// FCM's message.data (every value a string, the timestamp as digits) or an
// APNs VoIP payload decoded from JSON (numbers as float64, or json.Number).
// Text fields may also be JSON numbers; the timestamp is Unix milliseconds as
// a number or numeric string, or RFC 3339 text; callType and event ignore
// case. Unknown keys are ignored (FCM adds its own), and a payload wrapped as
// {"data": {...}} is unwrapped.
//
// Errors are *Error{Kind: ErrIncomingCallFailed} whose Detail names the
// missing or malformed field; they quote at most a short prefix of a value.
func ParseIncomingCall(payload map[string]any) (IncomingCallData, error) {
	if _, ok := payload[fieldCallFrom]; !ok {
		if inner, ok := payload["data"].(map[string]any); ok {
			payload = inner
		}
	}
	var d IncomingCallData
	var callType, event string
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{fieldCallFrom, &d.CallFrom},
		{fieldCallTo, &d.CallTo},
		{fieldCallType, &callType},
		{fieldRegisteredNumber, &d.RegisteredNumber},
		{fieldCallerName, &d.CallerName},
		{fieldCallID, &d.CallID},
		{fieldEnvironment, &d.Environment},
		{fieldPlatform, &d.Platform},
		{fieldEvent, &event},
	} {
		v, err := stringField(payload, f.name)
		if err != nil {
			return IncomingCallData{}, err
		}
		*f.dst = v
	}
	ms, err := timestampField(payload)
	if err != nil {
		return IncomingCallData{}, err
	}
	return d.finish(callType, event, ms)
}

// IncomingCallFromPush decodes and validates the events connection's push
// object, which the wire has already typed: the same rules as
// ParseIncomingCall, with no map in between.
func IncomingCallFromPush(p wire.PushPayload) (IncomingCallData, error) {
	d := IncomingCallData{
		CallFrom:         p.CallFrom,
		CallTo:           p.CallTo,
		RegisteredNumber: p.RegisteredNumber,
		CallerName:       p.CallerName,
		CallID:           p.CallID,
		Environment:      p.Environment,
		Platform:         p.Platform,
	}
	if p.Timestamp < 0 {
		return IncomingCallData{}, newError(ErrIncomingCallFailed, nil,
			"field %q: %d is not Unix milliseconds", fieldTimestamp, p.Timestamp)
	}
	return d.finish(p.CallType, p.Event, p.Timestamp)
}

// finish is where both decoders end: it sets the fields that are parsed from
// text (call type, event, timestamp in Unix milliseconds, 0 for none) and
// validates the result.
func (d IncomingCallData) finish(callType, event string, ms int64) (IncomingCallData, error) {
	if callType == "" {
		return IncomingCallData{}, errMissingField(fieldCallType)
	}
	ct, err := ParsePushCallType(callType)
	if err != nil {
		return IncomingCallData{}, newError(ErrIncomingCallFailed, nil,
			"field %q: %s is not Outbound, Inbound or APPTOAPP", fieldCallType, wire.Quote(callType))
	}
	d.CallType = ct
	d.Event = strings.ToLower(event)
	if ms > 0 {
		d.Timestamp = time.UnixMilli(ms)
	}
	if err := d.validate(); err != nil {
		return IncomingCallData{}, err
	}
	return d, nil
}

// validate checks what the decoders guarantee (see IncomingCallData); the
// rules are the wire's (wire.PushPayload.Validate), with errors that name
// the field and quote little of its value.
func (d IncomingCallData) validate() error {
	for _, f := range []struct{ name, v string }{
		{fieldCallFrom, d.CallFrom}, {fieldCallTo, d.CallTo}, {fieldRegisteredNumber, d.RegisteredNumber},
	} {
		if f.v == "" {
			return errMissingField(f.name)
		}
		if !wire.ValidNumber(f.v) {
			return newError(ErrIncomingCallFailed, nil,
				"field %q: %s is not a number (digits, optional leading +, at most %d)", f.name, wire.Quote(f.v), wire.MaxNumberLen)
		}
	}
	if d.CallType.PushString() == "" {
		return errMissingField(fieldCallType)
	}
	switch d.Event {
	case "", wire.EventInitial, wire.EventEnd:
	default:
		return newError(ErrIncomingCallFailed, nil, "field %q: %s is not initial or end", fieldEvent, wire.Quote(d.Event))
	}
	for _, f := range []struct{ name, v string }{
		{fieldCallerName, d.CallerName}, {fieldCallID, d.CallID}, {fieldEnvironment, d.Environment}, {fieldPlatform, d.Platform},
	} {
		if !utf8.ValidString(f.v) || len(f.v) > wire.MaxNameLen {
			return newError(ErrIncomingCallFailed, nil, "field %q is not UTF-8 of at most %d bytes", f.name, wire.MaxNameLen)
		}
	}
	if !d.Timestamp.IsZero() && d.Timestamp.UnixMilli() < 0 {
		return newError(ErrIncomingCallFailed, nil, "field %q is before 1970", fieldTimestamp)
	}
	return nil
}

func errMissingField(name string) *Error {
	return newError(ErrIncomingCallFailed, nil, "missing required field %q", name)
}

// stringField reads a text field, accepting a string (trimmed) or a JSON
// number (FCM sends numbers as strings, APNs as numbers). An absent or null
// field is "".
func stringField(m map[string]any, name string) (string, error) {
	raw, ok := m[name]
	if !ok || raw == nil {
		return "", nil
	}
	switch x := raw.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			break
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	}
	return "", newError(ErrIncomingCallFailed, nil, "field %q has type %T, want a string", name, raw)
}

// timestampField reads "timestamp" as Unix milliseconds: a JSON number, a
// numeric string, or RFC 3339 text. Absent, null or "" is 0.
func timestampField(m map[string]any) (int64, error) {
	raw, ok := m[fieldTimestamp]
	if !ok || raw == nil {
		return 0, nil
	}
	bad := func() (int64, error) {
		return 0, newError(ErrIncomingCallFailed, nil, "field %q: %s is not Unix milliseconds",
			fieldTimestamp, wire.Quote(fmt.Sprint(raw)))
	}
	var f float64
	switch x := raw.(type) {
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			if ms < 0 {
				return bad()
			}
			return ms, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.UnixMilli() >= 0 {
			return t.UnixMilli(), nil
		}
		return bad()
	case json.Number:
		if ms, err := x.Int64(); err == nil {
			if ms < 0 {
				return bad()
			}
			return ms, nil
		}
		v, err := x.Float64()
		if err != nil {
			return bad()
		}
		f = v
	case float64:
		f = x
	case int:
		f = float64(x)
		if x >= 0 {
			return int64(x), nil
		}
	case int64:
		if x >= 0 {
			return x, nil
		}
		return bad()
	default:
		return bad()
	}
	// Integral, non-negative and within int64 (2^63 is exactly representable).
	if math.IsNaN(f) || f < 0 || f >= 1<<63 || f != math.Trunc(f) {
		return bad()
	}
	return int64(f), nil
}

// IsEnd reports whether the push terminates a call ("event": "end").
func (d IncomingCallData) IsEnd() bool { return d.Event == wire.EventEnd }

// Key is how the SDK identifies the call: its CallID, or its UUID when the
// push carries no callId.
func (d IncomingCallData) Key() string {
	if d.CallID != "" {
		return d.CallID
	}
	return d.UUID()
}

// Stale reports whether the push is older than ringTimeout at now: the call
// has stopped ringing, so showing it would only confuse. A push without a
// timestamp is never stale.
func (d IncomingCallData) Stale(now time.Time, ringTimeout time.Duration) bool {
	return !d.Timestamp.IsZero() && now.Sub(d.Timestamp) > ringTimeout
}

// DisplayName is the caller's name, or the number when there is no name.
func (d IncomingCallData) DisplayName() string {
	if d.CallerName != "" {
		return d.CallerName
	}
	return d.CallFrom
}

// callUUIDNamespace is the UUIDv5 namespace of OneCxi call UUIDs: a fixed
// random value, so the same call gets the same UUID on every device and
// release. Changing it would change every call's UUID.
var callUUIDNamespace = [16]byte{0x3c, 0x5e, 0x8a, 0x51, 0x9d, 0x07, 0x5b, 0x2e, 0x8f, 0x41, 0x6a, 0x0d, 0x2b, 0x73, 0xc4, 0x19}

// UUID returns a UUID for the call that is the same on every delivery of the
// same call (CallKit requires one UUID per call, and a push can arrive twice):
// an RFC 4122 version-5 (SHA-1) UUID of the callId, or, without a callId, of
// callFrom, callTo and the timestamp. Lower-case canonical text form.
func (d IncomingCallData) UUID() string {
	name := "callId:" + d.CallID
	if d.CallID == "" {
		var ms int64
		if !d.Timestamp.IsZero() {
			ms = d.Timestamp.UnixMilli()
		}
		name = fmt.Sprintf("call:%s|%s|%d", d.CallFrom, d.CallTo, ms)
	}
	return uuidV5(callUUIDNamespace, name)
}

func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return string(buf[:])
}

// platformCall is the call as the platform's incoming-call UI shows it (and
// reports the user's answer for, by CallID = Key). It is the only place a
// platform.IncomingCall is made.
func (d IncomingCallData) platformCall() platform.IncomingCall {
	return platform.IncomingCall{
		CallID:     d.Key(),
		UUID:       d.UUID(),
		Handle:     d.CallFrom,
		CallerName: d.CallerName,
		CallType:   d.CallType.PushString(),
	}
}

// Push returns d in the wire's form, the events connection's push object.
// IncomingCallFromPush(d.Push()) gives d back.
func (d IncomingCallData) Push() wire.PushPayload {
	p := wire.PushPayload{
		CallFrom:         d.CallFrom,
		CallTo:           d.CallTo,
		CallType:         d.CallType.PushString(),
		RegisteredNumber: d.RegisteredNumber,
		CallerName:       d.CallerName,
		CallID:           d.CallID,
		Environment:      d.Environment,
		Platform:         d.Platform,
		Event:            d.Event,
	}
	if !d.Timestamp.IsZero() {
		p.Timestamp = d.Timestamp.UnixMilli()
	}
	return p
}

// MarshalJSON encodes d as the guide's payload, exactly as the wire encodes
// d.Push(): the guide's field names, callType in its push spelling, the
// timestamp as Unix milliseconds, empty optional fields left out. This is
// how the SDK stores a pending or accepted call.
func (d IncomingCallData) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Push())
}

// UnmarshalJSON decodes MarshalJSON's form (also that of a wire.PushPayload)
// and validates it as IncomingCallFromPush does.
func (d *IncomingCallData) UnmarshalJSON(b []byte) error {
	var p wire.PushPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	v, err := IncomingCallFromPush(p)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Map returns the payload with the guide's field names (empty optional
// fields left out, timestamp as Unix milliseconds), as CallKitMap's "extra"
// carries it; ParseIncomingCall(d.Map()) gives d back.
func (d IncomingCallData) Map() map[string]any {
	m := map[string]any{
		fieldCallFrom:         d.CallFrom,
		fieldCallTo:           d.CallTo,
		fieldCallType:         d.CallType.PushString(),
		fieldRegisteredNumber: d.RegisteredNumber,
	}
	for k, v := range map[string]string{
		fieldCallerName: d.CallerName, fieldCallID: d.CallID, fieldEnvironment: d.Environment,
		fieldPlatform: d.Platform, fieldEvent: d.Event,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if !d.Timestamp.IsZero() {
		m[fieldTimestamp] = d.Timestamp.UnixMilli()
	}
	return m
}

// CallKitMap returns the parameters flutter_callkit_incoming's
// showCallkitIncoming takes (id, nameCaller, handle, type 0 = audio,
// duration in ms, extra with the raw push fields, …), with the default ring
// timeout as duration. Native glue that drives CallKit or ConnectionService
// from Go can pass it through unchanged.
func (d IncomingCallData) CallKitMap() map[string]any {
	return d.CallKitMapWithTimeout(wire.DefaultRingTimeout)
}

// CallKitMapWithTimeout is CallKitMap with the given ring timeout.
func (d IncomingCallData) CallKitMapWithTimeout(ringTimeout time.Duration) map[string]any {
	return map[string]any{
		"id":          d.UUID(),
		"uuid":        d.UUID(),
		"nameCaller":  d.DisplayName(),
		"appName":     "OneCxi Phone",
		"handle":      d.CallFrom,
		"type":        0, // audio
		"duration":    ringTimeout.Milliseconds(),
		"textAccept":  "Accept",
		"textDecline": "Decline",
		"extra":       d.Map(),
		"missedCallNotification": map[string]any{
			"showNotification": true,
			"subtitle":         "Missed call",
		},
		"android": map[string]any{
			"isCustomNotification": false,
			"isShowLogo":           false,
			"ringtonePath":         "system_ringtone_default",
		},
		"ios": map[string]any{
			"handleType":         "number",
			"supportsVideo":      false,
			"maximumCallGroups":  1,
			"audioSessionMode":   "voiceChat",
			"audioSessionActive": true,
			"supportsHolding":    true,
			"supportsDTMF":       true,
		},
	}
}
