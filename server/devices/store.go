package devices

import (
	"context"
	"errors"
	"time"
)

// Device is a registered device of an account: where to ring a registered
// number when it is called (PROTOCOL.md, "Device registry").
type Device struct {
	Account   string
	DeviceID  string
	Number    string // registered number
	Platform  string // wire.PlatformIOS, PlatformAndroid or PlatformDesktop
	VoIPToken string // APNs VoIP token (iOS)
	FCMToken  string // FCM registration token (Android)
	Updated   time.Time
}

// Token kinds, for Store.DropToken.
const (
	TokenVoIP = "voip"
	TokenFCM  = "fcm"
)

// ErrNoDevice is returned when a device to remove is not registered.
var ErrNoDevice = errors.New("no such device")

// Store keeps the device registry durably. Accounts never see each other's
// devices: every method is scoped by account. Implementations are safe for
// concurrent use: [Memory] here, SQLite or PostgreSQL in package
// server/sqlstore. Every implementation proves itself with devicestest.Run,
// the suite every store passes.
type Store interface {
	// Put registers d, replacing what was stored for its account and
	// DeviceID (number and tokens included).
	Put(ctx context.Context, d Device) error
	// Delete unregisters a device; ErrNoDevice if it was not registered.
	Delete(ctx context.Context, account, deviceID string) error
	// ByNumber lists the devices of a registered number, oldest first.
	ByNumber(ctx context.Context, account, number string) ([]Device, error)
	// DropToken forgets a push token the provider reported dead (APNs
	// Unregistered/BadDeviceToken, FCM UNREGISTERED): the account's devices
	// carrying it are removed. It returns how many.
	DropToken(ctx context.Context, account, kind, token string) (int, error)
	Close() error
}

// TokenOf is d's token of kind ("" for an unknown kind).
func TokenOf(d Device, kind string) string {
	switch kind {
	case TokenVoIP:
		return d.VoIPToken
	case TokenFCM:
		return d.FCMToken
	}
	return ""
}
