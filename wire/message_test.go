package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeAcceptsEveryWellFormedType(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Message
	}{
		{"start inbound", `{"type":"start","kind":"inbound","to":"90050","registeredNumber":"9876543210"}`,
			Message{Type: TypeStart, Kind: KindInbound, To: "90050", RegisteredNumber: "9876543210"}},
		{"start answer with plus", `{"type":"start","kind":"app_to_app_answer","to":"+4915112345","registeredNumber":"1002","callFrom":"5555555555","callId":"c_1"}`,
			Message{Type: TypeStart, Kind: KindAppToAppAnswer, To: "+4915112345", RegisteredNumber: "1002", CallFrom: "5555555555", CallID: "c_1"}},
		{"mute off", `{"type":"mute","ref":3,"on":false}`, Message{Type: TypeMute, Ref: 3, On: Bool(false)}},
		{"hold remote", `{"type":"hold","on":true,"remote":true}`, Message{Type: TypeHold, On: Bool(true), Remote: true}},
		{"dtmf star", `{"type":"dtmf","ref":1,"digit":"*"}`, Message{Type: TypeDTMF, Ref: 1, Digit: "*"}},
		{"error", `{"type":"error","code":"not_found","message":"no such DID"}`, Message{Type: TypeError, Code: CodeNotFound, Message: "no such DID"}},
		{"end", `{"type":"end","reason":"hangup"}`, Message{Type: TypeEnd, Reason: ReasonHangup}},
		{"ping", `{"type":"ping","ts":1711800000000}`, Message{Type: TypePing, TS: 1711800000000}},
		{"status reply", `{"type":"status","ref":9,"callId":"c","state":"active","muted":true}`,
			Message{Type: TypeStatus, Ref: 9, CallID: "c", State: "active", Muted: true}},
		{"draining", `{"type":"draining","ms":30000}`, Message{Type: TypeDraining, MS: 30000}},
		{"draining a millisecond", `{"type":"draining","ms":1}`, Message{Type: TypeDraining, MS: 1}},
		{"draining an hour", `{"type":"draining","ms":3600000}`, Message{Type: TypeDraining, MS: 3600000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.json))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			again, err := Encode(got)
			require.NoError(t, err)
			back, err := Decode(again)
			require.NoError(t, err)
			assert.Equal(t, got, back, "encode/decode round trip")
		})
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	tests := []struct {
		name, json, mention string
	}{
		{"not json", `{"type":`, ""},
		{"no type", `{}`, "missing type"},
		{"unknown type", `{"type":"teleport"}`, "unknown type"},
		{"unknown field", `{"type":"end","colour":"red"}`, "unknown field"},
		{"trailing data", `{"type":"end"}{"type":"end"}`, "trailing"},
		{"start bad kind", `{"type":"start","kind":"video","to":"1","registeredNumber":"2"}`, "call kind"},
		{"start empty to", `{"type":"start","kind":"inbound","to":"","registeredNumber":"2"}`, "to"},
		{"start letters", `{"type":"start","kind":"inbound","to":"12a","registeredNumber":"2"}`, "to"},
		{"start lone plus", `{"type":"start","kind":"inbound","to":"+","registeredNumber":"2"}`, "to"},
		{"start inner plus", `{"type":"start","kind":"inbound","to":"1+2","registeredNumber":"2"}`, "to"},
		{"start long number", `{"type":"start","kind":"inbound","to":"` + strings.Repeat("1", 33) + `","registeredNumber":"2"}`, "to"},
		{"start no registered", `{"type":"start","kind":"outbound","to":"1"}`, "registeredNumber"},
		{"mute without on", `{"type":"mute","ref":1}`, "on"},
		{"hold without on", `{"type":"hold"}`, "on"},
		{"dtmf letter", `{"type":"dtmf","digit":"A"}`, "dtmf"},
		{"dtmf two digits", `{"type":"dtmf","digit":"12"}`, "dtmf"},
		{"dtmf empty", `{"type":"dtmf"}`, "dtmf"},
		{"error without code", `{"type":"error"}`, "code"},
		{"incoming without push", `{"type":"incoming"}`, "push"},
		{"long reason", `{"type":"end","reason":"` + strings.Repeat("x", MaxNameLen+1) + `"}`, "reason"},
		{"negative ref", `{"type":"ack","ref":-1}`, ""},
		{"draining without ms", `{"type":"draining"}`, "ms"},
		{"draining zero ms", `{"type":"draining","ms":0}`, "ms"},
		{"draining negative ms", `{"type":"draining","ms":-5}`, "ms"},
		{"draining over an hour", `{"type":"draining","ms":3600001}`, "ms"},
		{"draining fractional ms", `{"type":"draining","ms":1.5}`, ""},
		{"draining ms as text", `{"type":"draining","ms":"30000"}`, ""},
		{"oversize", `{"type":"end","reason":"` + strings.Repeat("x", MaxTextMessage) + `"}`, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.json))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.mention)
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	_, err := Encode(Message{Type: TypeDTMF, Digit: "x"})
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = Encode(Message{Type: TypeDraining})
	assert.ErrorIs(t, err, ErrMalformed, "draining needs its ms")
	_, err = Encode(Message{Type: TypeDraining, MS: MaxDrain.Milliseconds() + 1})
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = Encode(Message{Type: TypeEnd, Reason: "\xff\xfe"})
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestPushPayloadValidation(t *testing.T) {
	ok := PushPayload{CallFrom: "90050", CallTo: "9876543210", CallType: PushOutbound, RegisteredNumber: "9876543210"}
	require.NoError(t, ok.Validate())
	tests := []struct {
		name   string
		mutate func(*PushPayload)
		field  string
	}{
		{"no callFrom", func(p *PushPayload) { p.CallFrom = "" }, "callFrom"},
		{"no callTo", func(p *PushPayload) { p.CallTo = "" }, "callTo"},
		{"no registeredNumber", func(p *PushPayload) { p.RegisteredNumber = "" }, "registeredNumber"},
		{"bad callType", func(p *PushPayload) { p.CallType = "outbound" }, "callType"},
		{"bad event", func(p *PushPayload) { p.Event = "middle" }, "event"},
		{"negative timestamp", func(p *PushPayload) { p.Timestamp = -1 }, "timestamp"},
		{"long name", func(p *PushPayload) { p.CallerName = strings.Repeat("n", MaxNameLen+1) }, "callerName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.mutate(&p)
			err := p.Validate()
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestValidDigitAndNumber(t *testing.T) {
	for _, d := range strings.Split("0123456789*#", "") {
		assert.True(t, ValidDigit(d), d)
	}
	for _, d := range []string{"", "A", "10", " ", "p", "w"} {
		assert.False(t, ValidDigit(d), d)
	}
	assert.True(t, ValidNumber("+14155550100"))
	assert.False(t, ValidNumber(" 123"))
	assert.False(t, ValidNumber("١٢٣"), "non-ASCII digits")
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"start","kind":"inbound","to":"90050","registeredNumber":"9876543210"}`,
		`{"type":"mute","ref":1,"on":true}`,
		`{"type":"incoming","push":{"callFrom":"1","callTo":"2","callType":"APPTOAPP","registeredNumber":"2","event":"end"}}`,
		`{"type":"dtmf","digit":"#"}`, `{"type":"draining","ms":30000}`, `{"type":"draining","ms":0}`,
		`{"type":`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !strings.Contains(err.Error(), "wire:") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		// Whatever is accepted must re-encode and decode to the same message.
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode: %v", b, err)
		}
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", out, err)
		}
		if !assert.ObjectsAreEqual(m, back) {
			t.Fatalf("round trip changed %#v to %#v", m, back)
		}
	})
}
