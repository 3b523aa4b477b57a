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

	"github.com/onecxi/phone/wire"
)

// IncomingCallData is a parsed incoming-call push payload (guide section 9).
// The same payload arrives by FCM, VoIP push or the events connection.
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
	Timestamp   time.Time // when the call started ringing; zero if absent
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

// ParseIncomingCall parses and validates a push payload. It accepts what the
// push services deliver: FCM data messages carry every value as a string,
// APNs and the events connection carry JSON numbers (float64 or json.Number)
// for numeric fields; the timestamp may be Unix milliseconds as a number or
// numeric string (or RFC 3339 text). Unknown keys are ignored (FCM adds its
// own). A payload wrapped as {"data": {...}} is unwrapped.
//
// Errors are *Error{Kind: ErrIncomingCallFailed} whose Detail names the
// missing or malformed field.
func ParseIncomingCall(payload map[string]any) (IncomingCallData, error) {
	if _, ok := payload[fieldCallFrom]; !ok {
		if inner, ok := payload["data"].(map[string]any); ok {
			payload = inner
		}
	}
	var d IncomingCallData
	var p wire.PushPayload
	required := []struct {
		name string
		dst  *string
	}{
		{fieldCallFrom, &p.CallFrom},
		{fieldCallTo, &p.CallTo},
		{fieldCallType, &p.CallType},
		{fieldRegisteredNumber, &p.RegisteredNumber},
	}
	for _, f := range required {
		v, present, err := stringField(payload, f.name)
		if err != nil {
			return d, err
		}
		if !present || v == "" {
			return d, newError(ErrIncomingCallFailed, nil, "missing required field %q", f.name)
		}
		*f.dst = v
	}
	optional := []struct {
		name string
		dst  *string
	}{
		{fieldCallerName, &p.CallerName},
		{fieldCallID, &p.CallID},
		{fieldEnvironment, &p.Environment},
		{fieldPlatform, &p.Platform},
		{fieldEvent, &p.Event},
	}
	for _, f := range optional {
		v, _, err := stringField(payload, f.name)
		if err != nil {
			return d, err
		}
		*f.dst = v
	}
	ct, err := ParsePushCallType(p.CallType)
	if err != nil {
		return d, newError(ErrIncomingCallFailed, err, "field %q", fieldCallType)
	}
	p.CallType = ct.PushString()
	p.Event = strings.ToLower(p.Event)
	ts, err := timestampField(payload)
	if err != nil {
		return d, err
	}
	p.Timestamp = ts
	return IncomingCallFromPush(p)
}

// IncomingCallFromPush converts and validates a wire push payload (as carried
// by the events connection).
func IncomingCallFromPush(p wire.PushPayload) (IncomingCallData, error) {
	if err := p.Validate(); err != nil {
		return IncomingCallData{}, newError(ErrIncomingCallFailed, err, "invalid push payload")
	}
	ct, err := ParsePushCallType(p.CallType)
	if err != nil {
		return IncomingCallData{}, newError(ErrIncomingCallFailed, err, "field %q", fieldCallType)
	}
	d := IncomingCallData{
		CallFrom:         p.CallFrom,
		CallTo:           p.CallTo,
		CallType:         ct,
		RegisteredNumber: p.RegisteredNumber,
		CallerName:       p.CallerName,
		CallID:           p.CallID,
		Environment:      p.Environment,
		Platform:         p.Platform,
		Event:            p.Event,
	}
	if p.Timestamp > 0 {
		d.Timestamp = time.UnixMilli(p.Timestamp)
	}
	return d, nil
}

// Push returns d as the wire's push payload.
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

// Map returns the payload with the guide's field names (empty optional
// fields left out, timestamp as Unix milliseconds); ParseIncomingCall(d.Map())
// gives d back.
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

// stringField reads an optional text field, accepting a string or a JSON
// number (FCM sends numbers as strings, APNs as numbers). present is false
// for an absent or null field.
func stringField(m map[string]any, name string) (v string, present bool, err error) {
	raw, ok := m[name]
	if !ok || raw == nil {
		return "", false, nil
	}
	switch x := raw.(type) {
	case string:
		return strings.TrimSpace(x), true, nil
	case json.Number:
		return x.String(), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			break
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case int32:
		return strconv.FormatInt(int64(x), 10), true, nil
	case uint64:
		return strconv.FormatUint(x, 10), true, nil
	}
	return "", true, newError(ErrIncomingCallFailed, nil, "field %q has type %T, want a string", name, raw)
}

// timestampField reads "timestamp" as Unix milliseconds: a JSON number, a
// numeric string, or RFC 3339 text. Absent, null or "" is 0.
func timestampField(m map[string]any) (int64, error) {
	raw, ok := m[fieldTimestamp]
	if !ok || raw == nil {
		return 0, nil
	}
	bad := func(err error) (int64, error) {
		return 0, newError(ErrIncomingCallFailed, err, "field %q: %v is not Unix milliseconds", fieldTimestamp, raw)
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
				return bad(nil)
			}
			return ms, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.UnixMilli() >= 0 {
			return t.UnixMilli(), nil
		}
		return bad(nil)
	case json.Number:
		if ms, err := x.Int64(); err == nil {
			if ms < 0 {
				return bad(nil)
			}
			return ms, nil
		}
		v, err := x.Float64()
		if err != nil {
			return bad(err)
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
		return bad(nil)
	default:
		return bad(nil)
	}
	// Integral, non-negative and within int64 (2^63 is exactly representable).
	if math.IsNaN(f) || f < 0 || f >= 1<<63 || f != math.Trunc(f) {
		return bad(nil)
	}
	return int64(f), nil
}
