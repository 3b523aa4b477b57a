package server

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

// Token kinds, for DeviceStore.DropToken.
const (
	TokenVoIP = "voip"
	TokenFCM  = "fcm"
)

// ErrNoDevice is returned when a device to remove is not registered.
var ErrNoDevice = errors.New("no such device")

// DeviceStore keeps the device registry durably. Accounts never see each
// other's devices: every method is scoped by account. Implementations are
// safe for concurrent use. The default is SQLite (OpenSQLiteDevices);
// MemoryDevices serves tests and servers that want no file. The interface is
// small so a PostgreSQL store can follow.
type DeviceStore interface {
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
