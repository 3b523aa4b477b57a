package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDeviceRegistration(t *testing.T) {
	voip := strings.Repeat("ab", 32)
	fcm := "dGVzdA:APA91b-token_x"
	tests := []struct {
		name, body, err string
	}{
		{"ios", `{"deviceId":"ios-1","registeredNumber":"+9198","platform":"ios","voipToken":"` + voip + `"}`, ""},
		{"android", `{"deviceId":"a.1","registeredNumber":"9198","platform":"android","fcmToken":"` + fcm + `"}`, ""},
		{"desktop", `{"deviceId":"d_1","registeredNumber":"9198","platform":"desktop"}`, ""},
		{"ios without token", `{"deviceId":"i","registeredNumber":"9198","platform":"ios"}`, "needs voipToken"},
		{"android without token", `{"deviceId":"a","registeredNumber":"9198","platform":"android"}`, "needs fcmToken"},
		{"ios with fcm", `{"deviceId":"i","registeredNumber":"9198","platform":"ios","voipToken":"` + voip + `","fcmToken":"x"}`, "no fcmToken"},
		{"android with voip", `{"deviceId":"a","registeredNumber":"9198","platform":"android","fcmToken":"x","voipToken":"` + voip + `"}`, "no voipToken"},
		{"desktop with token", `{"deviceId":"d","registeredNumber":"9198","platform":"desktop","fcmToken":"x"}`, "no push token"},
		{"short voip", `{"deviceId":"i","registeredNumber":"9198","platform":"ios","voipToken":"abcd"}`, "64 to"},
		{"odd voip", `{"deviceId":"i","registeredNumber":"9198","platform":"ios","voipToken":"` + voip + `a"}`, "even number"},
		{"non-hex voip", `{"deviceId":"i","registeredNumber":"9198","platform":"ios","voipToken":"` + strings.Repeat("zz", 32) + `"}`, "not hex"},
		{"bad fcm char", `{"deviceId":"a","registeredNumber":"9198","platform":"android","fcmToken":"a b"}`, "character"},
		{"long fcm", `{"deviceId":"a","registeredNumber":"9198","platform":"android","fcmToken":"` + strings.Repeat("a", MaxFCMToken+1) + `"}`, "longer than"},
		{"bad platform", `{"deviceId":"d","registeredNumber":"9198","platform":"web"}`, "not ios, android or desktop"},
		{"bad number", `{"deviceId":"d","registeredNumber":"12a","platform":"desktop"}`, "registeredNumber"},
		{"empty device", `{"deviceId":"","registeredNumber":"9198","platform":"desktop"}`, "deviceId"},
		{"slash in device", `{"deviceId":"a/b","registeredNumber":"9198","platform":"desktop"}`, "deviceId has"},
		{"long device", `{"deviceId":"` + strings.Repeat("d", MaxDeviceID+1) + `","registeredNumber":"9198","platform":"desktop"}`, "deviceId must"},
		{"unknown field", `{"deviceId":"d","registeredNumber":"9198","platform":"desktop","x":1}`, "unknown field"},
		{"trailing", `{"deviceId":"d","registeredNumber":"9198","platform":"desktop"} {}`, "trailing"},
		{"not json", `nope`, "invalid"},
		{"too big", strings.Repeat(" ", MaxRegistrationB+1), "over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDeviceRegistration([]byte(tt.body))
			if tt.err == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, d.DeviceID)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func FuzzParseDeviceRegistration(f *testing.F) {
	f.Add([]byte(`{"deviceId":"d","registeredNumber":"9198","platform":"desktop"}`))
	f.Add([]byte(`{"deviceId":"i","registeredNumber":"+1","platform":"ios","voipToken":"` + strings.Repeat("0f", 32) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDeviceRegistration(b)
		if err != nil {
			assert.ErrorIs(t, err, ErrMalformed)
			return
		}
		// What parses is valid, and safe in a path.
		require.NoError(t, d.Validate())
		assert.NotContains(t, d.DeviceID, "/")
	})
}
