package app

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/screens/screentest"
	"github.com/onecxi/phone/server"
)

// serveDemo serves the demo configuration on addr until the returned stop
// (also run at the test's end).
func serveDemo(t *testing.T, cfg server.Config, addr string) (url string, stop func()) {
	t.Helper()
	srv, err := server.New(cfg, server.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func TestStatusFollowsTheEventsConnection(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	cfg, key := server.DemoConfig()
	url, stop := serveDemo(t, cfg, "127.0.0.1:0")
	ui := screentest.New(t)
	ph := startPhone(t, ui, Config{ServerURL: url, Account: "demo", APIKey: key})
	online := func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) }
	ph.waitFor(t, "signed in", online)

	// The server goes away: the phone says incoming calls cannot ring.
	stop()
	ph.waitFor(t, "the lost connection", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "○ Connection lost") })

	// It comes back at the same address: the SDK reconnects by itself.
	_, _ = serveDemo(t, cfg, strings.TrimPrefix(url, "http://"))
	ph.waitFor(t, "the reconnection", online)
}
