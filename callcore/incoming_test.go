package callcore

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
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
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not an *Error: %v", err, err)
				}
				if len(err.Error()) > 200 {
					t.Fatalf("error quotes too much of the payload (%d bytes): %.300s", len(err.Error()), err)
				}
				continue
			}
			if err := d.validate(); err != nil {
				t.Fatalf("accepted call is invalid: %v (%+v)", err, d)
			}
			p := d.Push()
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted payload does not re-validate: %v (%+v)", err, p)
			}
			if fromPush, err := IncomingCallFromPush(p); err != nil || fromPush != d {
				t.Fatalf("the events connection's form decodes differently: %+v, %v; want %+v", fromPush, err, d)
			}
			var stored IncomingCallData
			if b, err := json.Marshal(d); err != nil || json.Unmarshal(b, &stored) != nil || stored != d {
				t.Fatalf("the stored form does not round-trip: %+v, %v; want %+v", stored, err, d)
			}
			if pc := d.platformCall(); pc.CallID != d.Key() || pc.CallID == "" || pc.Handle != d.CallFrom {
				t.Fatalf("platform call %+v for %+v", pc, d)
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

// guidePush is guidePayload as the events connection carries it.
func guidePush() wire.PushPayload {
	return wire.PushPayload{
		CallFrom: "90050", CallTo: "9876543210", CallType: wire.PushOutbound, RegisteredNumber: "9876543210",
		CallerName: "Customer Support", CallID: "call_abc123", Environment: "PRODUCTION",
		Timestamp: 1711800000000, Platform: "android", Event: wire.EventInitial,
	}
}

func TestIncomingCallFromPush(t *testing.T) {
	want, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	tests := []struct {
		name    string
		mutate  func(*wire.PushPayload)
		wantErr string // a field the error names; "" for success
		check   func(*testing.T, IncomingCallData)
	}{
		{"the guide's example", func(*wire.PushPayload) {}, "",
			func(t *testing.T, d IncomingCallData) { assert.Equal(t, want, d, "the same value as from the map") }},
		{"no optional fields", func(p *wire.PushPayload) {
			*p = wire.PushPayload{CallFrom: p.CallFrom, CallTo: p.CallTo, CallType: p.CallType, RegisteredNumber: p.RegisteredNumber}
		}, "", func(t *testing.T, d IncomingCallData) {
			assert.True(t, d.Timestamp.IsZero())
			assert.Equal(t, d.UUID(), d.Key())
		}},
		{"end", func(p *wire.PushPayload) { p.Event = wire.EventEnd }, "",
			func(t *testing.T, d IncomingCallData) { assert.True(t, d.IsEnd()) }},
		{"callType and event in any case, as from a map", func(p *wire.PushPayload) { p.CallType, p.Event = "apptoapp", "END" }, "",
			func(t *testing.T, d IncomingCallData) {
				assert.Equal(t, CallTypeAppToApp, d.CallType)
				assert.Equal(t, wire.EventEnd, d.Event)
			}},
		{"no callFrom", func(p *wire.PushPayload) { p.CallFrom = "" }, "callFrom", nil},
		{"no callTo", func(p *wire.PushPayload) { p.CallTo = "" }, "callTo", nil},
		{"no callType", func(p *wire.PushPayload) { p.CallType = "" }, "callType", nil},
		{"no registeredNumber", func(p *wire.PushPayload) { p.RegisteredNumber = "" }, "registeredNumber", nil},
		{"letters in callTo", func(p *wire.PushPayload) { p.CallTo = "bob" }, "callTo", nil},
		{"unknown callType", func(p *wire.PushPayload) { p.CallType = "Video" }, "callType", nil},
		{"unknown event", func(p *wire.PushPayload) { p.Event = "ringing" }, "event", nil},
		{"negative timestamp", func(p *wire.PushPayload) { p.Timestamp = -1 }, "timestamp", nil},
		{"long callerName", func(p *wire.PushPayload) { p.CallerName = string(bytes.Repeat([]byte("x"), wire.MaxNameLen+1)) }, "callerName", nil},
		{"invalid UTF-8 callId", func(p *wire.PushPayload) { p.CallID = "c\xff" }, "callId", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := guidePush()
			tt.mutate(&p)
			d, err := IncomingCallFromPush(p)
			if tt.wantErr != "" {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, ErrIncomingCallFailed, e.Kind)
				assert.Contains(t, e.Detail, tt.wantErr)
				assert.Zero(t, d)
				return
			}
			require.NoError(t, err)
			tt.check(t, d)
			onWire := d.Push()
			assert.NoError(t, onWire.Validate(), "a decoded call is valid on the wire")
		})
	}
}

