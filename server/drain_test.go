package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// startDrain runs Drain on its own goroutine; its result arrives on the
// channel.
func startDrain(h *harness) <-chan error {
	done := make(chan error, 1)
	go func() { done <- h.srv.Drain(context.Background()) }()
	return done
}

// stillDraining fails the test if Drain has returned.
func stillDraining(t *testing.T, drained <-chan error) {
	t.Helper()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while a call was live", err)
	default:
	}
}

// drainResult waits for Drain's result.
func drainResult(t *testing.T, drained <-chan error) error {
	t.Helper()
	select {
	case err := <-drained:
		return err
	case <-time.After(waitMsg):
		t.Fatalf("Drain did not return within %v", waitMsg)
		return nil
	}
}

// expectDraining returns the draining notice, skipping audio-related
// messages, and checks its ms against the drain timeout.
func expectDraining(t *testing.T, c *client, timeout time.Duration) wire.Message {
	t.Helper()
	m := c.expectSkipping(wire.TypeDraining)
	assert.Positive(t, m.MS, "%s: ms", c.name)
	assert.LessOrEqual(t, m.MS, timeout.Milliseconds(), "%s: ms", c.name)
	return m
}

// refusedUpgrade dials path and checks that the upgrade is refused 503
// shutting_down.
func (h *harness) refusedUpgrade(path string) {
	h.t.Helper()
	ws, resp, err := h.dialRaw(path, h.creds("acme"), []string{wire.Subprotocol})
	if ws != nil {
		ws.Close()
	}
	require.Error(h.t, err, "upgrade of %s while draining", path)
	require.NotNil(h.t, resp, "%s: %v", path, err)
	defer resp.Body.Close()
	assert.Equal(h.t, http.StatusServiceUnavailable, resp.StatusCode, path)
	var e wire.HTTPError
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&e))
	assert.Equal(h.t, wire.CodeShuttingDown, e.Code, path)
}

func TestDrainKeepsALiveCallUntilItEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90000", "1001"))
	callID := a.expect(wire.TypeAnswered).CallID
	stop := a.streamTone(440, seqA)
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick, "echo of 440 Hz before the drain")
	ev := h.eventsFor("B-events", "acme", "1002")
	idle := h.connect("idle", wire.PathCall, "acme") // upgraded before the drain, not started

	resp, _ := h.request(http.MethodGet, wire.PathReady, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	drained := startDrain(h)
	expectDraining(t, a, server.DefaultDrainTimeout)
	expectDraining(t, ev, server.DefaultDrainTimeout)
	assert.True(t, h.srv.Draining())

	// Readiness says so (liveness does not: the process is well), and
	// nothing new starts.
	resp, herr := h.request(http.MethodGet, wire.PathReady, "")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, wire.CodeShuttingDown, herr.Code)
	assert.Contains(t, herr.Message, "draining")
	resp, _ = h.request(http.MethodGet, wire.PathHealth, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	h.refusedUpgrade(wire.PathCall)
	h.refusedUpgrade(wire.PathEvents + "?" + wire.QueryRegisteredNumber + "=1003")
	resp, herr = h.requestBody(http.MethodPost, wire.PathDevices, "acme",
		strings.NewReader(`{"deviceId":"d1","registeredNumber":"1003","platform":"desktop"}`))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, wire.CodeShuttingDown, herr.Code)
	idle.send(wire.Message{Type: wire.TypeStart, Kind: wire.KindInbound, To: "90000", RegisteredNumber: "1003"})
	idle.expectError(wire.CodeShuttingDown)
	idle.waitClosed()
	rejected := h.events.waitFor(t, server.EventRejected, "")
	assert.Equal(t, string(wire.CodeShuttingDown), rejected.Reason)

	// The live call goes on: a new tone comes back through the echo, and
	// controls are answered.
	stop()
	stop = a.streamTone(1004, seqA)
	defer stop()
	require.Eventually(t, func() bool { return a.hears(1004) }, waitAudio, tick, "echo of 1004 Hz during the drain")
	a.send(wire.Message{Type: wire.TypeHold, Ref: 1, On: wire.Bool(true)})
	assert.Equal(t, uint32(1), a.expectSkipping(wire.TypeAck).Ref)
	a.send(wire.Message{Type: wire.TypeHold, Ref: 2, On: wire.Bool(false)})
	assert.Equal(t, uint32(2), a.expectSkipping(wire.TypeAck).Ref)
	require.Eventually(t, func() bool { return a.hears(1004) }, waitAudio, tick, "echo after resuming")
	stillDraining(t, drained)
	assert.Equal(t, 1, h.srv.Stats().ActiveCalls)
	assert.Equal(t, 1, h.srv.Stats().EventConns, "events connections stay open during the drain")

	// The caller hangs up: the drain is over.
	stop()
	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	assert.Equal(t, wire.CloseNormal, a.waitClosed())
	require.NoError(t, drainResult(t, drained))
	assert.Equal(t, wire.ReasonHangup, h.events.waitFor(t, server.EventEnded, callID).Reason)

	// Shutdown follows: the events connection closes going away.
	require.NoError(t, h.srv.Shutdown(t.Context()))
	assert.Equal(t, wire.CloseGoingAway, ev.waitClosed())
}

