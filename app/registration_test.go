package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// serveWithDevices serves the demo configuration with a device registry the
// test can look into.
func serveWithDevices(t *testing.T) (url, key string, store *devices.Memory) {
	t.Helper()
	cfg, key := server.DemoConfig()
	store = devices.NewMemory()
	_, url = servertest.StartServer(t, cfg, server.WithLogger(slog.New(slog.DiscardHandler)), server.WithDeviceStore(store))
	return url, key, store
}

func registeredDevices(t *testing.T, ds *devices.Memory, number string) []devices.Device {
	t.Helper()
	devs, err := ds.ByNumber(context.Background(), "demo", number)
	require.NoError(t, err)
	return devs
}

func TestSignInRegistersTheDeviceAndSwitchingAccountsUnregistersIt(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	urlA, keyA, devA := serveWithDevices(t)
	urlB, keyB, devB := serveWithDevices(t)
	ui := screentest.New(t)
	ph := startPhone(t, ui, Config{ServerURL: urlA, Account: "demo", APIKey: keyA})
	online := func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) }
	ph.waitFor(t, "signed in to A", online)
	require.Eventually(t, func() bool { return len(registeredDevices(t, devA, ownNum)) == 1 }, waitUI, 20*time.Millisecond,
		"signing in registers this install for its number")
	d := registeredDevices(t, devA, ownNum)[0]
	assert.Equal(t, wire.PlatformDesktop, d.Platform)
	assert.Empty(t, d.VoIPToken+d.FCMToken, "a desktop rings through its events connection, not push")

	// Signing in to another server signs this install out of the first.
	require.NoError(t, screentest.Get(ui, func() error {
		return ph.p.saveAccount(screens.Account{ServerURL: urlB, Name: "demo", APIKey: keyB, Number: ownNum})
	}))
	require.Eventually(t, func() bool { return len(registeredDevices(t, devB, ownNum)) == 1 }, waitUI, 20*time.Millisecond)
	assert.Empty(t, registeredDevices(t, devA, ownNum), "the old account no longer rings this install")
	assert.Equal(t, d.DeviceID, registeredDevices(t, devB, ownNum)[0].DeviceID, "one install, one ID")
}
