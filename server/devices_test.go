package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// deviceStores gives every DeviceStore implementation, fresh, to one test.
func deviceStores(t *testing.T) map[string]func() DeviceStore {
	return map[string]func() DeviceStore{
		"memory": func() DeviceStore { return NewMemoryDevices() },
		"sqlite": func() DeviceStore {
			s, err := OpenSQLiteDevices(context.Background(), filepath.Join(t.TempDir(), "devices.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

func TestDeviceStores(t *testing.T) {
	ctx := context.Background()
	voip := strings.Repeat("ab", 32)
	for name, open := range deviceStores(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			ios := Device{Account: "acme", DeviceID: "ios-1", Number: "100", Platform: wire.PlatformIOS, VoIPToken: voip}
			android := Device{Account: "acme", DeviceID: "and-1", Number: "100", Platform: wire.PlatformAndroid, FCMToken: "fcm-1"}
			other := Device{Account: "globex", DeviceID: "and-1", Number: "100", Platform: wire.PlatformAndroid, FCMToken: "fcm-1"}
			for _, d := range []Device{ios, android, other} {
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
			n, err := s.DropToken(ctx, "acme", TokenFCM, "fcm-1")
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			got, _ = s.ByNumber(ctx, "globex", "100")
			assert.Len(t, got, 1, "another account's device is untouched")
			_, err = s.DropToken(ctx, "acme", TokenFCM, "")
			assert.Error(t, err, "an empty token would match every desktop device")
			_, err = s.DropToken(ctx, "acme", "sms", "x")
			assert.Error(t, err)

			require.NoError(t, s.Delete(ctx, "acme", "ios-1"))
			assert.ErrorIs(t, s.Delete(ctx, "acme", "ios-1"), ErrNoDevice)
			assert.ErrorIs(t, s.Delete(ctx, "acme", "and-1"), ErrNoDevice, "dropped with its token")
			got, err = s.ByNumber(ctx, "acme", "200")
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}

func TestSQLiteDevicesSurviveARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "devices.db")
	s, err := OpenSQLiteDevices(ctx, path)
	require.NoError(t, err)
	at := time.Unix(1700000000, 0)
	require.NoError(t, s.Put(ctx, Device{Account: "acme", DeviceID: "d", Number: "100", Platform: wire.PlatformDesktop, Updated: at}))
	require.NoError(t, s.Close())

	s, err = OpenSQLiteDevices(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.ByNumber(ctx, "acme", "100")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "d", got[0].DeviceID)
	assert.True(t, at.Equal(got[0].Updated))
}

func TestOpenSQLiteDevicesFailsClearly(t *testing.T) {
	_, err := OpenSQLiteDevices(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))
	assert.ErrorContains(t, err, "device registry")
}