// An error quotes at most a short prefix of the value it rejects, from
// either decoder: a payload is outside input, and errors are logged and shown.
func TestIncomingCallErrorsQuoteShortPrefixes(t *testing.T) {
	long := "9" + strings.Repeat("8", 40) + "x" + strings.Repeat("7", 4000)
	tests := []struct {
		name  string
		field string
		value string
	}{
		{"callFrom", "callFrom", long},
		{"callTo", "callTo", long},
		{"registeredNumber", "registeredNumber", long},
		{"callType", "callType", "Video" + long},
		{"event", "event", "ring" + long},
		{"callerName", "callerName", long},
		{"timestamp", "timestamp", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := guidePayload()
			m[tt.field] = tt.value
			_, mapErr := ParseIncomingCall(m)
			errs := []error{mapErr}
			if tt.field != "timestamp" { // the wire's timestamp is a number
				p := guidePush()
				setPushField(&p, tt.field, tt.value)
				_, pushErr := IncomingCallFromPush(p)
				errs = append(errs, pushErr)
			}
			for _, err := range errs {
				require.ErrorIs(t, err, ErrIncomingCallFailed)
				msg := err.Error()
				assert.Contains(t, msg, tt.field)
				assert.Less(t, len(msg), 200, msg)
				assert.NotContains(t, msg, tt.value[:wire.QuoteRunes+1], "no more than wire.QuoteRunes characters of the value")
			}
		})
	}
}

// setPushField sets the text field of p that has the JSON name field.
func setPushField(p *wire.PushPayload, field, v string) {
	dst := map[string]*string{
		"callFrom": &p.CallFrom, "callTo": &p.CallTo, "callType": &p.CallType,
		"registeredNumber": &p.RegisteredNumber, "callerName": &p.CallerName, "callId": &p.CallID,
		"environment": &p.Environment, "platform": &p.Platform, "event": &p.Event,
	}[field]
	*dst = v
}

func TestQuoteShort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{"0123456789abcdef", `"0123456789abcdef"`},
		{"0123456789abcdefg", `"0123456789abcdef"… (17 bytes)`},
		{strings.Repeat("é", 20), `"` + strings.Repeat("é", 16) + `"… (40 bytes)`},
		{"\xff\xfe", `"\xff\xfe"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wire.Quote(tt.in), "%q", tt.in)
	}
}

// The platform's incoming-call UI gets the call from platformCall alone.
func TestIncomingCallPlatformCall(t *testing.T) {
	d, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	noID := d
	noID.CallID, noID.CallerName = "", ""
	inbound := d
	inbound.CallType = CallTypeInbound
	tests := []struct {
		name string
		d    IncomingCallData
		want platform.IncomingCall
	}{
		{"the guide's example", d, platform.IncomingCall{CallID: "call_abc123", UUID: d.UUID(), Handle: "90050",
			CallerName: "Customer Support", CallType: "Outbound"}},
		{"no callId or name: keyed by UUID", noID, platform.IncomingCall{CallID: noID.UUID(), UUID: noID.UUID(),
			Handle: "90050", CallType: "Outbound"}},
		{"inbound", inbound, platform.IncomingCall{CallID: "call_abc123", UUID: d.UUID(), Handle: "90050",
			CallerName: "Customer Support", CallType: "Inbound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.d.platformCall()
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.d.Key(), got.CallID, "the platform answers by the SDK's key")
		})
	}
}

// IncomingCallData's JSON is the wire's push object, so records stored
// before the Store held IncomingCallData (as a wire.PushPayload) still load.
func TestIncomingCallJSON(t *testing.T) {
	d, err := ParseIncomingCall(guidePayload())
	require.NoError(t, err)
	b, err := json.Marshal(d)
	require.NoError(t, err)
	wireJSON, err := json.Marshal(d.Push())
	require.NoError(t, err)
	assert.JSONEq(t, string(wireJSON), string(b))
	assert.JSONEq(t, `{"callFrom":"90050","callTo":"9876543210","callType":"Outbound","registeredNumber":"9876543210",
		"callerName":"Customer Support","callId":"call_abc123","environment":"PRODUCTION","timestamp":1711800000000,
		"platform":"android","event":"initial"}`, string(b))

	tests := []struct {
		name    string
		json    string
		want    IncomingCallData
		wantErr bool
	}{
		{"MarshalJSON's form", string(b), d, false},
		{"only the required fields", `{"callFrom":"1001","callTo":"1002","callType":"APPTOAPP","registeredNumber":"1002"}`,
			IncomingCallData{CallFrom: "1001", CallTo: "1002", CallType: CallTypeAppToApp, RegisteredNumber: "1002"}, false},
		{"null", `null`, IncomingCallData{}, true},
		{"missing callTo", `{"callFrom":"1001","callType":"APPTOAPP","registeredNumber":"1002"}`, IncomingCallData{}, true},
		{"bad callType", `{"callFrom":"1001","callTo":"1002","callType":"Video","registeredNumber":"1002"}`, IncomingCallData{}, true},
		{"timestamp as text", `{"callFrom":"1001","callTo":"1002","callType":"APPTOAPP","registeredNumber":"1002","timestamp":"1"}`,
			IncomingCallData{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got IncomingCallData
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
