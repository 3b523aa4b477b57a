// Package servertest runs the reference server in-process for tests of
// its clients (the SDK, the app, the CLIs, the SIP gateway): on a free
// loopback port, shut down gracefully when the test ends. It also has a
// goroutine-safe buffer for capturing a server's or a tool's output. Only
// tests import it.
package servertest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// StartServer serves cfg on 127.0.0.1:0 until the test ends, then shuts the
// server down gracefully. It returns the server and its http:// URL.
func StartServer(t testing.TB, cfg server.Config, opts ...server.Option) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(cfg, opts...)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
	})
	return srv, "http://" + ln.Addr().String()
}

// AuthCheck returns the status of POST /v1/auth/check on the server at
// url with these credentials.
func AuthCheck(t testing.TB, url, account, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+wire.PathAuthCheck, nil)
	require.NoError(t, err)
	wire.SetCredentials(req.Header, account, key)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// SyncBuffer is a buffer that one goroutine may write while another
// reads it (internal/testlog).
type SyncBuffer = testlog.Buffer
