package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResumeToken(t *testing.T) {
	a, b := NewResumeToken(), NewResumeToken()
	require.NoError(t, CheckResumeToken(a))
	assert.NotEqual(t, a, b)
	assert.True(t, SameResumeToken(HashResumeToken(a), HashResumeToken(a)))
	assert.False(t, SameResumeToken(HashResumeToken(a), HashResumeToken(b)))
	for _, bad := range []string{"", "short", strings.Repeat("A", 42), strings.Repeat("A", 44),
		strings.Repeat("A", 42) + "=", strings.Repeat("A", 42) + "+", strings.Repeat("é", 21) + "A"} {
		assert.ErrorIs(t, CheckResumeToken(bad), ErrMalformed, "%q", bad)
	}
}

func TestResumeMessages(t *testing.T) {
	tok := NewResumeToken()
	cases := []struct {
		name string
		json string
		bad  string // part of the error, "" when valid
	}{
		{"resume", `{"type":"resume","callId":"c_1","token":"` + tok + `"}`, ""},
		{"resumable", `{"type":"resumable","callId":"c_1","token":"` + tok + `","ms":30000}`, ""},
		{"resumed", `{"type":"resumed","callId":"c_1","state":"active"}`, ""},
		{"reconnecting", `{"type":"reconnecting","remote":true}`, ""},
		{"reconnected", `{"type":"reconnected","remote":true}`, ""},
		{"start resumable", `{"type":"start","kind":"inbound","to":"90000","registeredNumber":"1","resumable":true}`, "unknown field"},
		{"resume without call", `{"type":"resume","token":"` + tok + `"}`, "missing callId"},
		{"resume without token", `{"type":"resume","callId":"c_1"}`, "token has 0 characters"},
		{"resume bad token", `{"type":"resume","callId":"c_1","token":"` + strings.Repeat("!", 43) + `"}`, "not unpadded base64url"},
		{"resume long call", `{"type":"resume","callId":"` + strings.Repeat("c", 200) + `","token":"` + tok + `"}`, "longer than"},
		{"resumable no grace", `{"type":"resumable","callId":"c_1","token":"` + tok + `"}`, "ms 0"},
		{"resumable long grace", `{"type":"resumable","callId":"c_1","token":"` + tok + `","ms":600001}`, "ms 600001"},
		{"resumed ended", `{"type":"resumed","callId":"c_1","state":"ended"}`, "not ringing or active"},
		{"resume extra field", `{"type":"resume","callId":"c_1","token":"` + tok + `","secret":"x"}`, "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.json))
			if tc.bad == "" {
				require.NoError(t, err)
				out, err := Encode(m)
				require.NoError(t, err)
				assert.JSONEq(t, tc.json, string(out))
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tc.bad)
			assert.Less(t, len(err.Error()), 200, "the error quotes at most a prefix")
		})
	}
}

// FuzzResumeHandshake feeds the server's parser of a resume (the first
// message on a /v1/call socket) anything: it never panics, what it accepts
// has a well-formed token and call ID and round-trips, and what it refuses
// is an ErrMalformed with a short message.
func FuzzResumeHandshake(f *testing.F) {
	tok := NewResumeToken()
	for _, s := range []string{
		`{"type":"resume","callId":"c_1","token":"` + tok + `"}`,
		`{"type":"resume","callId":"","token":"` + tok + `"}`,
		`{"type":"resume","callId":"c_1","token":"` + tok[:40] + `==="}`,
		`{"type":"resume","callId":"c_1","token":null}`,
		`{"type":"resume","callId":"c_1","token":"` + tok + `","ms":5}`,
		`{"type":"resumable","callId":"c_1","token":"` + tok + `","ms":30000}`,
		`{"type":"resume"}`, `{"type":"resume","callId":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("error of %d bytes quotes too much: %.80q…", len(err.Error()), err.Error())
			}
			return
		}
		if m.Type != TypeResume && m.Type != TypeResumable {
			return
		}
		if m.CallID == "" || CheckResumeToken(m.Token) != nil {
			t.Fatalf("accepted %s without a call ID or a well-formed token: %q", m.Type, b)
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode: %v", b, err)
		}
		back, err := Decode(out)
		if err != nil || !assert.ObjectsAreEqual(m, back) {
			t.Fatalf("round trip changed %#v to %#v (%v)", m, back, err)
		}
	})
}
