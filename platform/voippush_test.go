package platform

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestParseVoIPPush(t *testing.T) {
	long := strings.Repeat("n", wire.MaxNameLen+1)
	tests := []struct {
		name    string
		payload string
		want    voipPush // data not compared
		errLike string   // "" for success; else a part of the error text
	}{
		{"call", `{"callFrom":"9876543210","callTo":"1002","callType":"APPTOAPP","callerName":"Asha","callId":"c1"}`,
			voipPush{callID: "c1", handle: "9876543210", name: "Asha"}, ""},
		{"wrapped in data, with aps", `{"aps":{},"data":{"callFrom":"1001","callId":"c2"}}`,
			voipPush{callID: "c2", handle: "1001"}, ""},
		{"numbers as JSON numbers", `{"callFrom":9876543210,"callId":42}`,
			voipPush{callID: "42", handle: "9876543210"}, ""},
		{"trimmed", `{"callFrom":"  1001 ","callerName":" A "}`, voipPush{handle: "1001", name: "A"}, ""},
		{"initial", `{"callFrom":"1001","event":"initial"}`, voipPush{handle: "1001"}, ""},
		{"end, any case, no caller", `{"callId":"c1","event":"END"}`, voipPush{callID: "c1", end: true}, ""},
		{"null fields", `{"callFrom":"1001","callerName":null}`, voipPush{handle: "1001"}, ""},
		{"no caller", `{"callId":"c1"}`, voipPush{}, `field "callFrom" is missing`},
		{"caller is an object", `{"callFrom":{"n":1}}`, voipPush{}, `field "callFrom" is a JSON object, not text`},
		{"caller is a boolean", `{"callFrom":true}`, voipPush{}, `field "callFrom" is a boolean`},
		{"unknown event", `{"callFrom":"1","event":"ring"}`, voipPush{}, `field "event" is neither initial nor end: "ring"`},
		{"control character", `{"callFrom":"1\u0007"}`, voipPush{}, "has a control character"},
		{"name too long", `{"callFrom":"1","callerName":"` + long + `"}`, voipPush{}, "is longer than 128 bytes"},
		{"not JSON", `callFrom=1`, voipPush{}, "is not a JSON object"},
		{"an array", `[1,2]`, voipPush{}, "is not a JSON object"},
		{"null", `null`, voipPush{}, "is not a JSON object"},
		{"trailing data", `{"callFrom":"1"} {}`, voipPush{}, "is not a JSON object"},
		{"empty", ``, voipPush{}, "is not a JSON object"},
		{"too long", `{"callFrom":"1","x":"` + strings.Repeat("x", maxVoIPPush) + `"}`, voipPush{}, "more than APNs sends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVoIPPush([]byte(tt.payload))
			if tt.errLike != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalid)
				var pe *voipPushError
				assert.True(t, errors.As(err, &pe))
				assert.Contains(t, err.Error(), tt.errLike)
				assert.LessOrEqual(t, len(err.Error()), 120+wire.MaxQuoteLen, "a push is never quoted whole")
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, got.data)
			got.data = nil
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseVoIPPushKeepsTheData(t *testing.T) {
	p, err := parseVoIPPush([]byte(`{"data":{"callFrom":"1001","timestamp":1711800000000,"callType":"APPTOAPP"}}`))
	require.NoError(t, err)
	assert.Equal(t, "1001", p.data["callFrom"])
	assert.Equal(t, "APPTOAPP", p.data["callType"])
	assert.Contains(t, p.data, "timestamp", "the SDK reads the rest of the payload itself")
}

// FuzzParseVoIPPush: any payload is read or refused with ErrInvalid and a
// short message, never a panic; what is read is what CallKit may show.
func FuzzParseVoIPPush(f *testing.F) {
	for _, s := range []string{
		`{"callFrom":"9876543210","callId":"c1","callerName":"Asha"}`,
		`{"data":{"callFrom":1001,"event":"end"}}`,
		`{"callId":"c1","event":"END"}`,
		`{"callFrom":"\u0000"}`,
		`[]`, `null`, ``, `{"callFrom":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		p, err := parseVoIPPush(payload)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if n := len(err.Error()); n > 120+wire.MaxQuoteLen {
				t.Fatalf("error is %d bytes long: %q", n, err)
			}
			return
		}
		if p.handle == "" && !p.end {
			t.Fatal("a call to show without a caller")
		}
		for _, s := range []string{p.handle, p.name, p.callID} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("text CallKit would show is not clean: %q", s)
			}
		}
		if len(p.handle) > wire.MaxNameLen || len(p.name) > wire.MaxNameLen || len(p.callID) > maxCallIDLen {
			t.Fatal("a field longer than its bound")
		}
	})
}