func TestDrainLetsARingingCallBeAnswered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, bEvents, in := ringB(t, h)
	drained := startDrain(h)
	expectDraining(t, a, server.DefaultDrainTimeout)
	expectDraining(t, bEvents, server.DefaultDrainTimeout)

	// While the call rings a /v1/call upgrade gets through (it may be the
	// answer), but only the answer may start.
	c := h.call("C", "acme", appCall("1004", "1003"))
	c.expectError(wire.CodeShuttingDown)
	c.waitClosed()

	b := h.call("B", "acme", appAnswer(in.Push.CallFrom, in.Push.CallTo, in.CallID))
	assert.Equal(t, in.CallID, b.expect(wire.TypeAnswered).CallID)
	assert.Equal(t, in.CallID, a.expectSkipping(wire.TypeAnswered).CallID)
	assert.Equal(t, wire.EventEnd, bEvents.expectSkipping(wire.TypeIncoming).Push.Event, "B's other devices stop ringing")

	// Nothing rings any more: a new call is refused at the upgrade.
	h.refusedUpgrade(wire.PathCall)

	stopA := a.streamTone(440, seqA)
	defer stopA()
	stopB := b.streamTone(1004, seqB)
	defer stopB()
	require.Eventually(t, func() bool { return b.hears(440) }, waitAudio, tick, "B hears A")
	require.Eventually(t, func() bool { return a.hears(1004) }, waitAudio, tick, "A hears B")
	stillDraining(t, drained)

	stopB()
	b.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	assert.Equal(t, wire.ReasonRemote, a.expectSkipping(wire.TypeEnd).Reason)
	require.NoError(t, drainResult(t, drained))
}

func TestDrainRefusesTrunkCallers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: uniqueDIDs})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	drained := startDrain(h)
	expectDraining(t, a, server.DefaultDrainTimeout)
	tc := newTrunkCaller(t)
	x, err := h.srv.Inbound(context.Background(), server.InboundCall{DID: "90000", From: "+14155550123"}, tc)
	require.NoError(t, err)
	assert.Empty(t, x.CallID())
	assert.Equal(t, wire.CodeShuttingDown, tc.expect(wire.TypeError).Code)
	tc.waitClosed()
	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	require.NoError(t, drainResult(t, drained))
}

