package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/devices/devicestest"
	"github.com/onecxi/phone/server/devices/sqlite"
	"github.com/onecxi/phone/wire"
)

func TestStore(t *testing.T) {
	t.Parallel()
	devicestest.Run(t, func(t *testing.T) devices.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "devices.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "devices.db")
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	at := time.Unix(1700000000, 0)
	require.NoError(t, s.Put(ctx, devices.Device{Account: "acme", DeviceID: "d", Number: "100", Platform: wire.PlatformDesktop, Updated: at}))
	require.NoError(t, s.Close())

	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.ByNumber(ctx, "acme", "100")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "d", got[0].DeviceID)
	assert.True(t, at.Equal(got[0].Updated))
}

func TestOpenFailsClearly(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))
	assert.ErrorContains(t, err, "device registry")
}
