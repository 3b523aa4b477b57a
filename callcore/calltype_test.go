package callcore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallTypeStrings(t *testing.T) {
	tests := []struct {
		t         CallType
		str, push string
	}{
		{CallTypeNone, "", ""},
		{CallTypeInbound, "inbound", "Inbound"},
		{CallTypeOutbound, "outbound", "Outbound"},
		{CallTypeAppToApp, "app_to_app", "APPTOAPP"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			assert.Equal(t, tt.str, tt.t.String())
			assert.Equal(t, tt.push, tt.t.PushString())

			got, err := ParseCallType(tt.str)
			require.NoError(t, err)
			assert.Equal(t, tt.t, got, "String round-trips")

			if tt.t != CallTypeNone {
				got, err = ParsePushCallType(tt.push)
				require.NoError(t, err)
				assert.Equal(t, tt.t, got, "PushString round-trips")
			}

			b, err := json.Marshal(tt.t)
			require.NoError(t, err)
			var back CallType
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tt.t, back, "JSON round-trips")
		})
	}
}

func TestParseCallTypeLenient(t *testing.T) {
	ok := map[string]CallType{
		"INBOUND": CallTypeInbound, " Outbound ": CallTypeOutbound, "appToApp": CallTypeAppToApp,
		"app-to-app": CallTypeAppToApp, "APP_TO_APP": CallTypeAppToApp,
	}
	for s, want := range ok {
		got, err := ParseCallType(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"video", "in bound x", "3"} {
		_, err := ParseCallType(s)
		assert.Error(t, err, s)
	}
	pushOK := map[string]CallType{"apptoapp": CallTypeAppToApp, "inbound": CallTypeInbound, "OUTBOUND": CallTypeOutbound}
	for s, want := range pushOK {
		got, err := ParsePushCallType(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "video", "app"} {
		_, err := ParsePushCallType(s)
		assert.Error(t, err, s)
	}
	assert.Equal(t, "CallType(9)", CallType(9).String())
	_, err := CallType(9).MarshalText()
	assert.Error(t, err)
}
