package callcore

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// guidePayload is the guide's section 9 example, as FCM delivers it (all
// strings).
func guidePayload() map[string]any {
	return map[string]any{
		"callFrom":         "90050",
		"callTo":           "9876543210",
		"callType":         "Outbound",
		"registeredNumber": "9876543210",
		"callerName":       "Customer Support",
		"callId":           "call_abc123",
		"environment":      "PRODUCTION",
		"timestamp":        "1711800000000",
		"platform":         "android",
		"event":            "initial",
	}
}

func TestParseIncomingCallGuideExample(t *testing.T) {
	d, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	assert.Equal(t, IncomingCallData{
		CallFrom: "90050", CallTo: "9876543210", CallType: CallTypeOutbound, RegisteredNumber: "9876543210",
		CallerName: "Customer Support", CallID: "call_abc123", Environment: "PRODUCTION",
		Timestamp: time.UnixMilli(1711800000000), Platform: "android", Event: "initial",
	}, d)
	assert.False(t, d.IsEnd())
	assert.Equal(t, "call_abc123", d.Key())
	assert.Equal(t, "Customer Support", d.DisplayName())
}

func TestParseIncomingCallRequiredFields(t *testing.T) {
	for _, field := range []string{"callFrom", "callTo", "callType", "registeredNumber"} {
		t.Run("missing "+field, func(t *testing.T) {
			p := guidePayload()
			delete(p, field)
			_, err := ParseIncomingCall(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrIncomingCallFailed)
			assert.Contains(t, err.Error(), field)
		})
		t.Run("empty "+field, func(t *testing.T) {
			p := guidePayload()
			p[field] = "  "
			_, err := ParseIncomingCall(p)
			assert.ErrorIs(t, err, ErrIncomingCallFailed)
			assert.Contains(t, err.Error(), field)
		})
		t.Run("null "+field, func(t *testing.T) {
			p := guidePayload()
			p[field] = nil
			_, err := ParseIncomingCall(p)
			assert.ErrorIs(t, err, ErrIncomingCallFailed)
			assert.Contains(t, err.Error(), field)
		})
	}
	_, err := ParseIncomingCall(nil)
	assert.ErrorIs(t, err, ErrIncomingCallFailed)
}

func TestParseIncomingCallTypesAndValues(t *testing.T) {
	tests := []struct {
		name    string
		field   string
		value   any
		wantErr bool
		check   func(*testing.T, IncomingCallData)
	}{
		{"numeric callFrom", "callFrom", float64(90050), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, "90050", d.CallFrom) }},
		{"json.Number callTo", "callTo", json.Number("9876543210"), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, "9876543210", d.CallTo) }},
		{"int registeredNumber", "registeredNumber", 9876543210, false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, "9876543210", d.RegisteredNumber) }},
		{"bool callFrom", "callFrom", true, true, nil},
		{"map callTo", "callTo", map[string]any{"x": 1}, true, nil},
		{"list callerName", "callerName", []any{"a"}, true, nil},
		{"letters in callFrom", "callFrom", "abc", true, nil},
		{"negative callFrom", "callFrom", float64(-5), true, nil},
		{"fractional callFrom", "callFrom", 1.5, true, nil},
		{"unknown callType", "callType", "Video", true, nil},
		{"lower-case callType", "callType", "apptoapp", false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, CallTypeAppToApp, d.CallType) }},
		{"unknown event", "event", "ringing", true, nil},
		{"upper-case end", "event", "END", false,
			func(t *testing.T, d IncomingCallData) { assert.True(t, d.IsEnd()) }},
		{"numeric timestamp", "timestamp", float64(1711800000000), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, int64(1711800000000), d.Timestamp.UnixMilli()) }},
		{"json.Number timestamp", "timestamp", json.Number("1711800000000"), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, int64(1711800000000), d.Timestamp.UnixMilli()) }},
		{"int64 timestamp", "timestamp", int64(1711800000000), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, int64(1711800000000), d.Timestamp.UnixMilli()) }},
		{"RFC 3339 timestamp", "timestamp", "2024-03-30T12:00:00Z", false,
			func(t *testing.T, d IncomingCallData) {
				assert.True(t, d.Timestamp.Equal(time.Date(2024, 3, 30, 12, 0, 0, 0, time.UTC)))
			}},
		{"empty timestamp", "timestamp", "", false,
			func(t *testing.T, d IncomingCallData) { assert.True(t, d.Timestamp.IsZero()) }},
		{"null timestamp", "timestamp", nil, false,
			func(t *testing.T, d IncomingCallData) { assert.True(t, d.Timestamp.IsZero()) }},
		{"word timestamp", "timestamp", "yesterday", true, nil},
		{"negative timestamp", "timestamp", float64(-1), true, nil},
		{"fractional timestamp", "timestamp", 1.5, true, nil},
		{"huge timestamp", "timestamp", 1e300, true, nil},
		{"bool timestamp", "timestamp", false, true, nil},
		{"long callerName", "callerName", string(bytes.Repeat([]byte("x"), 200)), true, nil},
		{"numeric callId", "callId", float64(42), false,
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, "42", d.CallID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := guidePayload()
			p[tt.field] = tt.value
			d, err := ParseIncomingCall(p)
			if tt.wantErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrIncomingCallFailed)
				return
			}
			require.NoError(t, err)
			tt.check(t, d)
		})
	}
}