func TestDrainTimeoutLeavesCallsToShutdown(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.DrainTimeout = timeout }})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	ev := h.eventsFor("B-events", "acme", "1002")

	began := time.Now()
	err := h.srv.Drain(t.Context())
	require.ErrorIs(t, err, server.ErrDrainIncomplete)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(began), timeout)
	expectDraining(t, a, timeout)
	expectDraining(t, ev, timeout)
	assert.Equal(t, 1, h.srv.Stats().ActiveCalls, "Drain ends no call itself")

	require.NoError(t, h.srv.Shutdown(t.Context()))
	assert.Equal(t, wire.ReasonShutdown, a.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseGoingAway, a.waitClosed())
	assert.Equal(t, wire.CloseGoingAway, ev.waitClosed())
}

func TestShutdownCutsADrainShort(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	drained := startDrain(h)
	expectDraining(t, a, server.DefaultDrainTimeout)
	require.NoError(t, h.srv.Shutdown(t.Context()))
	err := drainResult(t, drained)
	require.ErrorIs(t, err, server.ErrDrainIncomplete)
	assert.Contains(t, err.Error(), "shutdown")
	assert.Equal(t, wire.ReasonShutdown, a.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseGoingAway, a.waitClosed())
	assert.ErrorIs(t, h.srv.Drain(t.Context()), server.ErrDrainIncomplete, "a drain after shutdown")
}

func TestDrainWithNoCallsReturnsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	ev := h.eventsFor("B-events", "acme", "1002")
	require.NoError(t, drainResult(t, startDrain(h)))
	expectDraining(t, ev, server.DefaultDrainTimeout)
	require.NoError(t, h.srv.Drain(t.Context()), "again")
}

func TestNoDrainChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{mutate: func(c *server.Config) { c.DrainTimeout = server.NoDrain }})
	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	require.NoError(t, h.srv.Drain(t.Context()))
	assert.False(t, h.srv.Draining())
	resp, _ := h.request(http.MethodGet, wire.PathReady, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestServeDrainsWhenItsContextEnds is the path of onecxi-server's SIGTERM:
// Serve's context ends, the call still up at the drain timeout ends with
// the shutdown reason, and Serve returns nil.
func TestServeDrainsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	cfg, keys := testConfig()
	cfg.DrainTimeout = timeout
	srv, err := server.New(cfg, server.WithLogger(testLogger()))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	h := &harness{t: t, srv: srv, base: "http://" + ln.Addr().String(), ws: "ws://" + ln.Addr().String(), keys: keys,
		events: &eventLog{}}

	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	cancel()
	expectDraining(t, a, timeout)
	assert.Equal(t, wire.ReasonShutdown, a.expectSkipping(wire.TypeEnd).Reason)
	assert.Equal(t, wire.CloseGoingAway, a.waitClosed())
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(waitMsg):
		t.Fatal("Serve did not return")
	}
}

func TestDrainTimeoutConfig(t *testing.T) {
	base := func(extra string) []byte {
		return []byte(`{"accounts":[{"name":"a","apiKeyHashes":["` + server.HashKey("k") + `"]}]` + extra + `}`)
	}
	cfg, err := server.ParseConfig(base(""))
	require.NoError(t, err)
	assert.Equal(t, server.DefaultDrainTimeout, cfg.DrainTimeout, "default")
	cfg, err = server.ParseConfig(base(`,"drainTimeout":"2m"`))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, cfg.DrainTimeout)
	cfg, err = server.ParseConfig(base(`,"drainTimeout":"0s"`))
	require.NoError(t, err)
	assert.Equal(t, server.NoDrain, cfg.DrainTimeout, "0 turns draining off")
	for _, bad := range []string{`"soon"`, `"-1s"`, `"61m"`, `""`, `30`} {
		_, err := server.ParseConfig(base(`,"drainTimeout":` + bad))
		require.ErrorIs(t, err, server.ErrInvalidConfig, bad)
		assert.Contains(t, err.Error(), "drainTimeout", bad)
	}
	c, _ := testConfig()
	c.DrainTimeout = 2 * time.Hour
	err = c.Validate()
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "drainTimeout")
}
