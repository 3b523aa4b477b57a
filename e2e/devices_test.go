package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

func TestSDKRegistersAndUnregistersTheDevice(t *testing.T) {
	t.Parallel()
	store := devices.NewMemory()
	e := startServerWith(t, []server.Option{server.WithDeviceStore(store)})
	devices := func(number string) []devices.Device {
		d, err := store.ByNumber(context.Background(), "demo", number)
		require.NoError(t, err)
		return d
	}

	desk := e.newPhone(t, "1002", toneB)
	require.NoError(t, desk.sdk.RegisterDevice(ctx(t), " 1002 "))
	require.Len(t, devices("1002"), 1)
	assert.Equal(t, wire.PlatformDesktop, devices("1002")[0].Platform)
	id := devices("1002")[0].DeviceID

	// Re-registering (a new number here) replaces: still one device, same ID.
	require.NoError(t, desk.sdk.RegisterDevice(ctx(t), "1003"))
	assert.Empty(t, devices("1002"))
	require.Len(t, devices("1003"), 1)
	assert.Equal(t, id, devices("1003")[0].DeviceID, "the install keeps its ID")

	phone := e.newPhone(t, "1004", toneA, asAndroid("fcm:token-4"))
	require.NoError(t, phone.sdk.RegisterDevice(ctx(t), "1004"))
	require.Len(t, devices("1004"), 1)
	assert.Equal(t, "fcm:token-4", devices("1004")[0].FCMToken)
	assert.NotEqual(t, id, devices("1004")[0].DeviceID)

	require.NoError(t, desk.sdk.UnregisterDevice(ctx(t)))
	assert.Empty(t, devices("1003"))
	require.NoError(t, desk.sdk.UnregisterDevice(ctx(t)), "unregistering twice is fine")
}

func TestRegisterDeviceGuards(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	fresh := callcore.New(callcore.WithPlatform(platform.NewHeadless()), callcore.WithStore(callcore.NewMemoryStore()))
	t.Cleanup(fresh.Dispose)
	assert.ErrorIs(t, fresh.RegisterDevice(ctx(t), "1002"), callcore.ErrNotInitialized)

	p := e.newPhone(t, "1002", toneB)
	for _, bad := range []string{"", "  ", "12ab", "+"} {
		assert.ErrorIs(t, p.sdk.RegisterDevice(ctx(t), bad), callcore.ErrInvalidInput, "%q", bad)
	}
	// An Android phone whose FCM token has not arrived yet cannot register.
	noToken := e.newPhone(t, "1005", toneA, func(o *[]platform.HeadlessOption) {
		*o = append(*o, platform.WithName("android"))
	})
	err := noToken.sdk.RegisterDevice(ctx(t), "1005")
	require.ErrorIs(t, err, callcore.ErrIncomingCallFailed)
	assert.Contains(t, err.Error(), "push token is not available yet")
}