func TestParseIncomingCallWrappedAndExtraKeys(t *testing.T) {
	inner := guidePayload()
	d, err := ParseIncomingCall(map[string]any{"data": inner, "from": "fcm"})
	require.NoError(t, err)
	assert.Equal(t, "90050", d.CallFrom)

	p := guidePayload()
	p["google.message_id"] = "0:123"
	p["collapse_key"] = "x"
	_, err = ParseIncomingCall(p)
	assert.NoError(t, err, "unknown keys are ignored")

	// Only the required fields: the guide's "end" example.
	end, err := ParseIncomingCall(map[string]any{"callFrom": "90050", "callTo": "9876543210",
		"callType": "Outbound", "registeredNumber": "9876543210", "event": "end"})
	require.NoError(t, err)
	assert.True(t, end.IsEnd())
	assert.Empty(t, end.CallID)
	assert.Equal(t, end.UUID(), end.Key(), "without callId the key is the UUID")
}

var uuidV5Form = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIncomingCallUUID(t *testing.T) {
	a, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	b := a
	b.CallerName, b.Platform = "Other name", "ios"
	assert.Regexp(t, uuidV5Form, a.UUID())
	assert.Equal(t, a.UUID(), b.UUID(), "stable for the same callId")
	assert.Equal(t, a.UUID(), a.UUID())

	c := a
	c.CallID = "call_other"
	assert.NotEqual(t, a.UUID(), c.UUID())

	noID := a
	noID.CallID = ""
	assert.Regexp(t, uuidV5Form, noID.UUID())
	assert.NotEqual(t, a.UUID(), noID.UUID())
	other := noID
	other.Timestamp = noID.Timestamp.Add(time.Second)
	assert.NotEqual(t, noID.UUID(), other.UUID(), "timestamp distinguishes calls without callId")
	other = noID
	other.CallerName = "x"
	assert.Equal(t, noID.UUID(), other.UUID())

	// Pinned: a UUID must never change between releases (CallKit, stored calls).
	assert.Equal(t, uuidV5(callUUIDNamespace, "callId:call_abc123"), a.UUID())
	// RFC 4122 appendix vector style check of the algorithm itself: the v5
	// UUID of "www.example.com" in the DNS namespace.
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	assert.Equal(t, "2ed6657d-e927-568b-95e1-2665a8aea6a2", uuidV5(dns, "www.example.com"))
}

