package callcore

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

func pushIncoming(t *testing.T, conn *wire.Conn, callID, event string) {
	t.Helper()
	require.NoError(t, conn.Send(wire.Message{Type: wire.TypeIncoming, CallID: callID, Push: &wire.PushPayload{
		CallFrom: "1001", CallTo: "1002", CallType: wire.PushAppToApp, RegisteredNumber: "1002",
		CallerName: "1001", CallID: callID, Environment: "DEVELOPMENT",
		Timestamp: time.Now().UnixMilli(), Platform: "desktop", Event: event,
	}}))
}

func TestListenForIncomingCalls(t *testing.T) {
	old := listenMinBackoff
	listenMinBackoff = 20 * time.Millisecond
	t.Cleanup(func() { listenMinBackoff = old })

	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	assert.ErrorIs(t, e.sdk.ListenForIncomingCalls(ctx, " "), ErrInvalidInput)
	assert.ErrorIs(t, e.sdk.ListenForIncomingCalls(ctx, "ab"), ErrInvalidInput)
	require.NoError(t, e.sdk.ListenForIncomingCalls(ctx, "1002"))
	assert.True(t, e.sdk.IsListening())
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 1 }, "the events connection")
	conns := e.fs.eventConns()

	pushIncoming(t, conns[0], "c_1", wire.EventInitial)
	waitFor(t, func() bool { return len(e.plat.ShownCalls()) == 1 }, "the incoming call UI")
	assert.Equal(t, "c_1", e.plat.ShownCalls()[0].CallID)

	pushIncoming(t, conns[0], "c_1", wire.EventEnd)
	waitFor(t, func() bool { return len(e.plat.Dismissed()) == 1 }, "the dismissal")

	// The server drops the connection: the SDK reconnects by itself.
	conns[0].Close(wire.CloseGoingAway, "restart")
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 1 && e.fs.eventConns()[0] != conns[0] }, "a reconnect")
	pushIncoming(t, e.fs.eventConns()[0], "c_2", wire.EventInitial)
	waitFor(t, func() bool { return len(e.plat.ShownCalls()) == 2 }, "a call after the reconnect")

	// Accepting from the UI answers through the call WebSocket.
	require.True(t, e.plat.Respond("c_2", platform.ActionAccept))
	waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "the answered call")
	assert.Equal(t, "c_2", e.fs.lastCall(t).messages(wire.TypeStart)[0].CallID)

	e.sdk.StopListening()
	assert.False(t, e.sdk.IsListening())
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 0 }, "the events connection to close")
	e.sdk.StopListening() // idempotent

	// The app saw every change of the events connection, in order.
	flush(e.sdk)
	var listening []string
	for _, l := range e.rec.lines() {
		if strings.HasPrefix(l, "listening:") {
			listening = append(listening, l)
		}
	}
	assert.Equal(t, []string{"listening:true", "listening:false", "listening:true"}, listening,
		"lost and back; StopListening is the app's own doing and not reported")
}

func TestListenStopsWithContextAndCredentials(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, e.sdk.ListenForIncomingCalls(ctx, "1002"))
	cancel()
	waitFor(t, func() bool { return !e.sdk.IsListening() }, "the listener to stop with its context")

	s, _ := newSDK(t)
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, e.fs.URL()))
	e.fs.srv.Close()
	err := s.ListenForIncomingCalls(ctxT(t), "1002")
	assert.ErrorIs(t, err, ErrWebSocketConnectionFailed, "returns the dial error")
	assert.False(t, s.IsListening())
}

func TestNoGoroutineLeaks(t *testing.T) {
	old := listenMinBackoff
	listenMinBackoff = 20 * time.Millisecond
	t.Cleanup(func() { listenMinBackoff = old })

	fs := newFakeServer(t)
	runtime.GC()
	before := runtime.NumGoroutine()
	func() {
		s, plat := newSDK(t)
		ctx := ctxT(t)
		s.SetCallProgressCallback(&recorder{})
		require.NoError(t, s.Initialize(ctx, testAccount, testAPIKey, fs.URL()))
		require.NoError(t, s.ListenForIncomingCalls(ctx, "1002"))
		require.NoError(t, s.StartInBoundCall(ctx, "90050", "1001"))
		require.NoError(t, s.MuteCall(ctx, true))
		require.NoError(t, s.SendDTMF("1"))
		require.NoError(t, s.EndCall(ctx))
		require.NoError(t, s.HandleIncomingCallWithUI(ctx, freshPush("c_1")))
		plat.Respond("c_1", platform.ActionDecline)
		require.NoError(t, s.StartInBoundCall(ctx, "90050", "1001")) // left for Dispose to end
		s.Dispose()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after Dispose:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestListenStopsWhenCredentialsAreRevoked(t *testing.T) {
	old := listenMinBackoff
	listenMinBackoff = 20 * time.Millisecond
	t.Cleanup(func() { listenMinBackoff = old })

	e := newEnv(t)
	require.NoError(t, e.sdk.ListenForIncomingCalls(context.Background(), "1002"))
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 1 }, "the events connection")
	e.fs.revoked.Store(true)
	e.fs.eventConns()[0].Close(wire.CloseGoingAway, "restart")
	waitFor(t, func() bool { return !e.sdk.IsListening() }, "the listener to give up")
	flush(e.sdk)
	errs := e.rec.errors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInitializationFailed)
	assert.Equal(t, wire.CodeUnauthorized, ServerCode(errs[0]))
}

func TestListenNeedsTheServersHello(t *testing.T) {
	e := newEnv(t)
	e.fs.noHello.Store(true)
	err := e.sdk.ListenForIncomingCalls(ctxT(t), "1002")
	assert.ErrorIs(t, err, ErrWebSocketConnectionFailed)
	assert.False(t, e.sdk.IsListening())
}

// TestListenerHonoursRetryAfter: an events reconnect refused 429 with
// Retry-After waits that long before asking again, a network change
// included (asking sooner only gets another 429).
func TestListenerHonoursRetryAfter(t *testing.T) {
	old := listenMinBackoff
	listenMinBackoff = 20 * time.Millisecond
	t.Cleanup(func() { listenMinBackoff = old })

	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, e.sdk.ListenForIncomingCalls(ctx, "1002"))
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 1 }, "the events connection")
	tries := len(e.fs.eventTries())

	e.fs.retryAfter.Store(1)
	e.fs.refuseEvents.Store(1)
	first := e.fs.eventConns()[0]
	first.Close(wire.CloseGoingAway, "restart")
	waitFor(t, func() bool { return len(e.fs.eventTries()) >= tries+1 }, "the refused reconnect")
	e.sdk.NetworkChanged() // does not hurry past the Retry-After
	waitFor(t, func() bool {
		c := e.fs.eventConns()
		return len(c) == 1 && c[0] != first
	}, "the reconnect after the wait")
	at := e.fs.eventTries()
	refused, next := at[tries], at[tries+1]
	assert.GreaterOrEqual(t, next.Sub(refused), 950*time.Millisecond, "the next try waited out Retry-After")
	assert.Len(t, at, tries+2, "no try in between")
}

func TestParseRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "3": 3 * time.Second, " 12 ": 12 * time.Second, "-1": 0, "soon": 0,
		"99999999": maxRetryAfter, "1.5": 0,
	} {
		assert.Equal(t, want, parseRetryAfter(in), "%q", in)
	}
	assert.InDelta(t, float64(30*time.Second), float64(parseRetryAfter(time.Now().Add(30*time.Second).UTC().Format(http.TimeFormat))), float64(2*time.Second))
}
