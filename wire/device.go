package wire

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// PathDevices is the device registry: POST registers (or re-registers) a
// device of the caller's account, DELETE PathDevices+"{deviceId}" removes it
// (sign-out). See PROTOCOL.md, "Device registry".
const PathDevices = "/v1/devices"

// Device platforms, as a registration names them.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
	PlatformDesktop = "desktop"
)

// Limits on registration fields. APNs device tokens are 32 bytes today
// (64 hex digits) and Apple says they may grow; FCM tokens are opaque and
// around 160 characters. The bounds are generous and still stop abuse.
const (
	MaxDeviceID      = 128
	MaxAPNsTokenHex  = 200
	MaxFCMToken      = 4096
	MaxRegistrationB = 8 << 10 // request body
)

// DeviceRegistration is the body of POST PathDevices. A device is known by
// its DeviceID (an install ID the app generates once and keeps); registering
// it again replaces what was stored, including its number and tokens.
type DeviceRegistration struct {
	DeviceID         string `json:"deviceId"`
	RegisteredNumber string `json:"registeredNumber"`
	Platform         string `json:"platform"`
	VoIPToken        string `json:"voipToken,omitempty"` // iOS PushKit token, hex
	FCMToken         string `json:"fcmToken,omitempty"`  // Android FCM registration token
}

// ParseDeviceRegistration decodes and validates a registration body.
// Unknown fields are refused, like every other message of the protocol.
func ParseDeviceRegistration(b []byte) (DeviceRegistration, error) {
	var d DeviceRegistration
	if len(b) > MaxRegistrationB {
		return d, malformed("registration of %d bytes is over %d", len(b), MaxRegistrationB)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformed, QuoteError(err))
	}
	if dec.More() {
		return d, malformed("trailing data after the registration")
	}
	return d, d.Validate()
}

// Validate checks every field and that the platform's token is there: iOS
// needs a VoIP token, Android an FCM token; a desktop device rings through
// its events connection and carries neither.
func (d DeviceRegistration) Validate() error {
	if err := CheckDeviceID(d.DeviceID); err != nil {
		return err
	}
	if err := checkNumber("registeredNumber", d.RegisteredNumber); err != nil {
		return err
	}
	if d.VoIPToken != "" {
		if n := len(d.VoIPToken); n < 64 || n > MaxAPNsTokenHex || n%2 != 0 {
			return malformed("voipToken must be an even number of hex digits, 64 to %d", MaxAPNsTokenHex)
		}
		if _, err := hex.DecodeString(d.VoIPToken); err != nil {
			return malformed("voipToken is not hex")
		}
	}
	if d.FCMToken != "" {
		if len(d.FCMToken) > MaxFCMToken {
			return malformed("fcmToken is longer than %d", MaxFCMToken)
		}
		for _, r := range d.FCMToken {
			if !tokenChar(r) {
				return malformed("fcmToken has a character %q that FCM tokens do not", r)
			}
		}
	}
	switch d.Platform {
	case PlatformIOS:
		if d.VoIPToken == "" {
			return malformed("an ios device needs voipToken")
		}
		if d.FCMToken != "" {
			return malformed("an ios device has no fcmToken")
		}
	case PlatformAndroid:
		if d.FCMToken == "" {
			return malformed("an android device needs fcmToken")
		}
		if d.VoIPToken != "" {
			return malformed("an android device has no voipToken")
		}
	case PlatformDesktop:
		if d.VoIPToken != "" || d.FCMToken != "" {
			return malformed("a desktop device rings through its events connection and has no push token")
		}
	default:
		return malformed("platform %s is not ios, android or desktop", Quote(d.Platform))
	}
	return nil
}

// CheckDeviceID checks an install ID: 1 to MaxDeviceID letters, digits,
// '-', '_' or '.', so it is safe in a URL path and a log line.
func CheckDeviceID(id string) error {
	if id == "" || len(id) > MaxDeviceID {
		return malformed("deviceId must be 1 to %d characters", MaxDeviceID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return malformed("deviceId has a character %q outside letters, digits, - _ .", r)
		}
	}
	return nil
}

// tokenChar is what FCM registration tokens are made of (base64url plus ':').
func tokenChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':'
}