func TestIncomingCallKitMap(t *testing.T) {
	d, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	m := d.CallKitMap()
	assert.Equal(t, d.UUID(), m["id"])
	assert.Equal(t, "Customer Support", m["nameCaller"])
	assert.Equal(t, "90050", m["handle"])
	assert.Equal(t, 0, m["type"], "audio")
	assert.Equal(t, wire.DefaultRingTimeout.Milliseconds(), m["duration"])
	extra, ok := m["extra"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "call_abc123", extra["callId"])
	assert.Equal(t, "Outbound", extra["callType"])
	assert.Equal(t, int64(1711800000000), extra["timestamp"])
	assert.Contains(t, m, "ios")
	assert.Contains(t, m, "android")
	assert.Equal(t, int64(30000), d.CallKitMapWithTimeout(30 * time.Second)["duration"])

	noName := d
	noName.CallerName = ""
	assert.Equal(t, "90050", noName.CallKitMap()["nameCaller"], "the number stands in for a missing name")

	_, err = json.Marshal(m)
	assert.NoError(t, err, "the map is JSON-encodable for a method channel")
}

func TestIncomingCallRoundTrips(t *testing.T) {
	d, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	back, err := ParseIncomingCall(d.Map())
	require.NoError(t, err)
	assert.Equal(t, d, back, "Map round-trips")

	p := d.Push()
	require.NoError(t, p.Validate())
	fromPush, err := IncomingCallFromPush(p)
	require.NoError(t, err)
	assert.Equal(t, d, fromPush, "Push round-trips")

	// The events connection's JSON form parses too.
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	viaJSON, err := ParseIncomingCall(m)
	require.NoError(t, err)
	assert.Equal(t, d, viaJSON)

	_, err = IncomingCallFromPush(wire.PushPayload{CallFrom: "1"})
	assert.ErrorIs(t, err, ErrIncomingCallFailed)
}

func TestIncomingCallStale(t *testing.T) {
	now := time.Now()
	d := IncomingCallData{Timestamp: now.Add(-time.Minute)}
	assert.True(t, d.Stale(now, 45*time.Second))
	assert.False(t, d.Stale(now, 2*time.Minute))
	assert.False(t, IncomingCallData{}.Stale(now, time.Second), "no timestamp, never stale")
}

func FuzzParseIncomingCall(f *testing.F) {
	seed, _ := json.Marshal(guidePayload())
	f.Add(seed)
	f.Add([]byte(`{"callFrom":90050,"callTo":"1","callType":"APPTOAPP","registeredNumber":"1","timestamp":1711800000000}`))
	f.Add([]byte(`{"data":{"callFrom":"+1","callTo":"2","callType":"inbound","registeredNumber":"2","event":"END"}}`))
	f.Add([]byte(`{"callFrom":"1","callTo":"2","callType":"Outbound","registeredNumber":"3","timestamp":"2024-03-30T12:00:00Z"}`))
	f.Add([]byte(`{"callFrom":1e40,"callTo":"2","callType":"Outbound","registeredNumber":"3","timestamp":-0}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, useNumber := range []bool{false, true} {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(b))
			if useNumber {
				dec.UseNumber()
			}
			if dec.Decode(&m) != nil {
				return
			}
			d, err := ParseIncomingCall(m)
			if err != nil {
				if KindOf(err) != ErrIncomingCallFailed {
					t.Fatalf("error of kind %v: %v", KindOf(err), err)
				}
				continue
			}
			p := d.Push()
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted payload does not re-validate: %v (%+v)", err, p)
			}
			back, err := ParseIncomingCall(d.Map())
			if err != nil {
				t.Fatalf("Map of an accepted payload does not parse: %v", err)
			}
			if back != d {
				t.Fatalf("round trip changed the call: %+v != %+v", back, d)
			}
			if !uuidV5Form.MatchString(d.UUID()) {
				t.Fatalf("bad UUID %q", d.UUID())
			}
		}
	})
}
