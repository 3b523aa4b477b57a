// Package devicestest is the behaviour every devices.Store shows, as one
// test suite: a store implementation (memory, SQLite, a future PostgreSQL)
// passes it by calling Run from its own tests. Only tests import it.
package devicestest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

// Run checks a store that open returns empty, fresh for each call:
// registration, replacement, ordering, account isolation, token pruning
// and removal.
func Run(t *testing.T, open func(t *testing.T) devices.Store) {
	ctx := context.Background()
	voip := strings.Repeat("ab", 32)
	s := open(t)
	ios := devices.Device{Account: "acme", DeviceID: "ios-1", Number: "100", Platform: wire.PlatformIOS, VoIPToken: voip}
	android := devices.Device{Account: "acme", DeviceID: "and-1", Number: "100", Platform: wire.PlatformAndroid, FCMToken: "fcm-1"}
	other := devices.Device{Account: "globex", DeviceID: "and-1", Number: "100", Platform: wire.PlatformAndroid, FCMToken: "fcm-1"}
	for _, d := range []devices.Device{ios, android, other} {
		require.NoError(t, s.Put(ctx, d))
	}

	got, err := s.ByNumber(ctx, "acme", "100")
	require.NoError(t, err)
	require.Len(t, got, 2, "only the account's own devices")
	assert.Equal(t, []string{"ios-1", "and-1"}, []string{got[0].DeviceID, got[1].DeviceID}, "oldest first")
	assert.Equal(t, voip, got[0].VoIPToken)

	// Re-registering replaces, keeping the device's place.
	ios.Number, ios.VoIPToken = "200", strings.Repeat("cd", 32)
	require.NoError(t, s.Put(ctx, ios))
	got, err = s.ByNumber(ctx, "acme", "100")
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = s.ByNumber(ctx, "acme", "200")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ios.VoIPToken, got[0].VoIPToken)

	// A dead token goes, in its account only.
	n, err := s.DropToken(ctx, "acme", devices.TokenFCM, "fcm-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, _ = s.ByNumber(ctx, "globex", "100")
	assert.Len(t, got, 1, "another account's device is untouched")
	_, err = s.DropToken(ctx, "acme", devices.TokenFCM, "")
	assert.Error(t, err, "an empty token would match every desktop device")
	_, err = s.DropToken(ctx, "acme", "sms", "x")
	assert.Error(t, err)

	require.NoError(t, s.Delete(ctx, "acme", "ios-1"))
	assert.ErrorIs(t, s.Delete(ctx, "acme", "ios-1"), devices.ErrNoDevice)
	assert.ErrorIs(t, s.Delete(ctx, "acme", "and-1"), devices.ErrNoDevice, "dropped with its token")
	got, err = s.ByNumber(ctx, "acme", "200")
	require.NoError(t, err)
	assert.Empty(t, got)
}
