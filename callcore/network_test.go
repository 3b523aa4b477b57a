package callcore

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// cable is a TCP proxy in front of the fake server that can be unplugged:
// while unplugged it cuts every connection through it and refuses new ones
// (accepts and closes them at once, so a dial fails fast), as a network
// that is down does to the SDK. It counts the connections attempted.
type cable struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	unplugged bool
	attempts  int
	conns     []net.Conn
}

func newCable(t *testing.T, target string) *cable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &cable{ln: ln, target: strings.TrimPrefix(target, "http://")}
	done := make(chan struct{})
	go func() { defer close(done); c.serve() }()
	t.Cleanup(func() { _ = ln.Close(); c.cut(); <-done })
	return c
}

func (c *cable) URL() string { return "http://" + c.ln.Addr().String() }

func (c *cable) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.attempts++
		down := c.unplugged
		c.mu.Unlock()
		if down {
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, in, out)
		c.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

// cut closes every connection through the cable.
func (c *cable) cut() {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, x := range conns {
		_ = x.Close()
	}
}

func (c *cable) unplug() {
	c.mu.Lock()
	c.unplugged = true
	c.mu.Unlock()
	c.cut()
}

func (c *cable) plugIn() {
	c.mu.Lock()
	c.unplugged = false
	c.mu.Unlock()
}

func (c *cable) attemptCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attempts
}

// slowBackoff makes every reconnect wait at least half an hour, so a
// reconnect within the test's few seconds can only be NetworkChanged's.
func slowBackoff(t *testing.T) {
	oldMin, oldMax := listenMinBackoff, listenMaxBackoff
	listenMinBackoff, listenMaxBackoff = time.Hour, time.Hour
	t.Cleanup(func() { listenMinBackoff, listenMaxBackoff = oldMin, oldMax })
}

func (r *recorder) count(line string) int {
	n := 0
	for _, l := range r.lines() {
		if l == line {
			n++
		}
	}
	return n
}

func TestNetworkChangedReconnectsTheEventsConnectionAtOnce(t *testing.T) {
	slowBackoff(t)
	fs := newFakeServer(t)
	link := newCable(t, fs.URL())
	s, plat := newSDK(t)
	rec := &recorder{}
	s.SetCallProgressCallback(rec)
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, link.URL()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, s.ListenForIncomingCalls(ctx, "1002"))
	waitFor(t, func() bool { return len(fs.eventConns()) == 1 }, "the events connection")
	first := fs.eventConns()[0]

	// Connected: a network change has nothing to hurry, and leaves nothing
	// behind to cut the next backoff short.
	s.NetworkChanged()
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	assert.Empty(t, l.wake, "no wake is pending")
	assert.Equal(t, []*wire.Conn{first}, fs.eventConns(), "the connection is left alone")

	// The network goes down: the connection is lost and the listener waits
	// out a backoff of half an hour or more.
	link.unplug()
	waitFor(t, func() bool { return rec.has("listening:false") }, "the loss reported")
	attempts := link.attemptCount()

	// A network change while it is still down: the listener tries at once
	// (and fails), then backs off again.
	s.NetworkChanged()
	waitFor(t, func() bool { return link.attemptCount() > attempts }, "a reconnect attempt")
	assert.True(t, s.IsListening(), "a failed attempt does not stop listening")

	// The network comes back, and the OS says so: listening again at once.
	link.plugIn()
	s.NetworkChanged()
	waitFor(t, func() bool { return rec.count("listening:true") == 2 }, "the events connection back")
	require.Len(t, fs.eventConns(), 1)
	assert.NotSame(t, first, fs.eventConns()[0])
	pushIncoming(t, fs.eventConns()[0], "c_1", wire.EventInitial)
	waitFor(t, func() bool { return len(plat.ShownCalls()) == 1 }, "a call ringing after the reconnect")
}

func TestNetworkChangedIsANoOpWhenNotListening(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *SDK
	}{
		{"before Initialize", func(t *testing.T) *SDK { s, _ := newSDK(t); return s }},
		{"initialized, not listening", func(t *testing.T) *SDK { return newEnv(t).sdk }},
		{"after StopListening", func(t *testing.T) *SDK {
			e := newEnv(t)
			require.NoError(t, e.sdk.ListenForIncomingCalls(ctxT(t), "1002"))
			e.sdk.StopListening()
			return e.sdk
		}},
		{"after Dispose", func(t *testing.T) *SDK { e := newEnv(t); e.sdk.Dispose(); return e.sdk }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.setup(t)
			s.NetworkChanged()
			s.NetworkChanged()
			assert.False(t, s.IsListening())
		})
	}
}

// A wake that arrives as a backoff ends (the reconnect is already dialling)
// must not cut the next backoff short: startBackoff drops it.
func TestStaleWakeIsDropped(t *testing.T) {
	l := &listener{wake: make(chan struct{}, 1)}
	assert.False(t, l.wakeUp(), "connected: nothing to wake")
	assert.Empty(t, l.wake)

	l.startBackoff()
	assert.True(t, l.wakeUp())
	assert.True(t, l.wakeUp(), "a second wake while one is pending does not block")
	assert.Len(t, l.wake, 1)

	l.backingOff.Store(false) // reconnected without taking the wake
	l.startBackoff()          // the next loss
	assert.Empty(t, l.wake, "the stale wake is gone")
}
