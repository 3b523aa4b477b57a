package e2e

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
)

func bareSDK() *callcore.SDK {
	return callcore.New(
		callcore.WithPlatform(platform.NewHeadless()),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithLogger(slog.New(slog.DiscardHandler)),
		callcore.WithAudioDevice(func() (audio.Device, error) { return audio.NewNullDevice(), nil }),
	)
}

func TestInitializeChecksCredentialsWithTheServer(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	tests := []struct {
		name, account, key string
		kind               error
	}{
		{"good", "demo", e.key, nil},
		{"wrong key", "demo", "ocx_wrong", callcore.ErrInitializationFailed},
		{"unknown account", "nobody", e.key, callcore.ErrInitializationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdk := bareSDK()
			defer sdk.Dispose()
			err := sdk.Initialize(ctx(t), tt.account, tt.key, e.url)
			if tt.kind == nil {
				require.NoError(t, err)
				assert.True(t, sdk.IsInitialized())
				return
			}
			assert.ErrorIs(t, err, tt.kind)
			assert.False(t, sdk.IsInitialized())
		})
	}
}

// unreachable returns a loopback URL nothing listens on.
func unreachable(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestUnreachableServerIsAConnectionFailure(t *testing.T) {
	sdk := bareSDK()
	defer sdk.Dispose()
	err := sdk.Initialize(ctx(t), "demo", "ocx_key", unreachable(t))
	assert.ErrorIs(t, err, callcore.ErrWebSocketConnectionFailed)
}

func TestServerGoneAfterSignInIsAConnectionFailure(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Shutdown(sctx))
	err := a.sdk.StartInBoundCall(ctx(t), "90000", "1001")
	assert.ErrorIs(t, err, callcore.ErrWebSocketConnectionFailed)
	assert.False(t, a.sdk.IsCallActive(), "a failed start leaves no call behind")
}

func TestServerShutdownEndsTheCall(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	a := e.newPhone(t, "1001", toneA)
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.waitFor("started inbound 90000 1001")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Shutdown(sctx))
	a.waitFor("ended inbound 90000")
	a.waitFor("websocket false")
}
