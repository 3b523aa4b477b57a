package platform

// The iOS VoIP push as the CallKit glue reads it, before anything else
// happens: PushKit hands the app the APNs payload, and iOS 13+ kills an
// app that does not report a call to CallKit for it in the same run, so
// the glue must learn who is calling (and whether the push ends a call)
// from the payload alone, at once, with no network. Built and tested
// everywhere; the SDK validates the same payload fully later
// (callcore.ParseIncomingCall), so this reads only what CallKit shows.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/onecxi/phone/wire"
)

// maxVoIPPush bounds the payload taken: APNs allows 5 KB for a VoIP push,
// so anything longer did not come from APNs.
const maxVoIPPush = 5 << 10

// Push payload fields the glue reads (the guide's spelling, as callcore
// has them).
const (
	pushCallFrom   = "callFrom"
	pushCallerName = "callerName"
	pushCallID     = "callId"
	pushEvent      = "event"
)

// voipPush is what CallKit needs from a VoIP push.
type voipPush struct {
	data   map[string]any // the whole payload (unwrapped from "data"), for the SDK
	callID string         // "" when the push has none
	handle string         // the caller's number: CXHandle
	name   string         // the caller's name, or ""
	end    bool           // "event": "end": the call is over
}

// voipPushError is a VoIP push the glue cannot read. errors.Is matches it
// with ErrInvalid. It quotes at most a short prefix of the offending value
// (wire.Quote): a push is hostile input and may be huge.
type voipPushError struct {
	field   string // the field at fault, "" for the payload as a whole
	problem string // what is wrong, e.g. "is missing"
	value   string // the value at fault, quoted in the message when set
}

func (e *voipPushError) Error() string {
	var b strings.Builder
	b.WriteString("platform: ios VoIP push")
	if e.field != "" {
		fmt.Fprintf(&b, " field %q", e.field)
	}
	b.WriteString(" ")
	b.WriteString(e.problem)
	if e.value != "" {
		b.WriteString(": ")
		b.WriteString(wire.Quote(e.value))
	}
	return b.String()
}

func (e *voipPushError) Unwrap() error { return ErrInvalid }

// parseVoIPPush reads a VoIP push's payload, the JSON PushKit's
// dictionaryPayload serializes to. A payload wrapped as {"data": {...}}
// is unwrapped, as callcore does; "aps" and unknown keys are ignored.
// callFrom is required (CallKit shows it) unless the push ends a call;
// text fields may be strings or JSON numbers.
func parseVoIPPush(payload []byte) (voipPush, error) {
	if len(payload) > maxVoIPPush {
		return voipPush{}, &voipPushError{problem: fmt.Sprintf("is %d bytes, more than APNs sends (%d)", len(payload), maxVoIPPush)}
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // a numeric callId or callFrom keeps its digits
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return voipPush{}, &voipPushError{problem: "is not a JSON object", value: string(payload)}
	}
	if _, ok := m[pushCallFrom]; !ok {
		if inner, ok := m["data"].(map[string]any); ok {
			m = inner
		}
	}
	p := voipPush{data: m}
	for _, f := range []struct {
		name string
		dst  *string
		max  int
	}{
		{pushCallFrom, &p.handle, wire.MaxNameLen},
		{pushCallerName, &p.name, wire.MaxNameLen},
		{pushCallID, &p.callID, maxCallIDLen},
	} {
		v, err := pushText(m, f.name, f.max)
		if err != nil {
			return voipPush{}, err
		}
		*f.dst = v
	}
	event, err := pushText(m, pushEvent, wire.MaxNameLen)
	if err != nil {
		return voipPush{}, err
	}
	switch strings.ToLower(event) {
	case "", wire.EventInitial:
	case wire.EventEnd:
		p.end = true
	default:
		return voipPush{}, &voipPushError{field: pushEvent, problem: "is neither initial nor end", value: event}
	}
	if p.handle == "" && !p.end {
		return voipPush{}, &voipPushError{field: pushCallFrom, problem: "is missing"}
	}
	return p, nil
}

// pushText reads a text field: a string (trimmed) or a JSON number; absent
// or null is "". It must be valid UTF-8 without control characters, of at
// most max bytes.
func pushText(m map[string]any, name string, max int) (string, error) {
	var s string
	switch v := m[name].(type) {
	case nil:
		return "", nil
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	case bool:
		return "", &voipPushError{field: name, problem: "is a boolean, not text", value: strconv.FormatBool(v)}
	default:
		return "", &voipPushError{field: name, problem: fmt.Sprintf("is a JSON %s, not text", jsonKind(v))}
	}
	if len(s) > max {
		return "", &voipPushError{field: name, problem: fmt.Sprintf("is longer than %d bytes", max), value: s}
	}
	if !utf8.ValidString(s) {
		return "", &voipPushError{field: name, problem: "is not UTF-8", value: s}
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return "", &voipPushError{field: name, problem: "has a control character", value: s}
		}
	}
	return s, nil
}

// jsonKind names the JSON type of a decoded value other than text.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}
