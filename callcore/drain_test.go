package callcore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
	"github.com/onecxi/phone/wire"
)

// drainRecorder is the test recorder that also implements
// ServerDrainingCallback.
type drainRecorder struct{ *recorder }

func (r drainRecorder) OnServerDraining(left time.Duration) { r.add(fmt.Sprintf("draining:%v", left)) }

func newDrainEnv(t *testing.T) (*testEnv, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	e := newEnv(t, WithLogger(logs.Logger()))
	e.sdk.SetCallProgressCallback(drainRecorder{e.rec})
	return e, logs
}

func TestDrainingNoticeKeepsTheCall(t *testing.T) {
	e, logs := newDrainEnv(t)
	ctx := ctxT(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90000", "1001"))
	fc := e.fs.lastCall(t)
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeDraining, MS: 30000}))
	waitFor(t, func() bool { return e.rec.has("draining:30s") }, "the draining callback")

	// The call goes on: controls work, nothing failed.
	require.NoError(t, e.sdk.MuteCall(ctx, true))
	assert.True(t, e.sdk.IsCallActive())
	assert.Empty(t, e.rec.errors())
	assert.Contains(t, logs.String(), "the server is draining; the call goes on")
	assert.NotContains(t, logs.String(), "bad message")

	// The server cuts it at the end of its drain: an ordinary end.
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonShutdown}))
	fc.conn.Close(wire.CloseGoingAway, "server shutting down")
	waitFor(t, func() bool { return e.rec.has("ended:inbound:90000") }, "the end of the call")
}

// TestDrainingEventsConnectionReconnectsPromptly grows the reconnect
// backoff with losses the server did not announce, then has the server
// announce its drain: the reconnect after that close does not wait out the
// grown backoff.
func TestDrainingEventsConnectionReconnectsPromptly(t *testing.T) {
	oldMin, oldMax := listenMinBackoff, listenMaxBackoff
	listenMinBackoff, listenMaxBackoff = time.Millisecond, 30*time.Second
	t.Cleanup(func() { listenMinBackoff, listenMaxBackoff = oldMin, oldMax })

	e, logs := newDrainEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, e.sdk.ListenForIncomingCalls(ctx, "1002"))
	waitFor(t, func() bool { return len(e.fs.eventConns()) == 1 }, "the events connection")

	// 11 quick unannounced losses: the next wait would be 1-2 s.
	for range 11 {
		conn := e.fs.eventConns()[0]
		conn.Close(wire.CloseGoingAway, "lost")
		waitFor(t, func() bool { c := e.fs.eventConns(); return len(c) == 1 && c[0] != conn }, "a reconnect")
	}

	conn := e.fs.eventConns()[0]
	require.NoError(t, conn.Send(wire.Message{Type: wire.TypeDraining, MS: 2000}))
	waitFor(t, func() bool { return e.rec.has("draining:2s") }, "the draining callback")
	conn.Close(wire.CloseGoingAway, "server shutting down")
	closed := time.Now()
	waitFor(t, func() bool { c := e.fs.eventConns(); return len(c) == 1 && c[0] != conn }, "the reconnect after the drain")
	t.Logf("reconnected after %v", time.Since(closed))
	assert.Less(t, time.Since(closed), 800*time.Millisecond, "the grown backoff (1-2 s) was not waited out")
	assert.Contains(t, logs.String(), "events connection closed by a draining server; reconnecting")
	assert.NotContains(t, logs.String(), "bad message")

	flush(e.sdk)
	var tail []string
	for _, l := range e.rec.lines() {
		if strings.HasPrefix(l, "listening:") || strings.HasPrefix(l, "draining:") {
			tail = append(tail, l)
		}
	}
	require.GreaterOrEqual(t, len(tail), 3)
	assert.Equal(t, []string{"draining:2s", "listening:false", "listening:true"}, tail[len(tail)-3:],
		"told of the drain, offline at the close, back once registered again")
}
