package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens/screentest"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
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
	online := func(u *UI) bool {
		return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) && !u.Offline.Visible()
	}
	ph.waitFor(t, "signed in", online)

	// The server goes away: the phone says, in a banner, that incoming
	// calls cannot ring.
	stop()
	ph.waitFor(t, "the offline banner", offline)

	// It comes back at the same address: the SDK reconnects by itself.
	_, _ = serveDemo(t, cfg, strings.TrimPrefix(url, "http://"))
	ph.waitFor(t, "the reconnection", online)
}

// offline is the window while the events connection is down.
func offline(u *UI) bool {
	return u.Status.Text == offlineStatus && u.Status.Importance == widget.WarningImportance &&
		u.Offline.Visible() && u.Offline.Text() == offlineBanner
}

// The app watches the network with its platform's watcher and tells the SDK
// of each change: the events connection, waiting out its backoff after a
// loss, redials at once. (That the SDK then redials at once is callcore's
// TestNetworkChangedReconnectsTheEventsConnectionAtOnce.)
func TestNetworkChangeReconnectsTheEventsConnection(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	cfg, key := server.DemoConfig()
	url, stop := serveDemo(t, cfg, "127.0.0.1:0")
	ui := screentest.New(t)
	watcher := platform.NewHeadless()
	logs := &servertest.SyncBuffer{}
	c := Config{ServerURL: url, Account: "demo", APIKey: key, Audio: "none", Number: ownNum,
		network: watcher, secrets: newFileSecrets(filepath.Join(t.TempDir(), "apikeys.json"))}
	p, err := Start(ui.App(), c, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), io.Discard)
	require.NoError(t, err)
	t.Cleanup(p.Stop)
	ph := &phone{ui: ui, p: p}
	ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) })
	require.Eventually(t, func() bool { return watcher.NetworkWatchers() == 1 }, waitUI, tick, "the app never watched the network")

	stop()
	ph.waitFor(t, "the offline banner", offline)
	_, _ = serveDemo(t, cfg, strings.TrimPrefix(url, "http://"))
	watcher.SimulateNetworkChange()
	ph.waitFor(t, "the reconnection", func(u *UI) bool { return !u.Offline.Visible() })
	assert.Contains(t, logs.String(), "the network changed: reconnecting the events connection now if it is down")

	p.Stop()
	assert.Zero(t, watcher.NetworkWatchers(), "Stop ends the watch")
}
